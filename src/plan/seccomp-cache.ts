// Compiled seccomp filters kept for the next create or exec with the same
// rules, as crun keeps them: libseccomp takes 18 to 30 ms to compile
// podman's or containerd's default profile, the same one on every
// container they make, and a program read back costs a fraction of a
// millisecond. What is kept is the output of a pure function, never a
// container's state: an entry is used only when its key, held whole in it
// and compared byte for byte, is the key of this compile: the rules as
// libseccomp gets them (after tsrun's own mapping of names to numbers),
// libseccomp's version, how the addon drives it, and the kernel
// (seccompCompilerId). An entry that does not match or is damaged is a
// miss, and the compile runs as without a cache.
//
// <root>/@seccomp-cache/<hash64 of the key>: '@' is not a character of
// container ids (store.ts), so no container can take the name and list
// skips it. Root-owned (or the rootless user's) like the rest of the state
// root; a file is key, newline, the unknown syscalls (JSON), newline, the
// program.
import { closeSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { errnoCode, messageOf } from '../errors';
import { debug } from '../log';
import { native } from '../native/addon';

/** The cache's directory in a state root. */
export function seccompCacheDir(root: string): string {
  return join(root, '@seccomp-cache');
}

/** Entries kept; past it, the oldest go when one is added. */
export const CACHE_ENTRIES = 32;
/** BPF_MAXINSNS instructions of 8 bytes: tsrun-init refuses a larger program. */
const MAX_PROGRAM = 4096 * 8;

export interface CachedCompile {
  bpf: Buffer;
  unknown: string[];
}

/** The key of a compile: undefined when the library cannot name its version (then nothing is cached). */
export function compileKey(filterText: string): string | undefined {
  const compiler = native().seccompCompilerId();
  return compiler ? `tsrun seccomp cache 1\n${compiler}\n${filterText}` : undefined;
}

function entryPath(dir: string, key: string): string {
  return join(dir, native().hash64(key));
}

/** The compile kept under key, or undefined. */
export function lookUp(dir: string, key: string): CachedCompile | undefined {
  let data: Buffer;
  try {
    data = readFileSync(entryPath(dir, key));
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') debug(`seccomp cache: ${messageOf(err)}`);
    return undefined;
  }
  const head = Buffer.from(`${key}\n`);
  const end = data.indexOf(10, head.length);
  if (end < 0 || data.compare(head, 0, head.length, 0, head.length) !== 0) return undefined;
  let unknown: unknown;
  try {
    unknown = JSON.parse(data.toString('utf8', head.length, end));
  } catch {
    return undefined;
  }
  const bpf = data.subarray(end + 1);
  if (!Array.isArray(unknown) || !unknown.every((u) => typeof u === 'string')) return undefined;
  if (bpf.length === 0 || bpf.length % 8 !== 0 || bpf.length > MAX_PROGRAM) return undefined;
  return { bpf, unknown };
}

/**
 * Keeps a compile under key: written beside its place and renamed, so a
 * reader sees all of it or nothing, and two creates storing the same entry
 * at once leave one. A failure costs the next compile only: logged, not
 * raised.
 */
export function store(dir: string, key: string, compiled: CachedCompile): void {
  const path = entryPath(dir, key);
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    // In the state root that create made (with its own mode), never making it.
    try {
      mkdirSync(dir, { mode: 0o700 });
    } catch (err) {
      if (errnoCode(err) !== 'EEXIST') throw err;
    }
    const fd = openSync(tmp, 'w', 0o600);
    try {
      for (const part of [Buffer.from(`${key}\n${JSON.stringify(compiled.unknown)}\n`), compiled.bpf]) {
        for (let off = 0; off < part.length; ) off += writeSync(fd, part, off);
      }
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
    evict(dir);
  } catch (err) {
    debug(`seccomp cache: cannot keep the filter: ${messageOf(err)}`);
    try {
      unlinkSync(tmp);
    } catch {
      // not made
    }
  }
}

/** Keeps the CACHE_ENTRIES newest entries (by when they were written). */
function evict(dir: string): void {
  const names = readdirSync(dir).filter((n) => /^[0-9a-f]{16}$/.test(n));
  if (names.length <= CACHE_ENTRIES) return;
  const byAge = names.map((n) => ({ n, t: statSync(join(dir, n), { throwIfNoEntry: false })?.mtimeMs ?? 0 })).sort((a, b) => b.t - a.t);
  for (const { n } of byAge.slice(CACHE_ENTRIES)) {
    try {
      unlinkSync(join(dir, n));
    } catch {
      // removed by another create meanwhile
    }
  }
}
