// Facts about the host the suite runs on, read once at start.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { capsFromHex, parseCgroupLines, parseMountinfo, nsInode } from './probe';

export interface CgroupMount {
  /** mount point, e.g. /sys/fs/cgroup/memory */
  mountPoint: string;
  controllers: string[];
  v2: boolean;
}

export interface HostFacts {
  kernel: string;
  caps: string[];
  cgroupMode: 'v1' | 'hybrid' | 'v2' | 'none';
  cgroupMounts: CgroupMount[];
  /** controller -> this process's cgroup path in that hierarchy */
  ownCgroup: Record<string, string>;
  apparmor: boolean;
  selinux: boolean;
  timeNamespace: boolean;
  swapAccounting: boolean;
  /** a block device for blkio rules: "major:minor" */
  blockDevice: { major: number; minor: number } | null;
  ns: Record<string, number | null>;
  oomScoreAdj: number;
  hardNofile: bigint;
  unshare: string | null;
  sh: string;
}

function readOr(p: string, d = ''): string {
  try {
    return fs.readFileSync(p, 'utf8');
  } catch {
    return d;
  }
}

export function which(name: string): string | null {
  for (const dir of (process.env.PATH || '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin').split(':')) {
    const p = path.join(dir, name);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      if (fs.statSync(p).isFile()) return p;
    } catch {
      /* next */
    }
  }
  for (const dir of ['/usr/sbin', '/sbin', '/usr/bin', '/bin']) {
    const p = path.join(dir, name);
    if (fs.existsSync(p)) return p;
  }
  return null;
}

export function readHostFacts(): HostFacts {
  const status = readOr('/proc/self/status');
  const capEff = /CapEff:\s*([0-9a-f]+)/.exec(status)?.[1] ?? '0';
  const mounts = parseMountinfo(readOr('/proc/self/mountinfo').split('\n'));
  const cgroupMounts: CgroupMount[] = [];
  for (const m of mounts) {
    if (m.fstype === 'cgroup') {
      const controllers = m.superOptions.filter(
        (o) => !['rw', 'ro', 'relatime', 'noatime', 'nosuid', 'nodev', 'noexec', 'xattr', 'clone_children', 'nsdelegate'].includes(o) && !o.startsWith('release_agent'),
      );
      cgroupMounts.push({ mountPoint: m.mountPoint, controllers, v2: false });
    } else if (m.fstype === 'cgroup2') {
      const ctrls = readOr(path.join(m.mountPoint, 'cgroup.controllers')).trim().split(/\s+/).filter((x) => x);
      cgroupMounts.push({ mountPoint: m.mountPoint, controllers: ctrls, v2: true });
    }
  }
  const v1 = cgroupMounts.some((c) => !c.v2);
  const v2 = cgroupMounts.some((c) => c.v2);
  const cgroupMode = v1 && v2 ? 'hybrid' : v1 ? 'v1' : v2 ? 'v2' : 'none';
  const ownCgroup: Record<string, string> = {};
  for (const l of parseCgroupLines(readOr('/proc/self/cgroup').split('\n'))) {
    if (l.id === 0) ownCgroup['unified'] = l.path;
    for (const c of l.controllers) ownCgroup[c] = l.path;
  }
  const ns: Record<string, number | null> = {};
  for (const t of ['cgroup', 'ipc', 'mnt', 'net', 'pid', 'time', 'user', 'uts']) {
    try {
      ns[t] = nsInode(fs.readlinkSync(`/proc/self/ns/${t}`));
    } catch {
      ns[t] = null;
    }
  }
  let blockDevice: HostFacts['blockDevice'] = null;
  for (const l of readOr('/proc/partitions').split('\n').slice(2)) {
    const p = l.trim().split(/\s+/);
    if (p.length === 4 && !/^(loop|ram|zram)/.test(p[3])) {
      blockDevice = { major: Number(p[0]), minor: Number(p[1]) };
      break;
    }
  }
  const memMount = cgroupMounts.find((c) => !c.v2 && c.controllers.includes('memory'));
  const nofile = /Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/.exec(readOr('/proc/self/limits'));
  return {
    kernel: os.release(),
    caps: capsFromHex(capEff),
    cgroupMode,
    cgroupMounts,
    ownCgroup,
    apparmor: readOr('/sys/module/apparmor/parameters/enabled').trim() === 'Y',
    selinux: fs.existsSync('/sys/fs/selinux/enforce'),
    timeNamespace: fs.existsSync('/proc/self/ns/time'),
    swapAccounting: !!memMount && fs.existsSync(path.join(memMount.mountPoint, 'memory.memsw.limit_in_bytes')),
    blockDevice,
    ns,
    oomScoreAdj: Number(readOr('/proc/self/oom_score_adj', '0').trim()),
    hardNofile: nofile ? (nofile[2] === 'unlimited' ? (1n << 64n) - 1n : BigInt(nofile[2])) : 1024n,
    unshare: which('unshare'),
    sh: which('sh') ?? '/bin/sh',
  };
}

/** v1 mount point of a controller, if mounted. */
export function v1Mount(h: HostFacts, controller: string): string | null {
  return h.cgroupMounts.find((c) => !c.v2 && c.controllers.includes(controller))?.mountPoint ?? null;
}

/** Host directory of a process's cgroup for a v1 controller, from /proc/<pid>/cgroup. */
export function cgroupDirOf(h: HostFacts, pid: number, controller: string): string | null {
  const mnt = v1Mount(h, controller);
  if (!mnt) return null;
  const lines = parseCgroupLines(readOr(`/proc/${pid}/cgroup`).split('\n'));
  const l = lines.find((x) => x.controllers.includes(controller));
  if (!l) return null;
  return path.join(mnt, l.path);
}
