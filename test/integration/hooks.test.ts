// config.md "POSIX-platform Hooks" and runtime.md "Lifecycle": every kind of
// hook, when and in which namespaces it runs, what it gets, their order,
// failures (the operation fails, the container stops, poststop still runs)
// and timeouts.
import { spawnSync } from 'node:child_process';
import { chmodSync, closeSync, existsSync, openSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { env, requireRoot, scratch, tsrunCmd, uniqueId } from '../helpers/tsrun';
import { sleepMs } from '../helpers/wait';

type Config = Record<string, any>;
const kinds = ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'] as const;

// What the recording shell script adds to its own environment.
const withoutShellVars = (env: string[]) => env.filter((v) => !/^(PWD|OLDPWD|SHLVL|_)=/.test(v));

interface Record_ {
  name: string;
  argv: string[];
  env: string[];
  state: Record<string, any>;
  mnt: string;
}

/** A hook directory with a recording hook script, visible in the container at /hooks. */
function hooks(t: Test) {
  const dir = scratch(t, 'tsrun-hooks');
  // Records argv, environ, stdin and the mount namespace of the hook, then
  // exits with $HOOK_EXIT (default 0) after sleeping $HOOK_SLEEP seconds.
  const script = `#!/bin/sh
name=$1
{ printf '%s\\n' "$name"
  for a in "$@"; do printf 'arg=%s\\n' "$a"; done
  env | sort | sed 's/^/env=/'
  printf 'state=%s\\n' "$(cat)"
  printf 'mnt=%s\\n' "$(readlink /proc/self/ns/mnt)"
} > "$(dirname "$0")/$name.rec"
echo "$name" >> "$(dirname "$0")/order"
[ -n "$HOOK_SLEEP" ] && sleep "$HOOK_SLEEP"
exit \${HOOK_EXIT:-0}
`;
  writeFileSync(join(dir, 'hook.sh'), script, { mode: 0o755 });
  const read = (name: string): Record_ | undefined => {
    const file = join(dir, `${name}.rec`);
    if (!existsSync(file)) return undefined;
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    const get = (p: string) => lines.filter((l) => l.startsWith(p)).map((l) => l.slice(p.length));
    return { name: lines[0], argv: get('arg='), env: get('env='), state: JSON.parse(get('state=')[0] || 'null'), mnt: get('mnt=')[0] };
  };
  const order = () => (existsSync(join(dir, 'order')) ? readFileSync(join(dir, 'order'), 'utf8').trim().split('\n').filter(Boolean) : []);
  // startContainer resolves in the container: the same script, through /hooks.
  const entry = (kind: string, name: string, extraEnv: string[] = []) => ({
    path: kind === 'startContainer' ? '/hooks/hook.sh' : join(dir, 'hook.sh'),
    args: ['hook.sh', name],
    env: ['PATH=/usr/sbin:/usr/bin:/sbin:/bin', ...extraEnv],
  });
  const mount = (c: Config) => c.mounts.push({ destination: '/hooks', type: 'bind', source: dir, options: ['rbind', 'rw'] });
  return { dir, read, order, entry, mount };
}

if (requireRoot(t)) {
  t.test('every kind runs at its point, in its namespaces, with the state on stdin', async (t) => {
    const e = env(t);
    const h = hooks(t);
    const bundle = e.bundle((c: Config) => {
      h.mount(c);
      c.process.args = ['sleep', '1'];
      c.annotations = { 'com.example.k': 'v' };
      c.hooks = {};
      for (const k of kinds) c.hooks[k] = [h.entry(k, `${k}-1`), h.entry(k, `${k}-2`)];
    });
    const id = uniqueId('hooks');
    t.equal(e.tsrun(['create', '--bundle', bundle, id]).status, 0);
    t.same(h.order(), ['prestart-1', 'prestart-2', 'createRuntime-1', 'createRuntime-2', 'createContainer-1', 'createContainer-2'], 'create runs prestart, createRuntime, createContainer, in order');
    const pid = JSON.parse(e.tsrun(['state', id]).stdout).pid;
    const containerMnt = readlinkSync(`/proc/${pid}/ns/mnt`);
    t.equal(e.tsrun(['start', id]).status, 0);
    t.same(h.order().slice(6), ['startContainer-1', 'startContainer-2', 'poststart-1', 'poststart-2'], 'start runs startContainer, then poststart');
    for (let i = 0; i < 300 && JSON.parse(e.tsrun(['state', id]).stdout).status !== 'stopped'; i++) sleepMs(10);
    t.equal(h.order().length, 10, 'nothing before delete');
    t.equal(e.tsrun(['delete', id]).status, 0);
    t.same(h.order().slice(10), ['poststop-1', 'poststop-2'], 'delete runs poststop');

    const hostMnt = readlinkSync('/proc/self/ns/mnt');
    const statuses: Record<string, string> = { prestart: 'creating', createRuntime: 'creating', createContainer: 'creating', startContainer: 'created', poststart: 'running', poststop: 'stopped' };
    for (const k of kinds) {
      const r = h.read(`${k}-1`)!;
      t.same(r.argv, [`${k}-1`], `${k}: its args`);
      t.same(withoutShellVars(r.env), ['PATH=/usr/sbin:/usr/bin:/sbin:/bin'], `${k}: only its env`);
      t.equal(r.state.id, id, `${k}: state on stdin`);
      t.equal(r.state.bundle, bundle);
      t.equal(r.state.status, statuses[k], `${k}: status ${statuses[k]}`);
      t.same(r.state.annotations, { 'com.example.k': 'v' });
      const inContainer = k === 'createContainer' || k === 'startContainer';
      t.equal(r.mnt, inContainer ? containerMnt : hostMnt, `${k}: ${inContainer ? 'container' : 'runtime'} mount namespace`);
    }
    t.equal(h.read('prestart-1')!.state.pid, pid, 'runtime hooks see the pid as the runtime does');
    t.equal(h.read('createContainer-1')!.state.pid, 1, 'container hooks see the pid as the container does');
  });

  t.test('args and env are exactly the configured ones', async (t) => {
    const e = env(t);
    const h = hooks(t);
    const r = e.sh('true', (c: Config) => {
      c.hooks = { createRuntime: [{ path: join(h.dir, 'hook.sh'), args: ['hook.sh', 'argsenv', 'two words', ''], env: ['A=1', 'B=two words', 'EMPTY='] }] };
    });
    t.equal(r.status, 0, r.stderr);
    const rec = h.read('argsenv')!;
    t.same(rec.argv, ['argsenv', 'two words', ''], 'argv');
    t.same(withoutShellVars(rec.env), ['A=1', 'B=two words', 'EMPTY='], 'environ');
  });

  for (const kind of ['prestart', 'createRuntime', 'createContainer'] as const) {
    t.test(`a failing ${kind} hook fails create, leaves nothing, and poststop runs`, async (t) => {
      const e = env(t);
      const h = hooks(t);
      const bundle = e.bundle((c: Config) => {
        c.hooks = { [kind]: [h.entry(kind, 'bad', ['HOOK_EXIT=3'])], poststop: [h.entry('poststop', 'poststop')] };
      });
      const id = uniqueId('hookfail');
      const r = e.tsrun(['create', '--bundle', bundle, id]);
      t.equal(r.status, 1);
      t.match(r.stderr, new RegExp(`hooks\\.${kind}\\[0\\]: ${kind} hook .* failed: exit status 3`));
      t.notOk(existsSync(join(e.root, id)), 'no container');
      t.same(h.order(), ['bad', 'poststop'], 'poststop ran after the failure');
    });
  }

  t.test('a failing startContainer hook fails start; the program never runs', async (t) => {
    const e = env(t);
    const h = hooks(t);
    const bundle = e.bundle((c: Config) => {
      h.mount(c);
      c.root.readonly = false;
      c.process.args = ['touch', '/ran'];
      c.hooks = { startContainer: [h.entry('startContainer', 'bad', ['HOOK_EXIT=1'])] };
    });
    const id = uniqueId('scfail');
    t.equal(e.tsrun(['create', '--bundle', bundle, id]).status, 0);
    const r = e.tsrun(['start', id]);
    t.equal(r.status, 1, 'start fails');
    t.match(r.stderr, /hooks\.startContainer\[0\]: startContainer hook \/hooks\/hook\.sh failed/);
    t.equal(JSON.parse(e.tsrun(['state', id]).stdout).status, 'stopped', 'the container is stopped');
    t.notOk(existsSync(join(bundle, 'rootfs', 'ran')), 'the program did not run');
    t.equal(e.tsrun(['delete', id]).status, 0);
    // Control: without the failing hook the same bundle's program leaves /ran.
    const config = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8'));
    config.hooks.startContainer = [h.entry('startContainer', 'good')];
    writeFileSync(join(bundle, 'config.json'), JSON.stringify(config));
    const good = e.tsrun(['run', '--bundle', bundle, uniqueId('scgood')]);
    t.equal(good.status, 0, good.stderr);
    t.ok(existsSync(join(bundle, 'rootfs', 'ran')), 'control: with a hook that succeeds the program runs and leaves /ran');
  });

  // config.md "startContainer": the hook's path is the container's, so the
  // image chooses the binary; it must get no more than the program would.
  t.test('a startContainer hook runs with the identity of the container process, nothing more', async (t) => {
    const e = env(t);
    const dir = scratch(t, 'tsrun-schook');
    chmodSync(dir, 0o777);
    const probe = `#!/bin/sh
{ grep -E '^(Uid|Gid|Groups|CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs|Seccomp):' /proc/self/status
  cat /proc/self/cgroup
  readlink /proc/self/ns/mnt /proc/self/ns/pid /proc/self/root
  ls /proc/self/fd | sort -n | tr '\\n' ' '
} > "$(dirname "$0")/$1"
`;
    writeFileSync(join(dir, 'probe.sh'), probe, { mode: 0o755 });
    const r = e.sh('/hooks/probe.sh program', (c: Config) => {
      c.mounts.push({ destination: '/hooks', type: 'bind', source: dir, options: ['rbind', 'rw'] });
      c.process.user = { uid: 1000, gid: 1000, additionalGids: [1001] };
      c.process.noNewPrivileges = true;
      c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['kexec_load'], action: 'SCMP_ACT_ERRNO' }] };
      c.hooks = {
        startContainer: [{ path: '/hooks/probe.sh', args: ['probe.sh', 'hook'] }],
        createContainer: [{ path: join(dir, 'probe.sh'), args: ['probe.sh', 'create'] }],
      };
    });
    t.equal(r.status, 0, r.stderr);
    const hook = readFileSync(join(dir, 'hook'), 'utf8').split('\n');
    const program = readFileSync(join(dir, 'program'), 'utf8').split('\n');
    // The shell that runs the probe has the same fds in both (0-2, and the one `ls` reads with).
    t.same(hook, program, 'user, groups, capabilities, no_new_privs, seccomp, cgroups, namespaces, root and fds are the program\'s');
    t.ok(hook.includes('Seccomp:\t2'), 'the seccomp filter is on');
    t.ok(hook.some((l) => /^Uid:\s+1000\s/.test(l)), 'as the process user');
    // In the container's cgroup, not in the one tsrun runs in: the pids
    // hierarchy's line (the unified one's on a cgroup v2 host).
    const cgroupLine = (lines: string[]) => lines.find((l) => /^\d+:pids:/.test(l)) ?? lines.find((l) => l.startsWith('0::'));
    const mine = cgroupLine(readFileSync('/proc/self/cgroup', 'utf8').split('\n'));
    t.ok(mine, `tsrun's own cgroup here: ${mine}`);
    t.match(cgroupLine(hook) ?? '', /^\d+:[^:]*:\/.+/, 'the hook read its cgroup');
    t.not(cgroupLine(hook), mine, 'not in the cgroup tsrun runs in');
    const fds = (lines: string[]) => lines.filter(Boolean).pop();
    t.equal(fds(readFileSync(join(dir, 'create'), 'utf8').split('\n')), fds(program), 'a createContainer hook gets no fd of tsrun either');
  });

  t.test('startContainer hooks: a large state, a message with control bytes, preserved fds', async (t) => {
    const e = env(t);
    const dir = scratch(t, 'tsrun-schook');
    chmodSync(dir, 0o777);
    writeFileSync(join(dir, 'record.sh'), '#!/bin/sh\nwc -c > /hooks/state-size\nls /proc/self/fd | sort -n | tr "\\n" " " > /hooks/fds\n', { mode: 0o755 });
    writeFileSync(join(dir, 'bad.sh'), '#!/bin/sh\nprintf "first\\r\\nsecond\\000third\\r\\n"\nexit 2\n', { mode: 0o755 });
    const mount = (c: Config) => c.mounts.push({ destination: '/hooks', type: 'bind', source: dir, options: ['rbind', 'rw'] });

    // Over a pipe's capacity, even one the user could not enlarge.
    const big = 'x'.repeat(2 << 20);
    const bundle = e.bundle((c: Config) => {
      mount(c);
      c.process.args = ['sh', '-c', 'ls /proc/self/fd | sort -n | tr "\\n" " " > /hooks/program-fds'];
      c.annotations = { 'org.example.big': big };
      c.hooks = { startContainer: [{ path: '/hooks/record.sh' }] };
    });
    const three = openSync(join(dir, 'record.sh'), 'r');
    const r = spawnSync(tsrunCmd[0], [...tsrunCmd.slice(1), '--root', e.root, 'run', '--preserve-fds', '1', '--bundle', bundle, uniqueId('bigstate')], {
      stdio: ['ignore', 'ignore', 'pipe', three],
      encoding: 'utf8',
      timeout: 60_000,
    });
    closeSync(three);
    t.equal(r.status, 0, r.stderr);
    t.ok(Number(readFileSync(join(dir, 'state-size'), 'utf8')) > big.length, 'the whole state reached the hook');
    t.equal(readFileSync(join(dir, 'fds'), 'utf8'), '0 1 2 3 ', 'the hook has stdio only (3 is ls reading /proc/self/fd)');
    t.equal(readFileSync(join(dir, 'program-fds'), 'utf8'), '0 1 2 3 4 ', 'the program still gets the preserved fd');

    const bad = e.sh('true', (c: Config) => {
      mount(c);
      c.hooks = { startContainer: [{ path: '/hooks/bad.sh' }] };
    });
    t.equal(bad.status, 1);
    t.match(bad.stderr, /hooks\.startContainer\[0\]: startContainer hook \/hooks\/bad\.sh failed: exit status 2: first +second third\n$/, 'the message is one clean line');
  });

  t.test('a failing poststart hook fails start and stops the container', async (t) => {
    const e = env(t);
    const h = hooks(t);
    const bundle = e.bundle((c: Config) => {
      c.process.args = ['sleep', '100'];
      c.hooks = { poststart: [h.entry('poststart', 'bad', ['HOOK_EXIT=1'])] };
    });
    const id = uniqueId('psfail');
    t.equal(e.tsrun(['create', '--bundle', bundle, id]).status, 0);
    const r = e.tsrun(['start', id]);
    t.equal(r.status, 1);
    t.match(r.stderr, /hooks\.poststart\[0\]: poststart hook .* failed: exit status 1/, 'naming the hook');
    t.same(h.order(), ['bad'], 'the hook ran');
    t.equal(JSON.parse(e.tsrun(['state', id]).stdout).status, 'stopped');
  });

  t.test('a failing poststop hook is a warning; the next one runs', async (t) => {
    const e = env(t);
    const h = hooks(t);
    const r = e.sh('true', (c: Config) => {
      c.hooks = { poststop: [h.entry('poststop', 'bad', ['HOOK_EXIT=1']), h.entry('poststop', 'next')] };
    });
    t.equal(r.status, 0, 'run (which deletes) succeeds');
    t.match(r.stderr, /level=warning msg="hooks\.poststop\[0\]: .* failed: exit status 1"/);
    t.same(h.order(), ['bad', 'next']);
  });

  t.test('a hook that runs over its timeout is killed and fails create', async (t) => {
    const e = env(t);
    const h = hooks(t);
    const bundle = e.bundle((c: Config) => {
      c.hooks = { createRuntime: [{ ...h.entry('createRuntime', 'slow', ['HOOK_SLEEP=60']), timeout: 1 }] };
    });
    const started = Date.now();
    const r = e.tsrun(['create', '--bundle', bundle, uniqueId('slow')]);
    t.equal(r.status, 1);
    t.match(r.stderr, /hooks\.createRuntime\[0\]: .* timed out after 1s/);
    t.ok(Date.now() - started < 15_000, 'gave up soon after the timeout');
  });
}
