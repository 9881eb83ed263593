// The plan of an exec: join every namespace of the container's init (the
// user namespace first, which tsrun-init does whatever the order here), its
// root, a session keyring and terminal of the process's own, then the same
// process records as the init's, with the container's seccomp filter.
import { type PlanRecord, record } from '../init/protocol';
import { containerNamespaces } from '../lifecycle/hooks';
import type { Process, Spec } from '../spec/types';
import { CLONE } from './clone';
import { processRecords, refuseProcessLabels } from './plan';

/** The file of each namespace type under /proc/<pid>/ns. */
export const nsFile = {
  pid: 'pid',
  network: 'net',
  mount: 'mnt',
  ipc: 'ipc',
  uts: 'uts',
  user: 'user',
  cgroup: 'cgroup',
  time: 'time',
} as const;

export interface ExecPlan {
  records: PlanRecord[];
  warnings: string[];
  oomScoreAdj?: number;
  terminal: boolean;
}

export function planExec(id: string, spec: Spec, process: Process, initPid: number, preserveFds: number): ExecPlan {
  const warnings: string[] = [];
  refuseProcessLabels(process);
  const records: PlanRecord[] = [];
  const namespaces = containerNamespaces(spec);
  for (const type of namespaces) {
    records.push(record('NS_JOIN', 'linux.namespaces', { flag: CLONE[type], path: `/proc/${initPid}/ns/${nsFile[type]}` }));
  }
  if (namespaces.includes('mount')) records.push(record('JOIN_ROOT', 'root.path', { path: `/proc/${initPid}/root` }));
  // setns into a pid or time namespace applies to children only.
  if (namespaces.includes('pid') || namespaces.includes('time')) records.push(record('FORK', 'linux.namespaces'));
  // Never the caller's session keyring, which holds the host user's keys:
  // the container's, by the name its init joined.
  records.push(record('KEYRING', 'session keyring', { name: id }));
  if (process.terminal) {
    const size = process.consoleSize;
    records.push(record('CONSOLE', 'process.terminal', { socket: { fd: 'consoleSocket' }, rows: size?.height ?? 0, cols: size?.width ?? 0, bindDevConsole: false }));
  }
  records.push(...processRecords({ ...spec, process }, { preserveFds, listenFds: 0 }, (m) => warnings.push(m)));
  return { records, warnings, oomScoreAdj: process.oomScoreAdj, terminal: !!process.terminal };
}
