// The plan of an exec: join every namespace of the container's init (the
// user namespace first, which tsrun-init does whatever the order here), its
// root, a session keyring and terminal of the process's own, then the same
// process records as the init's, with the container's seccomp filter.
import { type PlanRecord, record } from '../init/protocol';
import { containerNamespaces } from '../lifecycle/hooks';
import type { NamespaceType, Process, Spec } from '../spec/types';
import { CLONE } from './clone';
import { type HostLsm, hostLsm, keyringLabel, refuseProcessLabels } from './lsm';
import { processRecords } from './plan';
import { type SeccompListener, seccompListener } from './seccomp';

export interface ExecPlan {
  records: PlanRecord[];
  warnings: string[];
  oomScoreAdj?: number;
  terminal: boolean;
  /** Where the seccomp notify listener goes, when there is one. */
  seccompListener?: SeccompListener;
}

/**
 * What of the running init the process enters, as paths tsrun-init opens:
 * tsrun opens them itself (while it knows the pid is the init's) and passes
 * them as /proc/self/fd/N.
 */
export interface InitHandles {
  ns: Partial<Record<NamespaceType, string>>;
  /** The init's root directory (with a mount namespace). */
  root?: string;
}

export interface ExecPlanOptions {
  preserveFds: number;
  /** Whether the container's init joined a session keyring of its own (create without --no-new-keyring). */
  newKeyring: boolean;
  /** The host's LSMs (read from /sys unless given). */
  lsm?: HostLsm;
  /** The state root, whose cache of compiled seccomp filters the process's filter may come from. */
  root?: string;
}

export function planExec(id: string, spec: Spec, process: Process, init: InitHandles, opts: ExecPlanOptions): ExecPlan {
  const warnings: string[] = [];
  const lsm = opts.lsm ?? hostLsm();
  refuseProcessLabels(process, lsm);
  const records: PlanRecord[] = [];
  const namespaces = containerNamespaces(spec);
  for (const type of namespaces) {
    const path = init.ns[type];
    if (!path) throw new Error(`no handle on the init's ${type} namespace`);
    records.push(record('NS_JOIN', 'linux.namespaces', { flag: CLONE[type], path }));
  }
  if (namespaces.includes('mount')) {
    if (!init.root) throw new Error("no handle on the init's root");
    records.push(record('JOIN_ROOT', 'root.path', { path: init.root }));
  }
  // setns into a pid or time namespace applies to children only.
  if (namespaces.includes('pid') || namespaces.includes('time')) records.push(record('FORK', 'linux.namespaces'));
  // Never the caller's session keyring, which holds the host user's keys:
  // the container's, by the name its init joined (as runc, unless it kept
  // the caller's with --no-new-keyring).
  if (opts.newKeyring) records.push(record('KEYRING', 'session keyring', { name: id, label: keyringLabel(process, lsm) }));
  if (process.terminal) {
    const size = process.consoleSize;
    records.push(record('CONSOLE', 'process.terminal', { socket: { fd: 'consoleSocket' }, rows: size?.height ?? 0, cols: size?.width ?? 0, bindDevConsole: false }));
  }
  records.push(...processRecords({ ...spec, process }, { preserveFds: opts.preserveFds, listenFds: 0, lsm, root: opts.root }, (m) => warnings.push(m)));
  return { records, warnings, oomScoreAdj: process.oomScoreAdj, terminal: !!process.terminal, seccompListener: seccompListener(spec.linux?.seccomp) };
}
