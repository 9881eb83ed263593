// runc's messages are an interface: its clients look for some of runc's
// words in a failed command's output (src/messages.ts has the table). The
// words and exit statuses are written here again, on purpose, from the
// clients' code and from runc 1.1.5 itself, not read from src/messages.ts:
// a message reworded without them fails this test, and so does a table
// entry that drops them. The lifecycle functions are driven on fake state
// directories (no container, no root), and the command line is run to see
// that every error, its own usage errors included, reaches --log.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { NoSuchContainer, TsrunError } from '../../src/errors';
import { errorOf } from '../helpers/errors';
import { deleteContainer } from '../../src/lifecycle/delete';
import { kill } from '../../src/lifecycle/kill';
import { stateOf } from '../../src/lifecycle/query';
import { start } from '../../src/lifecycle/start';
import { logOptionsFromArgv } from '../../src/log';
import { contracts, messages } from '../../src/messages';
import { parseSignal } from '../../src/signals';
import { startTimeOf } from '../../src/state/proc';
import type { StateRecord } from '../../src/state/record';
import { ContainerDir, checkId } from '../../src/state/store';

// What the clients match, as they spell it.
const CONTAINERD_NOT_RUNNING = 'container not running'; // containerd pkg/process/utils.go checkKillError
const CONTAINERD_NO_SUCH_PROCESS = 'no such process'; // the same, on the lower-cased error
const DOES_NOT_EXIST = 'does not exist'; // checkKillError, pkg/process/init.go delete, podman UpdateContainerStatus

// Each case: runc 1.1.5's exit status, and the runc words tsrun's message must contain.
const expected: Record<string, { exit: number; words: string[] }> = {
  'kill of a stopped container': { exit: 1, words: [CONTAINERD_NOT_RUNNING] },
  'kill --all of a stopped container': { exit: 0, words: [] },
  'kill of an unknown id': { exit: 1, words: [DOES_NOT_EXIST] },
  'delete of an unknown id': { exit: 1, words: [DOES_NOT_EXIST] },
  'delete --force of an unknown id': { exit: 0, words: [] },
  'state of an unknown id': { exit: 1, words: [DOES_NOT_EXIST] },
  'start of an unknown id': { exit: 1, words: [DOES_NOT_EXIST] },
  'delete of a running container': { exit: 1, words: ['that is not stopped'] },
  'start of a running container': { exit: 1, words: [] },
  'start of a stopped container': { exit: 1, words: [] },
  'start of a paused container': { exit: 1, words: ['cannot start a container in the paused state'] },
  'delete of a paused container': { exit: 1, words: ['that is not stopped'] },
  'pause of a stopped container': { exit: 1, words: [CONTAINERD_NOT_RUNNING] },
  'resume of a running container': { exit: 1, words: ['container not paused'] },
  'ps of a stopped container': { exit: 0, words: [] },
  'ps with no PID column': { exit: 1, words: ["couldn't find PID field in ps output"] },
  'create with an id in use': { exit: 1, words: ['container with given ID already exists'] },
  'an empty id': { exit: 1, words: ['container id cannot be empty'] },
  'an unknown signal': { exit: 1, words: ['unknown signal'] },
};

const ids = ['c1', 'k8s_POD_web-0.default+x', 'a'.repeat(64)];

t.test('each message a client matches contains runc words', async (t) => {
  for (const id of ids) {
    t.match(messages.killNotRunning(id), CONTAINERD_NOT_RUNNING, `kill of stopped ${id}`);
    t.match(messages.startInitGone(id), CONTAINERD_NOT_RUNNING, `start whose init is gone ${id}`);
    t.match(messages.doesNotExist(id), DOES_NOT_EXIST, `unknown id ${id}`);
    t.match(messages.deleteNotStopped(id, 'running'), `cannot delete container ${id} that is not stopped: running`, 'runc words exactly');
    t.match(messages.alreadyExists(id), 'container with given ID already exists');
    t.equal(messages.deleteNotStopped(id, 'paused'), `cannot delete container ${id} that is not stopped: paused`, 'runc words exactly, paused');
    t.match(messages.startPaused(id), 'cannot start a container in the paused state');
    t.match(messages.pauseNotRunning(id, 'paused'), 'container not running');
    t.match(messages.resumeNotPaused(id, 'running'), 'container not paused');
    for (const m of [messages.startPaused(id), messages.pauseNotRunning(id, 'stopped'), messages.resumeNotPaused(id, 'created'), messages.noFreezer(id), messages.unableToFreeze(id, 'freezing')]) {
      t.match(m, id, 'and names the container');
    }
    for (const m of [messages.killNotRunning(id), messages.doesNotExist(id), messages.startNotCreated(id, 'running'), messages.deleteNotStopped(id, 'created')]) {
      t.match(m, id, 'and names the container');
    }
  }
  // A stopped container's kill must never read as "unknown" to containerd:
  // it is one of checkKillError's words, not "does not exist" (that would be a container gone).
  t.notMatch(messages.killNotRunning('c1'), DOES_NOT_EXIST);
  t.match(messages.emptyId(), 'container id cannot be empty');
});

t.test('the table in src/messages.ts says what runc and the clients need', async (t) => {
  t.same(contracts().map((c) => c.case).sort(), Object.keys(expected).sort(), 'the same cases');
  for (const c of contracts()) {
    const want = expected[c.case];
    if (!want) continue;
    t.equal(c.runc.exit, want.exit, `${c.case}: runc exits ${want.exit}`);
    t.equal(c.tsrun.exit, c.runc.exit, `${c.case}: tsrun exits as runc`);
    for (const w of want.words) {
      t.match(c.runc.message, w, `${c.case}: runc says "${w}"`);
      t.match(c.tsrun.message, w, `${c.case}: tsrun says "${w}"`);
      t.ok(c.mustContain.includes(w), `${c.case}: the table lists "${w}"`);
    }
    for (const w of c.mustContain) t.match(c.tsrun.message, w, `${c.case}: contains "${w}"`);
    t.ok(c.clients.length > 0, `${c.case}: names who relies on it`);
  }
});

// A state root with hand-made containers: a state.json whose init is a
// process of this test (running) or a pid that is gone (stopped), and a
// "cgroup" that is a plain directory with a cgroup.procs file.
const base = mkdtempSync(join(tmpdir(), 'tsrun-messages-'));
t.teardown(() => rmSync(base, { recursive: true, force: true }));
const root = join(base, 'state');
mkdirSync(root);

function fakeContainer(id: string, init: { pid: number; startTime: string }, leftovers: number[] = []): void {
  const cgdir = join(base, 'cgroup', id);
  mkdirSync(cgdir, { recursive: true });
  writeFileSync(join(cgdir, 'cgroup.procs'), leftovers.map((p) => `${p}\n`).join(''));
  const rec: StateRecord = {
    id,
    bundle: base,
    rootfs: join(base, 'rootfs'),
    phase: 'created',
    init,
    created: new Date().toISOString(),
    owner: '',
    cgroup: { dirs: [{ version: 2, mountpoint: join(base, 'cgroup'), controllers: [], path: `/${id}`, dir: cgdir }], created: [] },
    ownPidNamespace: true,
    config: {},
  };
  mkdirSync(join(root, id));
  writeFileSync(join(root, id, 'state.json'), JSON.stringify(rec));
}


const goneInit = { pid: spawnSync('true').pid!, startTime: 'not-this-one' };

function sleeper() {
  const child = spawn('sleep', ['1000'], { stdio: 'ignore' });
  const exited = new Promise<NodeJS.Signals | null>((r) => child.on('exit', (_code, sig) => r(sig)));
  return { child, exited };
}

t.test('unknown ids: kill, delete, state and start say "does not exist"', async (t) => {
  for (const [what, fn] of [
    ['kill', () => kill(root, 'nope', 9, false)],
    ['kill --all', () => kill(root, 'nope', 9, true)],
    ['delete', () => deleteContainer(root, 'nope', false)],
    ['state', () => stateOf(root, 'nope')],
    ['start', () => start(root, 'nope')],
  ] as const) {
    t.throws(fn, NoSuchContainer, `${what} throws NoSuchContainer`);
    t.match(errorOf(fn), DOES_NOT_EXIST, what);
  }
  t.doesNotThrow(() => deleteContainer(root, 'nope', true), 'delete --force of an unknown id succeeds');
});

t.test('a stopped container: kill fails "container not running", kill --all succeeds', async (t) => {
  fakeContainer('stopped1', goneInit);
  const plain = errorOf(() => kill(root, 'stopped1', 9, false));
  t.match(plain, CONTAINERD_NOT_RUNNING);
  t.match(plain, 'stopped1');
  t.doesNotThrow(() => kill(root, 'stopped1', 9, true), 'kill --all: nothing left, nothing to do');
  t.doesNotThrow(() => kill(root, 'stopped1', 15, true), 'with any signal');
  t.match(errorOf(() => start(root, 'stopped1')), /cannot start container stopped1: it is stopped/);
  t.equal(JSON.parse(JSON.stringify(stateOf(root, 'stopped1'))).status, 'stopped', 'still there');
});

t.test('a stopped container whose processes outlived its init: kill --all signals them', async (t) => {
  const { child, exited } = sleeper();
  fakeContainer('leftover1', goneInit, [child.pid!]);
  t.doesNotThrow(() => kill(root, 'leftover1', 9, true));
  t.equal(await exited, 'SIGKILL', 'the leftover process got the signal');
  t.match(errorOf(() => kill(root, 'leftover1', 9, false)), CONTAINERD_NOT_RUNNING, 'the init is still the one that is gone');
});

t.test('a running container: delete and start refuse in runc words where a client reads them', async (t) => {
  const { child, exited } = sleeper();
  await new Promise((r) => setTimeout(r, 50));
  fakeContainer('running1', { pid: child.pid!, startTime: startTimeOf(child.pid!)! });
  t.equal((stateOf(root, 'running1') as { status: string }).status, 'running');
  t.equal(errorOf(() => deleteContainer(root, 'running1', false)), 'cannot delete container running1 that is not stopped: running', "runc's message");
  t.equal(errorOf(() => start(root, 'running1')), 'cannot start container running1: it is running, not created');
  t.doesNotThrow(() => kill(root, 'running1', 0, false), 'signal 0 to a running init');
  t.doesNotThrow(() => kill(root, 'running1', 9, false));
  t.equal(await exited, 'SIGKILL');
  t.match(errorOf(() => kill(root, 'running1', 9, false)), CONTAINERD_NOT_RUNNING, 'and once it is gone, "container not running"');
});

t.test('ids and signals', async (t) => {
  mkdirSync(join(root, 'taken1'));
  t.match(errorOf(() => ContainerDir.create(root, 'taken1')), 'container with given ID already exists: taken1');
  t.equal(errorOf(() => checkId('')), 'container id cannot be empty', "runc's message");
  t.throws(() => checkId('../x'), TsrunError);
  t.equal(errorOf(() => parseSignal('FOO')), 'unknown signal "FOO"', "runc's message");
});

t.test('--log options are read from the raw command line', async (t) => {
  t.same(logOptionsFromArgv(['state', 'x']), { format: 'text', debug: false });
  t.same(logOptionsFromArgv(['--log', '/l', '--log-format', 'json', 'kill', 'x']), { file: '/l', format: 'json', debug: false });
  t.same(logOptionsFromArgv(['--log=/l', '--log-format=json', '--debug', 'kill']), { file: '/l', format: 'json', debug: true });
  t.same(logOptionsFromArgv(['--log', '/a', '--log', '/b']), { file: '/b', format: 'text', debug: false }, 'the last one counts');
  t.same(logOptionsFromArgv(['--log-format', 'xml', '--log', '/l']), { file: '/l', format: 'text', debug: false }, 'a bad format logs text');
  t.same(logOptionsFromArgv(['--', '--log', '/l']), { format: 'text', debug: false }, 'not after --');
  t.same(logOptionsFromArgv(['kill', '--log']), { format: 'text', debug: false }, 'no value');
  t.same(logOptionsFromArgv(['--debug=false', '--log=', '--log-formats', 'json', 'state']), { file: undefined, format: 'text', debug: false }, '--debug=false, an empty --log, another flag');
  t.same(logOptionsFromArgv(['--debug=true', '-log', '/l', '--log=a=b\nc']), { file: 'a=b\nc', format: 'text', debug: true }, 'the value is all after the first =');
});

// The built command line, as containerd's shim runs it.
const bin = join(__dirname, '..', '..', 'bin', 'tsrun');

function cli(log: string, args: string[]) {
  const r = spawnSync(bin, ['--root', root, '--log', log, '--log-format', 'json', ...args], { encoding: 'utf8' });
  const lines = existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : [];
  const last = lines.length ? JSON.parse(lines[lines.length - 1]) : undefined;
  return { status: r.status, stderr: r.stderr, lines, last };
}

t.test('every error reaches --log as a json line, usage errors included', async (t) => {
  const cases: [string, string[], string | RegExp][] = [
    ['kill of an unknown id', ['kill', 'nope', 'KILL'], DOES_NOT_EXIST],
    ['kill of a stopped container', ['kill', 'stopped1', 'KILL'], CONTAINERD_NOT_RUNNING],
    ['delete of an unknown id', ['delete', 'nope'], DOES_NOT_EXIST],
    ['an unknown flag', ['kill', '--bogus', 'nope', 'KILL'], /bogus/],
    ['a missing id', ['kill'], /arguments/],
    ['an unknown command', ['frobnicate'], /frobnicate/],
    ['an unknown signal', ['kill', 'stopped1', 'FOO'], 'unknown signal "FOO"'],
    ['a bad --preserve-fds', ['create', '--preserve-fds', '-1', 'x'], /preserve-fds/],
  ];
  let n = 0;
  for (const [what, args, words] of cases) {
    const log = join(base, `log-${++n}.json`);
    const r = cli(log, args);
    t.equal(r.status, 1, `${what}: exit 1`);
    t.match(r.stderr, words, `${what}: said on stderr`);
    t.equal(r.lines.length, 1, `${what}: one line in the log`);
    t.equal(r.last?.level, 'error', `${what}: an error line`);
    t.match(r.last?.msg, words, `${what}: the message`);
    t.ok(!Number.isNaN(Date.parse(r.last?.time)), `${what}: with a time`);
  }
  const ok = cli(join(base, 'log-ok.json'), ['kill', '--all', 'stopped1', 'KILL']);
  t.equal(ok.status, 0, 'kill --all of a stopped container exits 0');
  t.same(ok.lines, [], 'and logs no error');
  t.equal(cli(join(base, 'log-force.json'), ['delete', '--force', 'nope']).status, 0, 'delete --force of an unknown id exits 0');
  // --log before or after the command, as yargs takes global flags anywhere.
  const after = join(base, 'log-after.json');
  const r = spawnSync(bin, ['--root', root, 'kill', '--bogus', '--log', after, '--log-format=json', 'nope'], { encoding: 'utf8' });
  t.equal(r.status, 1);
  t.match(JSON.parse(readFileSync(after, 'utf8').trim()).msg, /bogus/, 'flags after the command count too');
});
