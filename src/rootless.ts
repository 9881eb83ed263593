// Rootless operation (runc's rules): tsrun run by an unprivileged user, or
// as root inside a user namespace that does not map the whole id range
// (rootless podman runs its runtime so). Then the state is kept under
// $XDG_RUNTIME_DIR, cgroups the user cannot write are left out, and the
// id maps are written as an unprivileged user may (lifecycle/idmaps.ts).
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { posix } from 'node:path';
import { defaultRoot } from './paths';

/** The whole 32-bit range mapped onto itself: the initial user namespace's uid_map. */
function inInitialUserNamespace(): boolean {
  try {
    const lines = readFileSync('/proc/self/uid_map', 'utf8').trim().split('\n');
    return lines.length === 1 && /^\s*0\s+0\s+4294967295\s*$/.test(lines[0]);
  } catch {
    return true; // no /proc: nothing to go by
  }
}

/** --rootless true|false|auto (runc's global option); auto: unprivileged, or in a user namespace. */
export function isRootless(flag: string | undefined): boolean {
  if (flag === 'true') return true;
  if (flag === 'false') return false;
  return process.geteuid?.() !== 0 || !inInitialUserNamespace();
}

/**
 * The default --root: /run/tsrun, or $XDG_RUNTIME_DIR/tsrun for an
 * unprivileged user, and for root in a user namespace unless $USER is root
 * (runc's shouldHonorXDGRuntimeDir).
 */
export function defaultStateRoot(): string {
  const xdg = process.env.XDG_RUNTIME_DIR;
  if (!xdg) return defaultRoot;
  if (process.geteuid?.() !== 0) return `${xdg}/tsrun`;
  if (process.env.USER !== 'root' && !inInitialUserNamespace()) return `${xdg}/tsrun`;
  return defaultRoot;
}

/**
 * Whether this user can make (or use) the cgroup `dir` of a hierarchy
 * mounted at `mountpoint`: write access to the directory itself if it
 * exists, else to the nearest one above it that does (a delegated subtree).
 */
export function cgroupWritable(dir: string, mountpoint: string): boolean {
  let at = dir;
  while (!existsSync(at) && at !== mountpoint && at !== '/') at = posix.dirname(at);
  try {
    accessSync(at === dir ? posix.join(dir, 'cgroup.procs') : at, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** A hierarchy's name in messages and in the state: its controllers, or "unified". */
export const hierarchyName = (d: { version: 1 | 2; controllers: string[] }) => (d.version === 2 ? 'unified' : d.controllers.join(','));
