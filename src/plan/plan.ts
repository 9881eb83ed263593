// The plan: everything create must do, computed from a validated config
// before anything on the host is touched. tsrun-init carries out the
// records; tsrun itself writes the id maps, the cgroups and oom_score_adj.
import { readFileSync, realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import { type CgroupHost, defaultCgroupsPath, plannedCgroupDirs } from '../cgroups/host';
import type { CgroupDirRecord } from '../cgroups/manager';
import { findResctrlMount, planIntelRdt, type RdtPlan } from '../cgroups/resctrl';
import { TsrunError } from '../errors';
import { debug } from '../log';
import { type PlanRecord, type RecordFields, record } from '../init/protocol';
import { join as field } from '../spec/fieldpath';
import { exactInteger } from '../spec/json';
import { hookStateAroundPid } from '../state/hookstate';
import { cgroupWritable, hierarchyName } from '../rootless';
import { type CapabilitySet, type IdMapping, type NamespaceType, type Spec, startWaitsForProgram } from '../spec/types';
import { cgroupMountRecords } from './cgroupmount';
import { CLONE } from './clone';
import { capabilityNumber } from './capabilities';
import { devSymlinkRecords, deviceRecords, populatesDev } from './devices';
import { type HostLsm, hostLsm, keyringLabel, lsmRecords, refuseProcessLabels, withContext } from './lsm';
import { memoryPolicyRecords } from './mempolicy';
import { MS, mountRecord, superblockOptions } from './mounts';
import { resourceWarnings } from './resources';
import { priorityRecords } from './priorities';
import { rlimitResources } from './rlimits';
import type { SeccompCompile, SeccompListener } from './seccomp';

// The seccomp modules, loaded for a config with a filter only: their
// syscall tables and the filter's checks are about 50 kB of a create's
// allocations, set up when they load.
const seccomp = () => require('./seccomp') as typeof import('./seccomp');
const seccompNeeds = () => require('./seccomp-needs') as typeof import('./seccomp-needs');

export { CLONE };

// config-linux.md "Rootfs Mount Propagation", applied to the container's
// root mount once it is the root (pivot_root refuses a shared new root).
// The r- forms, which runc accepts and containerd writes, apply recursively.
const rootPropagation: Record<string, number> = {
  shared: MS.SHARED,
  slave: MS.SLAVE,
  private: MS.PRIVATE,
  unbindable: MS.UNBINDABLE,
  rshared: MS.SHARED | MS.REC,
  rslave: MS.SLAVE | MS.REC,
  rprivate: MS.PRIVATE | MS.REC,
  runbindable: MS.UNBINDABLE | MS.REC,
};

export interface PlanOptions {
  /** The state root (--root): the default cgroup path depends on it. */
  root: string;
  id: string;
  bundle: string;
  noPivot: boolean;
  noNewKeyring: boolean;
  /** Fds above stdio passed to the container (LISTEN_FDS ones first). */
  preserveFds: number;
  listenFds: number;
  /** The host's LSMs (read from /sys unless given). */
  lsm?: HostLsm;
  /** Rootless operation (see src/rootless.ts). */
  rootless?: boolean;
}

export interface ContainerPlan {
  records: PlanRecord[];
  warnings: string[];
  rootfs: string;
  /** uid_map and gid_map contents, for a new user namespace. */
  idMaps?: { uid: string; gid: string };
  oomScoreAdj?: number;
  cgroupDirs: CgroupDirRecord[];
  /** Rootless: the cgroup hierarchies left out (see CgroupRecord.unwritable). */
  unwritableCgroups?: string[];
  ownPidNamespace: boolean;
  terminal: boolean;
  /** Where the seccomp notify listener goes, when there is one. */
  seccompListener?: SeccompListener;
  /** linux.intelRdt: the resctrl group the container goes in. */
  intelRdt?: RdtPlan;
  /**
   * The seccomp program, which the SECCOMP record leaves out: waits for its
   * compile, started by the plan on a thread of the addon, and checks it.
   * tsrun-init asks for it (MSG_SECCOMP_PROGRAM) when it gets to the filter.
   */
  seccompProgram?: () => Buffer;
}

// The compile of a container engine's default profile (about 400 syscalls,
// three architectures) takes libseccomp longer than the rest of create's
// work before tsrun-init: create leaves it running while it makes the state
// directory and cgroups and while tsrun-init sets the container up, and
// sends the program when tsrun-init asks for it, which an empty program in
// the record tells it to do (it never loads an empty one).
const ASK_FOR_IT = Buffer.alloc(0);

function idMap(m: IdMapping[]): string {
  return m.map((e) => `${e.containerID} ${e.hostID} ${e.size}\n`).join('');
}

function lastCap(): number {
  try {
    return Number(readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8'));
  } catch {
    return 40;
  }
}

function capabilityMasks(spec: Spec, warn: (m: string) => void): RecordFields['CAPS'] {
  const caps = spec.process!.capabilities!;
  const last = lastCap();
  const sets: CapabilitySet[] = ['bounding', 'effective', 'permitted', 'inheritable', 'ambient'];
  const masks = sets.map((set) => {
    let mask = 0n;
    (caps[set] ?? []).forEach((name, i) => {
      const n = capabilityNumber(name);
      const f = field(field('process.capabilities', set), i);
      if (n === undefined) warn(`${f}: unknown capability ${name}, ignored`);
      else if (n > last) warn(`${f}: ${name} is not supported by this kernel, ignored`);
      else mask |= 1n << BigInt(n);
    });
    return mask;
  });
  // The kernel raises an ambient capability only if it is both permitted
  // and inheritable (capabilities(7)). `runc spec` writes ambient without
  // inheritable, and runc drops those silently: so do we, said at debug
  // level, rather than warn on every run of the most common config.
  const [, , permitted, inheritable, ambient] = masks;
  (caps.ambient ?? []).forEach((name, i) => {
    const n = capabilityNumber(name);
    if (n === undefined || n > last || (permitted & inheritable & (1n << BigInt(n))) !== 0n) return;
    debug(`${field('process.capabilities.ambient', i)}: ${name} is not both permitted and inheritable, so it cannot be ambient; left out`);
  });
  const [bounding, effective] = masks;
  return { bounding, effective, permitted, inheritable, ambient: ambient & permitted & inheritable };
}

// What cannot be applied is an error (runtime.md "Create"): never a
// container that silently lacks a confinement it was asked for. Resources
// are checked by the cgroup manager as it applies them.
function refuseWhatCannotBeApplied(spec: Spec, lsm: HostLsm, warn: (m: string) => void): void {
  const proc = spec.process!;
  const linux = spec.linux ?? {};
  refuseProcessLabels(proc, lsm);
  // As crun: without SELinux a mount label has no meaning (runc would pass
  // context= on and the kernel refuse it).
  if (linux.mountLabel && !lsm.selinux) warn('linux.mountLabel: SELinux is not enabled on this host; ignored');
  // As runc: an unprivileged user can do none of the setup in the host's
  // namespaces; in a user namespace of its own, it is root.
  if (process.geteuid?.() !== 0 && !linux.namespaces?.some((n) => n.type === 'user')) {
    throw new TsrunError('needs a user namespace: tsrun runs as an unprivileged user (rootless)', 'linux.namespaces');
  }
  // As runc: an idmapping of a host filesystem needs the host's root.
  const idmapped = (spec.mounts ?? []).findIndex((m) => m.uidMappings || m.gidMappings || m.options?.some((o) => o === 'idmap' || o === 'ridmap'));
  if (idmapped >= 0 && process.geteuid?.() !== 0) throw new TsrunError('idmapped mounts need tsrun to run as root', field('mounts', idmapped));
  // As runc: moving a host interface needs the host's CAP_NET_ADMIN.
  if (Object.keys(linux.netDevices ?? {}).length && process.geteuid?.() !== 0) throw new TsrunError('moving network devices needs tsrun to run as root', 'linux.netDevices');
  if (linux.personality?.flags?.length) warn('linux.personality.flags: no flags are supported, ignored');
  if (proc.execCPUAffinity) debug('process.execCPUAffinity applies to exec processes only, not to the init');
  for (const w of resourceWarnings(linux.resources)) warn(w);
}

// Namespaces joined by path, the new ones, time offsets, and the fork that
// makes a new pid or time namespace apply.
function namespaceRecords(spec: Spec): PlanRecord[] {
  const linux = spec.linux ?? {};
  const namespaces = linux.namespaces ?? [];
  const records: PlanRecord[] = [];
  let newFlags = 0;
  namespaces.forEach((ns, i) => {
    if (ns.path) records.push(record('NS_JOIN', field('linux.namespaces', i), { flag: CLONE[ns.type], path: ns.path }));
    else newFlags |= CLONE[ns.type];
  });
  if (newFlags) records.push(record('NS_NEW', 'linux.namespaces', { flags: newFlags }));
  for (const [clock, off] of Object.entries(linux.timeOffsets ?? {})) {
    const f = field('linux.timeOffsets', clock);
    records.push(record('TIME_OFFSET', f, { clock, secs: off.secs === undefined ? 0n : exactInteger(off, 'secs', `${f}.secs`), nanosecs: off.nanosecs ?? 0 }));
  }
  // A pid or time namespace applies to children only.
  if (namespaces.some((n) => n.type === 'pid' || n.type === 'time')) records.push(record('FORK', 'linux.namespaces'));
  return records;
}

// Hostname, the root filesystem and its mounts, devices, pivot_root, and
// what is done once the root is the container's.
function filesystemRecords(spec: Spec, opts: PlanOptions, lsm: HostLsm, rootfs: string, cgroupDirs: CgroupDirRecord[], cgroupHost: CgroupHost, idmapTrees: PlanRecord[], warn: (m: string) => void): PlanRecord[] {
  const linux = spec.linux ?? {};
  const proc = spec.process!;
  const has = (t: NamespaceType) => linux.namespaces?.find((n) => n.type === t);
  // Rootless without a user namespace of the config's, tsrun is in one
  // already: no device nodes, no v1 cgroupfs (binds instead).
  const userNs = !!has('user') || !!opts.rootless;
  const records: PlanRecord[] = [];
  // First, while nothing in the namespace uses the devices yet (sysctls and
  // hooks may name them); tsrun moves them, from the host's namespace.
  if (Object.keys(linux.netDevices ?? {}).length) records.push(record('NET_DEVICES', 'linux.netDevices'));
  if (!opts.noNewKeyring) records.push(record('KEYRING', 'session keyring', { name: opts.id, label: keyringLabel(proc, lsm) }));
  if (spec.hostname !== undefined) records.push(record('HOSTNAME', 'hostname', { name: spec.hostname }));
  if (spec.domainname !== undefined) records.push(record('DOMAINNAME', 'domainname', { name: spec.domainname }));
  if (has('network') && !has('network')!.path) records.push(record('LOOPBACK', 'linux.namespaces'));

  // What is copied from the host becomes a slave first, so that nothing the
  // container mounts propagates back, unless rootfsPropagation asks for
  // shared, slave or private (runc's prepareRoot): with rshared, the copy of
  // a shared host mount stays its peer, and a bind of it (a bidirectional
  // volume) propagates both ways. The rootfs itself is made private in any
  // case. Unbindable waits for PIVOT: on the host's copies it would forbid
  // binding the volumes from them.
  const propagation = linux.rootfsPropagation ? rootPropagation[linux.rootfsPropagation] : 0;
  const early = propagation & MS.UNBINDABLE ? 0 : propagation;
  records.push(record('ROOT', early ? 'linux.rootfsPropagation' : 'root.path', { rootfs, propagation: early || MS.SLAVE | MS.REC }));
  // Idmapped mounts' trees are made by a helper tsrun-init forks in stage 0
  // (see addon/init/idmap.cc), with the container's user namespace's
  // mappings where they have none of their own.
  const user = has('user');
  const idmap = {
    trees: idmapTrees,
    userNs: user ? { path: user.path, uidMap: idMap(linux.uidMappings ?? []), gidMap: idMap(linux.gidMappings ?? []) } : undefined,
    propagation: early || MS.SLAVE | MS.REC,
  };
  (spec.mounts ?? []).forEach((m, i) => {
    if (m.type === 'cgroup' || m.type === 'cgroup2') {
      records.push(...cgroupMountRecords(m, i, cgroupDirs, cgroupHost.mode, { cgroupNs: !!has('cgroup'), userNs, tmpfsData: withContext('mode=755', 'tmpfs', linux.mountLabel, lsm) }));
    } else if (opts.rootless && m.type === 'sysfs' && !has('network')) {
      // As runc: sysfs needs a network namespace the user owns; without
      // one, the host's /sys is bound (read-only if the options say so).
      const options = ['rbind', ...(m.options ?? []).filter((o) => !superblockOptions.has(o))];
      records.push(mountRecord({ ...m, type: 'bind', source: '/sys', options }, i, { bundle: opts.bundle, warn, mountLabel: linux.mountLabel, lsm, idmap }));
    } else {
      records.push(mountRecord(m, i, { bundle: opts.bundle, warn, mountLabel: linux.mountLabel, lsm, idmap }));
    }
  });
  // A /dev bound from elsewhere is used as it is (runc does the same).
  if (populatesDev(spec)) records.push(...deviceRecords(spec, userNs), ...devSymlinkRecords());
  // prestart, createRuntime and createContainer hooks run at this point:
  // mounts done, pivot_root not yet (config.md "POSIX-platform Hooks").
  if (['prestart', 'createRuntime', 'createContainer'].some((h) => spec.hooks?.[h as 'prestart']?.length)) {
    records.push(record('HOOKS', 'hooks', { stage: 'create' }));
  }
  // runc's rule: a missing working directory is created (after the mounts,
  // which it may be inside of).
  records.push(record('MKDIR', 'process.cwd', { path: proc.cwd }));
  records.push(record('PIVOT', linux.rootfsPropagation ? 'linux.rootfsPropagation' : 'root.path', { noPivot: !!opts.noPivot, propagation }));
  if (proc.terminal) {
    const size = proc.consoleSize;
    records.push(record('CONSOLE', 'process.terminal', { socket: { fd: 'consoleSocket' }, rows: size?.height ?? 0, cols: size?.width ?? 0, bindDevConsole: true }));
  }
  if (spec.root!.readonly) records.push(record('ROOT_RO', 'root.readonly'));
  for (const [key, value] of Object.entries(linux.sysctl ?? {})) {
    records.push(record('SYSCTL', field('linux.sysctl', key), { path: key.replace(/\./g, '/'), value }));
  }
  linux.readonlyPaths?.forEach((p, i) => records.push(record('READONLY', field('linux.readonlyPaths', i), { path: p })));
  linux.maskedPaths?.forEach((p, i) => records.push(record('MASK', field('linux.maskedPaths', i), { path: p, data: withContext('', 'tmpfs', linux.mountLabel, lsm) })));
  return records;
}

// The process: tsrun-init applies these in its own fixed order. The same
// for the container's init and for a process exec'd into it later.
// With `deferred`, the seccomp record leaves the program out and the
// function that waits for it goes to deferred.program (see
// ContainerPlan.seccompProgram); without, the record holds it.
// With opts.root, the seccomp filter is taken from the state root's cache
// of compiled filters when it was compiled before, and kept there if not.
export function processRecords(spec: Spec, opts: Pick<PlanOptions, 'preserveFds' | 'listenFds' | 'lsm'> & { root?: string }, warn: (m: string) => void, deferred?: { program?: () => Buffer }): PlanRecord[] {
  const proc = spec.process!;
  const linux = spec.linux ?? {};
  const records: PlanRecord[] = [];
  proc.rlimits?.forEach((rl, i) => {
    const f = field('process.rlimits', i);
    records.push(record('RLIMIT', f, { resource: rlimitResources[rl.type], soft: exactInteger(rl, 'soft', `${f}.soft`), hard: exactInteger(rl, 'hard', `${f}.hard`) }));
  });
  if (proc.noNewPrivileges) records.push(record('NO_NEW_PRIVS', 'process.noNewPrivileges'));
  const user = proc.user ?? { uid: 0, gid: 0 };
  records.push(record('USER', 'process.user', { uid: user.uid, gid: user.gid, additionalGids: user.additionalGids ?? [] }));
  if (user.umask !== undefined) records.push(record('UMASK', 'process.user.umask', { mask: user.umask }));
  if (proc.capabilities) records.push(record('CAPS', 'process.capabilities', capabilityMasks(spec, warn)));
  records.push(record('CWD', 'process.cwd', { path: proc.cwd }));
  records.push(record('ARGS', 'process.args', { args: proc.args ?? [] }));
  const env = [...(proc.env ?? [])];
  if (opts.listenFds > 0) env.push(`LISTEN_FDS=${opts.listenFds}`, 'LISTEN_PID=1');
  records.push(record('ENV', 'process.env', { env }));
  records.push(record('PRESERVE_FDS', '--preserve-fds', { count: opts.preserveFds }));
  if (linux.seccomp) {
    const compiling: SeccompCompile = seccomp().startSeccompCompile(linux.seccomp, opts.root);
    let checked: Buffer | undefined;
    const program = () => {
      if (checked) return checked;
      const { bpf, listener } = compiling.wait();
      if (!bpf.length) throw new TsrunError('libseccomp gave an empty program', 'linux.seccomp');
      seccompNeeds().checkInitNeeds(bpf, !!proc.noNewPrivileges, !!listener);
      return (checked = bpf);
    };
    if (deferred) deferred.program = program;
    records.push(record('SECCOMP', 'linux.seccomp', { program: deferred ? ASK_FOR_IT : program(), flags: compiling.flags }));
  }
  if (linux.personality) {
    records.push(record('PERSONALITY', 'linux.personality', { persona: linux.personality.domain === 'LINUX32' ? 0x0008 : 0 }));
  }
  records.push(...priorityRecords(proc));
  records.push(...memoryPolicyRecords(spec));
  records.push(...lsmRecords(proc, opts.lsm ?? hostLsm(), warn));
  return records;
}

// The report fifo, when `start` waits for the program, and the
// startContainer hooks, run by the init between start and the program's
// execve (see addon/init/start_hooks.cc).
function startHookRecords(spec: Spec, opts: PlanOptions): PlanRecord[] {
  if (!startWaitsForProgram(spec)) return [];
  const records: PlanRecord[] = [record('START_REPORT', 'hooks', { fifo: { fd: 'startReport' } })];
  const hooks = spec.hooks?.startContainer ?? [];
  if (!hooks.length) return records;
  const state = hookStateAroundPid({ id: opts.id, bundle: opts.bundle, annotations: spec.annotations }, 'created');
  const [beforePid, afterPid] = state;
  records.push(record('HOOK_STATE', 'hooks.startContainer', { beforePid, afterPid }));
  hooks.forEach((hook, i) => {
    const args = hook.args?.length ? hook.args : [hook.path];
    records.push(record('START_HOOK', field('hooks.startContainer', i), { path: hook.path, timeout: hook.timeout ?? 0, args, env: hook.env ?? [] }));
  });
  return records;
}

export function planContainer(spec: Spec, opts: PlanOptions, cgroupHost: CgroupHost): ContainerPlan {
  const warnings: string[] = [];
  const warn = (m: string) => warnings.push(m);
  const lsm = opts.lsm ?? hostLsm();
  refuseWhatCannotBeApplied(spec, lsm, warn);
  const linux = spec.linux ?? {};
  const rootfs = realpathSync(resolve(opts.bundle, spec.root!.path));
  const planned = plannedCgroupDirs(cgroupHost, linux.cgroupsPath ?? defaultCgroupsPath(opts.root, opts.id)).map(({ hierarchy: h, path, dir }) => ({
    version: h.version,
    mountpoint: h.mountpoint,
    controllers: h.controllers,
    path,
    dir,
  }));
  // Rootless: the hierarchies this user cannot write are left out (runc's
  // rootless cgroup manager); a resource of one is an error at apply.
  const cgroupDirs = opts.rootless ? planned.filter((d) => cgroupWritable(d.dir, d.mountpoint)) : planned;
  const unwritableCgroups = opts.rootless ? planned.filter((d) => !cgroupDirs.includes(d)).map(hierarchyName) : undefined;
  const idmapTrees: PlanRecord[] = [];
  const deferred: { program?: () => Buffer } = {};
  const filesystem = filesystemRecords(spec, opts, lsm, rootfs, cgroupDirs, cgroupHost, idmapTrees, warn);
  const records: PlanRecord[] = [
    ...namespaceRecords(spec),
    ...idmapTrees,
    ...filesystem,
    ...processRecords(spec, { ...opts, lsm }, warn, deferred),
    // The init waits for start on the exec fifo (exec'd processes do not).
    record('EXEC_FIFO', 'exec fifo', { fifo: { fd: 'execFifo' } }),
    ...startHookRecords(spec, opts),
  ];

  const user = linux.namespaces?.find((n) => n.type === 'user');
  return {
    records,
    warnings,
    rootfs,
    idMaps: user && !user.path ? { uid: idMap(linux.uidMappings ?? []), gid: idMap(linux.gidMappings ?? []) } : undefined,
    oomScoreAdj: spec.process!.oomScoreAdj,
    cgroupDirs,
    unwritableCgroups,
    ownPidNamespace: !!linux.namespaces?.some((n) => n.type === 'pid'),
    terminal: !!spec.process!.terminal,
    seccompListener: linux.seccomp ? seccomp().seccompListener(linux.seccomp) : undefined,
    intelRdt: linux.intelRdt ? planIntelRdt(linux.intelRdt, opts.id, findResctrlMount()) : undefined,
    seccompProgram: deferred.program,
  };
}
