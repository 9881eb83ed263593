// tsrun update (runc 1.1's update.go): linux.resources from --resources (a
// JSON file, "-" for stdin) and the flags (which win over the file), merged
// into the container's current resources (create's, with every earlier
// update), written to its cgroups, and kept in its state for the next
// update and for events.
//
// Everything that can be refused is refused before the first write (the
// schema, the flags, fields tsrun does not apply, cpuset lists, what the
// cgroup version cannot do); a write the kernel refuses half-way is undone
// by the cgroup manager. A refusal names the flag the value came from, or
// the linux.resources path.
//
// As runc, the merged resources are written whole (a limit's partner, as
// memory for memory+swap, is needed to order the writes). runc leaves the
// device allowlist alone in an update; tsrun accepts the allowlist
// the container already has (clients send the whole linux.resources) and
// refuses a different one rather than ignore it.
import { isDeepStrictEqual } from 'node:util';
import { readFileSync } from 'node:fs';
import { TsrunError, messageOf } from '../errors';
import { warn } from '../log';
import { resourceWarnings } from '../plan/resources';
import { join } from '../spec/fieldpath';
import { exactInteger, parseJson } from '../spec/json';
import { schemaProblems } from '../spec/schema';
import type { Resources } from '../spec/types';
import type { StateRecord } from '../state/record';
import { isLive } from '../state/status';
import { withContainer } from './container';
import { type Flags, flagValue, resourcesFromFlags } from './update-flags';

const R = 'linux.resources';

/** The JSON of --resources, parsed keeping exact integers; undefined without the flag. */
function readResourcesFile(flags: Flags): unknown {
  const from = flagValue(flags, 'resources');
  if (from === undefined) return undefined;
  let text: string;
  try {
    text = readFileSync(from === '-' ? 0 : from, 'utf8');
  } catch (err) {
    throw new TsrunError(`cannot read ${from === '-' ? 'the standard input' : from}: ${messageOf(err)}`, '--resources');
  }
  try {
    return parseJson(text);
  } catch (err) {
    throw new TsrunError(`${from === '-' ? 'the standard input' : from} is not valid JSON: ${messageOf(err)}`, '--resources');
  }
}

/** Every integer of the JSON fits the kernel's 64-bit fields (JSON.parse alone would round it silently). */
function checkIntegers(value: unknown, field: string): void {
  if (typeof value !== 'object' || value === null) return;
  for (const [k, v] of Object.entries(value)) {
    const f = Array.isArray(value) ? join(field, Number(k)) : join(field, k);
    if (typeof v === 'number' && Number.isInteger(v)) exactInteger(value, Array.isArray(value) ? Number(k) : k, f);
    else checkIntegers(v, f);
  }
}

/** cpuset.cpus and cpuset.mems take a list of numbers and ranges: "0-3,5". */
const cpuList = /^\d+(-\d+)?(,\d+(-\d+)?)*$/;
function checkCpuList(text: unknown, field: string): void {
  if (typeof text !== 'string' || text === '') return;
  if (!cpuList.test(text)) throw new TsrunError(`${JSON.stringify(text)} is not a list of numbers and ranges such as 0-3,5`, field);
  for (const part of text.split(',')) {
    const [a, b] = part.split('-').map(Number);
    if (b !== undefined && b < a) throw new TsrunError(`${JSON.stringify(text)}: the range ${part} ends before it starts`, field);
  }
}

/** A TsrunError about a field a flag set names the flag instead. */
function byFlag(err: unknown, fromFlag: Map<string, string>): unknown {
  if (!(err instanceof TsrunError) || !err.field) return err;
  const flag = fromFlag.get(err.field);
  if (!flag) return err;
  return new TsrunError(err.message.slice(err.field.length + 2), flag);
}

/** The fragment to apply: --resources, then the flags over it; checked whole. */
export function requestedResources(flags: Flags): { change: Resources; fromFlag: Map<string, string>; warnings: string[] } {
  const file = readResourcesFile(flags);
  const { resources: fromFlags, fromFlag, warnings } = resourcesFromFlags(flags);
  try {
    if (file !== undefined) {
      const problem = schemaProblems('resources', file, R)[0];
      if (problem) throw new TsrunError(problem.message, problem.field);
      checkIntegers(file, R);
    }
    const change = overlay((file ?? {}) as Resources, fromFlags);
    // The flags are checked against the schema too (a weight past uint16...).
    const problem = schemaProblems('resources', change, R)[0];
    if (problem) throw new TsrunError(problem.message, problem.field);
    const cpu = change.cpu as { cpus?: unknown; mems?: unknown } | undefined;
    checkCpuList(cpu?.cpus, `${R}.cpu.cpus`);
    checkCpuList(cpu?.mems, `${R}.cpu.mems`);
    warnings.push(...resourceWarnings(change));
    return { change, fromFlag, warnings };
  } catch (err) {
    throw byFlag(err, fromFlag);
  }
}

// Members whose own fields are merged one by one; lists and maps are below.
const grouped = ['memory', 'cpu', 'blockIO', 'pids', 'network'] as const;

const defined = (o: object) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

/** b over a: the grouped members field by field, the maps key by key, the rest replaced. */
function overlay(a: Resources, b: Resources): Resources {
  const out: Record<string, unknown> = { ...a };
  for (const [key, value] of Object.entries(b)) {
    if (value === undefined) continue;
    const before = out[key];
    if (((grouped as readonly string[]).includes(key) || key === 'rdma' || key === 'unified') && typeof before === 'object' && before !== null) {
      out[key] = { ...before, ...defined(value as object) };
    } else if (key === 'hugepageLimits' && Array.isArray(before)) {
      // One page size's limit replaces that page size's only.
      const next = value as { pageSize: string }[];
      out[key] = [...(before as { pageSize: string }[]).filter((h) => !next.some((n) => n.pageSize === h.pageSize)), ...next];
    } else {
      out[key] = value;
    }
  }
  return out as Resources;
}

/** The container's resources after this update (runc's merge rules). */
export function mergeResources(current: Resources, change: Resources): Resources {
  const c = { ...change };
  // As runc: an unlimited memory without a swap given is unlimited swap too.
  if (c.memory?.limit === -1 && c.memory.swap === undefined) c.memory = { ...c.memory, swap: -1 };
  const merged = overlay(current, c);
  // What the allowlist is stays create's: it is not merged but compared.
  if (current.devices) merged.devices = current.devices;
  else delete merged.devices;
  return merged;
}

export function update(root: string, id: string, flags: Flags): void {
  const { change, fromFlag, warnings } = requestedResources(flags);
  for (const w of warnings) warn(w);
  const rdt = { l3CacheSchema: flagValue(flags, 'l3-cache-schema'), memBwSchema: flagValue(flags, 'mem-bw-schema') };
  withContainer(root, id, 'exclusive', (c) => {
    const status = c.status();
    if (!isLive(status)) throw new TsrunError(`cannot update container ${id}: container not running (it is ${status})`);
    // As runc: the Intel RDT flags rewrite the container's resctrl group,
    // checked now and written once the cgroups are.
    let schemata: (() => void) | undefined;
    if (rdt.l3CacheSchema !== undefined || rdt.memBwSchema !== undefined) {
      const flag = rdt.l3CacheSchema !== undefined ? '--l3-cache-schema' : '--mem-bw-schema';
      if (!c.rec.intelRdt) throw new TsrunError('the container has no resctrl group (it was created without linux.intelRdt)', flag);
      const rec = c.rec.intelRdt;
      const { checkIntelRdtUpdate, updateIntelRdt } = require('../cgroups/resctrl') as typeof import('../cgroups/resctrl');
      const fields = { l3CacheSchema: '--l3-cache-schema', memBwSchema: '--mem-bw-schema' };
      const lines = checkIntelRdtUpdate(rec, rdt, fields);
      schemata = () => updateIntelRdt(rec, lines, fields);
    }
    const current = currentResources(c.rec) as Resources;
    if (change.devices !== undefined && !isDeepStrictEqual(change.devices, current.devices ?? [])) {
      throw new TsrunError('cannot be changed by update (runc leaves the allowlist as create set it; tsrun refuses rather than ignore a change)', `${R}.devices`);
    }
    const merged = mergeResources(current, change);
    try {
      c.cgroups.update({ ...merged, devices: undefined });
    } catch (err) {
      throw byFlag(err, fromFlag);
    }
    c.rec.resources = merged as Record<string, unknown>;
    c.save();
    schemata?.();
  });
}

/** The container's linux.resources now: as the last update left them, or as create set them. */
function currentResources(rec: StateRecord): Record<string, unknown> {
  if (rec.resources) return rec.resources;
  const linux = rec.config.linux as { resources?: Record<string, unknown> } | undefined;
  return linux?.resources ?? {};
}
