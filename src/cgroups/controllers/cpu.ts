// linux.resources.cpu except cpus and mems (config-linux.md "CPU").
//
// v1 files: cpu.shares, cpu.cfs_period_us, cpu.cfs_quota_us,
// cpu.cfs_burst_us, cpu.rt_period_us, cpu.rt_runtime_us, cpu.idle.
//
// v2 conversions:
//   shares        -> cpu.weight = 1 + (shares - 2) * 9999 / 262142 (integer
//                    division: v1's [2, 262144] onto v2's [1, 10000], runc's formula)
//   quota, period -> cpu.max "<quota|max> [period]" (quota -1 -> "max")
//   burst         -> cpu.max.burst
//   idle          -> cpu.idle
//   realtimeRuntime, realtimePeriod: v2 has no realtime bandwidth: refused
import type { Resources } from '../../spec/types';
import { type Controller, type Write, int, refuse, setFields, write } from './controller';

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

function v1Writes(c: Cpu): Write[] {
  const out: Write[] = [];
  if (given(c.shares)) out.push(write('cpu.shares', int(c.shares), `${F}.shares`));
  // runc's order: the period before the quota it divides.
  if (given(c.period)) out.push(write('cpu.cfs_period_us', int(c.period), `${F}.period`));
  if (given(c.quota)) out.push(write('cpu.cfs_quota_us', int(c.quota), `${F}.quota`));
  if (c.burst !== undefined && c.burst !== null) out.push(write('cpu.cfs_burst_us', int(c.burst), `${F}.burst`));
  if (given(c.realtimePeriod)) out.push(write('cpu.rt_period_us', int(c.realtimePeriod), `${F}.realtimePeriod`));
  if (given(c.realtimeRuntime)) out.push(write('cpu.rt_runtime_us', int(c.realtimeRuntime), `${F}.realtimeRuntime`));
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
  writes(r, version) {
    const c = own(r);
    if (!c) return [];
    return version === 1 ? v1Writes(c) : v2Writes(c);
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
