// Helpers for integration tests: real containers, run as root with the
// built CLI. Every test gets its own --root and bundle directories, and a
// teardown that deletes its containers and checks nothing is left behind.
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { chmodSync, closeSync, copyFileSync, openSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
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

/**
 * Whether a missing prerequisite fails the test instead of skipping it.
 * TSRUN_REQUIRE_ALL=1 is this project's own switch: .ci/run exports it, so
 * that a skip in CI is a failure whatever the runner sets. CI (which most CI
 * runners set to "true") is honoured too. "", "0" and "false" are unset.
 */
export function requireAll(environ: NodeJS.ProcessEnv = process.env): boolean {
  const on = (v: string | undefined) => v !== undefined && !['', '0', 'false'].includes(v.trim().toLowerCase());
  return on(environ.TSRUN_REQUIRE_ALL) || on(environ.CI);
}

/**
 * A check `what` that cannot run here, because of `why`: a skip that says
 * its reason, or, under requireAll() (CI), a failure that says it.
 */
export function skipOrFail(t: Test, what: string, why: string): void {
  if (requireAll()) t.fail(`${what}: ${why} (a skip is a failure in CI: TSRUN_REQUIRE_ALL or CI is set)`);
  else t.pass(what, { skip: why });
}

/**
 * Integration tests need root and busybox. Without them the whole file is
 * skipped with the reason (tap's plan(0, reason)), except under requireAll()
 * (CI), where that is a failure.
 */
export function requireRoot(t: Test): boolean {
  if (process.getuid?.() === 0 && existsSync(busybox)) return true;
  const why = process.getuid?.() !== 0 ? 'needs root' : `needs ${busybox} (apt-get install busybox-static)`;
  if (requireAll()) {
    t.fail(`integration test ${why} (a skip is a failure in CI: TSRUN_REQUIRE_ALL or CI is set)`);
  } else {
    t.plan(0, `integration test ${why}`);
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

/** Everything in the config that `tsrun spec` writes, but no terminal: what env().bundle() starts from. */
export function baseConfig(): Record<string, any> {
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

/**
 * Live processes (zombies left out: they hold nothing) that mention one of
 * `marks` (a container id, a state root, a bundle directory; a mark counts
 * only whole: not followed or preceded by [\w.-]): in their
 * command line, their cgroups, or where their cwd, root or any open fd
 * points. A container's processes all do: tsrun names the id on its command
 * line, and tsrun-init (command line "tsrun-init --sync-fd N", empty
 * environment) holds the exec fifo in <root>/<id>/ from its first
 * instruction until the program's execve, and is in the container's cgroups
 * from before it reads its plan. This process is left out.
 */
export function processesMentioning(marks: string[]): { pid: number; where: string; what: string }[] {
  const found: { pid: number; where: string; what: string }[] = [];
  // A whole mark: "c-1-5" is not in "c-1-50".
  const res = marks.filter(Boolean).map((m) => new RegExp(`(?<![\\w.-])${m.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![\\w.-])`));
  const hit = (text: string) => res.some((re) => re.test(text));
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2)[0] === 'Z') continue;
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
      const report = (where: string, what: string) => found.push({ pid, where, what: `${what} (${cmdline || stat.slice(0, stat.lastIndexOf(')') + 1)})` });
      if (hit(cmdline)) report('cmdline', cmdline);
      const cgroup = readFileSync(`/proc/${pid}/cgroup`, 'utf8');
      if (hit(cgroup)) report('cgroup', cgroup.split('\n').find(hit) ?? '');
      const links = ['cwd', 'root', ...readdirSafe(`/proc/${pid}/fd`).map((fd) => `fd/${fd}`)];
      for (const link of links) {
        const target = readlinkSafe(`/proc/${pid}/${link}`);
        if (target !== undefined && hit(target)) report(link, target);
      }
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

function readdirSafe(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function readlinkSafe(path: string): string | undefined {
  try {
    return readlinkSync(path);
  } catch {
    return undefined;
  }
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
