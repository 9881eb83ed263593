// /dev inside the container: the spec's default devices, linux.devices, and
// the /dev symlinks (runtime-linux.md "Dev symbolic links").
import { join as field } from '../spec/fieldpath';
import type { Device, Spec } from '../spec/types';
import { type PlanRecord, record, SymlinkWhen } from '../init/protocol';

// config-linux.md "Default Devices", in the order runc makes them (which
// shows in the mount table of a user namespace container, where they are
// bind mounts).
const defaultDevices: Required<Pick<Device, 'path' | 'type' | 'major' | 'minor'>>[] = [
  { path: '/dev/null', type: 'c', major: 1, minor: 3 },
  { path: '/dev/random', type: 'c', major: 1, minor: 8 },
  { path: '/dev/full', type: 'c', major: 1, minor: 7 },
  { path: '/dev/tty', type: 'c', major: 5, minor: 0 },
  { path: '/dev/zero', type: 'c', major: 1, minor: 5 },
  { path: '/dev/urandom', type: 'c', major: 1, minor: 9 },
];

/** Whether tsrun populates /dev: not when the config binds a /dev of its own (as runc). */
export function populatesDev(spec: Spec): boolean {
  return !(spec.mounts ?? []).some((m) => m.destination.replace(/\/+$/, '') === '/dev' && (m.type === 'bind' || m.options?.some((o) => o === 'bind' || o === 'rbind')));
}

function mkdev(d: Device, f: string, inUserNs: boolean): PlanRecord {
  return record('MKDEV', f, {
    path: d.path,
    type: d.type,
    major: d.major ?? 0,
    minor: d.minor ?? 0,
    mode: d.fileMode ?? 0o666,
    uid: d.uid ?? 0,
    gid: d.gid ?? 0,
    // In a user namespace mknod is refused: the host's node is bound instead.
    hostPath: inUserNs ? d.path : '',
  });
}

export function deviceRecords(spec: Spec, inUserNs: boolean): PlanRecord[] {
  const configured = spec.linux?.devices ?? [];
  const records = configured.map((d, i) => mkdev(d, field('linux.devices', i), inUserNs));
  for (const d of defaultDevices) {
    if (configured.some((c) => c.path === d.path)) continue;
    records.push(mkdev(d, `default device ${d.path}`, inUserNs));
  }
  return records;
}

/** /dev/ptmx replaces what is there; the others exist only when their probe does. */
export function devSymlinkRecords(): PlanRecord[] {
  const link = (target: string, path: string, when: number, probe = ''): PlanRecord => record('SYMLINK', `the ${path} symlink`, { target, path, when, probe });
  const { replace, ifProbeExists } = SymlinkWhen;
  return [
    link('pts/ptmx', '/dev/ptmx', replace),
    link('/proc/self/fd', '/dev/fd', ifProbeExists, '/proc/self/fd'),
    link('/proc/self/fd/0', '/dev/stdin', ifProbeExists, '/proc/self/fd'),
    link('/proc/self/fd/1', '/dev/stdout', ifProbeExists, '/proc/self/fd'),
    link('/proc/self/fd/2', '/dev/stderr', ifProbeExists, '/proc/self/fd'),
    link('/proc/kcore', '/dev/core', ifProbeExists, '/proc/kcore'),
  ];
}
