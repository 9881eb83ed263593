// Helpers for integration tests: real containers, run as root with the
// built CLI. Every test gets its own --root and bundle directories, and a
// teardown that deletes its containers and checks nothing is left behind.
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { chmodSync, closeSync, copyFileSync, openSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Test } from 'tap';
import { defaultCgroupsPath } from '../../src/cgroups/host';

export const repo = join(__dirname, '..', '..');
export const tsrunBin = join(repo, 'bin', 'tsrun');
const busybox = '/bin/busybox';

/**
 * tsrun as tests start it: through `env -i`, with only PATH. The test
 * runner injects its own variables (NODE_OPTIONS, which instruments every
 * node process and the processes those start) into every child it spawns,
 * whatever env is given; no real caller of tsrun has them.
 */
export const tsrunCmd = ['/usr/bin/env', '-i', `PATH=${process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin'}`, tsrunBin];
export const tsrunShell = tsrunCmd.join(' ');

export interface Result {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Integration tests need root; in CI a missing prerequisite is a failure, never a skip. */
export function requireRoot(t: Test): boolean {
  if (process.getuid?.() === 0 && existsSync(busybox)) return true;
  const why = process.getuid?.() !== 0 ? 'needs root' : `needs ${busybox} (apt-get install busybox-static)`;
  if (process.env.CI) {
    t.fail(`integration test ${why}`);
  } else {
    t.plan(0, why);
  }
  return false;
}

let counter = 0;
export function uniqueId(prefix: string): string {
  return `${prefix}-${process.pid}-${++counter}`;
}

/** A scratch directory removed at the end of the test. */
export function scratch(t: Test, name = 'tsrun-test'): string {
  const dir = mkdtempSync(join(tmpdir(), `${name}-`));
  chmodSync(dir, 0o755); // reachable by the mapped root of a user namespace container
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A busybox rootfs: /bin/busybox and one symlink per applet. */
export function makeRootfs(dir: string): string {
  mkdirSync(join(dir, 'bin'), { recursive: true });
  for (const d of ['proc', 'sys', 'dev', 'tmp', 'etc', 'root']) mkdirSync(join(dir, d), { recursive: true });
  copyFileSync(busybox, join(dir, 'bin', 'busybox'));
  chmodSync(join(dir, 'bin', 'busybox'), 0o755);
  const applets = spawnSync(busybox, ['--list'], { encoding: 'utf8' }).stdout.split('\n').filter((a) => a && a !== 'busybox');
  for (const a of applets) symlinkSync('busybox', join(dir, 'bin', a));
  writeFileSync(join(dir, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000:user:/home/user:/bin/sh\n');
  writeFileSync(join(dir, 'etc', 'group'), 'root:x:0:\nuser:x:1000:\n');
  return dir;
}

// Everything in the config that `tsrun spec` writes, but no terminal.
function baseConfig(): Record<string, any> {
  const dir = mkdtempSync(join(tmpdir(), 'tsrun-spec-'));
  try {
    const r = spawnSync(tsrunCmd[0], [...tsrunCmd.slice(1), 'spec', '--bundle', dir], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`tsrun spec failed: ${r.stderr}`);
    const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    config.process.terminal = false;
    return config;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface Env {
  root: string;
  /** Runs tsrun with this test's --root. */
  tsrun(args: string[], opts?: SpawnSyncOptions): Result;
  /** A bundle with its own busybox rootfs and the config after `mutate`. */
  bundle(mutate?: (config: Record<string, any>) => void): string;
  /** Runs `sh -c script` in a new container and returns its output. */
  sh(script: string, mutate?: (config: Record<string, any>) => void): Result;
}

/** Sets up a test: a private state root, and a teardown that deletes every container in it. */
export function env(t: Test): Env {
  const base = scratch(t);
  const root = join(base, 'state');
  let bundles = 0;
  let outputs = 0;
  const self: Env = {
    root,
    // Output goes through files, not pipes: a container created here
    // inherits them, and a pipe would not see EOF until it exits.
    tsrun(args, opts = {}) {
      const out = join(base, `out-${++outputs}`);
      const err = join(base, `err-${outputs}`);
      const fds = [openSync(out, 'w'), openSync(err, 'w')];
      try {
        const r = spawnSync(tsrunCmd[0], [...tsrunCmd.slice(1), '--root', root, ...args], { stdio: ['ignore', fds[0], fds[1]], timeout: 60_000, ...opts });
        return { status: r.status, signal: r.signal, stdout: readFileSync(out, 'utf8'), stderr: readFileSync(err, 'utf8') };
      } finally {
        fds.forEach((fd) => closeSync(fd));
      }
    },
    bundle(mutate) {
      const dir = join(base, `bundle-${++bundles}`);
      makeRootfs(join(dir, 'rootfs'));
      const config = baseConfig();
      mutate?.(config);
      writeFileSync(join(dir, 'config.json'), JSON.stringify(config, null, 2));
      return dir;
    },
    sh(script, mutate) {
      const dir = self.bundle((c) => {
        c.process.args = ['sh', '-c', script];
        mutate?.(c);
      });
      return self.tsrun(['run', '--bundle', dir, uniqueId('sh')]);
    },
  };
  t.teardown(() => {
    for (const id of existsSync(root) ? readdirSync(root) : []) {
      spawnSync(tsrunCmd[0], [...tsrunCmd.slice(1), '--root', root, 'delete', '--force', id]);
    }
  });
  return self;
}

/** The cgroup directories tsrun made for a container of state root `root` (default cgroups path). */
export function cgroupLeftovers(root: string, id: string): string[] {
  return hostHierarchies()
    .map(({ mountpoint, own }) => join(mountpoint, own, defaultCgroupsPath(root, id)))
    .filter((dir) => existsSync(dir));
}

/** Every cgroup hierarchy mounted here: its mountpoint, its controllers ("" for v2) and this process's cgroup in it. */
export function hostHierarchies(): { mountpoint: string; controllers: string; own: string }[] {
  const self = readFileSync('/proc/self/cgroup', 'utf8');
  const out = [];
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const m = / - (cgroup2?) \S+ (\S+)$/.exec(line);
    if (!m) continue;
    const mountpoint = line.split(' ')[4];
    const controllers = m[1] === 'cgroup2' ? '' : m[2].split(',').filter((o) => o !== 'rw' && o !== 'xattr').join(',');
    const own = new RegExp(`^\\d+:${controllers.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:(.*)$`, 'm').exec(self)?.[1] ?? '/';
    out.push({ mountpoint, controllers, own });
  }
  return out;
}
