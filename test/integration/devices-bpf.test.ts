// The cgroup v2 device program enforced by the kernel: a cgroup on this
// host's cgroup2 mount gets a program from deviceProgram() through
// attachDeviceProgram(), and a shell that moved itself into it tries to
// read, write, create and open device nodes. On a hybrid host the v1
// devices cgroup allows everything at its root, so the program alone
// decides; each attempt is checked on its own, with the error it got.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { type DeviceAllowlist, deviceProgram } from '../../src/cgroups/devices/bpf';
import { native } from '../../src/native/addon';
import { requireAll, requireRoot } from '../helpers/tsrun';
import { sleepMs } from '../helpers/wait';

const busybox = '/bin/busybox';
const EPERM = /Operation not permitted/;

/** The mountpoint of the cgroup2 hierarchy, from /proc/self/mountinfo. */
function cgroup2Mount(): string | undefined {
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    if (/ - cgroup2 /.test(line)) return line.split(' ')[4];
  }
  return undefined;
}

/** A new cgroup v2 directory, removed at teardown (it only ever holds the exited child). */
function makeCgroup(t: Test, mount: string, name: string): string {
  const dir = join(mount, name);
  mkdirSync(dir);
  t.teardown(() => {
    for (let i = 0; ; i++) {
      try {
        rmdirSync(dir);
        return;
      } catch (e: any) {
        if (e.code === 'ENOENT') return;
        if (e.code !== 'EBUSY' || i >= 20) throw e;
        sleepMs(50);
      }
    }
  });
  return dir;
}

function scratchDir(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'tsrun-test-bpf-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * Runs each [name, command] in a busybox shell that first moves itself into
 * `cgroup`; returns name -> "ok" or the command's output (its error). Also
 * reports the shell's v2 cgroup under the name "cgroup".
 */
function inCgroup(cgroup: string, checks: [string, string][]): Map<string, string> {
  const script = [
    'check() { if out=$( { eval "$2"; } 2>&1 ); then echo "$1: ok"; else echo "$1: $out"; fi; }',
    `echo "cgroup: $(${busybox} grep '^0::' /proc/self/cgroup)"`,
    ...checks.map(([name, cmd]) => {
      if (/'/.test(name + cmd)) throw new Error(`no single quotes in checks: ${name}`);
      return `check '${name}' '${cmd}'`;
    }),
  ].join('\n');
  const r = spawnSync(busybox, ['sh', '-c', 'echo $$ > "$1/cgroup.procs" && exec "$2" sh -c "$3"', 'sh', cgroup, busybox, script], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  if (r.status !== 0) throw new Error(`shell in ${cgroup}: status ${r.status} signal ${r.signal}: ${r.stderr}`);
  const out = new Map<string, string>();
  for (const line of r.stdout.trim().split('\n')) {
    const i = line.indexOf(': ');
    out.set(line.slice(0, i), line.slice(i + 2));
  }
  return out;
}

if (requireRoot(t)) {
  const mount = cgroup2Mount();
  if (!mount) {
    if (requireAll()) t.fail('integration test needs a cgroup2 mount (a skip is a failure in CI)');
    else t.plan(0, 'needs a cgroup2 mount');
  } else {
    t.test('deny by default: c 1:3 rwm, c 1:5 r, b *:* m, c *:* m', async (t) => {
      const name = `tsrun-test-bpf-${process.pid}`;
      const cgroup = makeCgroup(t, mount, name);
      const tmp = scratchDir(t);
      const list: DeviceAllowlist = {
        defaultAllow: false,
        exceptions: [
          { type: 'c', major: 1, minor: 3, access: 'rwm', allow: true },
          { type: 'c', major: 1, minor: 5, access: 'r', allow: true },
          { type: 'b', major: -1, minor: -1, access: 'm', allow: true },
          { type: 'c', major: -1, minor: -1, access: 'm', allow: true },
        ],
      };

      // Outside the cgroup the same device opens work: a refusal below is the program's.
      t.equal(spawnSync(busybox, ['head', '-c1', '/dev/full'], { encoding: 'utf8' }).status, 0, 'control: /dev/full is readable outside the cgroup');

      native().attachDeviceProgram(cgroup, deviceProgram(list));
      const bb = busybox;
      const got = inCgroup(cgroup, [
        ['read /dev/null', `${bb} cat /dev/null`],
        ['write /dev/null', 'echo x > /dev/null'],
        ['read /dev/zero', `${bb} head -c1 /dev/zero > ${tmp}/out`],
        ['write /dev/zero', 'echo x > /dev/zero'],
        ['read /dev/full', `${bb} head -c1 /dev/full > ${tmp}/out`],
        ['mknod c 1:3', `${bb} mknod ${tmp}/null c 1 3`],
        ['open c 1:3 node', `${bb} cat ${tmp}/null`],
        ['mknod c 1:7', `${bb} mknod ${tmp}/full c 1 7`],
        ['open c 1:7 node', `${bb} head -c1 ${tmp}/full > ${tmp}/out`],
        ['mknod b 7:0', `${bb} mknod ${tmp}/loop b 7 0`],
        ['open b 7:0 node', `${bb} head -c1 ${tmp}/loop > ${tmp}/out`],
        // Numbers of listed rules with another type or major: refused too.
        ['mknod b 1:3', `${bb} mknod ${tmp}/b13 b 1 3`],
        ['open b 1:3 node', `${bb} head -c1 ${tmp}/b13 > ${tmp}/out`],
        ['mknod c 240:3', `${bb} mknod ${tmp}/c2403 c 240 3`],
        ['open c 240:3 node', `${bb} head -c1 ${tmp}/c2403 > ${tmp}/out`],
      ]);
      t.match(got.get('cgroup'), new RegExp(`^0::.*/${name}$`), 'the shell ran in the cgroup');
      t.equal(got.get('read /dev/null'), 'ok', 'read /dev/null (c 1:3 rwm)');
      t.equal(got.get('write /dev/null'), 'ok', 'write /dev/null (c 1:3 rwm)');
      t.equal(got.get('read /dev/zero'), 'ok', 'read /dev/zero (c 1:5 r)');
      t.match(got.get('write /dev/zero'), EPERM, 'write /dev/zero refused (c 1:5 is r only)');
      t.match(got.get('read /dev/full'), EPERM, 'read /dev/full refused (c 1:7 not listed)');
      t.equal(got.get('mknod c 1:3'), 'ok', 'mknod c 1:3');
      t.equal(got.get('open c 1:3 node'), 'ok', 'open a c 1:3 node made there (the directory allows device nodes)');
      t.equal(got.get('mknod c 1:7'), 'ok', 'mknod c 1:7 (c *:* m)');
      t.match(got.get('open c 1:7 node'), EPERM, 'open the c 1:7 node refused');
      t.equal(got.get('mknod b 7:0'), 'ok', 'mknod b 7:0 (b *:* m)');
      t.match(got.get('open b 7:0 node'), EPERM, 'open the b 7:0 node refused');
      t.equal(got.get('mknod b 1:3'), 'ok', 'mknod b 1:3');
      t.match(got.get('open b 1:3 node'), EPERM, 'open the b 1:3 node refused (c 1:3 is for char devices)');
      t.equal(got.get('mknod c 240:3'), 'ok', 'mknod c 240:3');
      t.match(got.get('open c 240:3 node'), EPERM, 'open the c 240:3 node refused (c 1:3 is for major 1)');
    });

    t.test('allow by default, but c 1:5 r', async (t) => {
      const name = `tsrun-test-bpf-${process.pid}-allow`;
      const cgroup = makeCgroup(t, mount, name);
      native().attachDeviceProgram(cgroup, deviceProgram({ defaultAllow: true, exceptions: [{ type: 'c', major: 1, minor: 5, access: 'r', allow: false }] }));
      const got = inCgroup(cgroup, [
        ['read /dev/zero', `${busybox} head -c1 /dev/zero > /dev/null`],
        ['write /dev/zero', 'echo x > /dev/zero'],
        ['read /dev/null', `${busybox} cat /dev/null`],
        ['read /dev/full', `${busybox} head -c1 /dev/full > /dev/null`],
      ]);
      t.match(got.get('cgroup'), new RegExp(`^0::.*/${name}$`), 'the shell ran in the cgroup');
      t.match(got.get('read /dev/zero'), EPERM, 'read /dev/zero refused');
      t.equal(got.get('write /dev/zero'), 'ok', 'write /dev/zero (the exception is r only)');
      t.equal(got.get('read /dev/null'), 'ok', 'read /dev/null');
      t.equal(got.get('read /dev/full'), 'ok', 'read /dev/full (not an exception)');
    });

    t.test('a program the verifier refuses is reported with its reason', async (t) => {
      const cgroup = makeCgroup(t, mount, `tsrun-test-bpf-${process.pid}-refused`);
      // r0 = 2; exit: a device program must return 0 or 1.
      const bad = Buffer.from('b700000002000000' + '9500000000000000', 'hex');
      t.throws(() => native().attachDeviceProgram(cgroup, bad), { code: 'EINVAL', errno: 22, message: /verifier: .*R0/ });
      t.throws(() => native().attachDeviceProgram(join(cgroup, 'missing'), deviceProgram({ defaultAllow: true, exceptions: [] })), { code: 'ENOENT' });
    });
  }
}
