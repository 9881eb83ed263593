// The hot commands' own parser (src/cli/hot-path.ts) against yargs: every
// plain form it takes must mean exactly what yargs makes of it, and every
// other line must be left to yargs.
import t from 'tap';
import { commandLine } from '../../src/cli/main';
import { type HotCall, parseHot } from '../../src/cli/hot-path';
import { defaultRoot } from '../../src/paths';

/** The call yargs makes of argv (its handlers record instead of running). */
async function viaYargs(argv: string[]): Promise<HotCall | undefined> {
  let call: HotCall | undefined;
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
];

t.test('each plain form means what yargs makes of it', async (t) => {
  for (const argv of plain) {
    const ours = parseHot(argv);
    t.ok(ours, `${argv.join(' ')}: taken by the hot path`);
    t.same(ours, await viaYargs(argv), `${argv.join(' ')}: the same call as yargs`);
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
    ['create', 'c1'],
    ['exec', 'c1', 'sh'],
    ['spec'],
    ['delete', '--force'],
    ['start', '-a', 'c1'],
    ['state', '-'],
    ['kill', 'c1', '-'],
  ];
  for (const argv of others) t.equal(parseHot(argv), undefined, `${argv.join(' ') || '(nothing)'}: to yargs`);
});
