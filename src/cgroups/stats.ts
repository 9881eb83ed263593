// The container's resource usage, read from its cgroups (for events
// --stats and the clients' metrics): cpu, memory (with the OOM kill
// count), pids and block I/O, in runc's shape of these numbers.
// Times are in nanoseconds, sizes in bytes; a file the host lacks leaves
// its part out.

export interface MemoryEntry {
  usage: number;
  max: number;
  failcnt: number;
  limit: number;
}

export interface BlkioEntry {
  major: number;
  minor: number;
  op: string;
  value: number;
}

export interface CgroupStats {
  cpu?: { usage: { total: number; percpu?: number[]; kernel: number; user: number }; throttling: { periods: number; throttledPeriods: number; throttledTime: number } };
  memory?: { usage: MemoryEntry; swap?: MemoryEntry; kernel?: MemoryEntry; kernelTCP?: MemoryEntry; oomKills: number; raw: Record<string, number> };
  pids?: { current: number; limit: number };
  blkio?: { ioServiceBytesRecursive: BlkioEntry[]; ioServicedRecursive: BlkioEntry[] };
}

/** Reads file of the container's cgroup in the hierarchy of a v1 controller (on v2 the one directory). */
export type StatsReader = (v1Controller: string, file: string) => string | undefined;

// "max" (v2) and v1's huge "unlimited" values read as 0, runc's "no limit".
const num = (s: string | undefined): number => {
  const t = (s ?? '').trim();
  if (t === 'max' || t === '') return 0;
  const n = Number(t);
  return n >= 2 ** 62 ? 0 : n;
};

/** "key value" lines (memory.stat, cpu.stat, memory.events, oom_control). */
export function keyValues(text: string | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of (text ?? '').split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined && !Number.isNaN(Number(v))) out[k] = Number(v);
  }
  return out;
}

const USER_HZ = 100; // cpuacct.stat counts in clock ticks

function v1Stats(read: StatsReader): CgroupStats {
  const out: CgroupStats = {};
  const usage = read('cpuacct', 'cpuacct.usage');
  if (usage !== undefined) {
    const ticks = keyValues(read('cpuacct', 'cpuacct.stat'));
    const throttle = keyValues(read('cpu', 'cpu.stat'));
    out.cpu = {
      usage: {
        total: num(usage),
        percpu: (read('cpuacct', 'cpuacct.usage_percpu') ?? '').trim().split(/\s+/).filter(Boolean).map(Number),
        kernel: ((ticks.system ?? 0) * 1e9) / USER_HZ,
        user: ((ticks.user ?? 0) * 1e9) / USER_HZ,
      },
      throttling: { periods: throttle.nr_periods ?? 0, throttledPeriods: throttle.nr_throttled ?? 0, throttledTime: throttle.throttled_time ?? 0 },
    };
  }
  const entry = (prefix: string): MemoryEntry | undefined => {
    const u = read('memory', `${prefix}.usage_in_bytes`);
    if (u === undefined) return undefined;
    return { usage: num(u), max: num(read('memory', `${prefix}.max_usage_in_bytes`)), failcnt: num(read('memory', `${prefix}.failcnt`)), limit: num(read('memory', `${prefix}.limit_in_bytes`)) };
  };
  const mem = entry('memory');
  if (mem) {
    out.memory = {
      usage: mem,
      swap: entry('memory.memsw'),
      kernel: entry('memory.kmem'),
      kernelTCP: entry('memory.kmem.tcp'),
      oomKills: keyValues(read('memory', 'memory.oom_control')).oom_kill ?? 0,
      raw: keyValues(read('memory', 'memory.stat')),
    };
  }
  const pids = read('pids', 'pids.current');
  if (pids !== undefined) out.pids = { current: num(pids), limit: num(read('pids', 'pids.max')) };
  const bytes = read('blkio', 'blkio.throttle.io_service_bytes_recursive');
  if (bytes !== undefined) {
    out.blkio = { ioServiceBytesRecursive: blkioEntries(bytes), ioServicedRecursive: blkioEntries(read('blkio', 'blkio.throttle.io_serviced_recursive')) };
  }
  return out;
}

/** v1 blkio lines: "8:0 Read 4096" (and a closing "Total N"). */
function blkioEntries(text: string | undefined): BlkioEntry[] {
  const out: BlkioEntry[] = [];
  for (const line of (text ?? '').split('\n')) {
    const m = /^(\d+):(\d+) (\w+) (\d+)$/.exec(line.trim());
    if (m) out.push({ major: Number(m[1]), minor: Number(m[2]), op: m[3], value: Number(m[4]) });
  }
  return out;
}

function v2Stats(read: StatsReader): CgroupStats {
  const r = (file: string) => read('', file);
  const out: CgroupStats = {};
  const cpu = r('cpu.stat');
  if (cpu !== undefined) {
    const s = keyValues(cpu);
    out.cpu = {
      usage: { total: (s.usage_usec ?? 0) * 1000, kernel: (s.system_usec ?? 0) * 1000, user: (s.user_usec ?? 0) * 1000 },
      throttling: { periods: s.nr_periods ?? 0, throttledPeriods: s.nr_throttled ?? 0, throttledTime: (s.throttled_usec ?? 0) * 1000 },
    };
  }
  const current = r('memory.current');
  if (current !== undefined) {
    const events = keyValues(r('memory.events'));
    const swap = r('memory.swap.current');
    out.memory = {
      usage: { usage: num(current), max: num(r('memory.peak')), failcnt: events.max ?? 0, limit: num(r('memory.max')) },
      swap: swap === undefined ? undefined : { usage: num(swap), max: num(r('memory.swap.peak')), failcnt: keyValues(r('memory.swap.events')).max ?? 0, limit: num(r('memory.swap.max')) },
      oomKills: events.oom_kill ?? 0,
      raw: keyValues(r('memory.stat')),
    };
  }
  const pids = r('pids.current');
  if (pids !== undefined) out.pids = { current: num(pids), limit: num(r('pids.max')) };
  const io = r('io.stat');
  if (io !== undefined) {
    const bytes: BlkioEntry[] = [];
    const ios: BlkioEntry[] = [];
    for (const line of io.split('\n')) {
      const [dev, ...kv] = line.trim().split(/\s+/);
      const m = /^(\d+):(\d+)$/.exec(dev ?? '');
      if (!m) continue;
      const v = Object.fromEntries(kv.map((p) => p.split('=')).map(([k, n]) => [k, Number(n)]));
      const at = (op: string, value: number | undefined) => ({ major: Number(m[1]), minor: Number(m[2]), op, value: value ?? 0 });
      bytes.push(at('Read', v.rbytes), at('Write', v.wbytes));
      ios.push(at('Read', v.rios), at('Write', v.wios));
    }
    out.blkio = { ioServiceBytesRecursive: bytes, ioServicedRecursive: ios };
  }
  return out;
}

export function readStats(version: 1 | 2, read: StatsReader): CgroupStats {
  return version === 1 ? v1Stats(read) : v2Stats(read);
}
