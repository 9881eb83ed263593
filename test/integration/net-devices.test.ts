// config-linux.md "Network Devices": host interfaces moved into the
// container's network namespace, renamed, with their permanent global
// addresses, up; errors before anything moves; nothing done at delete.
// The devices are ifb interfaces made for each test (this host has no
// dummy driver); a virtual device is destroyed with the namespace.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import t, { type Test } from 'tap';
import { env, requireRoot, uniqueId } from '../helpers/tsrun';
import { waitFor } from '../helpers/wait';

type Config = Record<string, any>;

function ip(args: string[], netns?: number): { status: number | null; stdout: string; stderr: string } {
  const cmd = netns === undefined ? ['ip', ...args] : ['nsenter', `--net=/proc/${netns}/ns/net`, 'ip', ...args];
  const r = spawnSync(cmd[0], cmd.slice(1), { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A new ifb interface with an IPv4 and an IPv6 address, deleted at the end of the test wherever it is. */
function device(t: Test): string {
  const name = `tsnd${randomBytes(3).toString('hex')}`;
  const made = ip(['link', 'add', name, 'type', 'ifb']);
  t.equal(made.status, 0, `ip link add ${name}: ${made.stderr}`);
  ip(['addr', 'add', '10.253.7.1/24', 'dev', name]);
  ip(['-6', 'addr', 'add', 'fd00:253::7/64', 'dev', name, 'nodad']);
  t.teardown(() => ip(['link', 'del', name]));
  return name;
}

const onHost = (name: string) => ip(['link', 'show', name]).status === 0;

const withDevices = (devices: Config, more?: (c: Config) => void) => (c: Config) => {
  c.linux.netDevices = devices;
  more?.(c);
};

if (requireRoot(t)) {
  t.test('moved, renamed, addresses kept, up; a virtual device goes with the namespace', async (t) => {
    const e = env(t);
    const dev = device(t);
    const r = e.sh('ip -o link show; ip -o addr show', withDevices({ [dev]: { name: 'eth7' } }));
    t.equal(r.status, 0, r.stderr);
    t.match(r.stdout, /^\d+: eth7: <[^>]*\bUP\b[^>]*>/m, 'renamed and up');
    t.match(r.stdout, /eth7\s+inet 10\.253\.7\.1\/24 scope global eth7/, 'the IPv4 address kept');
    t.match(r.stdout, /eth7\s+inet6 fd00:253::7\/64 scope global/, 'the IPv6 address kept');
    t.notMatch(r.stdout, new RegExp(dev), 'not under its host name');
    // The container has ended: its namespace, and the ifb with it, are gone.
    t.ok(waitFor(() => !onHost(dev) && !onHost('eth7')), 'destroyed with the namespace, not returned to the host');
  });

  t.test('the host name kept; "%d" numbered by the kernel', async (t) => {
    const e = env(t);
    const a = device(t);
    const b = device(t);
    const r = e.sh('ip -o link show | cut -d: -f2', withDevices({ [a]: {}, [b]: { name: 'ctr%d' } }));
    t.equal(r.status, 0, r.stderr);
    t.match(r.stdout, new RegExp(` ${a}\\n`), 'no name: the host one');
    t.match(r.stdout, / ctr0\n/, 'ctr%d: ctr0');
  });

  t.test('refused before anything moves, naming the field', async (t) => {
    const e = env(t);
    const dev = device(t);
    const cases: [Config, (c: Config) => void, RegExp][] = [
      [{ [dev]: { name: 'a:b' } }, () => undefined, new RegExp(`linux\\.netDevices\\.${dev}\\.name: must not contain "/", ":" or white space`)],
      [{ [dev]: { name: 'x'.repeat(16) } }, () => undefined, /\.name: must be 1 to 15 bytes long/],
      [{ [dev]: { name: 'e%s' } }, () => undefined, /\.name: may contain "%" only once, as "%d"/],
      [{ [dev]: {}, lo: { name: dev } }, () => undefined, new RegExp(`linux\\.netDevices\\.lo: is named ${dev} in the container, as ${dev} is`)],
      [{ [dev]: {} }, (c) => (c.linux.namespaces = c.linux.namespaces.filter((n: Config) => n.type !== 'network')), /linux\.netDevices: needs a network namespace to move the devices into/],
      [{ [dev]: {} }, (c) => (c.linux.namespaces = c.linux.namespaces.map((n: Config) => (n.type === 'network' ? { type: 'network', path: '/proc/self/ns/net' } : n))), /linux\.netDevices: needs a network namespace other than the host's/],
      // The first exists, the second not: the first has not moved either.
      [{ [dev]: { name: 'first0' }, 'tsnd-none': {} }, () => undefined, /linux\.netDevices\["tsnd-none"\]: network device tsnd-none not found/],
    ];
    for (const [devices, more, message] of cases) {
      const r = e.sh('echo ran', withDevices(devices, more));
      t.equal(r.status, 1, String(message));
      t.match(r.stderr, message);
      t.equal(r.stdout, '', 'the program did not run');
      t.ok(onHost(dev), 'the device is still on the host');
      t.match(ip(['-o', 'addr', 'show', dev]).stdout, /10\.253\.7\.1\/24/, 'with its address');
    }
    t.same(e.tsrun(['list', '-q']).stdout, '', 'no container left');
  });

  t.test('a joined namespace: a name taken there is an error; delete leaves a moved device there', async (t) => {
    const e = env(t);
    const holder = spawn('unshare', ['--net', 'sleep', '120'], { stdio: 'ignore' });
    t.teardown(() => holder.kill('SIGKILL'));
    t.ok(waitFor(() => spawnSync('readlink', [`/proc/${holder.pid}/ns/net`], { encoding: 'utf8' }).stdout !== spawnSync('readlink', ['/proc/self/ns/net'], { encoding: 'utf8' }).stdout), 'the holder has its own namespace');
    const netns = holder.pid!;
    const joined = (c: Config) => (c.linux.namespaces = c.linux.namespaces.map((n: Config) => (n.type === 'network' ? { type: 'network', path: `/proc/${netns}/ns/net` } : n)));
    const dev = device(t);
    t.equal(ip(['link', 'add', 'taken0', 'type', 'ifb'], netns).status, 0, 'a device of the namespace');
    const clash = e.sh('echo ran', withDevices({ [dev]: { name: 'taken0' } }, joined));
    t.equal(clash.status, 1);
    t.match(clash.stderr, new RegExp(`linux\\.netDevices\\.${dev}: network device taken0 already exists in the container's network namespace`));
    t.ok(onHost(dev), 'the device stays on the host');

    const id = uniqueId('netdev');
    const b = e.bundle((c) => {
      c.process.args = ['sleep', '60'];
      withDevices({ [dev]: { name: 'moved0' } }, joined)(c);
    });
    t.equal(e.tsrun(['run', '-d', '--bundle', b, id]).status, 0);
    t.match(ip(['-o', 'addr', 'show', 'moved0'], netns).stdout, /10\.253\.7\.1\/24/, 'in the joined namespace, with its address');
    t.equal(e.tsrun(['delete', '-f', id]).status, 0);
    t.ok(ip(['link', 'show', 'moved0'], netns).status === 0, 'still there after delete (the spec: never moved out)');
    t.notOk(onHost(dev), 'not back on the host');
  });
}
