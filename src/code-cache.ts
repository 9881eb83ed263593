// Loading tsrun's own generated JavaScript (the CLI bundles, the config
// validators) with a V8 code cache. Every tsrun command is a fresh Node
// process, and compiling these files from source on each call cost more
// than most commands' own work. scripts/build-code-cache.js writes
// `<file>.bin` at build time: the file's source and the cache V8 made of it
// after running code every call shares (so the functions compiled on the
// way are in it too, not only the top level).
//
// One file holds both, so a command reads one file and never asks which of
// two is newer (two stats of every file it loads). What runs is the source
// in the .bin: every build step that writes a file removes its .bin
// (build-bundle.js, build-validators.js), and a file without one is
// compiled from itself, without a cache. V8 still refuses a cache of
// another Node or other flags. bin/tsrun loads its first bundle by this same
// rule, written out there.
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { Script } from 'node:vm';

export interface Compiled {
  exports: unknown;
  /** For the build: the script, to take its cache after a warm-up. */
  script: Script;
}

/**
 * A .bin: the cache's length (u32, little-endian), the cache, then the
 * source as V8 compiles it (wrapped, wrapModule) in Latin-1, one byte a
 * character: a command decodes it and hands it to V8 as it is, without a
 * UTF-8 decode and without a copy to wrap it (about 0.4 ms of the hot
 * bundle, 2 of create's). The build's files are ASCII (esbuild escapes any
 * other character); a character beyond Latin-1 is an error of the build.
 */
export function compiledBin(source: Buffer, cache: Buffer): Buffer {
  const wrapped = wrapModule(source.toString('utf8'));
  if (/[^\u0000-\u00ff]/.test(wrapped)) throw new Error('a character beyond Latin-1: no .bin (bundle with an ASCII charset)');
  const head = Buffer.alloc(4);
  head.writeUInt32LE(cache.length, 0);
  return Buffer.concat([head, cache, Buffer.from(wrapped, 'latin1')]);
}

/** V8's kMaxRegularHeapObjectSize: a larger string is made in its large-object space. */
const LARGE_STRING = 128 * 1024;

/** The source to compile (wrapped), and its cache when the build made a .bin of the file. */
export function compiledSource(file: string): { source: string; cachedData?: Buffer } {
  let bin: Buffer;
  try {
    bin = readFileSync(`${file}.bin`);
  } catch {
    return { source: wrapModule(readFileSync(file, 'utf8')) };
  }
  const n = bin.readUInt32LE(0);
  // A .bin of 128 kB or more is decoded whole and its source sliced from
  // it: a string that large goes to V8's large-object space, outside the
  // young generation's 1 MB semispace (promoted without a copy), and a
  // slice of it is no copy. The config validator's source alone (91 kB)
  // took a tenth of that semispace in every create, where a scavenge
  // costs 1 to 3 ms. A smaller .bin would only add its cache to the copy.
  const source = bin.length >= LARGE_STRING ? bin.toString('latin1').slice(4 + n) : bin.toString('latin1', 4 + n);
  // Not wrapped: a .bin of an older build's format, left beside a new file.
  if (!source.startsWith(wrapperHead)) return { source: wrapModule(readFileSync(file, 'utf8')) };
  return { source, cachedData: bin.subarray(4, 4 + n) };
}

/**
 * The source V8 compiles, and its cache is for: the file wrapped as
 * Module.wrap wraps it. bin/tsrun writes the same wrapper out (it does not
 * load node:module, which costs about 0.6 ms); a cache made for another
 * wrapper would be refused.
 */
export function wrapModule(source: string): string {
  return `${wrapperHead}${source}\n});`;
}
const wrapperHead = '(function (exports, require, module, __filename, __dirname) { ';

/**
 * Compiles and runs a CommonJS file as require() would: with useCache, its
 * .bin's source and cache if the build made one. The generated files
 * require only Node's own modules (the bundles and validators carry
 * everything else), so the file gets a require of those alone rather than
 * one made for its path: node:module's createRequire cost about 0.5 ms of
 * every create, loading node:module. Its `main` is the process's (yargs, in
 * the whole command line's bundle, looks for tsrun's package.json there).
 */
export function compileModule(file: string, useCache = true): Compiled {
  const { source, cachedData } = useCache ? compiledSource(file) : { source: wrapModule(readFileSync(file, 'utf8')), cachedData: undefined };
  const script = new Script(source, { filename: file, cachedData });
  const mod = { exports: {} as unknown };
  const requireBuiltin = (id: string): unknown => {
    try {
      return require(id.startsWith('node:') ? id : `node:${id}`);
    } catch (err) {
      if ((err as { code?: string }).code !== 'ERR_UNKNOWN_BUILTIN_MODULE') throw err;
      throw new Error(`${file} requires ${id}: a generated file may require only Node's own modules`);
    }
  };
  requireBuiltin.main = require.main;
  script.runInThisContext().call(mod.exports, mod.exports, requireBuiltin, mod, file, dirname(file));
  return { exports: mod.exports, script };
}

const loaded = new Map<string, unknown>();

/** require() of a generated file, compiled with its code cache; once per process. */
export function requireCompiled<T>(file: string): T {
  if (!loaded.has(file)) loaded.set(file, compileModule(file).exports);
  return loaded.get(file) as T;
}
