// The wire protocol with tsrun-init; the mirror of addon/init/protocol.h
// (read its header comment). Change both together.

import { TsrunError } from '../errors';

/** The largest frame tsrun-init accepts (MAX_FRAME in protocol.h). */
export const MAX_FRAME = 64 << 20;

export const Msg = {
  PLAN: 1,
  ACK: 2,
  IDMAP: 10,
  PID: 11,
  HOOKS: 12,
  READY: 13,
  ERROR: 14,
  WARN: 15,
} as const;

export const Tag = {
  NS_JOIN: 1,
  NS_NEW: 2,
  TIME_OFFSET: 3,
  FORK: 4,
  JOIN_ROOT: 5,
  HOSTNAME: 10,
  DOMAINNAME: 11,
  LOOPBACK: 12,
  ROOT: 13,
  MOUNT: 14,
  BIND: 15,
  MKDEV: 16,
  SYMLINK: 17,
  HOOKS: 18,
  PIVOT: 19,
  SYSCTL: 20,
  MASK: 21,
  READONLY: 22,
  ROOT_RO: 23,
  CONSOLE: 24,
  KEYRING: 25,
  MKDIR: 26,
  RLIMIT: 30,
  NO_NEW_PRIVS: 32,
  USER: 33,
  UMASK: 34,
  CAPS: 35,
  CWD: 36,
  ARGS: 37,
  ENV: 38,
  EXEC_FIFO: 39,
  PRESERVE_FDS: 40,
  SECCOMP: 41,
  PERSONALITY: 42,
  SCHEDULER: 43,
  IOPRIO: 44,
  START_REPORT: 45,
  HOOK_STATE: 46,
  START_HOOK: 47,
  HOOK_EXEC: 51,
} as const;

export type TagName = keyof typeof Tag;
/** A field; `{ fd }` is filled in with the fd number when the plan is encoded. */
export type FieldValue = string | number | bigint | Buffer | { fd: FdName };
export type FdName = 'execFifo' | 'consoleSocket' | 'startReport';

/** One instruction for tsrun-init; `field` is the config field it comes from. */
export interface PlanRecord {
  tag: TagName;
  fields: FieldValue[];
  field: string;
}

function fieldBytes(v: FieldValue, fds: Partial<Record<FdName, number>>): Buffer {
  if (Buffer.isBuffer(v)) return v;
  if (typeof v === 'object') {
    const fd = fds[v.fd];
    if (fd === undefined) throw new Error(`no fd for ${v.fd}`);
    return Buffer.from(String(fd));
  }
  if (typeof v === 'string' && v.includes('\0')) throw new Error('NUL byte in a plan field');
  // A double past 2^53 would print rounded digits: 64-bit values are bigints.
  if (typeof v === 'number' && !Number.isSafeInteger(v)) throw new RangeError(`${v} cannot be passed exactly`);
  return Buffer.from(String(v));
}

/** Serializes records; the ref of record i is i (errors come back with it). */
export function encodePlan(records: PlanRecord[], fds: Partial<Record<FdName, number>>): Buffer {
  const parts: Buffer[] = [];
  const sizes: number[] = [];
  records.forEach((r, ref) => {
    const before = parts.length;
    const head = Buffer.alloc(12);
    head.writeUInt32LE(Tag[r.tag], 0);
    head.writeUInt32LE(ref, 4);
    head.writeUInt32LE(r.fields.length, 8);
    parts.push(head);
    for (const f of r.fields) {
      let b: Buffer;
      try {
        b = fieldBytes(f, fds);
      } catch (err) {
        if (err instanceof RangeError) throw new TsrunError(err.message, r.field);
        throw err;
      }
      const len = Buffer.alloc(4);
      len.writeUInt32LE(b.length, 0);
      parts.push(len, b);
    }
    sizes[ref] = parts.slice(before).reduce((n, p) => n + p.length, 0);
  });
  const total = sizes.reduce((a, b) => a + b, 0);
  if (total > MAX_FRAME) {
    // Name the field that makes most of it: that is the one to shrink.
    const big = sizes.indexOf(Math.max(...sizes));
    const mib = (n: number) => `${(n / (1 << 20)).toFixed(1)} MiB`;
    throw new TsrunError(`the container's plan would be ${mib(total)}, over the ${mib(MAX_FRAME)} its init accepts; this field alone is ${mib(sizes[big])}`, records[big].field);
  }
  return Buffer.concat(parts);
}
