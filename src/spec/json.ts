// config.json parsed without losing integers. JSON.parse turns every number
// into a double, so 18446744073709551615 (RLIM_INFINITY, what docker writes
// for an unlimited rlimit) becomes 2^64, which fits no u64. Integers beyond
// 2^53 are kept here as their digits, beside the (rounded) numbers that the
// schema checks, and the fields that reach the kernel as 64-bit values read
// them back with exactInteger.
import { TsrunError } from '../errors';

const exact = new WeakMap<object, Map<string, bigint>>();

const U64_MAX = (1n << 64n) - 1n;
const I64_MIN = -(1n << 63n);

// Integers past 2^53 are rewritten as tagged strings before JSON.parse
// (the tag has a random part, so no string of the config can carry it),
// and the reviver turns them back into numbers, remembering the digits.
function tagBigIntegers(text: string, nonce: string): string {
  const out: string[] = [];
  let last = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      for (i++; i < text.length && text[i] !== '"'; i++) if (text[i] === '\\') i++;
      continue;
    }
    if (c !== '-' && (c < '0' || c > '9')) continue;
    const m = /-?\d+(\.\d+)?([eE][+-]?\d+)?/y;
    m.lastIndex = i;
    const token = m.exec(text)?.[0];
    if (!token) continue;
    if (!/[.eE]/.test(token) && token.replace('-', '').length > 15 && !Number.isSafeInteger(Number(token))) {
      out.push(text.slice(last, i), `"\\u0000${nonce}:${token}"`);
      last = i + token.length;
    }
    i += token.length - 1;
  }
  out.push(text.slice(last));
  return out.join('');
}

/** JSON.parse, keeping the exact value of every integer beyond 2^53 (see exactInteger). */
export function parseJson(text: string): unknown {
  // Only a run of 16 digits can be an integer past 2^53: without one (most
  // configs), JSON.parse alone, without the scan and the reviver (about a
  // millisecond of a create).
  if (!/\d{16}/.test(text)) return JSON.parse(text);
  // Unguessable enough for a tag no string in the file starts with; not
  // node:crypto, whose loading cost about 5 ms of every create.
  const nonce = Math.floor(Math.random() * 2 ** 48).toString(16);
  const tag = `\u0000${nonce}:`;
  return JSON.parse(tagBigIntegers(text, nonce), function (this: object, key: string, value: unknown) {
    if (typeof value !== 'string' || !value.startsWith(tag)) return value;
    const digits = value.slice(tag.length);
    let map = exact.get(this);
    if (!map) exact.set(this, (map = new Map()));
    map.set(key, BigInt(digits));
    return Number(digits);
  });
}

/**
 * The exact integer at holder[key] (as written in config.json), checked to
 * fit the kernel's 64-bit fields: from -2^63 up to 2^64-1.
 */
export function exactInteger(holder: object, key: string | number, field: string): bigint {
  const value = exact.get(holder)?.get(String(key)) ?? BigInt((holder as Record<string, number>)[key]);
  if (value > U64_MAX || value < I64_MIN) throw new TsrunError(`${value} does not fit in 64 bits`, field);
  return value;
}
