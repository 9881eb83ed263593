// runc's clients drive tsrun unchanged: podman (through conmon) and
// containerd (through its runc shim, driven with ctr). Each gets private
// storage, state and sockets in a scratch directory; what they keep in
// fixed host places (cgroups, /run/containerd) is removed afterwards.
// tsrun is reached through a wrapper that logs each call, so the test knows
// the client really used it. In CI a missing client fails the test.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { makeRootfs, requireRoot, scratch, tsrunBin, uniqueId } from '../helpers/tsrun';

const PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
// Not the test runner's environment: its NODE_OPTIONS would reach tsrun.
const clientEnv = { PATH, HOME: '/root', LANG: 'C.UTF-8' };

function which(cmd: string): string | undefined {
  for (const d of PATH.split(':')) if (existsSync(join(d, cmd))) return join(d, cmd);
  return undefined;
}

function need(t: Test, cmds: string[], pkg: string): boolean {
  const missing = cmds.filter((c) => !which(c));
  if (!missing.length) return true;
  const why = `needs ${missing.join(', ')} (apt-get install ${pkg})`;
  if (process.env.CI) t.fail(why);
  else t.plan(0, why);
  return false;
}

function run(argv: string[], timeout = 60_000) {
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', env: clientEnv, timeout });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** A command under script(1): it gets a terminal, as from an interactive shell. */
function inTerminal(argv: string[]) {
  const quoted = argv.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  return run(['script', '-qec', quoted, '/dev/null']);
}

/** A wrapper that records every tsrun command line in `calls`. */
function tsrunWrapper(dir: string): { path: string; calls: () => string[] } {
  const path = join(dir, 'tsrun');
  const log = join(dir, 'calls');
  writeFileSync(path, `#!/bin/sh\necho "$*" >> ${log}\nexec ${tsrunBin} "$@"\n`, { mode: 0o755 });
  return { path, calls: () => (existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : []) };
}

const used = (calls: string[], cmd: string) => calls.some((c) => new RegExp(`(^| )${cmd}( |$)`).test(c));

function cgroupMounts(): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter((l) => / - cgroup2? /.test(l))
    .map((l) => l.split(' ')[4]);
}

/** Removes, at teardown, cgroup directories named `name` under each hierarchy's root that did not exist before. */
function removeNewCgroups(t: Test, name: string): void {
  const before = new Set(cgroupMounts().filter((m) => existsSync(join(m, name))));
  t.teardown(() => {
    for (const m of cgroupMounts()) {
      if (before.has(m) || !existsSync(join(m, name))) continue;
      const rm = (d: string) => {
        for (const e of readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) rm(join(d, e.name));
        try {
          rmdirSync(d);
        } catch {
          // busy: left for the leftover check to report
        }
      };
      rm(join(m, name));
    }
  });
}

/** Unmounts, at teardown, whatever is still mounted under dir (deepest first). */
function unmountUnder(t: Test, dir: string): void {
  t.teardown(() => {
    const points = readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .map((l) => l.split(' ')[4])
      .filter((p) => p && (p === dir || p.startsWith(`${dir}/`)))
      .sort((a, b) => b.length - a.length);
    for (const p of points) spawnSync('umount', ['-l', p]);
  });
}

if (requireRoot(t)) {
  t.test('podman runs containers with tsrun as its runtime', async (t) => {
    if (!need(t, ['podman', 'conmon', 'script'], 'podman bsdutils')) return;
    const w = scratch(t, 'tsrun-podman');
    unmountUnder(t, w);
    removeNewCgroups(t, 'libpod_parent');
    const rt = tsrunWrapper(w);
    const podman = [
      which('podman')!, '--root', join(w, 'storage'), '--runroot', join(w, 'run'), '--tmpdir', join(w, 'tmp'),
      '--storage-driver', 'vfs', '--cgroup-manager', 'cgroupfs', '--events-backend', 'file', '--runtime', rt.path,
    ];
    t.teardown(() => {
      run([...podman, 'rm', '--all', '--force', '--time', '0']);
      run([...podman, 'system', 'reset', '--force']);
    });
    const rootfs = makeRootfs(join(w, 'rootfs'));
    t.equal(run(['tar', '-C', rootfs, '-cf', join(w, 'rootfs.tar'), '.']).status, 0, 'rootfs tarball');
    const image = `localhost/tsrun-test-${process.pid}:latest`;
    const imported = run([...podman, 'import', join(w, 'rootfs.tar'), image]);
    t.equal(imported.status, 0, `the rootfs is imported as an image ${imported.stderr}`);
    // podman asks for RLIMIT_NOFILE/NPROC above this host's hard limits,
    // which only CAP_SYS_RESOURCE could raise (runc fails the same way).
    const common = ['--network', 'none', '--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=4096:4096'];

    const fg = run([...podman, 'run', '--rm', ...common, image, 'sh', '-c', 'echo hello from $(hostname); exit 3']);
    t.equal(fg.status, 3, `run exits with the container's status: ${fg.stderr}`);
    t.match(fg.stdout, /^hello from [0-9a-f]{12}\n$/, 'output and the hostname podman set');
    for (const cmd of ['create', 'start', 'delete']) t.ok(used(rt.calls(), cmd), `podman called tsrun ${cmd}`);

    const d = run([...podman, 'run', '-d', ...common, image, 'sleep', '1000']);
    t.equal(d.status, 0, d.stderr);
    const cid = d.stdout.trim();
    t.match(run([...podman, 'ps', '--format', '{{.ID}} {{.Status}}']).stdout, new RegExp(`^${cid.slice(0, 12)} Up`, 'm'), 'running');
    t.equal(run([...podman, 'stop', '--time', '1', cid]).status, 0, 'stop (TERM, which pid 1 ignores, then KILL)');
    t.match(run([...podman, 'ps', '-a', '--format', '{{.ID}} {{.Status}}']).stdout, new RegExp(`^${cid.slice(0, 12)} Exited \\(137\\)`, 'm'), 'exited 137');
    t.ok(used(rt.calls(), 'kill'), 'podman called tsrun kill');
    t.equal(run([...podman, 'rm', cid]).status, 0);

    const tty = inTerminal([...podman, 'run', '--rm', '-t', ...common, image, 'sh', '-c', 'tty; exit 4']);
    t.equal(tty.status, 4, tty.stderr);
    t.match(tty.stdout, /\/dev\/pts\/0/, 'a terminal from the console socket');
  });

  t.test('containerd (ctr, runc shim) runs containers with tsrun as its runc', async (t) => {
    if (!need(t, ['containerd', 'ctr', 'script'], 'containerd bsdutils')) return;
    const w = scratch(t, 'tsrun-containerd');
    unmountUnder(t, w);
    removeNewCgroups(t, 'default');
    // The runc shim keeps its runtime state in /run/containerd/runc whatever
    // the daemon's own state directory is.
    const hadRunDir = existsSync('/run/containerd');
    t.teardown(() => {
      if (!hadRunDir) rmSync('/run/containerd', { recursive: true, force: true });
    });
    const rt = tsrunWrapper(w);
    const sock = join(w, 'containerd.sock');
    writeFileSync(join(w, 'config.toml'), [
      'version = 2',
      `root = "${join(w, 'root')}"`,
      `state = "${join(w, 'state')}"`,
      'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
      '[grpc]',
      `  address = "${sock}"`,
      '[ttrpc]',
      `  address = "${sock}.ttrpc"`,
      '',
    ].join('\n'));
    const daemon = spawn(which('containerd')!, ['--config', join(w, 'config.toml')], { env: clientEnv, stdio: ['ignore', 'ignore', 'ignore'] });
    t.teardown(async () => {
      // Shims outlive the daemon: end the ones serving this socket.
      for (const p of readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
        let cmd = '';
        try {
          cmd = readFileSync(`/proc/${p}/cmdline`, 'utf8');
        } catch {
          continue;
        }
        if (cmd.startsWith('/usr/bin/containerd-shim') && cmd.includes(sock)) process.kill(Number(p), 'SIGKILL');
      }
      daemon.kill('SIGTERM');
      if (daemon.exitCode === null) await new Promise((r) => daemon.once('exit', r));
    });
    for (let i = 0; i < 200 && !existsSync(sock); i++) await new Promise((r) => setTimeout(r, 50));
    t.ok(existsSync(sock), 'containerd is up');
    const ctr = [which('ctr')!, '--address', sock];
    const rootfs = makeRootfs(join(w, 'rootfs'));
    const runArgs = ['--runc-binary', rt.path, '--rootfs', rootfs];

    const fg = run([...ctr, 'run', '--rm', ...runArgs, uniqueId('ctr'), 'sh', '-c', 'echo hello; exit 5']);
    t.equal(fg.status, 5, `the exit status comes through: ${fg.stderr}`);
    t.equal(fg.stdout, 'hello\n');
    for (const cmd of ['create', 'start', 'delete']) t.ok(used(rt.calls(), cmd), `the shim called tsrun ${cmd}`);

    const id = uniqueId('ctr');
    const d = run([...ctr, 'run', '-d', ...runArgs, id, 'sleep', '1000']);
    t.equal(d.status, 0, d.stderr);
    t.match(run([...ctr, 'task', 'ls']).stdout, new RegExp(`^${id}\\s+\\d+\\s+RUNNING`, 'm'), 'running');
    t.equal(run([...ctr, 'task', 'kill', '--signal', 'KILL', id]).status, 0);
    let stopped = false;
    for (let i = 0; i < 100 && !stopped; i++) {
      stopped = new RegExp(`^${id}\\s+\\d+\\s+STOPPED`, 'm').test(run([...ctr, 'task', 'ls']).stdout);
      if (!stopped) await new Promise((r) => setTimeout(r, 50));
    }
    t.ok(stopped, 'stopped after kill');
    t.ok(used(rt.calls(), 'kill'), 'the shim called tsrun kill');
    t.equal(run([...ctr, 'task', 'delete', id]).status, 0);
    t.equal(run([...ctr, 'container', 'delete', id]).status, 0);

    const tty = inTerminal([...ctr, 'run', '--rm', '-t', ...runArgs, uniqueId('ctr'), 'sh', '-c', 'tty; exit 6']);
    t.equal(tty.status, 6, tty.stderr);
    t.match(tty.stdout, /\/dev\/pts\/0/, 'a terminal from the console socket');
    t.same(run([tsrunBin, '--root', '/run/containerd/runc/default', 'list', '-q']).stdout, '', 'no container left behind');
  });
}
