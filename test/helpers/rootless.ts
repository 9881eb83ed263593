// An unprivileged user for the rootless tests, made here if the machine
// has none: tsrun-rootless, with subordinate ids in /etc/subuid and
// /etc/subgid (useradd's, or 65536 from 300000) for newuidmap and newgidmap,
// and its own $XDG_RUNTIME_DIR, as a login would give it.
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, closeSync, existsSync, lchownSync, lstatSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { type Result, repo, tsrunBin } from './tsrun';

export const rootlessName = 'tsrun-rootless';
const subidStart = 300000;
const subidCount = 65536;

export interface RootlessUser {
  uid: number;
  gid: number;
  /** The first subordinate uid (and gid) of the user's range, and its size. */
  subuid: { start: number; count: number };
  subgid: { start: number; count: number };
  home: string;
  runtimeDir: string;
  /** Runs argv as the user (no capabilities, its own environment), from `cwd`. */
  run(argv: string[], cwd?: string): Result;
  /** tsrun as the user, with its default state root. */
  tsrun(args: string[], cwd?: string): Result;
}

function ids(): { uid: number; gid: number; home: string } | undefined {
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith(`${rootlessName}:`));
  if (!line) return undefined;
  const f = line.split(':');
  return { uid: Number(f[2]), gid: Number(f[3]), home: f[5] };
}

function must(argv: string[]): void {
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${argv.join(' ')}: ${r.error?.message ?? r.stderr}`);
}

/** The user's first range in /etc/subuid or /etc/subgid, made if it has none. */
function ensureSubids(file: string): { start: number; count: number } {
  const line = () => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').find((l) => l.startsWith(`${rootlessName}:`)) : undefined);
  if (!line()) must(['usermod', file.endsWith('subuid') ? '--add-subuids' : '--add-subgids', `${subidStart}-${subidStart + subidCount - 1}`, rootlessName]);
  const [, start, count] = line()!.split(':');
  return { start: Number(start), count: Number(count) };
}

/**
 * The user must reach tsrun: every directory above the checkout gets the
 * search bit for others if it lacks it (a checkout under a 0700 home, say),
 * taken back when the tests end.
 */
function reachable(dir: string): void {
  for (let d = dir; d !== dirname(d); d = dirname(d)) {
    const mode = statSync(d).mode & 0o7777;
    if (mode & 0o001) continue;
    chmodSync(d, mode | 0o001);
    process.on('exit', () => chmodSync(d, mode));
  }
}

/** The test user, made on first use (useradd, usermod). */
export function rootlessUser(): RootlessUser {
  if (!ids()) must(['useradd', '--create-home', '--shell', '/bin/sh', rootlessName]);
  const subuid = ensureSubids('/etc/subuid');
  const subgid = ensureSubids('/etc/subgid');
  const { uid, gid, home } = ids()!;
  reachable(repo);
  const runtimeDir = `/run/user/${uid}`;
  mkdirSync(runtimeDir, { recursive: true, mode: 0o700 });
  chownSync(runtimeDir, uid, gid);
  const env = [`HOME=${home}`, `USER=${rootlessName}`, `LOGNAME=${rootlessName}`, `XDG_RUNTIME_DIR=${runtimeDir}`, 'PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin'];
  // Output through files, not pipes: a container created here inherits
  // them, and a pipe would not see EOF until it exits.
  const out = mkdtempSync(join(tmpdir(), 'tsrun-rootless-out-'));
  process.on('exit', () => rmSync(out, { recursive: true, force: true }));
  let runs = 0;
  const run = (argv: string[], cwd = home): Result => {
    const files = [join(out, `out-${++runs}`), join(out, `err-${runs}`)];
    const fds = files.map((f) => openSync(f, 'w'));
    try {
      // setpriv drops every capability with the uid; env -i: nothing of the
      // test runner's environment reaches the user's processes.
      const r = spawnSync('setpriv', [`--reuid=${uid}`, `--regid=${gid}`, '--init-groups', '--', '/usr/bin/env', '-i', ...env, ...argv], {
        stdio: ['ignore', fds[0], fds[1]],
        cwd,
        timeout: 60_000,
      });
      const [stdout, stderr] = files.map((f) => readFileSync(f, 'utf8'));
      return { status: r.status, signal: r.signal, stdout, stderr };
    } finally {
      fds.forEach((fd) => closeSync(fd));
      files.forEach((f) => rmSync(f, { force: true }));
    }
  };
  return { uid, gid, subuid, subgid, home, runtimeDir, run, tsrun: (args, cwd) => run([tsrunBin, ...args], cwd) };
}

/** Gives a tree to the user (a bundle it makes containers of); symlinks themselves, never what they point to. */
export function chownTree(path: string, uid: number, gid: number): void {
  if (lstatSync(path).isDirectory()) for (const e of readdirSync(path)) chownTree(join(path, e), uid, gid);
  lchownSync(path, uid, gid);
}
