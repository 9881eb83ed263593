// The container's resource usage, read from its cgroups (the manager's
// stats()): every number runc's libcontainer reads (its cgroups.Stats),
// exact (bigint: v1's "unlimited" is 2^63-4096, v2's "max" 2^64-1, neither
// survives a double), with runc 1.1's rules for each file; `tsrun events`
// prints them in runc's JSON (events-format.ts). Times are in nanoseconds,
// sizes in bytes; a file the host lacks leaves its numbers zero (as runc).
import { readdirSync } from 'node:fs';

/** Reads file of the container's cgroup in the hierarchy of a v1 controller (on v2 the one directory). */
export type StatsReader = (v1Controller: string, file: string) => string | undefined;

const USER_HZ = 100; // cpuacct.stat counts in clock ticks

export const MAX_U64 = (1n << 64n) - 1n;

/**
 * A cgroup file's number as runc's GetCgroupParamUint reads it: "max" is
 * 2^64-1, a negative value 0; undefined for a missing or malformed file.
 */
export function u64(text: string | undefined): bigint | undefined {
  const t = (text ?? '').trim();
  if (t === 'max') return MAX_U64;
  if (/^-\d+$/.test(t)) return 0n;
  return /^\d+$/.test(t) ? BigInt(t) : undefined;
}

/** "key value" lines with runc's ParseUint values (malformed lines skipped). */
export function keyValuesU64(text: string | undefined): Map<string, bigint> {
  const out = new Map<string, bigint>();
  for (const line of (text ?? '').split('\n')) {
    const parts = line.split(' ');
    const v = parts.length === 2 ? u64(parts[1]) : undefined;
    if (parts[0] && v !== undefined) out.set(parts[0], v);
  }
  return out;
}

export interface MemoryData {
  usage: bigint;
  maxUsage: bigint;
  failcnt: bigint;
  limit: bigint;
}

export interface BlkioStatEntry {
  major: bigint;
  minor: bigint;
  op: string;
  value: bigint;
}

export const blkioTables = [
  'ioServiceBytesRecursive',
  'ioServicedRecursive',
  'ioQueuedRecursive',
  'ioServiceTimeRecursive',
  'ioWaitTimeRecursive',
  'ioMergedRecursive',
  'ioTimeRecursive',
  'sectorsRecursive',
] as const;
export type BlkioTable = (typeof blkioTables)[number];

export interface CpusetStats {
  cpus: number[];
  cpuExclusive: bigint;
  mems: number[];
  memHardwall: bigint;
  memExclusive: bigint;
  memoryMigrate: bigint;
  memorySpreadPage: bigint;
  memorySpreadSlab: bigint;
  memoryPressure: bigint;
  schedLoadBalance: bigint;
  /** Signed: -1 is "the system default". */
  schedRelaxDomainLevel: bigint;
}

export interface HugetlbStats {
  usage: bigint;
  maxUsage: bigint;
  failcnt: bigint;
}

/** libcontainer's cgroups.Stats, the part `runc events` prints. */
export interface RuncStats {
  cpu: {
    usage: { total: bigint; percpu: bigint[]; percpuKernel: bigint[]; percpuUser: bigint[]; kernel: bigint; user: bigint };
    throttling: { periods: bigint; throttledPeriods: bigint; throttledTime: bigint };
  };
  cpuset: CpusetStats;
  memory: { cache: bigint; usage: MemoryData; swap: MemoryData; kernel: MemoryData; kernelTCP: MemoryData; stats: Map<string, bigint> };
  pids: { current: bigint; limit: bigint };
  blkio: Record<BlkioTable, BlkioStatEntry[]>;
  /** By page size as runc names it ("2MB", "1GB"). */
  hugetlb: Map<string, HugetlbStats>;
  /** OOM kills so far (v1 memory.oom_control, v2 memory.events): not in runc's output, for the OOM watch. */
  oomKills: bigint;
}

const zeroMemory = (): MemoryData => ({ usage: 0n, maxUsage: 0n, failcnt: 0n, limit: 0n });

export function emptyRuncStats(): RuncStats {
  return {
    cpu: { usage: { total: 0n, percpu: [], percpuKernel: [], percpuUser: [], kernel: 0n, user: 0n }, throttling: { periods: 0n, throttledPeriods: 0n, throttledTime: 0n } },
    cpuset: { cpus: [], cpuExclusive: 0n, mems: [], memHardwall: 0n, memExclusive: 0n, memoryMigrate: 0n, memorySpreadPage: 0n, memorySpreadSlab: 0n, memoryPressure: 0n, schedLoadBalance: 0n, schedRelaxDomainLevel: 0n },
    memory: { cache: 0n, usage: zeroMemory(), swap: zeroMemory(), kernel: zeroMemory(), kernelTCP: zeroMemory(), stats: new Map() },
    pids: { current: 0n, limit: 0n },
    blkio: Object.fromEntries(blkioTables.map((t) => [t, []])) as unknown as Record<BlkioTable, BlkioStatEntry[]>,
    hugetlb: new Map(),
    oomKills: 0n,
  };
}

/** runc's name of a huge page size in kB (the "hugepages-2048kB" of /sys/kernel/mm/hugepages): 2MB, 1GB, 64KB. */
export function hugePageSizeName(kB: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB', 'PB'];
  let size = kB * 1024;
  let i = 0;
  while (size >= 1024 && i < units.length - 1) {
    size /= 1024;
    i++;
  }
  return `${size}${units[i]}`;
}

/** The host's huge page sizes, as runc's HugePageSizes() names them. */
export function hostHugePageSizes(dir = '/sys/kernel/mm/hugepages'): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .map((n) => /^hugepages-(\d+)kB$/.exec(n))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => hugePageSizeName(Number(m[1])));
}

/** cpuset.cpus / cpuset.mems: "0-3,8" as [0,1,2,3,8]. */
export function cpuList(text: string | undefined): number[] {
  const out: number[] = [];
  for (const part of (text ?? '').trim().split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) continue;
    for (let i = Number(m[1]); i <= Number(m[2] ?? m[1]); i++) out.push(i);
  }
  return out;
}

/** v1 blkio lines ("8:0 Read 4096", "8:0 4096"; the "Total" line skipped), runc's getBlkioStat. */
function blkioStatEntries(text: string): BlkioStatEntry[] {
  const out: BlkioStatEntry[] = [];
  for (const line of text.split('\n')) {
    const f = line.split(/[ :]/).filter(Boolean);
    if (f.length < 3) continue;
    const value = u64(f[f.length - 1]);
    if (value === undefined || !/^\d+$/.test(f[0]) || !/^\d+$/.test(f[1])) continue;
    out.push({ major: BigInt(f[0]), minor: BigInt(f[1]), op: f.length === 4 ? f[2] : '', value });
  }
  return out;
}

// The v1 blkio files by I/O scheduler, in runc's order of preference
// (bfq with debug, bfq, cfq, throttling recursive, throttling): the first
// set whose first file has entries is used.
const blkioFileSets: [string, BlkioTable][][] = [
  [
    ['blkio.bfq.sectors_recursive', 'sectorsRecursive'],
    ['blkio.bfq.io_service_time_recursive', 'ioServiceTimeRecursive'],
    ['blkio.bfq.io_wait_time_recursive', 'ioWaitTimeRecursive'],
    ['blkio.bfq.io_merged_recursive', 'ioMergedRecursive'],
    ['blkio.bfq.io_queued_recursive', 'ioQueuedRecursive'],
    ['blkio.bfq.time_recursive', 'ioTimeRecursive'],
    ['blkio.bfq.io_serviced_recursive', 'ioServicedRecursive'],
    ['blkio.bfq.io_service_bytes_recursive', 'ioServiceBytesRecursive'],
  ],
  [
    ['blkio.bfq.io_serviced_recursive', 'ioServicedRecursive'],
    ['blkio.bfq.io_service_bytes_recursive', 'ioServiceBytesRecursive'],
  ],
  [
    ['blkio.sectors_recursive', 'sectorsRecursive'],
    ['blkio.io_service_time_recursive', 'ioServiceTimeRecursive'],
    ['blkio.io_wait_time_recursive', 'ioWaitTimeRecursive'],
    ['blkio.io_merged_recursive', 'ioMergedRecursive'],
    ['blkio.io_queued_recursive', 'ioQueuedRecursive'],
    ['blkio.time_recursive', 'ioTimeRecursive'],
    ['blkio.io_serviced_recursive', 'ioServicedRecursive'],
    ['blkio.io_service_bytes_recursive', 'ioServiceBytesRecursive'],
  ],
  [
    ['blkio.throttle.io_serviced_recursive', 'ioServicedRecursive'],
    ['blkio.throttle.io_service_bytes_recursive', 'ioServiceBytesRecursive'],
  ],
  [
    ['blkio.throttle.io_serviced', 'ioServicedRecursive'],
    ['blkio.throttle.io_service_bytes', 'ioServiceBytesRecursive'],
  ],
];

function v1Blkio(read: (file: string) => string | undefined, out: RuncStats['blkio']): void {
  for (const set of blkioFileSets) {
    for (const [i, [file, table]] of set.entries()) {
      const entries = blkioStatEntries(read(file) ?? '');
      // Nothing in the first file: try the next scheduler's files; in a
      // later one, keep what was found (as runc).
      if (!entries.length) {
        if (i === 0) break;
        return;
      }
      out[table] = entries;
      if (i === set.length - 1) return;
    }
  }
}

function v1MemoryData(read: (file: string) => string | undefined, prefix: string): MemoryData {
  const usage = u64(read(`${prefix}.usage_in_bytes`));
  if (usage === undefined) return zeroMemory(); // swap and kmem accounting are optional
  return {
    usage,
    maxUsage: u64(read(`${prefix}.max_usage_in_bytes`)) ?? 0n,
    failcnt: u64(read(`${prefix}.failcnt`)) ?? 0n,
    limit: u64(read(`${prefix}.limit_in_bytes`)) ?? 0n,
  };
}

function v1RuncStats(read: StatsReader, hugePageSizes: string[]): RuncStats {
  const s = emptyRuncStats();
  const cpuacct = (f: string) => read('cpuacct', f);
  const total = u64(cpuacct('cpuacct.usage'));
  if (total !== undefined) {
    const ticks = keyValuesU64(cpuacct('cpuacct.stat'));
    const ns = (k: string) => ((ticks.get(k) ?? 0n) * 1_000_000_000n) / BigInt(USER_HZ);
    const percpu = (cpuacct('cpuacct.usage_percpu') ?? '').split(/\s+/).filter(Boolean).map((v) => u64(v) ?? 0n);
    // cpuacct.usage_all: "cpu user system" then one line per cpu.
    const all = (cpuacct('cpuacct.usage_all') ?? '').split('\n').slice(1).map((l) => l.split(' ')).filter((f) => f.length === 3);
    s.cpu.usage = { total, percpu, percpuKernel: all.map((f) => u64(f[2]) ?? 0n), percpuUser: all.map((f) => u64(f[1]) ?? 0n), kernel: ns('system'), user: ns('user') };
  }
  const throttling = keyValuesU64(read('cpu', 'cpu.stat'));
  s.cpu.throttling = { periods: throttling.get('nr_periods') ?? 0n, throttledPeriods: throttling.get('nr_throttled') ?? 0n, throttledTime: throttling.get('throttled_time') ?? 0n };

  const cpuset = (f: string) => read('cpuset', `cpuset.${f}`);
  const signed = (t: string | undefined) => (/^-?\d+$/.test((t ?? '').trim()) ? BigInt((t ?? '').trim()) : 0n);
  s.cpuset = {
    cpus: cpuList(cpuset('cpus')),
    cpuExclusive: u64(cpuset('cpu_exclusive')) ?? 0n,
    mems: cpuList(cpuset('mems')),
    memHardwall: u64(cpuset('mem_hardwall')) ?? 0n,
    memExclusive: u64(cpuset('mem_exclusive')) ?? 0n,
    memoryMigrate: u64(cpuset('memory_migrate')) ?? 0n,
    memorySpreadPage: u64(cpuset('memory_spread_page')) ?? 0n,
    memorySpreadSlab: u64(cpuset('memory_spread_slab')) ?? 0n,
    memoryPressure: u64(cpuset('memory_pressure')) ?? 0n,
    schedLoadBalance: u64(cpuset('sched_load_balance')) ?? 0n,
    schedRelaxDomainLevel: signed(cpuset('sched_relax_domain_level')),
  };

  const memory = (f: string) => read('memory', f);
  const memStat = memory('memory.stat');
  if (memStat !== undefined) {
    const stats = keyValuesU64(memStat);
    s.memory = {
      cache: stats.get('cache') ?? 0n,
      usage: v1MemoryData(memory, 'memory'),
      swap: v1MemoryData(memory, 'memory.memsw'),
      kernel: v1MemoryData(memory, 'memory.kmem'),
      kernelTCP: v1MemoryData(memory, 'memory.kmem.tcp'),
      stats,
    };
    s.oomKills = keyValuesU64(memory('memory.oom_control')).get('oom_kill') ?? 0n;
  }

  const current = u64(read('pids', 'pids.current'));
  if (current !== undefined) {
    const limit = u64(read('pids', 'pids.max')) ?? 0n;
    s.pids = { current, limit: limit === MAX_U64 ? 0n : limit }; // runc: no limit is 0
  }

  v1Blkio((f) => read('blkio', f), s.blkio);

  for (const size of hugePageSizes) {
    const usage = u64(read('hugetlb', `hugetlb.${size}.usage_in_bytes`));
    if (usage === undefined) continue;
    s.hugetlb.set(size, {
      usage,
      maxUsage: u64(read('hugetlb', `hugetlb.${size}.max_usage_in_bytes`)) ?? 0n,
      failcnt: u64(read('hugetlb', `hugetlb.${size}.failcnt`)) ?? 0n,
    });
  }
  return s;
}

function v2RuncStats(read: StatsReader, hugePageSizes: string[]): RuncStats {
  const r = (file: string) => read('', file);
  const s = emptyRuncStats();

  const current = u64(r('pids.current'));
  if (current !== undefined) {
    const limit = u64(r('pids.max')) ?? 0n;
    s.pids = { current, limit: limit === MAX_U64 ? 0n : limit };
  } else {
    // No pids controller: count the processes (as runc).
    const procs = r('cgroup.procs');
    if (procs !== undefined) s.pids.current = BigInt(procs.split('\n').length - 1);
  }

  const memStat = r('memory.stat');
  if (memStat !== undefined) {
    const stats = keyValuesU64(memStat);
    const events = keyValuesU64(r('memory.events'));
    // memory.peak (Linux 5.19) and memory.events' max are what runc 1.2
    // reports as v2's max usage and failcnt; runc 1.1 leaves them 0.
    const usage: MemoryData = { usage: u64(r('memory.current')) ?? 0n, maxUsage: u64(r('memory.peak')) ?? 0n, failcnt: events.get('max') ?? 0n, limit: u64(r('memory.max')) ?? 0n };
    // v1 reports memory+swap as "swap"; runc adds v2's two up to match.
    const swapUsage = u64(r('memory.swap.current'));
    const swapLimit = swapUsage === undefined ? 0n : (u64(r('memory.swap.max')) ?? 0n);
    const swap: MemoryData = {
      usage: (swapUsage ?? 0n) + usage.usage,
      maxUsage: 0n,
      failcnt: 0n,
      limit: swapLimit === MAX_U64 ? MAX_U64 : clampU64(swapLimit + usage.limit),
    };
    s.memory = { cache: stats.get('file') ?? 0n, usage, swap, kernel: zeroMemory(), kernelTCP: zeroMemory(), stats };
    s.oomKills = events.get('oom_kill') ?? 0n;
  }

  const io = r('io.stat');
  for (const line of (io ?? '').split('\n')) {
    const [dev, ...items] = line.split(/\s+/).filter(Boolean);
    const m = /^(\d+):(\d+)$/.exec(dev ?? '');
    if (!m) continue;
    for (const item of items) {
      const [key, value] = item.split('=');
      const to = ({ rbytes: ['ioServiceBytesRecursive', 'Read'], wbytes: ['ioServiceBytesRecursive', 'Write'], rios: ['ioServicedRecursive', 'Read'], wios: ['ioServicedRecursive', 'Write'] } as const)[key as 'rbytes'];
      const v = u64(value);
      if (to && v !== undefined) s.blkio[to[0]].push({ major: BigInt(m[1]), minor: BigInt(m[2]), op: to[1], value: v });
    }
  }

  const cpu = r('cpu.stat');
  if (cpu !== undefined) {
    const kv = keyValuesU64(cpu);
    const us = (k: string) => (kv.get(k) ?? 0n) * 1000n;
    s.cpu.usage = { ...s.cpu.usage, total: us('usage_usec'), user: us('user_usec'), kernel: us('system_usec') };
    s.cpu.throttling = { periods: kv.get('nr_periods') ?? 0n, throttledPeriods: kv.get('nr_throttled') ?? 0n, throttledTime: us('throttled_usec') };
  }

  for (const size of hugePageSizes) {
    const usage = u64(r(`hugetlb.${size}.current`));
    if (usage === undefined) continue;
    s.hugetlb.set(size, { usage, maxUsage: 0n, failcnt: keyValuesU64(r(`hugetlb.${size}.events`)).get('max') ?? 0n });
  }
  return s;
}

const clampU64 = (n: bigint) => (n > MAX_U64 ? MAX_U64 : n);

/**
 * Every number runc reads from a container's cgroups, with runc 1.1's
 * rules (libcontainer/cgroups/fs and fs2). hugePageSizes defaults to the
 * host's.
 */
export function readRuncStats(version: 1 | 2, read: StatsReader, hugePageSizes: string[] = hostHugePageSizes()): RuncStats {
  return version === 1 ? v1RuncStats(read, hugePageSizes) : v2RuncStats(read, hugePageSizes);
}
