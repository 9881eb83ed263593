// pause and resume on this host's real cgroup v1 freezer: a paused busy
// loop gets no CPU and resume gives it back, the status shows paused in
// state and list, and kill, delete and start treat a paused container as
// runc 1.1 does. The v2 freezer (cgroup.freeze, cgroup.events) and a host
// without any freezer are shown on hand-made state roots, since this host
// has neither.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { defaultCgroupsPath } from '../../src/cgroups/host';
import { startTimeOf } from '../../src/state/proc';
import { type Env, cgroupLeftovers, env, hostHierarchies, processesMentioning, requireRoot, scratch, skipOrFail, tsrunCmd, uniqueId } from '../helpers/tsrun';

type Config = Record<string, any>;

function sleepMs(ms: number) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** utime + stime of a process, in clock ticks. */
function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

/** Whether pid is still the process that had this start time (and not a zombie). */
function alive(pid: number, startTime: string): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19] === startTime && fields[0] !== 'Z';
  } catch {
    return false;
  }
}

/** The one error line tsrun printed, without its "tsrun: " prefix. */
const said = (r: { stderr: string }) => r.stderr.replace(/^tsrun: /, '').trim();

const status = (e: Env, id: string): string => JSON.parse(e.tsrun(['state', id]).stdout).status;

function waitFor(cond: () => boolean, ms = 3000): boolean {
  for (let waited = 0; waited < ms; waited += 10) {
    if (cond()) return true;
    sleepMs(10);
  }
  return cond();
}

/** A started container running `script` under sh; its init's pid. */
function started(t: Test, e: Env, id: string, script: string): number {
  const bundle = e.bundle((c: Config) => (c.process.args = ['sh', '-c', script]));
  t.equal(e.tsrun(['create', '--bundle', bundle, id]).status, 0, 'created');
  t.equal(e.tsrun(['start', id]).status, 0, 'started');
  return JSON.parse(e.tsrun(['state', id]).stdout).pid;
}

const BUSY = 'while :; do :; done';

if (requireRoot(t)) {
  const freezer = hostHierarchies().find((h) => h.controllers.split(',').includes('freezer'));
  const freezerFile = (root: string, id: string, file: string) => readFileSync(join(freezer!.mountpoint, freezer!.own, defaultCgroupsPath(root, id), file), 'utf8').trim();
  const freezerState = (root: string, id: string) => freezerFile(root, id, 'freezer.state');

  t.test('a paused busy loop gets no CPU; resume gives it back', async (t) => {
    if (!freezer) return skipOrFail(t, 'pause on cgroup v1', 'this host has no v1 freezer hierarchy');
    const e = env(t);
    const id = uniqueId('busy');
    const pid = started(t, e, id, BUSY);
    const grows = () => {
      const before = cpuTicks(pid);
      sleepMs(300);
      return cpuTicks(pid) - before;
    };
    t.ok(grows() > 0, 'running: the loop consumes CPU (so the measure can see it)');
    t.equal(freezerState(e.root, id), 'THAWED');

    const p = e.tsrun(['pause', id]);
    t.equal(p.status, 0, p.stderr);
    t.equal(p.stdout + p.stderr, '', 'pause says nothing');
    t.equal(freezerState(e.root, id), 'FROZEN', 'freezer.state');
    t.equal(status(e, id), 'paused', 'state');
    const row = e.tsrun(['list']).stdout.split('\n').find((l) => l.startsWith(`${id} `));
    t.match(row, new RegExp(`^${id}\\s+${pid}\\s+paused\\s`), 'list shows it paused');
    t.equal(JSON.parse(e.tsrun(['list', '--format', 'json']).stdout)[0].status, 'paused', 'list --format json too');
    t.equal(grows(), 0, 'paused: utime+stime unchanged over 300 ms');
    t.equal(grows(), 0, 'and still');

    const r = e.tsrun(['resume', id]);
    t.equal(r.status, 0, r.stderr);
    t.equal(freezerState(e.root, id), 'THAWED', 'freezer.state');
    t.equal(status(e, id), 'running', 'state after resume');
    t.ok(grows() > 0, 'resumed: it consumes CPU again');
  });

  t.test('a created container paused: start refused, resumed it is created and starts', async (t) => {
    if (!freezer) return skipOrFail(t, 'pause on cgroup v1', 'this host has no v1 freezer hierarchy');
    const e = env(t);
    const id = uniqueId('created');
    const bundle = e.bundle((c: Config) => (c.process.args = ['sleep', '1000']));
    t.equal(e.tsrun(['create', '--bundle', bundle, id]).status, 0);
    t.equal(e.tsrun(['pause', id]).status, 0, 'a created container may be paused (runc)');
    t.equal(status(e, id), 'paused');
    const s = e.tsrun(['start', id]);
    t.equal(s.status, 1, 'start of a paused container fails');
    t.equal(said(s), `cannot start a container in the paused state: ${id}`, "runc's words");
    t.equal(status(e, id), 'paused', 'still paused');
    t.equal(e.tsrun(['resume', id]).status, 0);
    t.equal(status(e, id), 'created', 'created again: start has not run');
    t.equal(e.tsrun(['start', id]).status, 0);
    t.equal(status(e, id), 'running');
  });

  t.test('refusals, in runc words, changing nothing', async (t) => {
    if (!freezer) return skipOrFail(t, 'pause on cgroup v1', 'this host has no v1 freezer hierarchy');
    const e = env(t);
    const id = uniqueId('refuse');
    started(t, e, id, 'exec sleep 1000');

    const resumeRunning = e.tsrun(['resume', id]);
    t.equal(resumeRunning.status, 1, 'resume of a running container');
    t.equal(said(resumeRunning), `cannot resume container ${id}: container not paused (it is running)`);
    t.equal(freezerState(e.root, id), 'THAWED', 'nothing written');

    t.equal(e.tsrun(['pause', id]).status, 0);
    const again = e.tsrun(['pause', id]);
    t.equal(again.status, 1, 'pause of a paused container');
    t.equal(said(again), `cannot pause container ${id}: container not running (it is paused)`, 'runc: container not running');
    t.equal(status(e, id), 'paused', 'still paused');

    const del = e.tsrun(['delete', id]);
    t.equal(del.status, 1, 'delete without --force');
    t.equal(said(del), `cannot delete container ${id} that is not stopped: paused`, "runc's message");
    t.equal(status(e, id), 'paused', 'still there, still paused');

    t.equal(e.tsrun(['resume', id]).status, 0);
    t.equal(e.tsrun(['kill', id, 'KILL']).status, 0);
    t.ok(waitFor(() => status(e, id) === 'stopped'), 'stopped');
    const pauseStopped = e.tsrun(['pause', id]);
    t.equal(pauseStopped.status, 1, 'pause of a stopped container');
    t.equal(said(pauseStopped), `cannot pause container ${id}: container not running (it is stopped)`);
    t.equal(freezerState(e.root, id), 'THAWED', 'its cgroup was not frozen');
    const resumeStopped = e.tsrun(['resume', id]);
    t.equal(resumeStopped.status, 1, 'resume of a stopped container');
    t.match(resumeStopped.stderr, 'container not paused (it is stopped)');

    for (const cmd of ['pause', 'resume']) {
      const r = e.tsrun([cmd, 'no-such-container']);
      t.equal(r.status, 1, `${cmd} of an unknown id`);
      t.match(r.stderr, 'container does not exist: no-such-container');
    }
  });

  t.test('delete --force of a paused container leaves no process and no cgroup', async (t) => {
    if (!freezer) return skipOrFail(t, 'pause on cgroup v1', 'this host has no v1 freezer hierarchy');
    const e = env(t);
    const id = uniqueId('delpaused');
    const pid = started(t, e, id, 'sleep 1000 & exec sleep 1000');
    const startTime = startTimeOf(pid)!;
    t.ok(waitFor(() => freezerFile(e.root, id, 'cgroup.procs').split('\n').length === 2), 'two processes');
    t.equal(e.tsrun(['pause', id]).status, 0);
    const started_ = Date.now();
    const d = e.tsrun(['delete', '--force', id]);
    t.equal(d.status, 0, d.stderr);
    t.ok(Date.now() - started_ < 3000, `quick: no wait for a frozen init to die (${Date.now() - started_} ms)`);
    t.notOk(alive(pid, startTime), 'the init is gone');
    t.same(processesMentioning([id]), [], 'no process of the container is left');
    t.same(cgroupLeftovers(e.root, id), [], 'no cgroup left');
    t.notOk(existsSync(join(e.root, id)), 'no state left');
  });

  t.test('kill of a paused container: SIGKILL ends it, another signal waits for resume', async (t) => {
    if (!freezer) return skipOrFail(t, 'pause on cgroup v1', 'this host has no v1 freezer hierarchy');
    const e = env(t);

    const a = uniqueId('kill9');
    const pid = started(t, e, a, BUSY);
    const startTime = startTimeOf(pid)!;
    t.equal(e.tsrun(['pause', a]).status, 0);
    const k = e.tsrun(['kill', a, '9']);
    t.equal(k.status, 0, k.stderr);
    t.ok(waitFor(() => status(e, a) === 'stopped'), 'kill -9 of a paused container ends it');
    t.notOk(alive(pid, startTime), 'its init is gone');
    t.equal(freezerState(e.root, a), 'THAWED', 'thawed, so that it could die');

    // sh as pid 1 gets SIGTERM only through a trap of its own.
    const b = uniqueId('kill15');
    started(t, e, b, `trap "exit 7" TERM; ${BUSY}`);
    t.equal(e.tsrun(['pause', b]).status, 0);
    t.equal(e.tsrun(['kill', b, 'TERM']).status, 0, 'kill TERM of a paused container succeeds');
    sleepMs(300);
    t.equal(status(e, b), 'paused', 'it stays paused, the signal pending');
    t.equal(freezerState(e.root, b), 'FROZEN');
    t.equal(e.tsrun(['resume', b]).status, 0);
    t.ok(waitFor(() => status(e, b) === 'stopped'), 'resumed, it acts on the signal');

    const c = uniqueId('killall');
    started(t, e, c, `trap "exit 7" TERM; ${BUSY}`);
    t.equal(e.tsrun(['pause', c]).status, 0);
    t.equal(e.tsrun(['kill', '--all', c, 'TERM']).status, 0);
    sleepMs(300);
    t.equal(status(e, c), 'paused', 'kill --all TERM: still paused');
    t.equal(e.tsrun(['kill', '--all', c, 'KILL']).status, 0);
    t.ok(waitFor(() => status(e, c) === 'stopped'), 'kill --all KILL ends it');
    t.equal(freezerState(e.root, c), 'THAWED');
  });

  // Hand-made containers: a state.json whose init is a process of this test
  // and whose one cgroup is a plain directory with the files of a v2 cgroup
  // (or without cgroup.freeze: a host with no freezer).
  t.test('cgroup v2 freezer, and a host without one (hand-made state roots)', async (t) => {
    const base = scratch(t, 'tsrun-pause-fake');
    const root = join(base, 'state');
    const sleeper = spawn('sleep', ['1000'], { stdio: 'ignore' });
    t.teardown(() => sleeper.kill('SIGKILL'));
    await new Promise((r) => setTimeout(r, 50));
    const init = { pid: sleeper.pid!, startTime: startTimeOf(sleeper.pid!)! };
    const fake = (id: string, files: Record<string, string>) => {
      const dir = join(base, 'cgroup', id);
      mkdirSync(dir, { recursive: true });
      for (const [f, text] of Object.entries({ 'cgroup.procs': `${init.pid}\n`, ...files })) writeFileSync(join(dir, f), text);
      mkdirSync(join(root, id), { recursive: true });
      const rec = {
        id, bundle: base, rootfs: join(base, 'rootfs'), phase: 'created', init, created: new Date().toISOString(), owner: '',
        cgroup: { dirs: [{ version: 2, mountpoint: join(base, 'cgroup'), controllers: [], path: `/${id}`, dir }], created: [] },
        ownPidNamespace: true, config: {},
      };
      writeFileSync(join(root, id, 'state.json'), JSON.stringify(rec));
      return dir;
    };
    const e = {
      tsrun: (args: string[]) => {
        const r = spawnSync(tsrunCmd[0], [...tsrunCmd.slice(1), '--root', root, ...args], { encoding: 'utf8', timeout: 60_000 });
        return { status: r.status, stdout: r.stdout, stderr: r.stderr };
      },
    };

    // The kernel sets "frozen 1" in cgroup.events once every process is frozen:
    // here it is said beforehand, so it reads frozen as soon as cgroup.freeze is 1.
    const v2 = fake('v2', { 'cgroup.freeze': '0\n', 'cgroup.events': 'populated 1\nfrozen 1\n' });
    const st = () => JSON.parse(e.tsrun(['state', 'v2']).stdout).status;
    t.equal(st(), 'running');
    t.equal(e.tsrun(['pause', 'v2']).status, 0);
    t.equal(readFileSync(join(v2, 'cgroup.freeze'), 'utf8').trim(), '1', 'pause writes 1 to cgroup.freeze');
    t.equal(st(), 'paused');
    t.equal(e.tsrun(['resume', 'v2']).status, 0);
    t.equal(readFileSync(join(v2, 'cgroup.freeze'), 'utf8').trim(), '0', 'resume writes 0');
    t.equal(st(), 'running');

    // cgroup.events never says frozen: the freezer stays "freezing".
    const stuck = fake('stuck', { 'cgroup.freeze': '0\n', 'cgroup.events': 'populated 1\nfrozen 0\n' });
    const s = e.tsrun(['pause', 'stuck']);
    t.equal(s.status, 1, 'a freeze that never completes fails');
    t.match(s.stderr, /cannot pause container stuck: unable to freeze \(the freezer stayed freezing; thawed again\)/);
    t.equal(readFileSync(join(stuck, 'cgroup.freeze'), 'utf8').trim(), '0', 'thawed again');

    fake('nofreezer', {});
    const n = e.tsrun(['pause', 'nofreezer']);
    t.equal(n.status, 1, 'no freezer: pause fails');
    t.match(n.stderr, /cannot pause container nofreezer: this host's cgroups have no freezer/);
    t.equal(JSON.parse(e.tsrun(['state', 'nofreezer']).stdout).status, 'running', 'nothing changed');
  });
}
