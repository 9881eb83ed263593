// Compiled seccomp filters kept for the next create or exec with the same
// rules, as crun keeps them: libseccomp takes 18 to 30 ms to compile
// podman's or containerd's default profile, the same one on every
// container they make, and a program read back costs a fraction of a
// millisecond. What is kept is the output of a pure function, never a
// container's state: an entry is used only when its key, held whole in it
// and compared byte for byte, is the key of this compile: the rules as
// libseccomp gets them (after tsrun's own mapping of names to numbers),
// libseccomp's version and file, the addon's file, and the kernel
// (seccompCompilerId). An entry that does not match or is damaged is a
// miss, and the compile runs as without a cache.
//
// <root>/@seccomp-cache/<hash64 of the key>: '@' is not a character of
// container ids (store.ts), so no container can take the name and list
// skips it. The key is no secret (a client's default profile, the
// versions), so whoever could write an entry could lift a container's
// filter: the directory and each entry are used only when they are this
// user's own and writable by nobody else, never through a symlink; an
// entry is written to a new file (O_EXCL), synced, then renamed into
// place. A file is: the key, newline, the unknown syscalls (JSON),
// newline, the program's length, newline, the program.
import { closeSync, constants, fstatSync, fsyncSync, futimesSync, lstatSync, mkdirSync, openSync, readSync, readdirSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { errnoCode, messageOf } from '../errors';
import { debug } from '../log';
import { native } from '../native/addon';

/** The cache's directory in a state root. */
export function seccompCacheDir(root: string): string {
  return join(root, '@seccomp-cache');
}

/** Entries kept; past it, the least recently used go when one is added. */
export const CACHE_ENTRIES = 32;
/** BPF_MAXINSNS instructions of 8 bytes: tsrun-init refuses a larger program. */
const MAX_PROGRAM = 4096 * 8;
/** A temporary file older than this was left by a tsrun killed while writing it. */
const STALE_TMP_MS = 60_000;
const entryName = /^[0-9a-f]{16}$/;

export interface CachedCompile {
  bpf: Buffer;
  unknown: string[];
}

/** The key of a compile: undefined when the library cannot say what it is (then nothing is cached). */
export function compileKey(filterText: string): string | undefined {
  const compiler = native().seccompCompilerId();
  return compiler ? `tsrun seccomp cache 2\n${compiler}\n${filterText}` : undefined;
}

/** Whether a file (by its stat) is this user's own and nobody else may write it. */
function ours(st: { uid: number; mode: number }): boolean {
  return st.uid === process.geteuid!() && (st.mode & 0o022) === 0;
}

/** The directory, if it is one of ours (not a symlink). */
function trustedDir(dir: string): boolean {
  const st = lstatSync(dir, { throwIfNoEntry: false });
  return !!st && st.isDirectory() && ours(st);
}

/** The compile kept under key, or undefined. A hit marks the entry as used (its mtime). */
export function lookUp(dir: string, key: string): CachedCompile | undefined {
  let data: Buffer;
  try {
    if (!trustedDir(dir)) return undefined;
    // Not through a symlink, and no wait on a fifo: a regular file of ours only.
    const fd = openSync(join(dir, native().hash64(key)), constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    try {
      const st = fstatSync(fd);
      if (!st.isFile() || !ours(st) || st.size > key.length * 4 + MAX_PROGRAM + 4096) return undefined;
      data = Buffer.allocUnsafe(st.size);
      let got = 0;
      for (let n; got < data.length && (n = readSync(fd, data, got, data.length - got, got)) > 0; ) got += n;
      if (got !== data.length) return undefined;
      const now = Date.now() / 1000;
      futimesSync(fd, now, now);
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') debug(`seccomp cache: ${messageOf(err)}`);
    return undefined;
  }
  return parseEntry(data, key);
}

/** An entry's compile if it is whole and of key. */
function parseEntry(data: Buffer, key: string): CachedCompile | undefined {
  const head = Buffer.from(`${key}\n`);
  if (data.length < head.length || data.compare(head, 0, head.length, 0, head.length) !== 0) return undefined;
  const unknownEnd = data.indexOf(10, head.length);
  const lengthEnd = unknownEnd < 0 ? -1 : data.indexOf(10, unknownEnd + 1);
  if (lengthEnd < 0) return undefined;
  let unknown: unknown;
  try {
    unknown = JSON.parse(data.toString('utf8', head.length, unknownEnd));
  } catch {
    return undefined;
  }
  if (!Array.isArray(unknown) || !unknown.every((u) => typeof u === 'string')) return undefined;
  const length = data.toString('latin1', unknownEnd + 1, lengthEnd);
  const bpf = data.subarray(lengthEnd + 1);
  // The whole program, as long as it says: nothing cut off, nothing after.
  if (!/^[1-9]\d*$/.test(length) || Number(length) !== bpf.length) return undefined;
  if (bpf.length % 8 !== 0 || bpf.length > MAX_PROGRAM) return undefined;
  return { bpf, unknown };
}

/**
 * Keeps a compile under key. A failure costs the next compile only:
 * logged, not raised.
 */
export function store(dir: string, key: string, compiled: CachedCompile): void {
  const path = join(dir, native().hash64(key));
  const tmp = `${path}.${process.pid}.tmp`;
  let made = false;
  try {
    // In the state root that create made (with its own mode), never making it.
    try {
      mkdirSync(dir, { mode: 0o700 });
    } catch (err) {
      if (errnoCode(err) !== 'EEXIST') throw err;
    }
    if (!trustedDir(dir)) throw new Error(`${dir} is not a directory of this user's that only it may write`);
    const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
    made = true;
    try {
      for (const part of [Buffer.from(`${key}\n${JSON.stringify(compiled.unknown)}\n${compiled.bpf.length}\n`), compiled.bpf]) {
        for (let off = 0; off < part.length; ) off += writeSync(fd, part, off);
      }
      // Whole on disk before its name is (a persistent --root across a crash).
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
    made = false;
    evict(dir);
  } catch (err) {
    debug(`seccomp cache: cannot keep the filter: ${messageOf(err)}`);
    if (made) unlinkQuietly(tmp);
  }
}

/** Keeps the CACHE_ENTRIES most recently used entries, and removes what killed writers left. */
function evict(dir: string): void {
  const names = readdirSync(dir);
  const now = Date.now();
  const entries: { name: string; used: number }[] = [];
  for (const name of names) {
    const st = lstatSync(join(dir, name), { throwIfNoEntry: false });
    if (!st) continue;
    if (entryName.test(name)) entries.push({ name, used: st.mtimeMs });
    else if (name.endsWith('.tmp') && now - st.mtimeMs > STALE_TMP_MS) unlinkQuietly(join(dir, name));
  }
  if (entries.length <= CACHE_ENTRIES) return;
  entries.sort((a, b) => b.used - a.used);
  for (const { name } of entries.slice(CACHE_ENTRIES)) unlinkQuietly(join(dir, name));
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // gone already (another create's eviction, say)
  }
}
