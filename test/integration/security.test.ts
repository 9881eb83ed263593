// Regression tests for escapes runc suffered: nothing a container does may
// reach outside it through tsrun (its binary, its fds, its cwd, /dev paths,
// its writes to /proc). Each test reproduces the attack against tsrun (never
// against runc: runc 1.1.5 on these hosts is vulnerable, see
// /work/shared/notes/init-sequence.md), checks that the refusal comes from the
// check meant for it, and looks where a successful attack would have written.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, closeSync, constants, copyFileSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, readlinkSync, statSync, symlinkSync, writeFileSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import t, { type Test } from 'tap';
import { native } from '../../src/native/addon';
import { env, repo, requireRoot, scratch, tsrunCmd, tsrunShell, uniqueId, type Env, type Result } from '../helpers/tsrun';

type Config = Record<string, any>;
const helper = join(repo, 'build', 'Release', 'tsrun-init');
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');
const hash = (f: string) => sha256(readFileSync(f));
const sleepMs = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
const O_PATH = 0o10000000;

/**
 * tsrun with this test's --root, as env().tsrun runs it (env -i, output
 * through files), plus environment variables and fds of ours: fds[i] is
 * fd 3 + i in tsrun, as a caller's fds are for --preserve-fds.
 */
function tsrunWith(t: Test, e: Env, args: string[], opts: { env?: string[]; fds?: number[] } = {}): Result {
  const dir = scratch(t, 'tsrun-out');
  const out = openSync(join(dir, 'out'), 'w');
  const err = openSync(join(dir, 'err'), 'w');
  try {
    const [envBin, dashI, path, bin] = tsrunCmd;
    const r = spawnSync(envBin, [dashI, path, ...(opts.env ?? []), bin, '--root', e.root, ...args], { stdio: ['ignore', out, err, ...(opts.fds ?? [])], timeout: 60_000 });
    return { status: r.status, signal: r.signal, stdout: readFileSync(join(dir, 'out'), 'utf8'), stderr: readFileSync(join(dir, 'err'), 'utf8') };
  } finally {
    closeSync(out);
    closeSync(err);
  }
}

/**
 * The host's kernel.core_pattern, which a container that can write it owns
 * the host with (it is not namespaced). Read now; `unchanged` checks it and
 * puts it back at once if an attack changed it (and the teardown does, in
 * case the test dies first), so that a failing test never leaves it changed.
 */
function guardCorePattern(t: Test): { before: string; unchanged: (what: string) => void } {
  const file = '/proc/sys/kernel/core_pattern';
  const before = readFileSync(file, 'utf8');
  const restore = () => {
    if (readFileSync(file, 'utf8') !== before) writeFileSync(file, before);
  };
  t.teardown(restore);
  return {
    before,
    unchanged(what) {
      t.equal(readFileSync(file, 'utf8'), before, what);
      restore();
    },
  };
}

const listing = (dir: string) => readdirSync(dir).sort();

if (requireRoot(t)) {
  // CVE-2019-5736: a container process opened /proc/<runc pid>/exe while
  // runc was in the container, waited until runc had exec'd (no more
  // ETXTBSY) and reopened it for writing: the host's runc binary. tsrun
  // execs tsrun-init from a read-only detached bind mount, or, where the
  // kernel has no open_tree, from a sealed memfd copy; TSRUN_TEST_HELPER_MEMFD=1
  // (test-only, addon/README.md) forces that fallback.
  const helperModes = [
    { name: 'bind mount', env: [] as string[], exe: /^\/$/, reopen: 'EROFS' },
    { name: 'memfd', env: ['TSRUN_TEST_HELPER_MEMFD=1'], exe: /^\/memfd:tsrun-init \(deleted\)$/, reopen: 'EPERM' },
  ];

  for (const mode of helperModes) {
    t.test(`CVE-2019-5736 (${mode.name}): the addon's helper fd cannot be written`, async (t) => {
      // The addon itself, as tsrun calls it, in this process, on a copy of
      // the binary that nothing executes: while any tsrun-init runs from
      // the real one (a container being created by a test running beside
      // this one), a write fails with ETXTBSY before the mount is looked at,
      // and the protection under test would not be what refused it.
      const copy = join(scratch(t, 'tsrun-helper'), 'tsrun-init');
      copyFileSync(helper, copy);
      chmodSync(copy, 0o755);
      const before = hash(copy);
      const saved = process.env.TSRUN_TEST_HELPER_MEMFD;
      if (mode.env.length) process.env.TSRUN_TEST_HELPER_MEMFD = '1';
      else delete process.env.TSRUN_TEST_HELPER_MEMFD;
      let fd: number;
      try {
        fd = native().openHelper(copy);
      } finally {
        if (saved === undefined) delete process.env.TSRUN_TEST_HELPER_MEMFD;
        else process.env.TSRUN_TEST_HELPER_MEMFD = saved;
      }
      t.match(readlinkSync(`/proc/self/fd/${fd}`), mode.exe, `openHelper gives the ${mode.name}`);
      // Appending, so that a failed protection leaves a binary that still
      // runs (and a changed hash); truncating only the memfd, a copy.
      const attempts = [constants.O_WRONLY | constants.O_APPEND, constants.O_RDWR | constants.O_APPEND];
      if (mode.name === 'memfd') attempts.push(constants.O_WRONLY | constants.O_TRUNC);
      const codes: string[] = [];
      for (const flags of attempts) {
        try {
          const w = openSync(`/proc/self/fd/${fd}`, flags);
          try {
            writeSync(w, 'pwned');
            codes.push('written');
          } finally {
            closeSync(w);
          }
        } catch (err) {
          codes.push((err as NodeJS.ErrnoException).code ?? '');
        }
      }
      t.same(codes, Array(attempts.length).fill(mode.reopen), `every write through it fails with ${mode.reopen}`);
      t.equal(sha256(readFileSync(`/proc/self/fd/${fd}`)), before, 'its content is the binary, unchanged');
      closeSync(fd);
      t.equal(hash(copy), before, 'the binary on disk is unchanged');
    });

    t.test(`CVE-2019-5736 (${mode.name}): the init binary cannot be overwritten through /proc/<pid>/exe`, async (t) => {
      const e = env(t);
      const before = hash(helper);
      const bundle = e.bundle((c: Config) => (c.process.args = ['true']));
      const id = uniqueId('exe');
      t.equal(tsrunWith(t, e, ['create', '--bundle', bundle, id], { env: mode.env }).status, 0);
      const pid = JSON.parse(e.tsrun(['state', id]).stdout).pid;
      t.match(readlinkSync(`/proc/${pid}/exe`), mode.exe, `the init runs from the ${mode.name}`);
      // The exploit, with host root's rights: hold an O_PATH fd of the
      // init's exe, let the init go away (no more ETXTBSY), then reopen the
      // fd for writing.
      const opath = openSync(`/proc/${pid}/exe`, O_PATH);
      t.equal(e.tsrun(['start', id]).status, 0);
      for (let i = 0; i < 200 && JSON.parse(e.tsrun(['state', id]).stdout).status !== 'stopped'; i++) sleepMs(10);
      // ETXTBSY only means some init (another test's, run in parallel) still
      // executes the same file; the protection is what comes once none does.
      let code = '';
      for (let i = 0; i < 600; i++) {
        try {
          const w = openSync(`/proc/self/fd/${opath}`, constants.O_WRONLY | constants.O_APPEND);
          try {
            writeSync(w, 'pwned');
            code = 'written';
          } finally {
            closeSync(w);
          }
        } catch (err) {
          code = (err as NodeJS.ErrnoException).code ?? '';
        }
        if (code !== 'ETXTBSY') break;
        sleepMs(100);
      }
      t.equal(code, mode.reopen, 'writing the init executable fails, even for host root');
      t.equal(sha256(readFileSync(`/proc/self/fd/${opath}`)), before, 'what the init ran is unchanged');
      closeSync(opath);
      t.equal(hash(helper), before, 'the binary on disk is unchanged');
    });

    t.test(`CVE-2019-5736 (${mode.name}): a container process cannot overwrite the init binary`, async (t) => {
      const e = env(t);
      const before = hash(helper);
      // A process of the container while its pid 1 is still tsrun-init: a
      // startContainer hook. It tries to write /proc/1/exe at once, then
      // holds it open for reading, and a process it leaves behind waits for
      // pid 1 to exec the program and reopens it for writing through
      // /proc/self/fd, as the exploit did. (The hook opens it, not the
      // process left behind, which may only run once pid 1 has moved on.)
      const attack = [
        '#!/bin/sh',
        'exec </dev/null >/dev/null 2>/tmp/hook-errors',
        'readlink /proc/1/exe > /tmp/exe-during',
        '{ echo pwned >> /proc/1/exe; } 2> /tmp/write-during',
        // (a failed exec redirection would end the shell: try it in a subshell)
        '( exec 5</proc/1/exe ) 2>/dev/null || { touch /tmp/done; exit 0; }',
        'exec 5</proc/1/exe',
        'readlink /proc/self/fd/5 > /tmp/held',
        '(',
        '  during=$(cat /tmp/exe-during)',
        '  i=0',
        '  while [ "$(readlink /proc/1/exe)" = "$during" ] && [ $i -lt 400 ]; do sleep 0.05; i=$((i+1)); done',
        '  readlink /proc/1/exe > /tmp/exe-after',
        '  i=0',
        '  while :; do',
        '    { echo pwned >> /proc/self/fd/5; } 2> /tmp/write-after',
        '    st=$?',
        // Another test's init may execute the same file (bind mount mode).
        '    if grep -q "Text file busy" /tmp/write-after && [ $i -lt 300 ]; then i=$((i+1)); sleep 0.1; continue; fi',
        '    break',
        '  done',
        '  echo "status $st" >> /tmp/write-after',
        '  sha256sum < /proc/self/fd/5 > /tmp/hash-after',
        '  touch /tmp/done',
        ') &',
        '',
      ].join('\n');
      const container = (caps: string[]) => {
        const bundle = e.bundle((c: Config) => {
          c.root.readonly = false;
          c.process.args = ['sh', '-c', 'i=0; while [ ! -e /tmp/done ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i+1)); done'];
          for (const set of ['bounding', 'effective', 'permitted']) c.process.capabilities[set].push(...caps);
          c.hooks = { startContainer: [{ path: '/attack', env: ['PATH=/bin'] }] };
        });
        const rootfs = join(bundle, 'rootfs');
        writeFileSync(join(rootfs, 'attack'), attack, { mode: 0o755 });
        const r = tsrunWith(t, e, ['run', '--bundle', bundle, uniqueId('exe-in')], { env: mode.env });
        t.equal(r.status, 0, r.stderr);
        const read = (f: string) => (existsSync(join(rootfs, 'tmp', f)) ? readFileSync(join(rootfs, 'tmp', f), 'utf8') : '(missing)');
        return read;
      };

      // With CAP_SYS_PTRACE the init's non-dumpability does not stop it:
      // what the init runs must hold by itself.
      const read = container(['CAP_SYS_PTRACE']);
      t.match(read('exe-during').trim(), mode.exe, `pid 1 ran from the ${mode.name} when the hook looked`);
      t.match(read('held').trim(), mode.exe, 'the hook holds it open');
      t.match(read('write-during'), /can't create \/proc\/1\/exe: Text file busy/, 'writing it while pid 1 runs it fails');
      t.equal(read('exe-after').trim(), '/bin/busybox', 'pid 1 then exec\'d the program');
      t.match(
        read('write-after'),
        mode.reopen === 'EROFS' ? /can't create \/proc\/self\/fd\/5: Read-only file system\nstatus 1\n$/ : /write error: Operation not permitted\nstatus 1\n$/,
        `reopening it for writing afterwards fails (${mode.reopen === 'EROFS' ? 'read-only mount' : 'sealed memfd'})`,
      );
      t.equal(read('hash-after').split(/\s/)[0], before, 'what pid 1 ran is unchanged');
      t.equal(read('hook-errors'), '', 'the hook itself had no errors');
      t.equal(hash(helper), before, 'the binary on disk is unchanged');

      // Without it (the default capabilities) the non-dumpable init's exe
      // cannot even be opened.
      const plain = container([]);
      t.match(plain('write-during'), /can't create \/proc\/1\/exe: Permission denied/, 'without CAP_SYS_PTRACE: denied, the init is not dumpable');
      t.equal(hash(helper), before, 'the binary on disk is unchanged');
    });

    t.test(`CVE-2019-5736 (${mode.name}): re-executing /proc/self/exe gets nothing`, async (t) => {
      const e = env(t);
      const before = hash(helper);
      // A container program that re-executes "/proc/self/exe" (as the
      // original exploit did with a #! line) only gets tsrun-init, which
      // refuses to run without tsrun.
      const script = e.bundle((c: Config) => (c.process.args = ['/evil']));
      writeFileSync(join(script, 'rootfs', 'evil'), '#!/proc/self/exe\n', { mode: 0o755 });
      const r = tsrunWith(t, e, ['run', '--bundle', script, uniqueId('evil')], { env: mode.env });
      t.equal(r.status, 2, 'the re-executed helper exits 2');
      t.match(r.stderr, /tsrun-init is started by tsrun; it is not a command/);
      t.equal(hash(helper), before, 'the binary is unchanged');
    });
  }

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

  // CVE-2024-21626: runc leaked an fd of a host directory (/sys/fs/cgroup)
  // into its init, and process.cwd "/proc/self/fd/N" gave the container a
  // working directory outside its root. Here a host directory really is fd
  // 3 of the init (given with --preserve-fds, which passes the caller's fds
  // from 3 on), so that only the check that the cwd is inside the container
  // stands between the program and the host directory.
  t.test('CVE-2024-21626: the cwd cannot be a host directory fd present in the init', async (t) => {
    const e = env(t);
    const host = join(scratch(t, 'tsrun-hostdir'), 'hostdir');
    mkdirSync(join(host, 'sub'), { recursive: true });
    writeFileSync(join(host, 'marker'), 'host directory\n');
    const dirFd = openSync(host, constants.O_RDONLY | constants.O_DIRECTORY);
    t.teardown(() => closeSync(dirFd));
    // A program that writes relative to its cwd: in the host directory, had
    // its cwd been there.
    const program = ['sh', '-c', 'echo pwned > pwned; pwd'];
    const run = (mutate: (c: Config) => void, extra: string[] = [], prepare?: (rootfs: string) => void) => {
      const bundle = e.bundle((c: Config) => {
        c.process.args = program;
        mutate(c);
      });
      prepare?.(join(bundle, 'rootfs'));
      return tsrunWith(t, e, ['run', ...extra, '--preserve-fds', '1', '--bundle', bundle, uniqueId('cwd')], { fds: [dirFd] });
    };

    // The setup is real: with a harmless cwd the container has the host
    // directory as fd 3.
    const seen = run((c) => (c.process.args = ['sh', '-c', 'readlink /proc/self/fd/3; cat /proc/self/fd/3/marker; pwd']));
    t.equal(seen.status, 0, seen.stderr);
    t.equal(seen.stdout, `${host}\nhost directory\n/\n`, 'the container can reach the host directory through fd 3');

    const before = { host: listing(host), sub: listing(join(host, 'sub')), parent: listing(dirname(host)) };
    const variants: { cwd: string; extra?: string[]; symlink?: string; writes: string }[] = [
      { cwd: '/proc/self/fd/3', writes: host },
      { cwd: '/proc/self/fd/3/sub', writes: join(host, 'sub') },
      { cwd: '/proc/self/fd/3/..', writes: dirname(host) },
      { cwd: '/proc/self/fd/3', extra: ['--no-pivot'], writes: host },
      // A symlink in the image to the fd: resolved in the container, as runc did.
      { cwd: '/work', symlink: '/proc/self/fd/3', writes: host },
    ];
    for (const v of variants) {
      const what = `cwd ${v.cwd}${v.symlink ? ` -> ${v.symlink}` : ''}${v.extra ? ` (${v.extra.join(' ')})` : ''}`;
      const res = run((c) => (c.process.cwd = v.cwd), v.extra, (rootfs) => v.symlink && symlinkSync(v.symlink, join(rootfs, v.cwd.slice(1))));
      t.equal(res.status, 1, `${what}: refused`);
      t.equal(res.stdout, '', `${what}: the program did not run`);
      // The refusal is the check for this attack, not an earlier step that
      // happens to fail on the path.
      t.match(res.stderr, new RegExp(`^tsrun: process\\.cwd: cwd ${v.cwd.replace(/[.]/g, '\\.')} is outside the container: operation not permitted\\n$`), `${what}: refused by the cwd check`);
      t.notOk(existsSync(join(v.writes, 'pwned')), `${what}: nothing written where the cwd would have been (${v.writes})`);
    }
    t.same({ host: listing(host), sub: listing(join(host, 'sub')), parent: listing(dirname(host)) }, before, 'the host directories are unchanged');

    // The init's own fds are closed or no directories by the time of the
    // chdir: the program is refused its cwd, not let in somewhere.
    for (const fd of [4, 5, 6, 7, 8, 9]) {
      const r = run((c) => (c.process.cwd = `/proc/self/fd/${fd}`));
      t.equal(r.status, 1, `cwd /proc/self/fd/${fd} is refused`);
      t.match(r.stderr, new RegExp(`^tsrun: process\\.cwd: (chdir to cwd|create directory) /proc/self/fd/${fd}: (no such file or directory|not a directory)\\n$`), `cwd /proc/self/fd/${fd}: no such directory`);
    }
    t.notOk(existsSync(join(host, 'pwned')), 'nothing written in the host directory');
  });

  // CVE-2025-31133: runc masked paths by bind-mounting the container's
  // /dev/null, which the image (or a racing container sharing the mount)
  // had made a symlink to /proc/sys/kernel/core_pattern or another file:
  // the "mask" then made that file writable at the masked path. Here the
  // container's /dev is the image's own (a bind of the rootfs's dev, which
  // tsrun uses as it is and populates with nothing), so that the node the
  // masking step finds is the attacker's, and the program writes to a
  // masked path.
  // It reads a bounded amount: a mask that is some other device (zero,
  // say) must not fill the disk with the program's output.
  const maskProgram = ['sh', '-c', 'head -c 64 /etc/secret; echo core-tsrun-31133 > /etc/secret; head -c 64 /etc/secret; echo end'];
  const maskBundle = (e: Env, ownDev: boolean) => {
    const bundle = e.bundle((c: Config) => {
      c.process.args = maskProgram;
      c.linux.maskedPaths = ['/etc/secret', ...c.linux.maskedPaths];
      // Without a read-only /proc/sys, which would make a core_pattern
      // bound as the mask read-only too: the masking step's own check is
      // all that keeps the program from writing the host's core_pattern.
      c.linux.readonlyPaths = c.linux.readonlyPaths.filter((p: string) => p !== '/proc/sys');
      if (ownDev) c.mounts = c.mounts.map((m: { destination: string }) => (m.destination === '/dev' ? { destination: '/dev', type: 'bind', source: 'rootfs/dev', options: ['rbind'] } : m));
    });
    writeFileSync(join(bundle, 'rootfs', 'etc', 'secret'), 'secret\n');
    return { bundle, dev: join(bundle, 'rootfs', 'dev'), secret: join(bundle, 'rootfs', 'etc', 'secret') };
  };

  t.test('CVE-2025-31133: masking refuses a /dev/null that is not the null device', async (t) => {
    const e = env(t);
    const core = guardCorePattern(t);

    // The setup is real: with a true null device in the image's /dev, the
    // masking step masks with it.
    {
      const { bundle, dev, secret } = maskBundle(e, true);
      t.equal(spawnSync('mknod', ['-m', '666', join(dev, 'null'), 'c', '1', '3']).status, 0);
      const r = e.tsrun(['run', '--bundle', bundle, uniqueId('mask')]);
      t.equal(r.status, 0, r.stderr);
      t.equal(r.stdout, 'end\n', 'the masked file reads empty and takes writes to nowhere');
      t.equal(readFileSync(secret, 'utf8'), 'secret\n', 'the masked file is untouched');
    }

    const decoy = 'decoy, not a device\n';
    const variants: { name: string; make: (path: string) => void; error: RegExp; check?: (path: string) => void }[] = [
      { name: 'a symlink to core_pattern', make: (p) => symlinkSync('/proc/sys/kernel/core_pattern', p), error: /open \/dev\/null for masking: too many symbolic links/ },
      { name: 'a relative symlink to core_pattern', make: (p) => symlinkSync('../proc/sys/kernel/core_pattern', p), error: /open \/dev\/null for masking: too many symbolic links/ },
      { name: 'a symlink to a file of the image', make: (p) => symlinkSync('/etc/passwd', p), error: /open \/dev\/null for masking: too many symbolic links/ },
      {
        name: 'a regular file',
        make: (p) => writeFileSync(p, decoy),
        error: /\/dev\/null is not the null device/,
        check: (p) => t.equal(readFileSync(p, 'utf8'), decoy, 'the regular file is untouched'),
      },
      {
        name: 'a directory',
        make: (p) => mkdirSync(p),
        error: /\/dev\/null is not the null device/,
        check: (p) => t.same(readdirSync(p), [], 'the directory is untouched'),
      },
      { name: 'another device (1:5, zero)', make: (p) => spawnSync('mknod', [p, 'c', '1', '5']), error: /\/dev\/null is not the null device/ },
    ];
    for (const v of variants) {
      const { bundle, dev, secret } = maskBundle(e, true);
      const passwd = readFileSync(join(bundle, 'rootfs', 'etc', 'passwd'), 'utf8');
      v.make(join(dev, 'null'));
      const r = e.tsrun(['run', '--bundle', bundle, uniqueId('mask')]);
      t.equal(r.status, 1, `${v.name}: refused`);
      t.equal(r.stdout, '', `${v.name}: the program did not run`);
      // From the masking step itself, naming the masked path it was at.
      t.match(r.stderr, new RegExp(`^tsrun: linux\\.maskedPaths\\[0\\]: ${v.error.source}[^\\n]*\\n$`), `${v.name}: refused by the masking step`);
      core.unchanged(`${v.name}: the host's core_pattern is unchanged`);
      t.equal(readFileSync(secret, 'utf8'), 'secret\n', `${v.name}: the masked file is untouched`);
      t.equal(readFileSync(join(bundle, 'rootfs', 'etc', 'passwd'), 'utf8'), passwd, `${v.name}: the image's files are untouched`);
      v.check?.(join(dev, 'null'));
    }
  });

  t.test('CVE-2025-31133: a /dev/null swapped during create never becomes the mask', async (t) => {
    const e = env(t);
    const core = guardCorePattern(t);
    const { bundle, dev, secret } = maskBundle(e, true);
    // A racer on the host side of the shared /dev (as a second container
    // would be): /dev/null flips between a null device and a symlink to
    // core_pattern, each by an atomic rename.
    const racer = spawn('sh', ['-c', 'cd "$0" && while :; do ln -s /proc/sys/kernel/core_pattern l && mv -fT l null; mknod n c 1 3 && chmod 666 n && mv -fT n null; done', dev], { stdio: 'ignore' });
    t.teardown(() => {
      racer.kill('SIGKILL');
    });
    let refused = 0;
    let masked = 0;
    for (let i = 0; i < 12; i++) {
      const r = e.tsrun(['run', '--bundle', bundle, uniqueId('race')]);
      if (r.status === 0 && r.stdout === 'end\n') masked++;
      // A swap between two masks is seen at the later one: the kernel will
      // not mount the renamed-over node, so /dev/null is opened again.
      else if (r.status === 1 && /^tsrun: linux\.maskedPaths\[\d+\]: (open \/dev\/null for masking: too many symbolic links|\/dev\/null is not the null device|\/dev\/null kept being replaced while masking)/.test(r.stderr)) refused++;
      else t.fail(`run ${i}: neither masked with the null device nor refused by the masking step`, { status: r.status, stdout: r.stdout, stderr: r.stderr });
      core.unchanged(`run ${i}: the host's core_pattern is unchanged`);
    }
    racer.kill('SIGKILL');
    t.equal(refused + masked, 12, `every run masked with the null device (${masked}) or was refused (${refused})`);
    t.equal(readFileSync(secret, 'utf8'), 'secret\n', 'the masked file is untouched');
  });

  t.test("CVE-2025-31133: with a /dev from the config, the image's /dev/null is not used", async (t) => {
    const e = env(t);
    const core = guardCorePattern(t);
    // The image's /dev/null is the attack, but the config mounts a tmpfs on
    // /dev and tsrun makes the null device there: that is the mask.
    const { bundle, dev, secret } = maskBundle(e, false);
    symlinkSync('/proc/sys/kernel/core_pattern', join(dev, 'null'));
    const r = e.tsrun(['run', '--bundle', bundle, uniqueId('mask')]);
    t.equal(r.status, 0, r.stderr);
    t.equal(r.stdout, 'end\n', 'the masked file reads empty and takes writes to nowhere');
    core.unchanged("the host's core_pattern is unchanged");
    t.equal(readFileSync(secret, 'utf8'), 'secret\n', 'the masked file is untouched');
    t.equal(readlinkSync(join(dev, 'null')), '/proc/sys/kernel/core_pattern', "the image's /dev/null is left as it was");
  });

  // CVE-2025-52881: runc's writes to /proc (sysctls, LSM attributes) could be
  // redirected by mounts over the files it wrote, to other procfs files
  // (which its "is it procfs" check accepted) or to any file.
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
    t.match(r.stderr, /^tsrun: linux\.sysctl\["net\.ipv4\.ip_forward"\]: open \/proc\/sys\/net\/ipv4\/ip_forward: cross-device link/, 'the error names the sysctl');
    t.equal(readFileSync(decoy, 'utf8'), 'untouched\n', 'the write did not land on the mounted file');
  });

  t.test('CVE-2025-52881: a sysctl write cannot be redirected to another procfs file', async (t) => {
    const e = env(t);
    const ttl = '/proc/sys/net/ipv4/ip_default_ttl';
    const forward = '/proc/sys/net/ipv4/ip_forward';
    // A network namespace of the test's, joined by path, so that what was
    // written in it can be read after a refused create. Its default TTL is
    // made distinct from the host's.
    const holder = spawn('unshare', ['--net', 'sleep', '600'], { stdio: 'ignore' });
    t.teardown(() => {
      holder.kill('SIGKILL');
    });
    const netns = `/proc/${holder.pid}/ns/net`;
    for (let i = 0; i < 500 && (!existsSync(netns) || readlinkSync(netns) === readlinkSync('/proc/self/ns/net')); i++) sleepMs(10);
    t.not(readlinkSync(netns), readlinkSync('/proc/self/ns/net'), 'a network namespace of its own');
    const inNs = (script: string) => spawnSync('nsenter', [`--net=${netns}`, 'sh', '-c', script], { encoding: 'utf8' });
    // ip_forward 0 whatever the host has (a new namespace may inherit it):
    // the attack would make it 1.
    t.equal(inNs(`echo 77 > ${ttl} && echo 0 > ${forward}`).status, 0);
    const hostTtl = readFileSync(ttl, 'utf8');
    t.not(hostTtl, '77\n');
    const withRedirect = (c: Config) => {
      c.linux.namespaces = c.linux.namespaces.map((n: { type: string }) => (n.type === 'network' ? { type: 'network', path: netns } : n));
      // One procfs file (the TTL, as the container's procfs shows it) bound
      // over another (the sysctl's file): both pass an "is it procfs" check.
      c.mounts.push({ destination: forward, type: 'bind', source: ttl, options: ['bind'] });
    };

    // The setup is real: in the container, the sysctl's file is the TTL.
    const seen = e.sh(`cat ${forward}`, withRedirect);
    t.equal(seen.status, 0, seen.stderr);
    t.equal(seen.stdout, '77\n', "in the container, ip_forward's file is the TTL");

    const r = e.sh('echo ran', (c: Config) => {
      withRedirect(c);
      c.linux.sysctl = { 'net.ipv4.ip_forward': '1' };
    });
    t.equal(r.status, 1, 'refused');
    t.equal(r.stdout, '', 'the program did not run');
    t.match(r.stderr, /^tsrun: linux\.sysctl\["net\.ipv4\.ip_forward"\]: open \/proc\/sys\/net\/ipv4\/ip_forward: cross-device link/, 'the error names the sysctl');
    // Where the write would have landed: the TTL of that namespace, seen
    // from the host and from a container in it; the host's own TTL.
    t.equal(inNs(`cat ${ttl} ${forward}`).stdout, '77\n0\n', 'from the host: the TTL and ip_forward of the namespace are unchanged');
    const after = e.sh(`cat ${ttl} ${forward}`, (c: Config) => (c.linux.namespaces = c.linux.namespaces.map((n: { type: string }) => (n.type === 'network' ? { type: 'network', path: netns } : n))));
    t.equal(after.stdout, '77\n0\n', 'in a container of the namespace: the TTL and ip_forward are unchanged');
    t.equal(readFileSync(ttl, 'utf8'), hostTtl, "the host's TTL is unchanged");
  });

  t.test("CVE-2025-52881: a sysctl write cannot be redirected to the host's core_pattern", async (t) => {
    const e = env(t);
    const core = guardCorePattern(t);
    const domainname = '/proc/sys/kernel/domainname';
    // The host's core_pattern (not namespaced: procfs of the host, as the
    // init resolves a bind source) bound over the sysctl's file.
    const redirect = (c: Config) => c.mounts.push({ destination: domainname, type: 'bind', source: '/proc/sys/kernel/core_pattern', options: ['bind'] });

    const seen = e.sh(`cat ${domainname}`, redirect);
    t.equal(seen.status, 0, seen.stderr);
    t.equal(seen.stdout, core.before, "in the container, domainname's file is the host's core_pattern");

    const r = e.sh('echo ran', (c: Config) => {
      redirect(c);
      c.linux.sysctl = { 'kernel.domainname': 'tsrun-cve-2025-52881' };
    });
    t.equal(r.status, 1, 'refused');
    t.equal(r.stdout, '', 'the program did not run');
    t.match(r.stderr, /^tsrun: linux\.sysctl\["kernel\.domainname"\]: open \/proc\/sys\/kernel\/domainname: cross-device link/, 'the error names the sysctl');
    core.unchanged("the host's core_pattern is unchanged");
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
    const r = spawnSync('script', ['-qec', `${tsrunShell} --root ${e.root} run --bundle ${bundle} ${uniqueId('console')}`, '/dev/null'], { encoding: 'utf8' });
    t.equal(r.status, 0, r.stderr);
    t.match(r.stdout, /crw--w----\s+1 0\s+5\s+136,/, '/dev/console is the pty');
    t.equal(readFileSync(join(rootfs, 'etc', 'target'), 'utf8'), 'keep me\n', 'the symlink target is untouched');
  });
}
