// runtime.md "Lifecycle" and "Operations" on real containers: the
// create/start split, state and its statuses, kill, delete, run's exit
// status, and that a failed or interrupted create leaves nothing behind.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { cgroupLeftovers, env, processesMentioning, requireRoot, scratch, skipOrFail, tsrunCmd, uniqueId, type Result } from '../helpers/tsrun';
import { sleepMs } from '../helpers/wait';

const validateState = require(join(__dirname, '..', '..', 'dist', 'validators', 'state.js'));

if (requireRoot(t)) {
  t.test('create, start, state, kill, delete (runtime.md Lifecycle)', async (t) => {
    const e = env(t);
    const bundle = e.bundle((c) => (c.process.args = ['sleep', '1000']));
    const id = uniqueId('life');
    const pidFile = join(e.root, '..', 'pid');
    t.equal(e.tsrun(['create', '--bundle', bundle, '--pid-file', pidFile, id]).status, 0, 'create exits 0');

    const created = JSON.parse(e.tsrun(['state', id]).stdout);
    t.ok(validateState(created), 'state document matches the state schema');
    t.equal(created.status, 'created', 'status is created after create');
    t.equal(created.id, id);
    t.equal(created.bundle, bundle);
    t.ok(Number.isInteger(created.pid) && created.pid > 0, `a real pid (${created.pid})`);
    t.match(readFileSync(pidFile, 'utf8'), /^\d+$/, 'the pid file holds a number');
    t.equal(Number(readFileSync(pidFile, 'utf8')), created.pid, 'pid file holds the init pid');
    t.match(readFileSync(`/proc/${created.pid}/cmdline`, 'utf8'), /^tsrun-init/, 'the init waits; the user program has not run');

    const delCreated = e.tsrun(['delete', id]);
    t.equal(delCreated.status, 1, 'delete of a created container fails without --force');
    t.match(delCreated.stderr, /not stopped: created/);
    t.equal(e.tsrun(['start', id]).status, 0, 'start exits 0');
    const running = JSON.parse(e.tsrun(['state', id]).stdout);
    t.equal(running.status, 'running');
    t.equal(running.pid, created.pid, 'same process');
    t.match(readFileSync(`/proc/${running.pid}/cmdline`, 'utf8'), /^sleep/, 'the user program runs');
    const startRunning = e.tsrun(['start', id]);
    t.equal(startRunning.status, 1, 'start of a running container fails');
    t.match(startRunning.stderr, /it is running, not created/);
    t.not(cgroupLeftovers(e.root, id).length, 0, 'the container has cgroups while it runs');
    const del = e.tsrun(['delete', id]);
    t.equal(del.status, 1, 'delete of a running container fails');
    t.match(del.stderr, /not stopped/);

    t.equal(e.tsrun(['kill', id, 'KILL']).status, 0, 'kill exits 0');
    for (let i = 0; i < 200 && JSON.parse(e.tsrun(['state', id]).stdout).status !== 'stopped'; i++) sleepMs(10);
    const stopped = JSON.parse(e.tsrun(['state', id]).stdout);
    t.equal(stopped.status, 'stopped');
    t.ok(validateState(stopped), 'stopped state matches the schema');
    const killStopped = e.tsrun(['kill', id, 'KILL']);
    t.equal(killStopped.status, 1, 'kill of a stopped container fails');
    t.match(killStopped.stderr, /container not running/);
    const startStopped = e.tsrun(['start', id]);
    t.equal(startStopped.status, 1, 'start of a stopped container fails');
    t.match(startStopped.stderr, /it is stopped, not created/);
    t.ok(existsSync(join(e.root, id)), 'the state directory is there until delete');
    t.equal(e.tsrun(['delete', id]).status, 0, 'delete of a stopped container');
    t.equal(e.tsrun(['state', id]).status, 1, 'state of a deleted container fails');
    t.notOk(existsSync(join(e.root, id)), 'state directory is gone');
    t.same(cgroupLeftovers(e.root, id), [], 'cgroups are gone');
  });

  t.test('unknown ids and bad ids', async (t) => {
    const e = env(t);
    for (const cmd of [['state'], ['start'], ['kill'], ['delete']]) {
      const r = e.tsrun([...cmd, 'no-such-container']);
      t.equal(r.status, 1, `${cmd[0]} of an unknown id exits 1`);
      t.match(r.stderr, /does not exist/);
    }
    t.equal(e.tsrun(['delete', '--force', 'no-such-container']).status, 0, 'delete --force of an unknown id is not an error (as runc)');
    const bundle = e.bundle();
    for (const bad of ['../x', 'a/b', '..', '']) {
      const r = e.tsrun(['create', '--bundle', bundle, bad]);
      t.equal(r.status, 1, `create with id ${JSON.stringify(bad)} is refused`);
      t.match(r.stderr, bad ? /invalid container id/ : /container id cannot be empty/, 'for its id');
    }
    t.notOk(existsSync(join(e.root, '..', 'x')), 'nothing was created outside the root');
  });

  // runc's messages are what its clients match (src/messages.ts): the
  // containerd shim takes a kill that fails with "container not running" or
  // "does not exist" for a container already gone, runs `kill --all <id> 9`
  // after the init of a container without its own pid namespace exits, and
  // deletes without --force, taking "does not exist" for done.
  t.test('a stopped container: kill fails with "container not running", kill --all succeeds, as with runc', async (t) => {
    const e = env(t);
    const runc = runcOf(t);
    const bundle = e.bundle((c) => (c.process.args = ['true']));
    const id = uniqueId('stopped');
    t.equal(e.tsrun(['run', '--keep', '--bundle', bundle, id]).status, 0);
    t.equal(JSON.parse(e.tsrun(['state', id]).stdout).status, 'stopped');
    const ours = {
      kill: e.tsrun(['kill', id, 'KILL']),
      killTerm: e.tsrun(['kill', id]),
      all: e.tsrun(['kill', '--all', id, 'KILL']),
      allShort: e.tsrun(['kill', '-a', id, 'TERM']),
    };
    t.equal(ours.kill.status, 1, 'kill exits 1');
    t.match(ours.kill.stderr, /container not running/, "with runc's words, which containerd matches");
    t.match(ours.kill.stderr, new RegExp(`cannot kill container ${id}`), 'and says which container');
    t.equal(ours.killTerm.status, 1, 'the default signal too');
    t.match(ours.killTerm.stderr, /container not running/);
    t.equal(ours.all.status, 0, 'kill --all exits 0');
    t.equal(ours.all.stderr, '', 'and says nothing');
    t.equal(ours.allShort.status, 0, 'kill -a too');
    t.equal(JSON.parse(e.tsrun(['state', id]).stdout).status, 'stopped', 'the container is still there, stopped');

    const log = join(e.root, '..', 'log.json');
    const logged = e.tsrun(['--log', log, '--log-format', 'json', 'kill', id, 'KILL']);
    t.equal(logged.status, 1);
    const last = JSON.parse(readFileSync(log, 'utf8').trim().split('\n').pop()!);
    t.equal(last.level, 'error');
    t.match(last.msg, /container not running/, 'the --log json line, which the shim reads, has the words too');
    t.equal(e.tsrun(['delete', id]).status, 0);

    if (!runc) return;
    t.equal(runc(['run', '--keep', '--bundle', bundle, id]).status, 0, 'runc run --keep');
    const theirs = { kill: runc(['kill', id, 'KILL']), killTerm: runc(['kill', id]), all: runc(['kill', '--all', id, 'KILL']), allShort: runc(['kill', '-a', id, 'TERM']) };
    for (const k of Object.keys(ours) as (keyof typeof ours)[]) t.equal(ours[k].status, theirs[k].status, `${k}: the exit status of runc (${theirs[k].status})`);
    t.match(theirs.kill.stderr, /container not running/, 'runc says "container not running"');
    t.equal(runc(['delete', id]).status, 0);
  });

  // containerd's shim runs the runtime in the task's bundle directory, which
  // is removed before the last calls of a pod's teardown (kill, delete).
  t.test('from a working directory that was removed: every command works, errors reach --log', async (t) => {
    const e = env(t);
    const bundle = e.bundle((c) => (c.process.args = ['sleep', '1000']));
    const id = uniqueId('nocwd');
    const gone = join(scratch(t, 'tsrun-nocwd'), 'removed');
    // Output to files, not pipes, which a created container would hold open.
    const out = join(e.root, '..', 'nocwd.out');
    const err = join(e.root, '..', 'nocwd.err');
    const fromGone = (args: string[]) => {
      const script = 'd=$0 out=$1 err=$2; shift 2; mkdir -p "$d" && cd "$d" && rmdir "$d" && exec "$@" >"$out" 2>"$err"';
      const r = spawnSync('sh', ['-c', script, gone, out, err, ...tsrunCmd, '--root', e.root, ...args], { timeout: 60_000 });
      return { status: r.status, stdout: readFileSync(out, 'utf8'), stderr: readFileSync(err, 'utf8') };
    };
    const said = (r: { status: number | null; stderr: string }) => `${r.status} ${r.stderr}`;
    t.equal(said(fromGone(['create', '--bundle', bundle, id])), '0 ', 'create');
    t.equal(JSON.parse(fromGone(['state', id]).stdout).status, 'created', 'state');
    t.equal(said(fromGone(['start', id])), '0 ', 'start');
    t.equal(said(fromGone(['kill', id, 'KILL'])), '0 ', 'kill');
    const log = join(e.root, '..', 'nocwd.json');
    const missing = fromGone(['--log', log, '--log-format', 'json', 'state', 'nope']);
    t.equal(missing.status, 1);
    t.match(JSON.parse(readFileSync(log, 'utf8').trim()).msg, /nope/, 'an error goes to --log as a json line');
    t.equal(said(fromGone(['delete', '--force', id])), '0 ', 'delete');
  });

  t.test('kill --all of a stopped container ends what its init left behind (no pid namespace)', async (t) => {
    const e = env(t);
    const bundle = e.bundle((c) => {
      c.linux.namespaces = c.linux.namespaces.filter((n: { type: string }) => n.type !== 'pid');
      c.process.args = ['sh', '-c', 'sleep 1000 & exec sleep 1001'];
    });
    const id = uniqueId('orphans');
    t.equal(e.tsrun(['run', '--detach', '--bundle', bundle, id]).status, 0);
    const cgroup = cgroupLeftovers(e.root, id).find((d) => d.includes('/pids/')) ?? cgroupLeftovers(e.root, id)[0];
    const procs = () => readFileSync(join(cgroup, 'cgroup.procs'), 'utf8').trim().split('\n').filter(Boolean);
    for (let i = 0; i < 100 && procs().length < 2; i++) sleepMs(10);
    t.equal(procs().length, 2, 'the init and a child');
    // The init alone is killed: the container is stopped, its child lives on.
    t.equal(e.tsrun(['kill', id, 'KILL']).status, 0);
    for (let i = 0; i < 200 && JSON.parse(e.tsrun(['state', id]).stdout).status !== 'stopped'; i++) sleepMs(10);
    t.equal(JSON.parse(e.tsrun(['state', id]).stdout).status, 'stopped');
    t.equal(procs().length, 1, 'one process left in the cgroup');
    t.match(e.tsrun(['kill', id, 'KILL']).stderr, /container not running/, 'kill of the init: not running');
    t.equal(e.tsrun(['kill', '--all', id, 'KILL']).status, 0, 'kill --all of the stopped container');
    for (let i = 0; i < 200 && procs().length > 0; i++) sleepMs(10);
    t.same(procs(), [], 'the leftover is gone');
    t.equal(e.tsrun(['delete', id]).status, 0);
    t.same(cgroupLeftovers(e.root, id), []);
  });

  t.test('unknown ids: "does not exist", as with runc', async (t) => {
    const e = env(t);
    const runc = runcOf(t);
    const cases: [string, string[]][] = [
      ['state', ['state', 'no-such-container']],
      ['delete', ['delete', 'no-such-container']],
      ['kill', ['kill', 'no-such-container', 'KILL']],
      ['kill --all', ['kill', '--all', 'no-such-container', 'KILL']],
      ['start', ['start', 'no-such-container']],
      ['delete --force', ['delete', '--force', 'no-such-container']],
    ];
    for (const [what, args] of cases) {
      const ours = e.tsrun(args);
      if (what === 'delete --force') {
        t.equal(ours.status, 0, `${what} exits 0`);
        t.equal(ours.stderr, '', `${what} says nothing`);
      } else {
        t.equal(ours.status, 1, `${what} exits 1`);
        t.match(ours.stderr, /container does not exist: no-such-container/, `${what}: "does not exist", naming the id`);
      }
      if (!runc) continue;
      const theirs = runc(args);
      t.equal(ours.status, theirs.status, `${what}: runc's exit status (${theirs.status})`);
      if (theirs.status !== 0) t.match(theirs.stderr, /does not exist/, `${what}: runc says "does not exist"`);
    }
  });

  t.test('delete of a running container and start of a running or stopped one: runc\'s exit statuses', async (t) => {
    const e = env(t);
    const runc = runcOf(t);
    const bundle = e.bundle((c) => (c.process.args = ['sleep', '1000']));
    const id = uniqueId('refuse');
    const steps = (tool: (args: string[]) => Result) => {
      const out: Record<string, Result> = {};
      out.create = tool(['create', '--bundle', bundle, id]);
      out.createAgain = tool(['create', '--bundle', bundle, id]);
      out.start = tool(['start', id]);
      out.startRunning = tool(['start', id]);
      out.deleteRunning = tool(['delete', id]);
      tool(['kill', id, 'KILL']);
      for (let i = 0; i < 200 && JSON.parse(tool(['state', id]).stdout).status !== 'stopped'; i++) sleepMs(10);
      out.startStopped = tool(['start', id]);
      out.delete = tool(['delete', id]);
      return out;
    };
    const ours = steps((a) => e.tsrun(a));
    t.equal(ours.create.status, 0);
    t.equal(ours.createAgain.status, 1, 'create with an id in use fails');
    t.equal(ours.start.status, 0);
    t.equal(ours.startRunning.status, 1);
    t.match(ours.startRunning.stderr, new RegExp(`cannot start container ${id}: it is running, not created`));
    t.equal(ours.deleteRunning.status, 1);
    t.match(ours.deleteRunning.stderr, new RegExp(`cannot delete container ${id} that is not stopped: running`), "runc's words");
    t.equal(ours.startStopped.status, 1);
    t.match(ours.startStopped.stderr, /it is stopped, not created/);
    t.equal(ours.delete.status, 0);
    if (!runc) return;
    const theirs = steps(runc);
    for (const k of Object.keys(ours)) t.equal(ours[k].status, theirs[k].status, `${k}: runc's exit status (${theirs[k].status})`);
    t.match(theirs.deleteRunning.stderr, new RegExp(`cannot delete container ${id} that is not stopped: running`), 'runc says the same');
  });

  t.test('run exit status', async (t) => {
    const e = env(t);
    t.equal(e.sh('exit 0').status, 0);
    t.equal(e.sh('exit 7').status, 7, 'exit code of the process');
    // pid 1 of a pid namespace cannot be killed from inside; without one it can.
    t.equal(e.sh('kill -9 $$', (c) => (c.linux.namespaces = c.linux.namespaces.filter((n: { type: string }) => n.type !== 'pid'))).status, 128 + 9, '128+signal when killed');
    const bundle = e.bundle((c) => (c.process.args = ['sleep', '1000']));
    const id = uniqueId('killed');
    const run = spawn(tsrunCmd[0], [...tsrunCmd.slice(1), '--root', e.root, 'run', '--bundle', bundle, id], { stdio: 'ignore' });
    for (let i = 0; i < 200 && e.tsrun(['state', id]).stdout.indexOf('running') < 0; i++) sleepMs(10);
    t.equal(e.tsrun(['kill', id, 'TERM']).status, 0);
    t.equal(e.tsrun(['kill', id, 'KILL']).status, 0, 'pid 1 ignores TERM without a handler; KILL from outside works');
    const code = await new Promise<number | null>((r) => run.on('exit', r));
    t.equal(code, 128 + 9, 'run exits with 128+9 after kill KILL');
    const r = e.sh('echo out; echo err >&2');
    t.equal(r.stdout, 'out\n', 'stdout is the container stdout');
    t.match(r.stderr, /err\n/, 'stderr is the container stderr');
    t.ok(existsSync(e.root), 'the state root was used');
    t.same(readdirIfExists(e.root), [], 'run deletes its container afterwards');
  });

  t.test('run --detach and --keep', async (t) => {
    const e = env(t);
    const bundle = e.bundle((c) => (c.process.args = ['sleep', '1000']));
    const id = uniqueId('detach');
    t.equal(e.tsrun(['run', '--detach', '--bundle', bundle, id]).status, 0);
    t.equal(JSON.parse(e.tsrun(['state', id]).stdout).status, 'running');
    t.equal(e.tsrun(['delete', '--force', id]).status, 0);
    const keep = uniqueId('keep');
    const b2 = e.bundle((c) => (c.process.args = ['true']));
    t.equal(e.tsrun(['run', '--keep', '--bundle', b2, keep]).status, 0);
    t.equal(JSON.parse(e.tsrun(['state', keep]).stdout).status, 'stopped', '--keep leaves the stopped container');
  });

  t.test('stdio given to create are the container stdio', async (t) => {
    const e = env(t);
    const bundle = e.bundle((c) => (c.process.args = ['sh', '-c', 'read line; echo "got $line"; echo to-stderr >&2']));
    const id = uniqueId('stdio');
    const dir = join(e.root, '..');
    writeFileSync(join(dir, 'in'), 'hello\n');
    const r = e.tsrun(['create', '--bundle', bundle, id], { stdio: [openSync(join(dir, 'in'), 'r'), openSync(join(dir, 'out'), 'w'), openSync(join(dir, 'err'), 'w')] });
    t.equal(r.status, 0, 'create returned while the container holds the files');
    t.equal(readFileSync(join(dir, 'out'), 'utf8'), '', 'nothing ran before start');
    t.equal(e.tsrun(['start', id]).status, 0);
    for (let i = 0; i < 200 && JSON.parse(e.tsrun(['state', id]).stdout).status !== 'stopped'; i++) sleepMs(10);
    t.equal(readFileSync(join(dir, 'out'), 'utf8'), 'got hello\n', 'stdin and stdout of create');
    t.match(readFileSync(join(dir, 'err'), 'utf8'), /to-stderr\n$/, 'stderr of create');
  });

  t.test('list', async (t) => {
    const e = env(t);
    const bundle = e.bundle((c) => (c.process.args = ['sleep', '1000']));
    const a = uniqueId('list');
    t.equal(e.tsrun(['create', '--bundle', bundle, a]).status, 0);
    const table = e.tsrun(['list']).stdout.split('\n');
    t.match(table[0], /^ID\s+PID\s+STATUS\s+BUNDLE\s+CREATED\s+OWNER$/);
    t.match(table[1], new RegExp(`^${a}\\s+\\d+\\s+created\\s+${bundle}`));
    const json = JSON.parse(e.tsrun(['list', '--format', 'json']).stdout);
    t.equal(json.length, 1);
    t.equal(json[0].id, a);
    t.equal(e.tsrun(['list', '-q']).stdout, `${a}\n`);
  });

  t.test('kill --all signals every process (no pid namespace)', async (t) => {
    const e = env(t);
    const bundle = e.bundle((c) => {
      c.linux.namespaces = c.linux.namespaces.filter((n: { type: string }) => n.type !== 'pid');
      c.process.args = ['sh', '-c', 'sleep 1000 & sleep 1000 & exec sleep 1000'];
    });
    const id = uniqueId('killall');
    t.equal(e.tsrun(['run', '--detach', '--bundle', bundle, id]).status, 0);
    const cgroup = cgroupLeftovers(e.root, id).find((d) => d.includes('/pids/'))!;
    let pids: string[] = [];
    for (let i = 0; i < 100 && pids.length < 3; i++, sleepMs(10)) pids = readFileSync(join(cgroup, 'cgroup.procs'), 'utf8').trim().split('\n');
    t.equal(pids.length, 3, 'three processes in the container');
    t.equal(e.tsrun(['kill', '--all', id, '9']).status, 0);
    for (let i = 0; i < 200 && readFileSync(join(cgroup, 'cgroup.procs'), 'utf8').trim() !== ''; i++) sleepMs(10);
    t.equal(readFileSync(join(cgroup, 'cgroup.procs'), 'utf8').trim(), '', 'all of them are gone');
    t.equal(e.tsrun(['delete', id]).status, 0);
    t.same(cgroupLeftovers(e.root, id), []);
  });

  t.test('concurrent creates of one id: exactly one succeeds', async (t) => {
    const e = env(t);
    const bundle = e.bundle((c) => (c.process.args = ['sleep', '1000']));
    const id = uniqueId('race');
    const results = await Promise.all(
      Array.from({ length: 6 }, () => new Promise<number>((resolve) => {
        const c = spawn(tsrunCmd[0], [...tsrunCmd.slice(1), '--root', e.root, 'create', '--bundle', bundle, id], { stdio: 'ignore' });
        c.on('exit', (code) => resolve(code ?? -1));
      })),
    );
    t.equal(results.filter((c) => c === 0).length, 1, 'one create succeeded');
    t.equal(results.filter((c) => c === 1).length, 5, 'the others exited 1');
    t.equal(JSON.parse(e.tsrun(['state', id]).stdout).status, 'created');
    t.equal(e.tsrun(['delete', '--force', id]).status, 0);
    t.same(cgroupLeftovers(e.root, id), []);
  });

  t.test('tsrun killed in the middle of create; delete --force leaves nothing', async (t) => {
    const e = env(t);
    const bundle = e.bundle((c) => (c.process.args = ['sleep', '1000']));
    // The processes of container `id` (see processesMentioning), waited for
    // a little: an init whose tsrun was killed sees its channel close and
    // exits on its own.
    const processesOf = (id: string) => {
      let found = processesMentioning([id]);
      for (let i = 0; i < 100 && found.length > 0; i++) {
        sleepMs(20);
        found = processesMentioning([id]);
      }
      return found.map((p) => `pid ${p.pid}: ${p.where} ${p.what}`);
    };
    // How long a whole create takes here, to kill it at points all along.
    const started = Date.now();
    const probe = uniqueId('timing');
    t.equal(e.tsrun(['create', '--bundle', bundle, probe]).status, 0);
    const full = Date.now() - started;
    // The scan finds a container's processes: the created init holds the
    // exec fifo of its state directory and is in its cgroups.
    const init = JSON.parse(e.tsrun(['state', probe]).stdout).pid;
    const seen = processesMentioning([probe]).filter((p) => p.pid === init).map((p) => p.where);
    t.ok(seen.includes('cgroup') && seen.some((w) => w.startsWith('fd/')), `the scan finds a created container's init by its cgroup and fifo (${seen.join(', ')})`);
    t.equal(e.tsrun(['delete', '--force', probe]).status, 0);
    t.same(processesOf(probe), [], 'delete --force of the created container leaves no process');
    let interrupted = 0;
    let withProcesses = 0;
    for (let step = 0; step <= 20; step++) {
      const delay = Math.round((full * (40 + step * 3)) / 100);
      const id = uniqueId('interrupted');
      const child = spawn(tsrunCmd[0], [...tsrunCmd.slice(1), '--root', e.root, 'create', '--bundle', bundle, id], { stdio: 'ignore' });
      const exited = new Promise((r) => child.on('exit', (c) => r(c)));
      await new Promise((r) => setTimeout(r, delay));
      child.kill('SIGKILL');
      const code = await exited;
      if (processesMentioning([id]).length > 0) withProcesses++;
      if (existsSync(join(e.root, id))) {
        if (code !== 0) interrupted++;
        t.equal(e.tsrun(['state', id]).status, 0, `state works on the remains (killed after ${delay} ms)`);
        t.equal(e.tsrun(['delete', '--force', id]).status, 0, 'delete --force');
      }
      t.notOk(existsSync(join(e.root, id)), `no state dir (killed after ${delay} ms)`);
      t.same(cgroupLeftovers(e.root, id), [], 'no cgroup');
      t.same(processesOf(id), [], `no process of the container or of tsrun left (killed after ${delay} ms)`);
    }
    t.ok(interrupted > 0, `some creates were interrupted half-way (${interrupted})`);
    t.comment(`${withProcesses} of the interrupted creates had processes before delete --force`);
    t.same(processesMentioning([e.root, bundle]).map((p) => `pid ${p.pid}: ${p.where} ${p.what}`), [], 'no process mentions the state root or the bundle');
  });

  // A pipe given to tsrun as stdout or stderr is the container's too (the
  // same file description). Node makes a pipe non-blocking when something
  // creates process.stdout or process.stderr on it, and yargs and the
  // assert module it loads did, as create loaded them: the container's
  // output then met EAGAIN. A createRuntime hook, run by tsrun during
  // create, reads tsrun's own fds 1 and 2.
  t.test('create leaves a pipe given as its stdout or stderr blocking', async (t) => {
    const e = env(t);
    const dir = scratch(t, 'tsrun-pipe');
    const fifo = join(dir, 'fifo');
    t.equal(spawnSync('mkfifo', [fifo]).status, 0);
    const fd = openSync(fifo, 'r+'); // a pipe that never blocks its opener nor ends
    t.teardown(() => closeSync(fd));
    const seen = join(dir, 'flags');
    const hook = join(dir, 'hook.sh');
    writeFileSync(hook, `#!/bin/sh\ngrep -H flags /proc/$PPID/fdinfo/1 /proc/$PPID/fdinfo/2 > ${seen}\n`, { mode: 0o755 });
    const bundle = e.bundle((c) => {
      c.process.args = ['true'];
      c.hooks = { createRuntime: [{ path: hook }] };
    });
    const r = spawnSync(tsrunCmd[0], [...tsrunCmd.slice(1), '--root', e.root, 'create', '--bundle', bundle, uniqueId('pipe')], { stdio: ['ignore', fd, fd], timeout: 60_000 });
    t.equal(r.status, 0, 'create exits 0');
    const flags = readFileSync(seen, 'utf8').trim().split('\n');
    t.equal(flags.length, 2, `the hook saw both fds: ${flags.join('; ')}`);
    for (const line of flags) t.equal(parseInt(line.split(/\s+/).pop()!, 8) & 0o4000, 0, `not O_NONBLOCK while create runs: ${line}`);
  });
}

/**
 * runc on the same bundles, with a state root of its own, where it is
 * installed. Where it is not, the comparisons are skipped with that reason
 * (a failure in CI, which installs it). Its output goes to files: a
 * container it creates keeps them.
 */
function runcOf(t: Test): ((args: string[]) => Result) | undefined {
  if (spawnSync('runc', ['--version']).status !== 0) {
    skipOrFail(t, 'the same steps with runc, compared', 'runc is not installed (apt-get install runc)');
    return undefined;
  }
  const dir = scratch(t, 'runc-state');
  const root = join(dir, 'root');
  let n = 0;
  const run = (args: string[]): Result => {
    const out = join(dir, `out-${++n}`);
    const err = join(dir, `err-${n}`);
    const fds = [openSync(out, 'w'), openSync(err, 'w')];
    try {
      const r = spawnSync('runc', ['--root', root, ...args], { stdio: ['ignore', fds[0], fds[1]], timeout: 60_000 });
      return { status: r.status, signal: r.signal, stdout: readFileSync(out, 'utf8'), stderr: readFileSync(err, 'utf8') };
    } finally {
      fds.forEach((fd) => closeSync(fd));
    }
  };
  t.teardown(() => {
    for (const id of run(['list', '-q']).stdout.split('\n').filter(Boolean)) run(['delete', '--force', id]);
  });
  return run;
}

function readdirIfExists(dir: string): string[] {
  return existsSync(dir) ? require('node:fs').readdirSync(dir) : [];
}
