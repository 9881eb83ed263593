// The hot commands' own parser (src/cli/hot-path.ts) against yargs: every
// plain form it takes must mean exactly what yargs makes of it, and every
// other line must be left to yargs.
import t from 'tap';
import { commandLine } from '../../src/cli/main';
import { containerOptions } from '../../src/cli/container-commands';
import { type PlainCall, isContainerCall, parseHot } from '../../src/cli/hot-path';
import { defaultRoot } from '../../src/paths';

/** The call yargs makes of argv (its handlers record instead of running). */
async function viaYargs(argv: string[]): Promise<PlainCall | undefined> {
  let call: PlainCall | undefined;
  const { cli } = commandLine(argv, (c) => (call = c));
  await cli.parseAsync();
  return call;
}

const plain: string[][] = [
  ['state', 'c1'],
  ['--root', '/r', 'state', 'c1'],
  ['--root=/r', 'state', 'c1'],
  ['state', 'c1', '--root', '/r'],
  ['--root', '/r', '--log', '/l.json', '--log-format', 'json', 'state', 'c1'],
  ['--log=/l', '--log-format=text', '--debug', 'start', 'c1'],
  ['start', '0123'],
  ['state', '42'],
  ['kill', 'c1'],
  ['kill', 'c1', 'KILL'],
  ['kill', 'c1', '9'],
  ['kill', '--all', 'c1', 'SIGKILL'],
  ['kill', 'c1', 'TERM', '-a'],
  ['kill', '-a', 'c1'],
  ['delete', 'c1'],
  ['delete', '--force', 'c1'],
  ['delete', 'c1', '-f'],
  ['--root', '/run/containerd/runc/k8s.io', '--log', '/x/log.json', '--log-format', 'json', 'delete', '--force', 'c1'],
  ['list'],
  ['list', '-q'],
  ['list', '--format', 'json'],
  ['list', '-f', 'json', '--quiet'],
  ['list', '--format=table'],
  ['features'],
  ['--root', '/r', 'features'],
  ['delete', '-f', '--root=/r', 'c1'],
  ['delete', 'c1', '-f', '--debug'],
  ['delete', '-f', '--root', '/r', 'c1'],
  ['delete', '-f', '--log-format', 'json', 'c1'],
  // As containerd's shim and conmon call them.
  ['--root', '/run/containerd/runc/k8s.io', '--log', '/b/log.json', '--log-format', 'json', 'create', '--bundle', '/b', '--pid-file', '/b/init.pid', 'c1'],
  ['create', '--bundle', '/b', '--pid-file', '/b/pid', '--console-socket', '/s.sock', '--no-pivot', '--no-new-keyring', 'c1'],
  ['create', '-b', '/b', 'c1', '--preserve-fds', '2'],
  ['create', '--bundle=/b', '--preserve-fds=0', 'c1'],
  ['create', 'c1'],
  ['--debug', 'run', '--bundle', '/b', 'c1'],
  ['run', '-d', '--keep', '-b', '/b', '--pid-file', '/p', 'c1'],
  ['run', '--detach', 'c1', '--bundle', '/b'],
  ['--root', '/r', '--log', '/l', '--log-format', 'json', 'exec', '--process', '/b/p.json', '--detach', '--pid-file', '/b/exec.pid', 'c1'],
  ['exec', '-p', '/p.json', '-t', '--console-socket', '/s.sock', 'c1'],
  ['--rootless', 'true', 'run', '--bundle', '/b', 'c1'],
  ['--rootless=false', 'create', '--bundle', '/b', 'c1'],
  ['exec', '--process=/p.json', '--tty', '-d', '--preserve-fds', '1', 'c1'],
  // exec with a command, as people write it: every word after the id is the command's.
  ['exec', 'c1', 'sh'],
  ['exec', 'c1', 'sh', '-c', 'echo hi'],
  ['exec', '-t', 'c1', '--', 'ls', '-l'],
  ['exec', '-d', '--pid-file', '/p', 'c1', 'sleep', '9', '--root', '/x', '-d'],
  ['--root', '/r', 'exec', 'c1', 'true', '--', 'x'],
];

/** A call in the terms it runs with: a container command's options, as its runner derives them from args. */
const meaning = (call: PlainCall | undefined) => (call && isContainerCall(call) ? containerOptions(call) : call);

t.test('each plain form means what yargs makes of it', async (t) => {
  for (const argv of plain) {
    const ours = parseHot(argv);
    t.ok(ours, `${argv.join(' ')}: taken by the hot path`);
    t.same(meaning(ours), meaning(await viaYargs(argv)), `${argv.join(' ')}: the same call as yargs`);
  }
  t.same(parseHot(['state', 'c1']), { command: 'state', root: defaultRoot, id: 'c1' }, 'the default root');
  t.same(parseHot(['--version']), { command: 'version' });
  t.same(parseHot(['-v']), { command: 'version' });
});

t.test('every other line is left to yargs', async (t) => {
  const others: string[][] = [
    [],
    ['--help'],
    ['state', '--help'],
    ['state'],
    ['state', 'c1', 'c2'],
    ['kill', 'c1', 'KILL', 'extra'],
    ['state', '--', 'c1'],
    ['state', '--bogus', 'c1'],
    ['--systemd-cgroup', 'state', 'c1'],
    ['--root', '/a', '--root', '/b', 'state', 'c1'],
    ['--root', '-x', 'state', 'c1'],
    ['--root'],
    ['--log-format', 'xml', 'state', 'c1'],
    ['delete', '-f', '-f', 'c1'],
    ['kill', '--all=true', 'c1'],
    ['list', '--format', 'yaml'],
    ['list', 'extra'],
    ['state', 'c1', '-v'],
    ['exec', 'c1'],
    ['exec', 'c1', '--'],
    ['exec', '--process', '/p.json', 'c1', 'sh'],
    ['exec', '--cwd', '/', 'c1', 'sh'],
    // yargs takes the word after a yes/no flag as its value when it is true or false.
    ['run', '-d', 'false'],
    ['exec', '-p', '/p.json', '-t', 'false'],
    ['create', '--no-pivot', 'true'],
    ['delete', '-f', 'true'],
    ['state', '--debug', 'true'],
    ['kill', '-a', 'false', 'c1'],
    ['--version', 'true'],
    ['exec', '--process', '/p.json', 'c1', '--detach'],
    ['exec', '--detach', 'c1'],
    ['exec', '--process', '/p.json', '--cwd', '/', 'c1'],
    ['create', '--bundle', '/b', '--bundle', '/c', 'c1'],
    ['create', '--preserve-fds', 'x', 'c1'],
    ['create', '--preserve-fds', '-1', 'c1'],
    ['create', '--bundle', '-x', 'c1'],
    ['create', '--no-pivot=true', 'c1'],
    ['create', '--systemd-cgroup', 'c1'],
    ['create', '--keep', 'c1'],
    ['create', 'c1', 'c2'],
    ['run', '--bundle'],
    ['--bundle', '/b', 'create', 'c1'],
    ['spec'],
    ['delete', '--force'],
    ['start', '-a', 'c1'],
    ['state', '-'],
    ['kill', 'c1', '-'],
  ];
  for (const argv of others) t.equal(parseHot(argv), undefined, `${argv.join(' ') || '(nothing)'}: to yargs`);
});

// Lines made at random from the words these commands use: wherever the
// plain parser takes a line, yargs must make the same call of it.
t.test('random lines: the plain parser takes a line only as yargs means it', async (t) => {
  const vocabulary = [
    // Only commands with a plain form: yargs would run the others' handlers
    // (and ends the process after --help and --version).
    'state', 'start', 'kill', 'delete', 'list', 'features', 'create', 'run', 'exec', 'exec', 'exec',
    'c1', 'c1', 'sh', '-c', 'true', 'false', 'KILL', '9', '-', '--', '/b', 'json', 'table', 'x', '0', '2', '-1',
    '--root', '--log', '--log-format', '--debug', '--rootless', 'auto', '--rootless=false',
    '--all', '-a', '--force', '-f', '--quiet', '-q', '--format',
    '--bundle', '-b', '--pid-file', '--console-socket', '--no-pivot', '--no-new-keyring', '--preserve-fds',
    '--detach', '-d', '--keep', '--process', '-p', '--tty', '-t', '--cwd',
    '--root=/r', '--bundle=/b', '--force=true', '--preserve-fds=1',
  ];
  let seed = 20261130;
  const random = (n: number) => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed % n;
  };
  let taken = 0;
  for (let n = 0; n < 30000; n++) {
    const argv = Array.from({ length: 1 + random(6) }, () => vocabulary[random(vocabulary.length)]);
    const ours = parseHot(argv);
    if (!ours) continue;
    taken++;
    let theirs: PlainCall | undefined;
    try {
      theirs = await viaYargs(argv);
    } catch {
      theirs = undefined;
    }
    if (JSON.stringify(meaning(ours)) !== JSON.stringify(meaning(theirs))) t.same(meaning(ours), meaning(theirs), argv.join(' '));
  }
  t.ok(taken > 300, `the plain parser took ${taken} of the lines, and yargs agreed on each`);
});
