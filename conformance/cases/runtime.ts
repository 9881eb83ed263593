// runtime.md and runtime-linux.md: state, lifecycle, operations, errors, fds, dev links.
import * as fs from 'fs';
import * as path from 'path';
import { CaseDef } from '../lib/case';
import { CaseContext } from '../lib/context';
import { parseCgroupLines } from '../lib/probe';
import { type CmdResult, describe, ok } from '../lib/runtime';
import { stateProblems } from '../lib/state';
import { pidAlive, sleep } from '../lib/util';
import { cgroupCandidates, createOnly, expectNoContainer, probeCase, startSleeper } from './helpers';

const S_STATE = 'runtime.md#runtimeState';
const S_LIFE = 'runtime.md#runtimeLifecycle';
const S_QUERY = 'runtime.md#runtimeQueryState';
const S_CREATE = 'runtime.md#runtimeCreate';
const S_START = 'runtime.md#runtimeStart';
const S_KILL = 'runtime.md#runtimeKill';
const S_DELETE = 'runtime.md#runtimeDelete';
const S_ERR = 'runtime.md#runtimeErrors';

async function stopped(ctx: CaseContext): Promise<{ id: string; pid: number }> {
  const cfg = ctx.baseConfig(['/probe']);
  const { id, pid } = await createOnly(ctx, cfg);
  const s = await ctx.start(id);
  if (!ok(s)) ctx.fatal(`start failed: ${describe(s)}`);
  const st = await ctx.waitStopped(id);
  if (!st || st.status !== 'stopped') ctx.fatal(`the container did not reach stopped (state: ${JSON.stringify(st)})`);
  return { id, pid };
}

// Every operation on an id that does not exist, or without any id, fails.
function idErrorCases(
  op: 'state' | 'start' | 'kill' | 'delete',
  section: string,
  unknownRequirement: string,
  noIdRequirement: string,
  onId: (ctx: CaseContext, id: string) => Promise<CmdResult>,
): CaseDef[] {
  return [
    {
      id: `runtime.${op}.unknown-id`,
      section,
      requirement: unknownRequirement,
      async run(ctx: CaseContext) {
        const r = await onId(ctx, ctx.newId());
        ctx.observe(`${op}.ok`, ok(r));
        ctx.check(!ok(r), `${op} of an unknown id must fail (${describe(r)})`);
      },
    },
    {
      id: `runtime.${op}.no-id`,
      section,
      requirement: noIdRequirement,
      async run(ctx: CaseContext) {
        const r = await ctx.rt.exec([op]);
        ctx.observe(`${op}.ok`, ok(r));
        ctx.check(!ok(r), `${op} without an id must fail (${describe(r)})`);
      },
    },
  ];
}

export const runtimeCases: CaseDef[] = [
  {
    id: 'runtime.state.created',
    section: S_STATE,
    requirement: 'After create, state reports ociVersion (SemVer), the id, status "created", the live pid of the container process and the absolute bundle path.',
    async run(ctx: CaseContext) {
      const cfg = ctx.baseConfig();
      const { id, bundle, state } = await createOnly(ctx, cfg);
      ctx.equal(stateProblems(state, { id, bundle: bundle.dir, status: ['created'] }), [], 'state after create must conform');
      if (state && typeof state.pid === 'number') ctx.check(pidAlive(state.pid), `state pid ${state.pid} is not a live process`);
      ctx.observe('status', state?.status);
    },
  },
  {
    id: 'runtime.state.running',
    section: S_STATE,
    requirement: 'Once start has run the user program and it has not exited, state reports status "running" with the same pid as when created.',
    async run(ctx: CaseContext) {
      const cfg = ctx.baseConfig();
      cfg.process.args = ['/probe', '--sleep', '60'];
      const { id, state } = await createOnly(ctx, cfg);
      const s = await ctx.start(id);
      if (!ok(s)) ctx.fatal(`start failed: ${describe(s)}`);
      const st = await ctx.stateOf(id);
      ctx.equal(stateProblems(st, { id, status: ['running'] }), [], 'state after start must conform');
      ctx.equal(st?.pid, state?.pid, 'the pid must not change between created and running');
      ctx.observe('status', st?.status);
    },
  },
  {
    id: 'runtime.state.stopped',
    section: S_STATE,
    requirement: 'After the container process exits, state reports status "stopped".',
    async run(ctx: CaseContext) {
      const { id } = await stopped(ctx);
      const st = await ctx.stateOf(id);
      ctx.equal(stateProblems(st, { id, status: ['stopped'] }), [], 'state after exit must conform');
      ctx.observe('status', st?.status);
    },
  },
  {
    id: 'runtime.state.annotations',
    section: S_STATE,
    requirement: 'The state carries the annotations of the config (absent or empty only when the config has none).',
    async run(ctx: CaseContext) {
      const cfg = ctx.baseConfig();
      cfg.annotations = { 'org.example.conformance': 'yes', 'org.example.empty': '' };
      const { state } = await createOnly(ctx, cfg);
      ctx.equal(state?.annotations, cfg.annotations, 'state.annotations must equal the config annotations');
    },
  },
  {
    id: 'runtime.state.bundle-absolute',
    section: S_STATE,
    requirement: 'The bundle in the state is the absolute path of the bundle even when create was given a relative path.',
    async run(ctx: CaseContext) {
      const cfg = ctx.baseConfig();
      const b = ctx.makeBundle(cfg, { name: 'relbundle' });
      const id = ctx.newId();
      const r = await ctx.create(id, { ...b, dir: 'relbundle' }, { cwd: ctx.dir });
      if (!ok(r)) ctx.fatal(`create with a relative --bundle failed: ${describe(r)}`);
      const st = await ctx.stateOf(id);
      ctx.equal(stateProblems(st, { id, bundle: b.dir }), [], 'state bundle must be the absolute bundle path');
    },
  },
  ...idErrorCases('state', S_QUERY, 'Querying the state of a container that does not exist is an error.', 'The state operation without a container id is an error.', (ctx, id) => ctx.state(id)),
  {
    id: 'runtime.create.missing-config',
    section: S_CREATE,
    requirement: 'Create with a bundle that has no config.json fails and creates no container.',
    async run(ctx: CaseContext) {
      const b = ctx.makeBundle({}, { noConfig: true });
      const id = ctx.newId();
      const r = await ctx.create(id, b);
      ctx.observe('create.ok', ok(r));
      ctx.check(!ok(r), 'create without config.json must fail');
      if (!ok(r)) await expectNoContainer(ctx, id, b, 'after create without config');
    },
  },
  {
    id: 'runtime.create.invalid-json',
    section: S_CREATE,
    requirement: 'Create with a config.json that is not valid JSON fails and creates no container.',
    async run(ctx: CaseContext) {
      const b = ctx.makeBundle('{"ociVersion": "1.0.2", "process": {', {});
      const id = ctx.newId();
      const r = await ctx.create(id, b);
      ctx.observe('create.ok', ok(r));
      ctx.check(!ok(r), 'create with broken JSON must fail');
      if (!ok(r)) await expectNoContainer(ctx, id, b, 'after create with broken JSON');
    },
  },
  {
    id: 'runtime.create.missing-bundle',
    section: S_CREATE,
    requirement: 'Create given a bundle directory that does not exist fails and creates no container.',
    async run(ctx: CaseContext) {
      const id = ctx.newId();
      const r = await ctx.rt.create(id, ctx.path('no-such-bundle'), { stdoutFile: ctx.path('out'), stderrFile: ctx.path('err') });
      ctx.observe('create.ok', ok(r));
      ctx.check(!ok(r), 'create with a missing bundle must fail');
      if (!ok(r)) await expectNoContainer(ctx, id, null, 'after create with a missing bundle');
    },
  },
  {
    id: 'runtime.create.no-id',
    section: S_CREATE,
    requirement: 'Create without a container id is an error.',
    async run(ctx: CaseContext) {
      const b = ctx.makeBundle(ctx.baseConfig());
      const r = await ctx.rt.exec(['create', '--bundle', b.dir], { stdoutFile: b.stdout, stderrFile: b.stderr });
      ctx.observe('create.ok', ok(r));
      ctx.check(!ok(r), `create without an id must fail (${describe(r)})`);
    },
  },
  {
    id: 'runtime.create.duplicate-id',
    section: S_CREATE,
    requirement: 'Create with the id of an existing container fails, creates nothing, and leaves the existing container as it was.',
    async run(ctx: CaseContext) {
      const first = await createOnly(ctx, ctx.baseConfig());
      const cfg2 = ctx.baseConfig(['/probe', '--marker', '/ran']);
      const b2 = ctx.makeBundle(cfg2);
      const r = await ctx.rt.create(first.id, b2.dir, { stdoutFile: b2.stdout, stderrFile: b2.stderr });
      ctx.observe('create.ok', ok(r));
      ctx.check(!ok(r), 'second create with the same id must fail');
      const st = await ctx.stateOf(first.id);
      ctx.equal(st?.status, 'created', 'the existing container must still be created');
      ctx.equal(st?.pid, first.pid, 'the existing container must keep its pid');
      ctx.equal(st?.bundle ? path.resolve(st.bundle) : st?.bundle, first.bundle.dir, 'the existing container must keep its bundle');
      ctx.check(pidAlive(first.pid), 'the existing container process must still be alive');
      const s = await ctx.start(first.id);
      ctx.check(ok(s), `the existing container must still start (${describe(s)})`);
      await ctx.waitStopped(first.id);
      ctx.check(!fs.existsSync(path.join(b2.rootfs, 'ran')), 'the program of the rejected bundle ran');
    },
  },
  {
    id: 'runtime.create.program-not-run',
    section: S_LIFE,
    requirement: 'Create builds the environment but must not run the user program; it runs only once start is invoked.',
    async run(ctx: CaseContext) {
      const cfg = ctx.baseConfig(['/probe', '--marker', '/ran']);
      const { id, bundle, pid } = await createOnly(ctx, cfg);
      await sleep(300);
      const marker = path.join(bundle.rootfs, 'ran');
      ctx.check(!fs.existsSync(marker), 'the user program ran before start');
      let exe = '';
      try {
        exe = fs.readlinkSync(`/proc/${pid}/exe`);
      } catch {
        /* gone */
      }
      ctx.check(!exe.endsWith('/probe'), `the container process already executes the user program (${exe})`);
      const s = await ctx.start(id);
      if (!ok(s)) ctx.fatal(`start failed: ${describe(s)}`);
      await ctx.waitStopped(id);
      ctx.check(fs.existsSync(marker), 'the user program did not run after start');
    },
  },
  {
    id: 'runtime.create.config-changes-ignored',
    section: S_LIFE,
    requirement: 'Changes to config.json after create must not affect the container.',
    async run(ctx: CaseContext) {
      const cfg = ctx.baseConfig(['/probe']);
      cfg.process.env = ['PATH=/bin', 'CONFORMANCE=original'];
      const { id, bundle } = await createOnly(ctx, cfg);
      const changed = JSON.parse(JSON.stringify(cfg));
      changed.process.env = ['PATH=/bin', 'CONFORMANCE=changed'];
      changed.process.args = ['/probe', '--exit', '3'];
      changed.hostname = 'changed';
      fs.writeFileSync(bundle.configPath, JSON.stringify(changed));
      const s = await ctx.start(id);
      if (!ok(s)) ctx.fatal(`start failed: ${describe(s)}`);
      await ctx.waitStopped(id);
      const out = ctx.readOut(bundle);
      ctx.check(out.includes('CONFORMANCE=original'), 'the container must run with the config as it was at create');
      ctx.check(!out.includes('CONFORMANCE=changed'), 'the container picked up a config.json change made after create');
      ctx.check(out.includes('"hostname":"conformance"'), 'the hostname must be the one configured at create');
    },
  },
  {
    id: 'runtime.create.applies-config',
    section: S_CREATE,
    requirement: 'Everything in the config except process is applied by create: before start the process is already in its namespaces and cgroup.',
    async run(ctx: CaseContext) {
      const cfg = ctx.baseConfig();
      const { pid, id } = await createOnly(ctx, cfg);
      const v = ctx.hostView(pid);
      for (const t of ['mnt', 'net', 'ipc', 'uts', 'pid']) {
        ctx.check(v.ns[t] !== null && v.ns[t] !== ctx.host.ns[t], `before start the container process must already be in a new ${t} namespace`);
      }
      const rel = ctx.cgroupsPathFor(id);
      const lines = parseCgroupLines(v.cgroupLines).filter((l) => l.id !== 0);
      ctx.check(lines.length > 0 && lines.every((l) => l.path.endsWith('/' + rel)), `before start the process must be in its cgroup (${rel})`, { actual: v.cgroupLines });
      ctx.observe('namespaces', Object.fromEntries(Object.entries(v.ns).map(([k, x]) => [k, x === ctx.host.ns[k] ? 'host' : 'new'])));
    },
  },
  {
    id: 'runtime.start.runs-program',
    section: S_START,
    requirement: 'Start runs the user program given by process.',
    async run(ctx: CaseContext) {
      const cfg = ctx.baseConfig();
      const r = await ctx.probeReport(cfg, ['--marker', '/ran']);
      ctx.equal(r.argv, ['/probe', '--marker', '/ran'], 'the program must run with the configured args');
    },
  },
  {
    id: 'runtime.start.running',
    section: S_START,
    requirement: 'Start on a running container fails and has no effect on it.',
    async run(ctx: CaseContext) {
      const { id, pid } = await startSleeper(ctx, ctx.baseConfig());
      const r = await ctx.start(id);
      ctx.observe('start.ok', ok(r));
      ctx.check(!ok(r), 'start of a running container must fail');
      const st = await ctx.stateOf(id);
      ctx.equal(st?.status, 'running', 'the container must still be running');
      ctx.equal(st?.pid, pid, 'the container process must be the same');
    },
  },
  {
    id: 'runtime.start.stopped',
    section: S_START,
    requirement: 'Start on a stopped container fails and has no effect on it.',
    async run(ctx: CaseContext) {
      const { id } = await stopped(ctx);
      const r = await ctx.start(id);
      ctx.observe('start.ok', ok(r));
      ctx.check(!ok(r), 'start of a stopped container must fail');
      const st = await ctx.stateOf(id);
      ctx.equal(st?.status, 'stopped', 'the container must still be stopped');
    },
  },
  ...idErrorCases('start', S_START, 'Start of a container id that does not exist is an error.', 'Start without a container id is an error.', (ctx, id) => ctx.start(id)),
  {
    id: 'runtime.start.no-process',
    section: S_START,
    requirement: 'Without process in the config there is nothing to start: an error is generated (at start, or earlier at create) and nothing runs.',
    async run(ctx: CaseContext) {
      const cfg = ctx.baseConfig();
      delete cfg.process;
      const b = ctx.makeBundle(cfg);
      const id = ctx.newId();
      const c = await ctx.create(id, b);
      ctx.observe('create.ok', ok(c));
      if (!ok(c)) {
        await expectNoContainer(ctx, id, b, 'after create without process');
        return;
      }
      const s = await ctx.start(id);
      ctx.observe('start.ok', ok(s));
      ctx.check(!ok(s), 'start of a container without process must fail');
    },
  },
  {
    id: 'runtime.kill.created',
    section: S_KILL,
    requirement: 'Kill delivers the signal to the process of a created container (SIGKILL stops it).',
    async run(ctx: CaseContext) {
      const { id, pid } = await createOnly(ctx, ctx.baseConfig());
      const r = await ctx.kill(id, 'KILL');
      ctx.check(ok(r), `kill of a created container must succeed (${describe(r)})`);
      ctx.check(await ctx.waitPidGone(pid), 'the container process must die from SIGKILL');
      const st = await ctx.waitStopped(id, 10);
      ctx.equal(st?.status, 'stopped', 'the container must be stopped after SIGKILL');
    },
  },
  {
    id: 'runtime.kill.signal-name',
    section: S_KILL,
    requirement: 'Kill sends the named signal to the container process (SIGUSR1 reaches it).',
    async run(ctx: CaseContext) {
      const cfg = ctx.baseConfig();
      const { id, bundle } = await startSleeper(ctx, cfg, 60, ['--wait-signal']);
      await sleep(200);
      const r = await ctx.kill(id, 'SIGUSR1');
      ctx.check(ok(r), `kill SIGUSR1 must succeed (${describe(r)})`);
      await ctx.waitStopped(id, 10);
      const out = ctx.readOut(bundle);
      ctx.check(out.includes('"signal":10,'), 'the container process must receive SIGUSR1 (10)', { actual: out.slice(0, 200) });
    },
  },
  {
    id: 'runtime.kill.signal-number',
    section: S_KILL,
    requirement: 'Kill sends a signal given by number to the container process (12 = SIGUSR2 reaches it).',
    async run(ctx: CaseContext) {
      const cfg = ctx.baseConfig();
      const { id, bundle } = await startSleeper(ctx, cfg, 60, ['--wait-signal']);
      await sleep(200);
      const r = await ctx.kill(id, '12');
      ctx.check(ok(r), `kill 12 must succeed (${describe(r)})`);
      await ctx.waitStopped(id, 10);
      const out = ctx.readOut(bundle);
      ctx.check(out.includes('"signal":12,'), 'the container process must receive SIGUSR2 (12)', { actual: out.slice(0, 200) });
    },
  },
  {
    id: 'runtime.kill.stopped',
    section: S_KILL,
    requirement: 'Kill of a stopped container fails and has no effect on it.',
    async run(ctx: CaseContext) {
      const { id } = await stopped(ctx);
      const r = await ctx.kill(id, 'KILL');
      ctx.observe('kill.ok', ok(r));
      ctx.check(!ok(r), 'kill of a stopped container must fail');
      const st = await ctx.stateOf(id);
      ctx.equal(st?.status, 'stopped', 'the container must still exist and be stopped');
    },
  },
  ...idErrorCases('kill', S_KILL, 'Kill of a container id that does not exist is an error.', 'Kill without a container id is an error.', (ctx, id) => ctx.kill(id, 'KILL')),
  {
    id: 'runtime.delete.created',
    section: S_DELETE,
    requirement: 'Delete (without force) of a created container, which is not stopped, fails and leaves it created.',
    async run(ctx: CaseContext) {
      const { id, pid } = await createOnly(ctx, ctx.baseConfig());
      const r = await ctx.delete(id);
      ctx.observe('delete.ok', ok(r));
      ctx.check(!ok(r), 'delete of a created container must fail');
      const st = await ctx.stateOf(id);
      ctx.equal(st?.status, 'created', 'the container must still be created');
      ctx.check(pidAlive(pid), 'the container process must still be alive');
    },
  },
  {
    id: 'runtime.delete.running',
    section: S_DELETE,
    requirement: 'Delete (without force) of a running container fails and leaves it running.',
    async run(ctx: CaseContext) {
      const { id, pid } = await startSleeper(ctx, ctx.baseConfig());
      const r = await ctx.delete(id);
      ctx.observe('delete.ok', ok(r));
      ctx.check(!ok(r), 'delete of a running container must fail');
      const st = await ctx.stateOf(id);
      ctx.equal(st?.status, 'running', 'the container must still be running');
      ctx.check(pidAlive(pid), 'the container process must still be alive');
    },
  },
  {
    id: 'runtime.delete.stopped',
    section: S_DELETE,
    requirement: 'Delete of a stopped container succeeds, after which the container no longer exists and its cgroups are gone.',
    async run(ctx: CaseContext) {
      const { id } = await stopped(ctx);
      const r = await ctx.delete(id);
      ctx.observe('delete.ok', ok(r));
      ctx.check(ok(r), `delete of a stopped container must succeed (${describe(r)})`);
      const st = await ctx.state(id);
      ctx.check(!ok(st), 'state after delete must fail');
      const left = cgroupCandidates(ctx, id).filter((d) => fs.existsSync(d));
      ctx.equal(left, [], 'the cgroups created for the container must be removed by delete');
    },
  },
  ...idErrorCases('delete', S_DELETE, 'Delete of a container id that does not exist is an error.', 'Delete without a container id is an error.', (ctx, id) => ctx.delete(id)),
  {
    id: 'runtime.delete.keeps-foreign-resources',
    section: S_DELETE,
    requirement: 'Delete removes only what create made: the bundle, a bind-mount source and a namespace the container joined by path survive it.',
    requires: (ctx) => (ctx.host.unshare ? null : 'unshare(1) is not installed'),
    async run(ctx: CaseContext) {
      const holder = ctx.spawnHelper([ctx.host.unshare!, '--uts', 'sleep', '600']);
      await sleep(200);
      if (!holder.pid) ctx.fatal('namespace holder did not start');
      const src = ctx.path('bindsrc');
      fs.mkdirSync(src);
      fs.writeFileSync(path.join(src, 'keep'), 'keep\n');
      const cfg = ctx.baseConfig();
      cfg.mounts.push({ destination: '/mnt/src', type: 'bind', source: src, options: ['rbind', 'rw'] });
      cfg.linux.namespaces = cfg.linux.namespaces.filter((n: { type: string }) => n.type !== 'uts');
      cfg.linux.namespaces.push({ type: 'uts', path: `/proc/${holder.pid}/ns/uts` });
      delete cfg.hostname;
      const run = await ctx.probe(cfg, [], {});
      if (!run.report) ctx.fatal(`no probe report: ${run.extract.error}`);
      ctx.check(fs.existsSync(run.bundle.configPath), 'the bundle config.json must survive delete');
      ctx.check(fs.existsSync(path.join(run.bundle.rootfs, 'probe')), 'the rootfs content must survive delete');
      ctx.check(fs.existsSync(path.join(src, 'keep')), 'the bind-mount source content must survive delete');
      ctx.check(holder.exitCode === null && pidAlive(holder.pid ?? 0), 'the process holding the joined namespace must survive delete');
    },
  },
  {
    id: 'runtime.errors.failed-create-leaves-nothing',
    section: S_ERR,
    requirement: 'A create that fails late (on a mount that cannot be made) leaves the host as if it had not been attempted: no container, process, cgroup or mount.',
    async run(ctx: CaseContext) {
      const cfg = ctx.baseConfig(['/probe', '--marker', '/ran']);
      cfg.mounts.push({ destination: '/mnt/bad', type: 'bind', source: ctx.path('does-not-exist'), options: ['rbind'] });
      const b = ctx.makeBundle(cfg);
      const id = ctx.newId();
      const procsBefore = fs.readdirSync('/proc').filter((x) => /^\d+$/.test(x)).length;
      const r = await ctx.create(id, b);
      ctx.observe('create.ok', ok(r));
      if (ok(r)) ctx.fatal('create with a missing bind source must fail');
      await expectNoContainer(ctx, id, b, 'after the failed create');
      await sleep(100);
      const procsAfter = fs.readdirSync('/proc').filter((x) => /^\d+$/.test(x)).length;
      ctx.check(procsAfter <= procsBefore + 2, `processes were left behind (${procsBefore} before, ${procsAfter} after)`);
    },
  },
];

export const runtimeLinuxCases: CaseDef[] = [
  probeCase({
    id: 'runtime-linux.fds.stdio-only',
    section: 'runtime-linux.md#runtimeLinuxFileDescriptors',
    requirement: 'Unless asked for more, the process gets only stdin, stdout and stderr as open file descriptors.',
    expect(r, ctx) {
      ctx.equal(
        r.fds.map((f) => f.fd),
        [0, 1, 2],
        'only fds 0, 1 and 2 may be open in the container process',
      );
    },
  }),
  {
    id: 'runtime-linux.fds.preserve-fds',
    section: 'runtime-linux.md#runtimeLinuxFileDescriptors',
    requirement: 'Extra file descriptors handed over with --preserve-fds N reach the process as fds 3..3+N-1 (and no others).',
    async run(ctx: CaseContext) {
      const f1 = fs.openSync(ctx.path('extra1'), 'w');
      const f2 = fs.openSync(ctx.path('extra2'), 'w');
      ctx.onCleanup(() => {
        fs.closeSync(f1);
        fs.closeSync(f2);
      });
      const r = await ctx.probeReport(ctx.baseConfig(), [], { create: { preserveFds: 2, extraFds: [f1, f2] } });
      ctx.equal(r.fds.map((f) => f.fd), [0, 1, 2, 3, 4], 'fds 3 and 4 must be passed, and nothing else');
      const t = Object.fromEntries(r.fds.map((f) => [f.fd, f.target]));
      ctx.check(String(t[3]).endsWith('/extra1') && String(t[4]).endsWith('/extra2'), 'fd 3 and 4 must be the preserved files', { actual: t });
    },
  },
  ...(
    [
      ['fd', '/dev/fd', '/proc/self/fd'],
      ['stdin', '/dev/stdin', '/proc/self/fd/0'],
      ['stdout', '/dev/stdout', '/proc/self/fd/1'],
      ['stderr', '/dev/stderr', '/proc/self/fd/2'],
    ] as const
  ).map(([name, link, target]) =>
    probeCase({
      id: `runtime-linux.dev-symlinks.${name}`,
      section: 'runtime-linux.md#runtimeLinuxDevSymbolicLinks',
      requirement: `With /proc mounted, ${link} is a symbolic link to ${target}.`,
      args: ['--stat', link],
      expect(r, ctx) {
        const c = r.checks.find((x) => x.op === 'stat' && x.path === link);
        ctx.check(c?.ok, `${link} must exist`, { actual: c });
        ctx.equal(c?.type, 'l', `${link} must be a symbolic link`);
        ctx.equal(c?.target, target, `${link} must point to ${target}`);
      },
    }),
  ),
];
