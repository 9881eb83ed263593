// What cgroup hierarchies this host has, where they are mounted and which
// cgroup this process is in, read from /proc/self/mountinfo and
// /proc/self/cgroup (never assumed: a process's cgroup is often not "/").
import { readFileSync } from 'node:fs';
import { posix } from 'node:path';
import { TsrunError } from '../errors';
import { defaultRoot } from '../paths';

export interface Hierarchy {
  /** 'v1' for a legacy hierarchy, 'v2' for the unified one. */
  version: 1 | 2;
  /** v1 controllers (e.g. ['cpu'] or ['name=systemd']); [] for v2. */
  controllers: string[];
  /** Directory name a container sees under /sys/fs/cgroup (cpu, memory, systemd, unified...). */
  name: string;
  mountpoint: string;
  /** The cgroup path the mount shows at its mountpoint (usually "/"). */
  mountRoot: string;
  /** This process's cgroup in the hierarchy. */
  own: string;
}

export interface CgroupHost {
  mode: 'v1' | 'hybrid' | 'unified';
  hierarchies: Hierarchy[];
}

const mountOptionsNotControllers = new Set(['rw', 'ro', 'xattr', 'noprefix', 'clone_children', 'cpuset_v2_mode', 'nsdelegate', 'memory_recursiveprot', 'memory_localevents', 'memory_hugetlb_accounting', 'favordynmods']);

function unescape(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** A v1 hierarchy's controllers as one key, whatever their order: "cpu,cpuacct". */
const controllerKey = (controllers: string[]): string => [...controllers].sort().join(',');

/** Parses mountinfo and /proc/self/cgroup texts (kept as parameters for tests of other layouts). */
export function parseCgroupHost(mountinfo: string, selfCgroup: string): CgroupHost {
  // Once per create, in V8's interpreter: index loops and no work on the
  // lines that are not cgroup mounts (a host may have hundreds).
  const own = new Map<string, string>(); // controllerKey of "cpu,cpuacct", or "" (v2) -> path
  const cgroupLines = selfCgroup.split('\n');
  for (let i = 0; i < cgroupLines.length; i++) {
    const m = /^(\d+):([^:]*):(.*)$/.exec(cgroupLines[i]);
    if (m) own.set(m[2] === '' ? '' : controllerKey(m[2].split(',')), m[3]);
  }
  const hierarchies: Hierarchy[] = [];
  const seen = new Set<string>();
  const lines = mountinfo.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const sep = line.indexOf(' - cgroup');
    if (sep < 0) continue;
    const post = line.slice(sep + 3).split(' ');
    const fstype = post[0];
    if (fstype !== 'cgroup' && fstype !== 'cgroup2') continue;
    const superOpts = post[2] ?? '';
    const pre = line.slice(0, sep).split(' ');
    const device = pre[2];
    if (seen.has(device)) continue; // the same hierarchy mounted twice
    seen.add(device);
    const mountRoot = unescape(pre[3]);
    const mountpoint = unescape(pre[4]);
    if (fstype === 'cgroup2') {
      hierarchies.push({ version: 2, controllers: [], name: 'unified', mountpoint, mountRoot, own: own.get('') ?? '/' });
      continue;
    }
    const controllers = superOpts.split(',').filter((o) => !mountOptionsNotControllers.has(o) && !o.startsWith('release_agent='));
    const name = controllers.map((c) => c.replace(/^name=/, '')).join(',');
    hierarchies.push({ version: 1, controllers, name, mountpoint, mountRoot, own: own.get(controllerKey(controllers)) ?? '/' });
  }
  const v2 = hierarchies.find((h) => h.version === 2);
  const v1 = hierarchies.some((h) => h.version === 1);
  const mode = !v1 && v2 ? 'unified' : v2 ? 'hybrid' : 'v1';
  return { mode, hierarchies };
}

let cached: CgroupHost | undefined;

export function cgroupHost(): CgroupHost {
  cached ??= parseCgroupHost(readFileSync('/proc/self/mountinfo', 'utf8'), readFileSync('/proc/self/cgroup', 'utf8'));
  return cached;
}

/** The directory of cgroup `path` in hierarchy `h`, or undefined if the mount does not reach it. */
export function cgroupDir(h: Hierarchy, path: string): string | undefined {
  const rel = posix.relative(h.mountRoot, path);
  if (rel.startsWith('..')) return undefined;
  return posix.join(h.mountpoint, rel);
}

/**
 * The cgroup path a container gets when linux.cgroupsPath is not set: under
 * the default state root, `tsrun/<id>`; under any other root, a directory
 * named after that root (a 48-bit hash of its path), so that two
 * containers of one id in two roots do not share (and so kill or remove)
 * each other's cgroup. The hash keeps roots apart, it is no barrier: a
 * caller who picks --root can already do anything.
 */
export function defaultCgroupsPath(root: string, id: string): string {
  const abs = posix.resolve(root);
  if (abs === defaultRoot) return posix.join('tsrun', id);
  return posix.join(`tsrun-${fnv1a64(abs).slice(0, 12)}`, id);
}

/**
 * FNV-1a, 64 bits, in hex: a short, stable name for a path, not a secret.
 * (Loading node:crypto for a SHA-256 cost about 5 ms of every create.)
 */
function fnv1a64(text: string): string {
  let h = 0xcbf29ce484222325n;
  for (const byte of Buffer.from(text)) h = ((h ^ BigInt(byte)) * 0x100000001b3n) & 0xffffffffffffffffn;
  return h.toString(16).padStart(16, '0');
}

/**
 * The container's cgroup path in hierarchy h (spec: linux.cgroupsPath).
 * Absolute paths are taken from the hierarchy root; relative ones from this
 * process's own cgroup, as runc does.
 */
export function containerCgroupPath(h: Hierarchy, cgroupsPath: string): string {
  return cgroupsPath.startsWith('/') ? posix.normalize(cgroupsPath) : posix.join(h.own, cgroupsPath);
}

/** Where the container's cgroup is in each hierarchy (nothing is created here). */
export function plannedCgroupDirs(host: CgroupHost, cgroupsPath: string): { hierarchy: Hierarchy; path: string; dir: string }[] {
  return host.hierarchies.map((h) => {
    const path = containerCgroupPath(h, cgroupsPath);
    const dir = cgroupDir(h, path);
    if (!dir) throw new TsrunError(`cgroup ${path} is outside the ${h.name} hierarchy mounted at ${h.mountpoint}`, 'linux.cgroupsPath');
    return { hierarchy: h, path, dir };
  });
}
