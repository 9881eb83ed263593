// tsrun update's flags as runc 1.1's update.go reads them, turned into a
// linux.resources fragment. Each field set by a flag is remembered with the
// flag, so that a refusal later (schema, kernel) names the flag the user
// typed. runc's rules kept: an empty value is no value; 0 of
// blkio-weight and pids-limit is "unchanged" (they are integer flags whose
// default is 0); memory sizes are docker's units.RAMInBytes (go-units
// v0.4.0, which runc 1.1.5 uses: "1.5g", "64m", "512KiB", "1 g"), "-1"
// being unlimited; the kernel-memory flags are ignored with a warning;
// the Intel RDT flags are linux.intelRdt's, not resources (see update.ts).
import { TsrunError } from '../errors';
import type { Resources } from '../spec/types';

export type Flags = Record<string, unknown>;

export interface FlagResources {
  resources: Resources;
  /** field path (linux.resources.x.y) -> the flag it came from (--flag) */
  fromFlag: Map<string, string>;
  warnings: string[];
}

const I64_MAX = (1n << 63n) - 1n;
const I64_MIN = -(1n << 63n);
const U64_MAX = (1n << 64n) - 1n;

/** A flag's value: the last one if given twice (as urfave/cli), undefined if empty. */
export function flagValue(flags: Flags, name: string): string | undefined {
  let v = flags[name];
  if (Array.isArray(v)) v = v[v.length - 1];
  if (v === undefined || v === null) return undefined;
  const s = String(v);
  return s === '' ? undefined : s;
}

const bad = (flag: string, reason: string): never => {
  throw new TsrunError(reason, `--${flag}`);
};

function integer(flag: string, text: string, min: bigint, max: bigint, kind: string): number {
  if (!/^[+-]?\d+$/.test(text)) bad(flag, `invalid value ${JSON.stringify(text)}: not ${kind}`);
  const n = BigInt(text);
  if (n < min || n > max) bad(flag, `invalid value ${JSON.stringify(text)}: out of range for ${kind}`);
  // Resources hold numbers: past 2^53 they would be written rounded.
  if (n > BigInt(Number.MAX_SAFE_INTEGER)) bad(flag, `invalid value ${JSON.stringify(text)}: larger than tsrun can pass exactly (2^53-1)`);
  return Number(n);
}

const units = ['', 'k', 'm', 'g', 't', 'p'];

/**
 * docker/go-units v0.4.0 RAMInBytes: digits with decimals, an optional
 * space, an optional binary prefix (k to p, any case), an optional "i" and
 * an optional "b". A result past 2^63-1 is refused (Go would wrap it).
 */
export function ramInBytes(text: string): bigint {
  const m = /^(\d+(\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$/.exec(text);
  if (!m) throw new Error(`invalid size: '${text}'`);
  if ((m[1].match(/\./g) ?? []).length > 1) throw new Error(`strconv.ParseFloat: parsing ${JSON.stringify(m[1])}: invalid syntax`);
  const shift = BigInt(10 * units.indexOf((m[3] ?? '').toLowerCase()));
  // Decimals as Go computes them (a float64 product, truncated); whole numbers exactly.
  const bytes = m[2] ? BigInt(Math.trunc(Number(m[1]) * 2 ** Number(shift))) : BigInt(m[1]) << shift;
  if (bytes > I64_MAX) throw new Error(`${text} is more than 2^63-1 bytes`);
  return bytes;
}

function memory(flag: string, text: string): number {
  if (text === '-1') return -1;
  try {
    const bytes = ramInBytes(text);
    if (bytes > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error(`${text} is larger than tsrun can pass exactly (2^53-1 bytes)`);
    return Number(bytes);
  } catch (err) {
    return bad(flag, (err as Error).message);
  }
}

/** The resources the flags set, with the flag of each field. */
export function resourcesFromFlags(flags: Flags): FlagResources {
  const resources: Resources = {};
  const fromFlag = new Map<string, string>();
  const warnings: string[] = [];
  const set = <K extends 'memory' | 'cpu' | 'blockIO' | 'pids'>(group: K, key: string, flag: string, value: unknown) => {
    const obj = (resources[group] ?? {}) as Record<string, unknown>;
    obj[key] = value;
    (resources as Record<string, unknown>)[group] = obj;
    fromFlag.set(`linux.resources.${group}.${key}`, `--${flag}`);
  };
  const each = (names: string[], fn: (flag: string, text: string) => void) => {
    for (const name of names) {
      const text = flagValue(flags, name);
      if (text !== undefined) fn(name, text);
    }
  };

  each(['blkio-weight'], (flag, text) => {
    const w = integer(flag, text, 0n, 65535n, 'an integer from 0 to 65535');
    if (w !== 0) set('blockIO', 'weight', flag, w);
  });
  each(['cpuset-cpus'], (flag, text) => set('cpu', 'cpus', flag, text));
  each(['cpuset-mems'], (flag, text) => set('cpu', 'mems', flag, text));
  const unsigned: [string, string][] = [['cpu-period', 'period'], ['cpu-rt-period', 'realtimePeriod'], ['cpu-share', 'shares']];
  for (const [flag, key] of unsigned) each([flag], (f, text) => set('cpu', key, f, integer(f, text, 0n, U64_MAX, 'an unsigned 64-bit integer')));
  const signed: [string, string][] = [['cpu-quota', 'quota'], ['cpu-rt-runtime', 'realtimeRuntime']];
  for (const [flag, key] of signed) each([flag], (f, text) => set('cpu', key, f, integer(f, text, I64_MIN, I64_MAX, 'a 64-bit integer')));
  const sizes: [string, string][] = [['memory', 'limit'], ['memory-swap', 'swap'], ['memory-reservation', 'reservation']];
  for (const [flag, key] of sizes) each([flag], (f, text) => set('memory', key, f, memory(f, text)));
  each(['kernel-memory', 'kernel-memory-tcp'], (flag) => warnings.push(`--${flag}: kernel memory settings are ignored and will be removed (as runc does)`));
  each(['pids-limit'], (flag, text) => {
    const n = integer(flag, text, I64_MIN, I64_MAX, 'a 64-bit integer');
    if (n !== 0) set('pids', 'limit', flag, n);
  });
  return { resources, fromFlag, warnings };
}
