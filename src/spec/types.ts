// The parts of the OCI runtime-spec config (config.md, config-linux.md) that
// tsrun reads. The JSON Schema in schemas/config.schema.json is what checks a
// config; these types only describe it to the compiler once it has passed.

export interface Spec {
  ociVersion: string;
  root?: { path: string; readonly?: boolean };
  mounts?: Mount[];
  process?: Process;
  hostname?: string;
  domainname?: string;
  hooks?: Hooks;
  annotations?: Record<string, string>;
  linux?: Linux;
}

export interface Mount {
  destination: string;
  source?: string;
  type?: string;
  options?: string[];
  uidMappings?: IdMapping[];
  gidMappings?: IdMapping[];
}

export interface Process {
  terminal?: boolean;
  consoleSize?: { height: number; width: number };
  cwd: string;
  env?: string[];
  args?: string[];
  rlimits?: { type: string; soft: number; hard: number }[];
  apparmorProfile?: string;
  capabilities?: Partial<Record<CapabilitySet, string[]>>;
  noNewPrivileges?: boolean;
  oomScoreAdj?: number;
  scheduler?: Record<string, unknown>;
  selinuxLabel?: string;
  ioPriority?: { class: string; priority: number };
  execCPUAffinity?: { initial?: string; final?: string };
  /** Absent means uid 0, gid 0 (as runc reads it). */
  user?: { uid: number; gid: number; umask?: number; additionalGids?: number[] };
}

export type CapabilitySet = 'bounding' | 'effective' | 'inheritable' | 'permitted' | 'ambient';

export interface Hook {
  path: string;
  args?: string[];
  env?: string[];
  timeout?: number;
}

export const hookStages = [
  'prestart',
  'createRuntime',
  'createContainer',
  'startContainer',
  'poststart',
  'poststop',
] as const;
export type HookStage = (typeof hookStages)[number];
export type Hooks = Partial<Record<HookStage, Hook[]>>;

export interface IdMapping {
  containerID: number;
  hostID: number;
  size: number;
}

export type NamespaceType = 'pid' | 'network' | 'mount' | 'ipc' | 'uts' | 'user' | 'cgroup' | 'time';

export interface Namespace {
  type: NamespaceType;
  path?: string;
}

export interface Device {
  type: 'c' | 'b' | 'u' | 'p';
  path: string;
  major?: number;
  minor?: number;
  fileMode?: number;
  uid?: number;
  gid?: number;
}

export interface Linux {
  namespaces?: Namespace[];
  uidMappings?: IdMapping[];
  gidMappings?: IdMapping[];
  timeOffsets?: Record<string, { secs?: number; nanosecs?: number }>;
  devices?: Device[];
  netDevices?: Record<string, { name?: string }>;
  cgroupsPath?: string;
  resources?: Resources;
  intelRdt?: IntelRdt;
  memoryPolicy?: Record<string, unknown>;
  sysctl?: Record<string, string>;
  seccomp?: Seccomp;
  rootfsPropagation?: 'shared' | 'slave' | 'private' | 'unbindable';
  maskedPaths?: string[];
  readonlyPaths?: string[];
  mountLabel?: string;
  personality?: { domain: 'LINUX' | 'LINUX32'; flags?: string[] };
}

export interface Resources {
  devices?: unknown[];
  memory?: {
    limit?: number;
    reservation?: number;
    swap?: number;
    kernel?: number;
    kernelTCP?: number;
    swappiness?: number;
    disableOOMKiller?: boolean;
    useHierarchy?: boolean;
    checkBeforeUpdate?: boolean;
  };
  cpu?: Record<string, unknown>;
  pids?: { limit?: number };
  blockIO?: Record<string, unknown>;
  hugepageLimits?: unknown[];
  network?: Record<string, unknown>;
  rdma?: Record<string, unknown>;
  unified?: Record<string, string>;
}

/** config-linux.md "IntelRdt" */
export interface IntelRdt {
  closID?: string;
  l3CacheSchema?: string;
  memBwSchema?: string;
  schemata?: string[];
  enableMonitoring?: boolean;
}

export interface Seccomp {
  defaultAction: string;
  defaultErrnoRet?: number;
  architectures?: string[];
  flags?: string[];
  listenerPath?: string;
  listenerMetadata?: string;
  syscalls?: {
    names: string[];
    action: string;
    errnoRet?: number;
    args?: { index: number; value: number; valueTwo?: number; op: string }[];
  }[];
}

/**
 * Whether `start` waits for the container's program to be executed: with
 * startContainer hooks (their outcome) or poststart hooks (which run once
 * the program has been executed). The init then reports through a fifo.
 */
export function startWaitsForProgram(spec: Spec): boolean {
  return !!(spec.hooks?.startContainer?.length || spec.hooks?.poststart?.length);
}
