// The base config every case starts from: what `runc spec` writes, with the
// probe as the process, no terminal, a writable root and a known cgroupsPath.
import { Cfg, clone } from './util';

export const DEFAULT_ENV = ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'TERM=xterm', 'HOME=/root'];
export const DEFAULT_CAPS = ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'];

export const DEFAULT_MOUNTS: Cfg[] = [
  { destination: '/proc', type: 'proc', source: 'proc' },
  { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
  {
    destination: '/dev/pts',
    type: 'devpts',
    source: 'devpts',
    options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'],
  },
  { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
  { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
  { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
  { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'] },
];

export const DEFAULT_MASKED = [
  '/proc/acpi',
  '/proc/asound',
  '/proc/kcore',
  '/proc/keys',
  '/proc/latency_stats',
  '/proc/timer_list',
  '/proc/timer_stats',
  '/proc/sched_debug',
  '/sys/firmware',
  '/proc/scsi',
];
export const DEFAULT_READONLY = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

export function baseConfig(ociVersion: string, cgroupsPath: string, args: string[] = ['/probe']): Cfg {
  return clone({
    ociVersion,
    process: {
      terminal: false,
      user: { uid: 0, gid: 0 },
      args,
      env: DEFAULT_ENV,
      cwd: '/',
      capabilities: {
        bounding: DEFAULT_CAPS,
        effective: DEFAULT_CAPS,
        permitted: DEFAULT_CAPS,
      },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
      noNewPrivileges: true,
    },
    root: { path: 'rootfs', readonly: false },
    hostname: 'conformance',
    mounts: DEFAULT_MOUNTS,
    linux: {
      cgroupsPath,
      resources: { devices: [{ allow: false, access: 'rwm' }] },
      namespaces: [{ type: 'pid' }, { type: 'network' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }],
      maskedPaths: DEFAULT_MASKED,
      readonlyPaths: DEFAULT_READONLY,
    },
  });
}

/** All capabilities a kernel of this age knows, for cases that need privilege. */
export function allCaps(known: string[]): Cfg {
  return { bounding: known, effective: known, permitted: known };
}

/** Removes a namespace type from a config (the container then shares the runtime's). */
export function withoutNamespace(cfg: Cfg, type: string): void {
  cfg.linux.namespaces = (cfg.linux.namespaces as Cfg[]).filter((n) => n.type !== type);
}

export function setNamespace(cfg: Cfg, type: string, nsPath?: string): void {
  withoutNamespace(cfg, type);
  (cfg.linux.namespaces as Cfg[]).push(nsPath ? { type, path: nsPath } : { type });
}
