// The wire protocol with tsrun-init. Tags, messages and each record's
// named, typed fields come from one table, src/init/wire-protocol.json, from
// which scripts/gen-protocol.js writes protocol-table.ts (used here) and
// addon/init/protocol.h (tsrun-init's side).

import { TsrunError } from '../errors';
import { MAX_FRAME, type RecordFields, type TagName, Tag, layouts } from './protocol-table';

export { MAX_FRAME, Msg, SymlinkWhen, Tag, type RecordFields, type TagName } from './protocol-table';

export type FdName = 'execFifo' | 'consoleSocket' | 'startReport';
/** The TypeScript value of each field type of the table. */
export interface WireValue {
  string: string;
  bytes: Buffer;
  /** 64-bit values past 2^53 are bigints. */
  u64: number | bigint;
  i64: number | bigint;
  bool: boolean;
  /** Filled in with the fd number when the plan is encoded. */
  fd: { fd: FdName };
  strings: readonly string[];
  u64s: readonly (number | bigint)[];
}

/** A field as sent; `{ fd }` is filled in with the fd number when the plan is encoded. */
export type FieldValue = string | number | bigint | Buffer | { fd: FdName };

/** One instruction for tsrun-init; `field` is the config field it comes from, `fields` its wire fields (made by record()). */
export interface PlanRecord {
  tag: TagName;
  fields: FieldValue[];
  field: string;
}

type FieldType = keyof WireValue;
type Layout = readonly (readonly [string, FieldType])[];
const isList = (t: FieldType) => t === 'strings' || t === 'u64s';

/**
 * A record from its named fields, in the wire order of the table: a list is
 * its length then its items, except the last field, which runs to the end.
 */
export function record<T extends TagName>(tag: T, field: string, ...[values]: {} extends RecordFields[T] ? [RecordFields[T]?] : [RecordFields[T]]): PlanRecord {
  const named = (values ?? {}) as Record<string, unknown>;
  const layout: Layout = layouts[tag];
  const fields: FieldValue[] = [];
  // Index loops, here and in encodePlan: create runs this code once, in
  // V8's interpreter, where each array destructuring and for-of allocates
  // an iterator and a result object per element: encodePlan alone made
  // 157 kB of garbage for a 3.7 kB plan, and create then filled its young
  // generation (a scavenge).
  for (let i = 0; i < layout.length; i++) {
    const name = layout[i][0];
    const type = layout[i][1];
    const v = named[name];
    if (v === undefined) throw new Error(`plan record ${tag} without ${name}`);
    if (isList(type)) {
      const items = v as readonly (string | number | bigint)[];
      if (i < layout.length - 1) fields.push(items.length);
      for (let k = 0; k < items.length; k++) fields.push(items[k]);
    } else if (type === 'bool') {
      fields.push(v ? 1 : 0);
    } else {
      fields.push(v as FieldValue);
    }
  }
  return { tag, field, fields };
}

/** The named fields of a record, read back from its wire fields (tests, debugging). */
export function recordValues<T extends TagName>(r: PlanRecord, tag: T): RecordFields[T] {
  if (r.tag !== tag) throw new Error(`a ${r.tag} record, not ${tag}`);
  const layout: Layout = layouts[tag];
  const out: Record<string, unknown> = {};
  let at = 0;
  layout.forEach(([name, type], i) => {
    if (!isList(type)) {
      const v = r.fields[at++];
      out[name] = type === 'bool' ? Number(v) !== 0 : v;
    } else if (i < layout.length - 1) {
      const n = Number(r.fields[at++]);
      out[name] = r.fields.slice(at, at + n);
      at += n;
    } else {
      out[name] = r.fields.slice(at);
      at = r.fields.length;
    }
  });
  if (at !== r.fields.length) throw new Error(`plan record ${tag}: ${r.fields.length} fields, its layout has ${at}`);
  return out as RecordFields[T];
}

/** Throws unless the record's wire fields fit its layout (what tsrun-init checks). */
function checkShape(r: PlanRecord): void {
  const layout: Layout = layouts[r.tag];
  if (!layout) throw new Error(`unknown plan record ${String(r.tag)}`);
  let lists = 0;
  for (let i = 0; i < layout.length; i++) if (isList(layout[i][1])) lists++;
  let at = layout.length - lists;
  if (r.fields.length < at) throw malformed(r);
  for (let k = 0; k < lists; k++) {
    if (k === lists - 1) return; // the last list runs to the end
    const n = Number(r.fields[at++]);
    if (!Number.isInteger(n) || n < 0 || at + n > r.fields.length) throw malformed(r);
    at += n;
  }
  if (at !== r.fields.length) throw malformed(r);
}

function malformed(r: PlanRecord): Error {
  return new Error(`malformed plan record ${r.tag}: ${r.fields.length} fields`);
}

/** A field's bytes, or its text (written as UTF-8). */
function fieldValue(v: FieldValue, fds: Partial<Record<FdName, number>>): Buffer | string {
  if (Buffer.isBuffer(v)) return v;
  if (typeof v === 'object') {
    const fd = fds[v.fd];
    if (fd === undefined) throw new Error(`no fd for ${v.fd}`);
    return String(fd);
  }
  if (typeof v === 'string' && v.includes('\0')) throw new Error('NUL byte in a plan field');
  // A double past 2^53 would print rounded digits: 64-bit values are bigints.
  if (typeof v === 'number' && !Number.isSafeInteger(v)) throw new RangeError(`${v} cannot be passed exactly`);
  return String(v);
}

/** Writes v (below 2^32) at `at`, little-endian; returns the offset after it. */
function putU32(out: Buffer, at: number, v: number): number {
  out[at] = v & 0xff;
  out[at + 1] = (v >>> 8) & 0xff;
  out[at + 2] = (v >>> 16) & 0xff;
  out[at + 3] = v >>> 24;
  return at + 4;
}

/** Serializes records; the ref of record i is i (errors come back with it). */
export function encodePlan(records: PlanRecord[], fds: Partial<Record<FdName, number>>): Buffer {
  // Measured first, then written into one buffer: a Buffer for each field
  // and its length cost more than the rest of the encoding. The values and
  // lengths are kept in record order, one flat list for the whole plan.
  const values: (Buffer | string)[] = [];
  const lengths: number[] = [];
  const sizes: number[] = [];
  let total = 0;
  for (let ref = 0; ref < records.length; ref++) {
    const r = records[ref];
    checkShape(r);
    let size = 12;
    for (let i = 0; i < r.fields.length; i++) {
      let v: Buffer | string;
      try {
        v = fieldValue(r.fields[i], fds);
      } catch (err) {
        if (err instanceof RangeError) throw new TsrunError(err.message, r.field);
        throw err;
      }
      const length = typeof v === 'string' ? Buffer.byteLength(v) : v.length;
      values.push(v);
      lengths.push(length);
      size += 4 + length;
    }
    sizes.push(size);
    total += size;
  }
  if (total > MAX_FRAME) {
    // Name the field that makes most of it: that is the one to shrink.
    const big = sizes.indexOf(Math.max(...sizes));
    const mib = (n: number) => `${(n / (1 << 20)).toFixed(1)} MiB`;
    throw new TsrunError(`the container's plan would be ${mib(total)}, over the ${mib(MAX_FRAME)} its init accepts; this field alone is ${mib(sizes[big])}`, records[big].field);
  }
  // Our own little-endian writes: Buffer's writeUInt32LE checks its
  // arguments through helpers that allocate on every call.
  const out = Buffer.allocUnsafe(total);
  let at = 0;
  let next = 0;
  for (let ref = 0; ref < records.length; ref++) {
    const r = records[ref];
    at = putU32(out, at, Tag[r.tag]);
    at = putU32(out, at, ref);
    at = putU32(out, at, r.fields.length);
    for (let i = 0; i < r.fields.length; i++, next++) {
      const v = values[next];
      at = putU32(out, at, lengths[next]);
      at += typeof v === 'string' ? out.write(v, at) : v.copy(out, at);
    }
  }
  return out;
}
