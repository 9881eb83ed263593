// linux.intelRdt (config-linux.md "IntelRdt"): the container's resctrl group (closID, or named after the
// container), its schemata and its own MON group. As runc (libcontainer/intelrdt/intelrdt.go) and crun
// (src/libcrun/intelrdt.c), with the spec where they are laxer: a group that exists is compared with the
// config and joined, never rewritten, and delete removes only what tsrun made, never a closID's group.
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TsrunError, errnoCode, messageOf } from '../errors';
import type { IntelRdt } from '../spec/types';

export type SchemaLine = { line: string; field: string }; // a line for the schemata file, and its config field

export interface RdtPlan {
  mount: string;
  group: string; // <mount>/<closID or id>, or the mount itself for closID "/"
  groupField: string; // the field that names it: linux.intelRdt for the container id
  create: boolean; // tsrun makes it
  removeAtDelete: boolean; // tsrun makes it, and it is no closID's (spec)
  schemata: SchemaLine[]; // in the spec's order: l3CacheSchema, memBwSchema, schemata; none when joining
  monitor?: string; // <group>/mon_groups/<id>
}

/** What applyIntelRdt did, for the container's state: removeIntelRdt undoes it; an exec joins group, then monitor. */
/** made: this create made the group (a failed create removes it, a closID's too). */
export type RdtRecord = { mount: string; group: string; removeGroup: boolean; made?: boolean; monitor?: string };

// File operations on resctrl (write: one write(2)), a parameter for the tests:
// a plain directory cannot do what resctrl's mkdir and rmdir do.
export interface ResctrlFs {
  exists(path: string): boolean;
  read(file: string): string;
  mkdir(dir: string): void;
  rmdir(dir: string): void;
  write(file: string, data: string): void;
}

// write with r+: the kernel makes every file of a group; never create one.
export const realResctrlFs: ResctrlFs = { exists: existsSync, read: (f) => readFileSync(f, 'utf8'), mkdir: mkdirSync, rmdir: rmdirSync, write: (f, data) => writeFileSync(f, data, { flag: 'r+' }) };

const F = 'linux.intelRdt';
const MON = `${F}.enableMonitoring`;

/** The first resctrl mount in mountinfo (as runc), or undefined. */
export function findResctrlMount(mountinfo = '/proc/self/mountinfo'): string | undefined {
  const line = readFileSync(mountinfo, 'utf8').split('\n').find((l) => l.split(' - ')[1]?.startsWith('resctrl '));
  return line?.split(' ')[4].replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** Validates intelRdt against the host (`mount`: findResctrlMount's) and decides what to do; changes nothing. */
export function planIntelRdt(rdt: IntelRdt, id: string, mount: string | undefined, fs: ResctrlFs = realResctrlFs): RdtPlan {
  const closID = rdt.closID;
  const groupField = closID !== undefined ? `${F}.closID` : F;
  checkGroupName(closID ?? id, groupField);
  const lines = schemaLines(rdt);
  if (mount === undefined) {
    const set = (['l3CacheSchema', 'memBwSchema', 'schemata', 'closID', 'enableMonitoring'] as const).find((k) => rdt[k] !== undefined && rdt[k] !== false);
    throw new TsrunError('Intel RDT is not available on this host (no resctrl filesystem is mounted)', set ? `${F}.${set}` : F);
  }
  // As runc's check of info/L3 and info/MB: the kernel has info/<resource> for each resource a line can name.
  for (const { line, field } of lines) {
    const info = join(mount, 'info', parseLine(line)!.resource);
    if (info.endsWith('_MON') || !fs.exists(info)) throw new TsrunError(`this host's resctrl has no such resource (no ${info})`, field);
  }
  const group = closID === '/' ? mount : join(mount, closID ?? id);
  const exists = fs.exists(group);
  // As runc and crun: with nothing to configure, closID names a group made beforehand.
  if (!exists && closID !== undefined && !lines.length) throw new TsrunError(`resctrl group ${JSON.stringify(closID)} does not exist in ${mount} (with no schema, closID must name an existing group)`, groupField);
  if (exists && lines.length) checkExisting(fs.read(join(group, 'schemata')), lines, closID ?? id);
  const monitor = rdt.enableMonitoring ? join(group, 'mon_groups', id) : undefined;
  if (monitor && !fs.exists(join(mount, 'mon_groups'))) throw new TsrunError(`resctrl monitoring is not available on this host (no ${join(mount, 'mon_groups')})`, MON);
  // Dedicated to this container (spec), and so removed at its delete: never one found there.
  if (monitor && fs.exists(monitor)) throw new TsrunError(`resctrl monitoring group ${monitor} already exists`, MON);
  return { mount, group, groupField, create: !exists, removeAtDelete: !exists && closID === undefined, schemata: exists ? [] : lines, monitor };
}

/** Makes the groups, writes the schemata, moves pid in; on failure removes what it made. */
export function applyIntelRdt(plan: RdtPlan, pid: number, fs: ResctrlFs = realResctrlFs): RdtRecord {
  const rec: RdtRecord = { mount: plan.mount, group: plan.group, removeGroup: plan.removeAtDelete, made: plan.create };
  const made: string[] = [];
  const statusFile = join(plan.mount, 'info', 'last_cmd_status');
  // A refusal names its field and resctrl's reason (as runc's newLastCmdError; none before Linux 4.18), but not
  // for the path's errors, which the VFS returns before resctrl clears an old reason; what was made goes.
  const step = (field: string, what: string, op: () => void) => {
    try {
      op();
    } catch (err) {
      const own = !['EEXIST', 'ENOENT', 'ENOTDIR', 'EACCES', 'EROFS'].includes(errnoCode(err) ?? '');
      const status = own && fs.exists(statusFile) ? fs.read(statusFile).trim() : '';
      for (const dir of made.reverse()) {
        try {
          fs.rmdir(dir);
        } catch {
          // err is the error to tell
        }
      }
      throw new TsrunError(`${what}: ${messageOf(err)}${status && status !== 'ok' ? ` (resctrl: ${status})` : ''}`, field);
    }
  };
  const mkdir = (dir: string, field: string) => {
    step(field, `cannot create resctrl group ${dir}`, () => fs.mkdir(dir));
    made.push(dir);
  };
  if (plan.create) mkdir(plan.group, plan.groupField);
  // One write(2) a line, not all in one as runc and crun: the kernel refuses a domain twice in a write, and the
  // spec's order (schemata last) means a later line overrides an earlier one. A refusal then names its field.
  const file = join(plan.group, 'schemata');
  for (const s of plan.schemata) step(s.field, `cannot write ${JSON.stringify(s.line)} to ${file}`, () => fs.write(file, `${s.line}\n`));
  if (plan.monitor) mkdir((rec.monitor = plan.monitor), MON);
  // The group first: a MON group takes only its parent's tasks.
  for (const [dir, field] of [[rec.group, F], [rec.monitor, MON]] as const) {
    if (dir) step(field, `cannot add pid ${pid} to ${join(dir, 'tasks')}`, () => fs.write(join(dir, 'tasks'), String(pid)));
  }
  return rec;
}

type UpdateFields = { l3CacheSchema: string; memBwSchema: string };
const renamed = (fields: UpdateFields) => (err: unknown) =>
  err instanceof TsrunError && err.field?.startsWith(`${F}.`) ? new TsrunError(err.message.slice(err.field.length + 2), fields[err.field.slice(F.length + 1) as keyof UpdateFields]) : err;

/**
 * What tsrun update --l3-cache-schema/--mem-bw-schema would write, checked
 * as create checks it (`fields` names the flag of each). Only a group of
 * the container's own is rewritten: a closID's is shared, and "/" is the
 * host's default class (runc rewrites them; tsrun refuses).
 */
export function checkIntelRdtUpdate(rec: RdtRecord, rdt: Pick<IntelRdt, 'l3CacheSchema' | 'memBwSchema'>, fields: UpdateFields, fs: ResctrlFs = realResctrlFs): SchemaLine[] {
  const flag = rdt.l3CacheSchema !== undefined ? fields.l3CacheSchema : fields.memBwSchema;
  if (!rec.removeGroup) throw new TsrunError(`the container's resctrl group ${rec.group} is closID's, which other containers may share: tsrun does not rewrite it`, flag);
  let lines: SchemaLine[];
  try {
    lines = schemaLines(rdt);
  } catch (err) {
    throw renamed(fields)(err);
  }
  for (const { line, field } of lines) {
    const info = join(rec.mount, 'info', parseLine(line)!.resource);
    if (!fs.exists(info)) throw renamed(fields)(new TsrunError(`this host's resctrl has no such resource (no ${info})`, field));
  }
  return lines;
}

/** Writes what checkIntelRdtUpdate returned, a line a write. */
export function updateIntelRdt(rec: RdtRecord, lines: SchemaLine[], fields: UpdateFields, fs: ResctrlFs = realResctrlFs): void {
  const rename = renamed(fields);
  const file = join(rec.group, 'schemata');
  const statusFile = join(rec.mount, 'info', 'last_cmd_status');
  for (const { line, field } of lines) {
    try {
      fs.write(file, `${line}\n`);
    } catch (err) {
      const status = fs.exists(statusFile) ? fs.read(statusFile).trim() : '';
      throw rename(new TsrunError(`cannot write ${JSON.stringify(line)} to ${file}: ${messageOf(err)}${status && status !== 'ok' ? ` (resctrl: ${status})` : ''}`, field));
    }
  }
}

/** An exec'd process into the container's groups (the group first: a MON group takes only its parent's tasks). */
export function joinIntelRdt(rec: RdtRecord, pid: number, fs: ResctrlFs = realResctrlFs): void {
  for (const [dir, field] of [[rec.group, F], [rec.monitor, MON]] as const) {
    if (!dir) continue;
    try {
      fs.write(join(dir, 'tasks'), String(pid));
    } catch (err) {
      throw new TsrunError(`cannot add pid ${pid} to ${join(dir, 'tasks')}: ${messageOf(err)}`, field);
    }
  }
}

// Removes what applyIntelRdt made: the MON group, then the group if it is to go (with any MON groups in it).
// Gone already is fine. One attempt each, not cgroups' retries: resctrl's rmdir does not wait for tasks (the
// kernel moves them to the parent group), so EBUSY (a mount on the directory) will not pass; it is warned
// of and the directory left, rather than failing this delete and every one after it. `failedCreate`: the create
// that made them failed, so a group it made goes even if it is a closID's.
export function removeIntelRdt(rec: RdtRecord, warn: (message: string) => void = () => {}, fs: ResctrlFs = realResctrlFs, failedCreate = false): void {
  for (const dir of [rec.monitor, rec.removeGroup || (failedCreate && rec.made) ? rec.group : undefined]) {
    try {
      if (dir) fs.rmdir(dir);
    } catch (err) {
      if (errnoCode(err) === 'EBUSY') warn(`${F}: resctrl group ${dir} not removed: ${messageOf(err)}`);
      else if (errnoCode(err) !== 'ENOENT') throw new TsrunError(`cannot remove resctrl group ${dir}: ${messageOf(err)}`, F);
    }
  }
}

// runc: "invalid intelRdt.ClosID" for ".", ".." and "/" in a longer name; also
// "" (unset to runc, "/" to crun) and the root's directories that are no groups.
function checkGroupName(name: string, field: string): void {
  if ((name !== '/' || field === F) && (['', '.', '..', 'info', 'mon_groups', 'mon_data'].includes(name) || /[/\n]/.test(name))) {
    const rule = 'a directory name other than "", ".", "..", "info", "mon_groups" and "mon_data"';
    throw new TsrunError(field === F ? `container id ${JSON.stringify(name)} cannot name a resctrl group (not ${rule}); set closID` : `invalid intelRdt.ClosID ${JSON.stringify(name)}: must be "/" or ${rule}`, field);
  }
}

function schemaLines(rdt: IntelRdt): SchemaLine[] {
  const lines: SchemaLine[] = [];
  const add = (line: string | undefined, field: string, resource = /./, prefix = '') => {
    if (!line) return; // as runc: "" is not set
    if (line.includes('\n')) throw new TsrunError('must be one schemata line (no newline)', field);
    const parsed = parseLine(line);
    if (!parsed) throw new TsrunError(`${JSON.stringify(line)} is not a schemata line ("<resource>:<id>=<value>;...")`, field);
    if (!resource.test(parsed.resource)) throw new TsrunError(`${JSON.stringify(line)} must start with "${prefix}"`, field);
    lines.push({ line, field });
  };
  // memBwSchema MUST start with MB:, l3CacheSchema SHOULD with L3: (or
  // L3CODE:/L3DATA:, the L3 resources of a host with CDP).
  add(rdt.l3CacheSchema, `${F}.l3CacheSchema`, /^L3(CODE|DATA)?$/, 'L3:');
  add(rdt.memBwSchema, `${F}.memBwSchema`, /^MB$/, 'MB:');
  rdt.schemata?.forEach((line, i) => add(line, `${F}.schemata[${i}]`));
  return lines;
}

/** "L3:0=7f0;1=1f" as its resource and domain -> value (without leading zeros: the kernel pads). */
function parseLine(line: string): { resource: string; domains: Map<number, string> } | undefined {
  const m = /^\s*(\w+)\s*:(.*)$/.exec(line);
  const domains = new Map<number, string>();
  for (const part of m?.[2].split(';') ?? []) {
    const d = /^\s*(\d+)\s*=\s*(\w+)\s*$/.exec(part);
    if (d) domains.set(Number(d[1]), d[2].toLowerCase().replace(/^0+(?=.)/, ''));
    else if (part.trim()) return undefined;
  }
  return m && domains.size ? { resource: m[1], domains } : undefined;
}

// Spec: a group that exists must match l3CacheSchema and memBwSchema; tsrun compares every line, per resource
// and domain as crun's compare_rdt_configurations (the kernel shows lines its own way: padded, reordered).
function checkExisting(current: string, lines: SchemaLine[], name: string): void {
  const have = new Map(current.split('\n').flatMap((l) => (l.trim() ? [parseLine(l)] : [])).map((p) => [p?.resource, p?.domains]));
  const want = new Map<string, { value: string; field: string }>();
  for (const { line, field } of lines) {
    const { resource, domains } = parseLine(line)!;
    for (const [domain, value] of domains) want.set(`${resource}:${domain}`, { value, field }); // a later line overrides
  }
  for (const [key, { value, field }] of want) {
    const [resource, domain] = key.split(':');
    const now = have.get(resource)?.get(Number(domain));
    if (now !== value) throw new TsrunError(`resctrl group ${JSON.stringify(name)} exists with ${now === undefined ? `no ${key}` : `${key}=${now}`}, not ${key}=${value}`, field);
  }
}
