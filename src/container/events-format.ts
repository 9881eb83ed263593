// What `tsrun events` prints, byte for byte as runc 1.1 does: one JSON
// event a line ({"type","id","data"}, runc's types.Event), the stats in
// runc's types.Stats with Go's encoding rules (struct fields in declaration
// order, `omitempty` fields left out when zero, map keys sorted, uint64s
// exact), and the --interval value parsed as Go's time.ParseDuration.
import { type BlkioStatEntry, type BlkioTable, type MemoryData, type RuncStats, blkioTables } from '../cgroups/stats';

/** A JSON value; a Map keeps its insertion order (a struct's field order). */
export type Json = null | boolean | number | bigint | string | Json[] | Map<string, Json>;

// encoding/json escapes these too (HTML safety, and JavaScript's line separators).
const goEscapes: Record<string, string> = { '<': '\\u003c', '>': '\\u003e', '&': '\\u0026', '\u2028': '\\u2028', '\u2029': '\\u2029' };

/** Go's json.Marshal of a value (no spaces). */
export function encodeJson(v: Json): string {
  if (v === null) return 'null';
  if (typeof v === 'bigint' || typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (typeof v === 'string') return JSON.stringify(v).replace(/[<>&\u2028\u2029]/g, (c) => goEscapes[c]);
  if (Array.isArray(v)) return `[${v.map(encodeJson).join(',')}]`;
  return `{${[...v].map(([k, x]) => `${encodeJson(k)}:${encodeJson(x)}`).join(',')}}`;
}

/** A struct: its fields in order; an undefined value is an omitted `omitempty` field. */
function struct(fields: [string, Json | undefined][]): Map<string, Json> {
  return new Map(fields.filter((f): f is [string, Json] => f[1] !== undefined));
}

// `omitempty`: a zero number, an empty slice or map is left out.
const omitZero = (n: bigint): bigint | undefined => (n === 0n ? undefined : n);
const omitEmpty = <T extends Json>(a: T[]): T[] | undefined => (a.length ? a : undefined);

/** A Go map: keys sorted (by bytes, as Go does). */
function goMap<T>(m: Map<string, T>, value: (v: T) => Json): Map<string, Json> {
  const keys = [...m.keys()].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  return new Map(keys.map((k) => [k, value(m.get(k) as T)]));
}

const memoryEntry = (m: MemoryData) =>
  struct([
    ['limit', m.limit],
    ['usage', omitZero(m.usage)],
    ['max', omitZero(m.maxUsage)],
    ['failcnt', m.failcnt],
  ]);

const blkioEntry = (e: BlkioStatEntry) =>
  struct([
    ['major', omitZero(e.major)],
    ['minor', omitZero(e.minor)],
    ['op', e.op === '' ? undefined : e.op],
    ['value', omitZero(e.value)],
  ]);

// runc's JSON names of the blkio tables (ioQueueRecursive is runc's spelling).
const blkioNames: Record<BlkioTable, string> = {
  ioServiceBytesRecursive: 'ioServiceBytesRecursive',
  ioServicedRecursive: 'ioServicedRecursive',
  ioQueuedRecursive: 'ioQueueRecursive',
  ioServiceTimeRecursive: 'ioServiceTimeRecursive',
  ioWaitTimeRecursive: 'ioWaitTimeRecursive',
  ioMergedRecursive: 'ioMergedRecursive',
  ioTimeRecursive: 'ioTimeRecursive',
  sectorsRecursive: 'sectorsRecursive',
};

/** runc's types.Stats (events.go convertLibcontainerStats). */
export function statsData(s: RuncStats): Map<string, Json> {
  const u = s.cpu.usage;
  const t = s.cpu.throttling;
  const c = s.cpuset;
  return struct([
    [
      'cpu',
      struct([
        [
          'usage',
          struct([
            ['total', omitZero(u.total)],
            ['percpu', omitEmpty(u.percpu)],
            ['percpu_kernel', omitEmpty(u.percpuKernel)],
            ['percpu_user', omitEmpty(u.percpuUser)],
            ['kernel', u.kernel],
            ['user', u.user],
          ]),
        ],
        [
          'throttling',
          struct([
            ['periods', omitZero(t.periods)],
            ['throttledPeriods', omitZero(t.throttledPeriods)],
            ['throttledTime', omitZero(t.throttledTime)],
          ]),
        ],
      ]),
    ],
    [
      'cpuset',
      struct([
        ['cpus', omitEmpty(c.cpus)],
        ['cpu_exclusive', c.cpuExclusive],
        ['mems', omitEmpty(c.mems)],
        ['mem_hardwall', c.memHardwall],
        ['mem_exclusive', c.memExclusive],
        ['memory_migrate', c.memoryMigrate],
        ['memory_spread_page', c.memorySpreadPage],
        ['memory_spread_slab', c.memorySpreadSlab],
        ['memory_pressure', c.memoryPressure],
        ['sched_load_balance', c.schedLoadBalance],
        ['sched_relax_domain_level', c.schedRelaxDomainLevel],
      ]),
    ],
    [
      'memory',
      struct([
        ['cache', omitZero(s.memory.cache)],
        ['usage', memoryEntry(s.memory.usage)],
        ['swap', memoryEntry(s.memory.swap)],
        ['kernel', memoryEntry(s.memory.kernel)],
        ['kernelTCP', memoryEntry(s.memory.kernelTCP)],
        ['raw', s.memory.stats.size ? goMap(s.memory.stats, (v) => v) : undefined],
      ]),
    ],
    [
      'pids',
      struct([
        ['current', omitZero(s.pids.current)],
        ['limit', omitZero(s.pids.limit)],
      ]),
    ],
    ['blkio', struct(blkioTables.map((table) => [blkioNames[table], omitEmpty(s.blkio[table].map(blkioEntry))]))],
    [
      'hugetlb',
      goMap(s.hugetlb, (h) =>
        struct([
          ['usage', omitZero(h.usage)],
          ['max', omitZero(h.maxUsage)],
          ['failcnt', h.failcnt],
        ]),
      ),
    ],
    ['intel_rdt', new Map()],
    ['network_interfaces', null],
  ]);
}

/** One line of `events`: a stats event, or an OOM notification (no data). */
export function eventLine(type: 'stats' | 'oom', id: string, data?: Map<string, Json>): string {
  return (
    encodeJson(
      struct([
        ['type', type],
        ['id', id],
        ['data', data],
      ]),
    ) + '\n'
  );
}

// --- Go durations --------------------------------------------------------------

const MAX_I64 = (1n << 63n) - 1n;

const units: Record<string, bigint> = {
  ns: 1n,
  us: 1_000n,
  '\u00b5s': 1_000n, // µ, the micro sign
  '\u03bcs': 1_000n, // μ, the Greek letter
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};

/**
 * Go's time.ParseDuration: "300ms", "-1.5h", "2h45m"; nanoseconds. Throws
 * an Error with Go's message ('time: invalid duration "x"', 'time:
 * missing unit in duration "1"', 'time: unknown unit "d" in duration "1d"').
 */
export function parseGoDuration(text: string): bigint {
  const quoted = JSON.stringify(text);
  const invalid = () => new Error(`time: invalid duration ${quoted}`);
  let s = text;
  let neg = false;
  if (s[0] === '-' || s[0] === '+') {
    neg = s[0] === '-';
    s = s.slice(1);
  }
  if (s === '0') return 0n;
  if (s === '') throw invalid();
  let total = 0n;
  while (s !== '') {
    const m = /^(\d*)(?:\.(\d*))?/.exec(s) as RegExpExecArray;
    const [whole, int, frac] = m;
    if (!whole.length || (int === '' && !frac)) throw invalid(); // no digits: ".s", "s"
    s = s.slice(whole.length);
    const unitText = /^[^.\d]*/.exec(s)?.[0] ?? '';
    if (unitText === '') throw new Error(`time: missing unit in duration ${quoted}`);
    const unit = units[unitText];
    if (unit === undefined) throw new Error(`time: unknown unit ${JSON.stringify(unitText)} in duration ${quoted}`);
    s = s.slice(unitText.length);
    let v = BigInt(int || '0') * unit;
    if (frac) v += (BigInt(frac) * unit) / 10n ** BigInt(frac.length);
    total += v;
    if (total > MAX_I64 + (neg ? 1n : 0n)) throw invalid();
  }
  return neg ? -total : total;
}
