// Regression tests for escapes runc suffered: nothing a container does may
// reach outside it through tsrun (its binary, its fds, its cwd, /dev paths).
import { createHash } from 'node:crypto';
import { openSync, readFileSync, readdirSync, readlinkSync, statSync, symlinkSync, writeFileSync, constants, closeSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { env, repo, requireRoot, scratch, tsrunShell, uniqueId } from '../helpers/tsrun';

type Config = Record<string, any>;
const helper = join(repo, 'build', 'Release', 'tsrun-init');
const hash = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');

if (requireRoot(t)) {
  t.test('CVE-2019-5736: the init binary cannot be overwritten through /proc/<pid>/exe', async (t) => {
    const e = env(t);
    const before = hash(helper);
    const bundle = e.bundle((c: Config) => (c.process.args = ['true']));
    const id = uniqueId('exe');
    t.equal(e.tsrun(['create', '--bundle', bundle, id]).status, 0);
    const pid = JSON.parse(e.tsrun(['state', id]).stdout).pid;
    // The exploit: hold an O_PATH fd of the init's exe, let the init go
    // away (no more ETXTBSY), then reopen the fd for writing.
    const opath = openSync(`/proc/${pid}/exe`, 0o10000000 /* O_PATH */);
    t.equal(e.tsrun(['start', id]).status, 0);
    for (let i = 0; i < 200 && JSON.parse(e.tsrun(['state', id]).stdout).status !== 'stopped'; i++) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
    // ETXTBSY only means some init (another test's, run in parallel) still
    // executes the same file; the protection is EROFS once none does.
    let code = '';
    for (let i = 0; i < 600; i++) {
      try {
        closeSync(openSync(`/proc/self/fd/${opath}`, constants.O_WRONLY));
        code = 'opened';
      } catch (err) {
        code = (err as NodeJS.ErrnoException).code ?? '';
      }
      if (code !== 'ETXTBSY') break;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
    }
    closeSync(opath);
    t.equal(code, 'EROFS', 'reopening the init executable for writing fails, even for host root');

    // A container program that re-executes "/proc/self/exe" (as the
    // original exploit did with a #! line) only gets tsrun-init, which
    // refuses to run without tsrun.
    const script = e.bundle((c: Config) => (c.process.args = ['/evil']));
    writeFileSync(join(script, 'rootfs', 'evil'), '#!/proc/self/exe\n', { mode: 0o755 });
    const r = e.tsrun(['run', '--bundle', script, uniqueId('evil')]);
    t.equal(r.status, 2, 'the re-executed helper exits 2');
    t.match(r.stderr, /tsrun-init is started by tsrun; it is not a command/);
    t.equal(hash(helper), before, 'the binary is unchanged');
  });

  t.test('the waiting init is non-dumpable and holds nothing of the host', async (t) => {
    const e = env(t);
    const bundle = e.bundle((c: Config) => {
      c.process.args = ['true'];
      c.linux.namespaces.push({ type: 'user' });
      c.linux.uidMappings = [{ containerID: 0, hostID: 300000, size: 65536 }];
      c.linux.gidMappings = [{ containerID: 0, hostID: 300000, size: 65536 }];
    });
    const id = uniqueId('dump');
    t.equal(e.tsrun(['create', '--bundle', bundle, id]).status, 0);
    const pid = JSON.parse(e.tsrun(['state', id]).stdout).pid;
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    t.match(status, /^Uid:\s+300000\s/m, 'the init runs as the mapped root');
    t.equal(statSync(`/proc/${pid}/fd`).uid, 0, 'its /proc entries belong to host root: it is not dumpable');
    const fds = readdirSync(`/proc/${pid}/fd`).map(Number).sort((a, b) => a - b);
    const targets = fds.map((fd) => readlinkSync(`/proc/${pid}/fd/${fd}`));
    t.same(fds.slice(0, 3), [0, 1, 2]);
    t.equal(fds.length, 4, 'only stdio and the exec fifo');
    t.match(targets[3], /exec\.fifo$/);
    t.equal(readlinkSync(`/proc/${pid}/cwd`), '/', 'its cwd is the container root');
  });

  t.test('CVE-2024-21626: the cwd cannot be a leaked host fd', async (t) => {
    const e = env(t);
    for (const fd of [3, 4, 5, 6, 7, 8, 9]) {
      const r = e.sh('pwd; ls', (c: Config) => (c.process.cwd = `/proc/self/fd/${fd}`));
      t.equal(r.status, 1, `cwd /proc/self/fd/${fd} is refused`);
      t.match(r.stderr, /process\.cwd: /);
    }
  });

  t.test('CVE-2025-52881: a sysctl write cannot be redirected by a mount over /proc/sys', async (t) => {
    const e = env(t);
    const decoy = join(scratch(t, 'tsrun-decoy'), 'decoy');
    writeFileSync(decoy, 'untouched\n');
    const bundle = e.bundle((c: Config) => {
      c.process.args = ['true'];
      // A mount stacked on the sysctl's file, as a racing volume would place it.
      c.mounts.push({ destination: '/proc/sys/net/ipv4/ip_forward', type: 'bind', source: decoy, options: ['bind'] });
      c.linux.sysctl = { 'net.ipv4.ip_forward': '1' };
    });
    const r = e.tsrun(['run', '--bundle', bundle, uniqueId('procredirect')]);
    t.equal(r.status, 1, 'refused');
    t.match(r.stderr, /ip_forward/, 'the error names the sysctl file');
    t.equal(readFileSync(decoy, 'utf8'), 'untouched\n', 'the write did not land on the mounted file');
  });

  t.test('CVE-2025-52565: /dev/console is never followed as a symlink', async (t) => {
    const e = env(t);
    const bundle = e.bundle((c: Config) => {
      c.process.terminal = true;
      c.process.args = ['sh', '-c', 'ls -ln /dev/console'];
      c.mounts = c.mounts.filter((m: { destination: string }) => m.destination !== '/dev');
    });
    const rootfs = join(bundle, 'rootfs');
    writeFileSync(join(rootfs, 'etc', 'target'), 'keep me\n');
    symlinkSync('/etc/target', join(rootfs, 'dev', 'console'));
    const r = require('node:child_process').spawnSync('script', ['-qec', `${tsrunShell} --root ${e.root} run --bundle ${bundle} ${uniqueId('console')}`, '/dev/null'], { encoding: 'utf8' });
    t.equal(r.status, 0, r.stderr);
    t.match(r.stdout, /crw--w----\s+1 0\s+5\s+136,/, '/dev/console is the pty');
    t.equal(readFileSync(join(rootfs, 'etc', 'target'), 'utf8'), 'keep me\n', 'the symlink target is untouched');
  });
}
