// Helpers for driving tsrun through its real clients, podman (conmon) and
// containerd (ctr and the runc shim): private storage, state and sockets
// in a scratch directory, tsrun reached through a wrapper that logs each
// call (so a test can tell the client really used it), and a teardown that
// also clears what the clients keep in fixed host places (cgroups,
// /run/containerd) and never throws (tap skips the teardowns after one
// that throws).
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync, rmdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Test } from 'tap';
import { makeRootfs, requireAll, scratch, tsrunBin } from './tsrun';

export const PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
// Not the test runner's environment: its NODE_OPTIONS would reach tsrun.
export const clientEnv = { PATH, HOME: '/root', LANG: 'C.UTF-8' };

/**
 * argv run with exactly clientEnv. Through `env -i`: the test runner adds
 * its own variables to every child whatever env is given, and its
 * NODE_OPTIONS would instrument (and slow several times) each tsrun that a
 * client, or a daemon's shim, starts.
 */
export const clientCmd = (argv: string[]) => ['/usr/bin/env', '-i', ...Object.entries(clientEnv).map(([k, v]) => `${k}=${v}`), ...argv];

export function which(cmd: string): string | undefined {
  for (const d of PATH.split(':')) if (existsSync(join(d, cmd))) return join(d, cmd);
  return undefined;
}

/** False (and a failure in CI, a skip elsewhere) when a command is missing. */
export function need(t: Test, cmds: string[], pkg: string): boolean {
  const missing = cmds.filter((c) => !which(c));
  if (!missing.length) return true;
  const why = `needs ${missing.join(', ')} (apt-get install ${pkg})`;
  if (requireAll()) t.fail(`${why} (a skip is a failure in CI)`);
  else t.plan(0, why);
  return false;
}

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function run(argv: string[], opts: { timeout?: number; input?: string } = {}): RunResult {
  const [cmd, ...args] = clientCmd(argv);
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: opts.timeout ?? 60_000, input: opts.input });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** A command under script(1): it gets a terminal, as from an interactive shell. */
export function inTerminal(argv: string[]): RunResult {
  const quoted = argv.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  return run(['script', '-qec', quoted, '/dev/null']);
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until `ok` holds (true) or `ms` have passed (false). */
export async function waitFor(ok: () => boolean, ms = 5000): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(50)) if (ok()) return true;
  return ok();
}

export interface Wrapper {
  path: string;
  calls: () => string[];
}

/** A wrapper that records every command line of `binary` (tsrun unless said) in `calls`. */
export function tsrunWrapper(dir: string, binary = tsrunBin): Wrapper {
  const path = join(dir, basename(binary));
  const log = join(dir, 'calls');
  writeFileSync(path, `#!/bin/sh\necho "$*" >> ${log}\nexec ${binary} "$@"\n`, { mode: 0o755 });
  return { path, calls: () => (existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : []) };
}

/** Whether one of the logged calls is the command `cmd` (global flags may come before it). */
export const used = (calls: string[], cmd: string) => calls.some((c) => new RegExp(`(^| )${cmd}( |$)`).test(c));

/** The logged calls of command `cmd` that name `id` (its last argument). */
export const callsOf = (calls: string[], cmd: string, id: string) =>
  calls.filter((c) => new RegExp(`(^| )${cmd} `).test(c) && c.endsWith(` ${id}`));

function cgroupMounts(): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter((l) => / - cgroup2? /.test(l))
    .map((l) => l.split(' ')[4]);
}

/** The host directory of a process's v1 cgroup for `controller`: its /proc/<pid>/cgroup path under the hierarchy's mountpoint. */
export function hostCgroupDir(pid: number, controller: string): string | undefined {
  let path: string | undefined;
  try {
    path = readFileSync(`/proc/${pid}/cgroup`, 'utf8')
      .split('\n')
      .map((l) => l.split(':'))
      .find((f) => f.length >= 3 && f[1].split(',').includes(controller))?.[2];
  } catch {
    return undefined;
  }
  const mount = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' '))
    .find((f) => {
      const dash = f.indexOf('-');
      return dash > 0 && f[dash + 1] === 'cgroup' && f[dash + 3].split(',').includes(controller);
    });
  if (path === undefined || !mount) return undefined;
  // mount[3] is the root of the hierarchy that is mounted there ("/" on the host).
  const rel = path.startsWith(mount[3]) ? path.slice(mount[3].length) : path;
  return join(mount[4], rel);
}

/** A v1 cgroup file of a process, read from the host. */
export function hostCgroupFile(pid: number, controller: string, file: string): string {
  const dir = hostCgroupDir(pid, controller);
  if (!dir) return `(no ${controller} cgroup for pid ${pid})`;
  try {
    return readFileSync(join(dir, file), 'utf8').trim();
  } catch (e) {
    return `(${(e as Error).message})`;
  }
}

/** Removes, at teardown, cgroup directories named `name` under each hierarchy's root that did not exist before. */
export function removeNewCgroups(t: Test, name: string): void {
  const before = new Set(cgroupMounts().filter((m) => existsSync(join(m, name))));
  t.teardown(() => {
    for (const m of cgroupMounts()) {
      if (before.has(m) || !existsSync(join(m, name))) continue;
      const rm = (d: string) => {
        try {
          for (const e of readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) rm(join(d, e.name));
          rmdirSync(d);
        } catch {
          // busy: left for the leftover checks to report
        }
      };
      rm(join(m, name));
    }
  });
}

/** Unmounts, at teardown, whatever is still mounted under dir (deepest first). */
export function unmountUnder(t: Test, dir: string): void {
  t.teardown(() => {
    const points = readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .map((l) => l.split(' ')[4])
      .filter((p) => p && (p === dir || p.startsWith(`${dir}/`)))
      .sort((a, b) => b.length - a.length);
    for (const p of points) spawnSync('umount', ['-l', p]);
  });
}

export interface Podman {
  /** podman with this test's private storage and tsrun (through the wrapper) as its runtime. */
  podman: string[];
  rt: Wrapper;
  /** A busybox image imported from makeRootfs. */
  image: string;
  /** Flags every `podman run` needs on this host. */
  common: string[];
  dir: string;
}

/**
 * podman with private storage in a scratch directory. Its teardown removes
 * every container (force, so a paused one too: podman resumes, kills and
 * deletes it through tsrun), podman's storage, libpod_parent's cgroups and
 * the mounts left under the scratch directory.
 */
export function startPodman(t: Test): Podman {
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
  return { podman, rt, image, common, dir: w };
}

/**
 * What a test's containerd left in /run/containerd, its fixed host place
 * (the shims' sockets), removed at teardown without touching what another
 * test's daemon (or the host's) still uses: sockets nobody listens on, then
 * the directories left empty, /run/containerd included. Whichever test ends
 * last removes it.
 */
export function tidyRunContainerd(t: Test): void {
  const top = '/run/containerd';
  t.teardown(() => {
    if (!existsSync(top)) return;
    // Column 8 of /proc/net/unix is the path a socket is bound to.
    const bound = new Set(readFileSync('/proc/net/unix', 'utf8').split('\n').map((l) => l.trim().split(/\s+/)[7]).filter(Boolean));
    const tidy = (dir: string) => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        const p = join(dir, e.name);
        if (e.isDirectory()) {
          tidy(p);
          try {
            rmdirSync(p);
          } catch {
            // not empty: in use
          }
        } else if (e.isSocket() && !bound.has(p)) {
          rmSync(p, { force: true });
        }
      }
    };
    tidy(top);
    try {
      rmdirSync(top);
    } catch {
      // still in use
    }
  });
}

export interface Containerd {
  /** ctr talking to this test's daemon. */
  ctr: string[];
  rt: Wrapper;
  rootfs: string;
  /** `ctr run` flags: tsrun (through the wrapper) as the shim's runc, the fifo directory, and the rootfs. Last, as --rootfs ends ctr's options. */
  runArgs: string[];
  sock: string;
  dir: string;
}

/** Ends a test's containerd and the shims serving its socket, which outlive the daemon. */
export async function stopContainerd(daemon: ChildProcess, sock: string): Promise<void> {
  for (const p of readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
    try {
      const cmd = readFileSync(`/proc/${p}/cmdline`, 'utf8');
      if (cmd.startsWith('/usr/bin/containerd-shim') && cmd.includes(sock)) process.kill(Number(p), 'SIGKILL');
    } catch {
      // gone already
    }
  }
  daemon.kill('SIGTERM');
  if (daemon.exitCode === null && daemon.signalCode === null) await new Promise((r) => daemon.once('exit', r));
}

/** Where ctr should put a task's IO fifos (its default, /run/containerd/fifo, keeps a detached one's). */
export const fifoDir = (dir: string) => join(dir, 'fifo');

/** Where the runc shim keeps its runtime's state (the runtime's --root), whatever the daemon's own state directory is. */
export const shimRuntimeRoot = '/run/containerd/runc/default';

/**
 * A containerd daemon of its own (root, state and sockets in a scratch
 * directory). Its teardown ends the shims serving its socket and the
 * daemon, force-deletes through tsrun the containers this process made
 * (ids from uniqueId, so `<prefix>-<pid>-`) that a failed test left in the
 * shim's runtime root, paused ones too, then removes /run/containerd if it
 * was not there before and the 'default' cgroups.
 */
export async function startContainerd(t: Test): Promise<Containerd> {
  const w = scratch(t, 'tsrun-containerd');
  unmountUnder(t, w);
  removeNewCgroups(t, 'default');
  tidyRunContainerd(t);
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
  const [cmd, ...args] = clientCmd([which('containerd')!, '--config', join(w, 'config.toml')]);
  const daemon = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'ignore'] });
  t.teardown(async () => {
    await stopContainerd(daemon, sock);
    const mine = run([tsrunBin, '--root', shimRuntimeRoot, 'list', '-q']).stdout.split('\n').filter((id) => id.includes(`-${process.pid}-`));
    for (const id of mine) run([tsrunBin, '--root', shimRuntimeRoot, 'delete', '--force', id]);
  });
  await waitFor(() => existsSync(sock), 10_000);
  t.ok(existsSync(sock), 'containerd is up');
  const ctr = [which('ctr')!, '--address', sock];
  const rootfs = makeRootfs(join(w, 'rootfs'));
  // The IO fifos in the scratch directory: ctr leaves a detached task's in /run/containerd/fifo.
  return { ctr, rt, rootfs, runArgs: ['--runc-binary', rt.path, '--fifo-dir', fifoDir(w), '--rootfs', rootfs], sock, dir: w };
}
