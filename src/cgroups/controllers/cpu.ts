// linux.resources.cpu except cpus and mems (config-linux.md "CPU").
//
// v1 files: cpu.shares, cpu.cfs_period_us, cpu.cfs_quota_us,
// cpu.cfs_burst_us, cpu.rt_period_us, cpu.rt_runtime_us, cpu.idle; a
// period and its limit in the order the kernel accepts (limitFirst).
//
// v2 conversions:
//   shares        -> cpu.weight = 1 + (shares - 2) * 9999 / 262142 (integer
//                    division: v1's [2, 262144] onto v2's [1, 10000], runc's formula)
//   quota, period -> cpu.max "<quota|max> [period]" (quota -1 -> "max")
//   burst         -> cpu.max.burst
//   idle          -> cpu.idle
//   realtimeRuntime, realtimePeriod: v2 has no realtime bandwidth: refused
import type { Resources } from '../../spec/types';
import { type Controller, type Reader, type Write, int, refuse, setFields, write } from './controller';

const F = 'linux.resources.cpu';
const keys = ['shares', 'quota', 'burst', 'period', 'realtimeRuntime', 'realtimePeriod', 'idle'];

type Cpu = {
  shares?: number;
  quota?: number;
  burst?: number;
  period?: number;
  realtimeRuntime?: number;
  realtimePeriod?: number;
  idle?: number;
};

const given = (n: number | undefined): n is number => n !== undefined && n !== null && n !== 0;

export function sharesToWeight(shares: number): number {
  return 1 + Math.trunc(((shares - 2) * 9999) / 262142);
}

/**
 * Whether the limit goes before the period it divides. The kernel checks
 * the bandwidth (limit / period) against the parent's at each write, so
 * the order whose step in between asks for less goes first: the limit
 * first when it becomes unlimited or when newLimit / oldPeriod is below
 * oldLimit / newPeriod. (runc writes the period first and retries it after
 * the limit on EINVAL; this reaches the same end without the failed write.)
 */
export function limitFirst(limit: number | undefined, period: number | undefined, oldLimit: number, oldPeriod: number): boolean {
  if (!given(limit) || !given(period)) return false;
  if (limit < 0) return true;
  if (!(oldLimit > 0) || !(oldPeriod > 0)) return false;
  return limit / oldPeriod < oldLimit / period;
}

function v1Writes(c: Cpu, current: Reader): Write[] {
  const out: Write[] = [];
  const now = (file: string) => Number((current(file) ?? '').trim());
  if (given(c.shares)) out.push(write('cpu.shares', int(c.shares), `${F}.shares`));
  const period = given(c.period) ? [write('cpu.cfs_period_us', int(c.period), `${F}.period`)] : [];
  const quota = given(c.quota) ? [write('cpu.cfs_quota_us', int(c.quota), `${F}.quota`)] : [];
  out.push(...(limitFirst(c.quota, c.period, now('cpu.cfs_quota_us'), now('cpu.cfs_period_us')) ? [...quota, ...period] : [...period, ...quota]));
  if (c.burst !== undefined && c.burst !== null) out.push(write('cpu.cfs_burst_us', int(c.burst), `${F}.burst`));
  // The realtime budget is checked likewise (the sum of the children's against the parent's).
  const rtPeriod = given(c.realtimePeriod) ? [write('cpu.rt_period_us', int(c.realtimePeriod), `${F}.realtimePeriod`)] : [];
  const rtRuntime = given(c.realtimeRuntime) ? [write('cpu.rt_runtime_us', int(c.realtimeRuntime), `${F}.realtimeRuntime`)] : [];
  out.push(...(limitFirst(c.realtimeRuntime, c.realtimePeriod, now('cpu.rt_runtime_us'), now('cpu.rt_period_us')) ? [...rtRuntime, ...rtPeriod] : [...rtPeriod, ...rtRuntime]));
  if (c.idle !== undefined && c.idle !== null) out.push(write('cpu.idle', int(c.idle), `${F}.idle`));
  return out;
}

function v2Writes(c: Cpu): Write[] {
  if (given(c.realtimeRuntime)) refuse(`${F}.realtimeRuntime`, 'cgroup v2 has no realtime CPU bandwidth');
  if (given(c.realtimePeriod)) refuse(`${F}.realtimePeriod`, 'cgroup v2 has no realtime CPU bandwidth');
  const out: Write[] = [];
  if (given(c.shares)) out.push(write('cpu.weight', String(sharesToWeight(c.shares)), `${F}.shares`));
  if (given(c.quota) || given(c.period)) {
    let max = given(c.quota) && c.quota > 0 ? int(c.quota) : 'max';
    if (given(c.period)) max += ` ${int(c.period)}`;
    out.push(write('cpu.max', max, given(c.quota) ? `${F}.quota` : `${F}.period`));
  }
  if (c.burst !== undefined && c.burst !== null) out.push(write('cpu.max.burst', int(c.burst), `${F}.burst`));
  if (c.idle !== undefined && c.idle !== null) out.push(write('cpu.idle', int(c.idle), `${F}.idle`));
  return out;
}

const own = (r: Resources) => r.cpu as Cpu | undefined;

export const cpu: Controller = {
  name: 'cpu',
  v1: 'cpu',
  v2: 'cpu',
  handles: keys.map((k) => `${F}.${k}`),
  fields: (r) => setFields(own(r), F).filter((f) => keys.includes(f.slice(F.length + 1))),
  writes(r, version, current) {
    const c = own(r);
    if (!c) return [];
    return version === 1 ? v1Writes(c, current) : v2Writes(c);
  },
};

// cpu.cpus and cpu.mems: the same files in v1's cpuset hierarchy and v2's
// cpuset controller.
export const cpuset: Controller = {
  name: 'cpuset',
  v1: 'cpuset',
  v2: 'cpuset',
  handles: [`${F}.cpus`, `${F}.mems`],
  fields: (r) => setFields(own(r), F).filter((f) => f === `${F}.cpus` || f === `${F}.mems`),
  writes(r) {
    const c = r.cpu as { cpus?: string; mems?: string } | undefined;
    const out: Write[] = [];
    if (c?.cpus) out.push(write('cpuset.cpus', c.cpus, `${F}.cpus`));
    if (c?.mems) out.push(write('cpuset.mems', c.mems, `${F}.mems`));
    return out;
  },
};
