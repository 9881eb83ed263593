// The config.json `tsrun spec` writes: a busybox-style shell in ./rootfs,
// read-only root, the usual kernel filesystems, a few capabilities, and
// the paths of /proc and /sys a container should not see or change.
// --rootless maps the caller's ids onto root and leaves out what an
// unprivileged user cannot create (a network namespace, cgroup limits).
import { specVersion } from './version';
import type { Spec } from './types';

const defaultCapabilities = ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'];

export function defaultSpec(opts: { rootless: boolean; uid: number; gid: number }): Spec {
  const nosuidNoexecNodev = ['nosuid', 'noexec', 'nodev'];
  const spec: Spec = {
    ociVersion: specVersion,
    process: {
      terminal: true,
      user: { uid: 0, gid: 0 },
      args: ['sh'],
      env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'TERM=xterm'],
      cwd: '/',
      capabilities: {
        bounding: defaultCapabilities,
        effective: defaultCapabilities,
        permitted: defaultCapabilities,
      },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
      noNewPrivileges: true,
    },
    root: { path: 'rootfs', readonly: true },
    hostname: 'tsrun',
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      {
        destination: '/dev/pts',
        type: 'devpts',
        source: 'devpts',
        options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', ...(opts.rootless ? [] : ['gid=5'])],
      },
      { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: [...nosuidNoexecNodev, 'mode=1777', 'size=65536k'] },
      { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: nosuidNoexecNodev },
      opts.rootless
        ? { destination: '/sys', type: 'none', source: '/sys', options: ['rbind', ...nosuidNoexecNodev, 'ro'] }
        : { destination: '/sys', type: 'sysfs', source: 'sysfs', options: [...nosuidNoexecNodev, 'ro'] },
      { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: [...nosuidNoexecNodev, 'relatime', 'ro'] },
    ],
    linux: {
      namespaces: [
        { type: 'pid' },
        ...(opts.rootless ? [] : [{ type: 'network' as const }]),
        { type: 'ipc' },
        { type: 'uts' },
        { type: 'mount' },
        ...(opts.rootless ? [{ type: 'user' as const }] : []),
      ],
      maskedPaths: [
        '/proc/acpi', '/proc/asound', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list',
        '/proc/timer_stats', '/proc/sched_debug', '/sys/firmware', '/proc/scsi',
      ],
      readonlyPaths: ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
    },
  };
  if (opts.rootless) {
    spec.linux!.uidMappings = [{ containerID: 0, hostID: opts.uid, size: 1 }];
    spec.linux!.gidMappings = [{ containerID: 0, hostID: opts.gid, size: 1 }];
  } else {
    spec.linux!.resources = { devices: [{ allow: false, access: 'rwm' }] };
  }
  return spec;
}
