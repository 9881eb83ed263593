// Loading tsrun's own generated JavaScript (the CLI bundles, the config
// validators) with a V8 code cache. Every tsrun command is a fresh Node
// process, and compiling these files from source on each call cost more
// than most commands' own work. scripts/build-code-cache.js writes
// `<file>.cache` at build time, after running code every call shares, so the
// functions compiled on the way are in the cache too, not only the top level.
//
// A cache is used only if it was written after its file (V8 itself checks
// only the source's length) and V8 accepts it (same Node, same flags);
// otherwise the file is compiled as require() would compile it. bin/tsrun
// loads the hot bundle by this same rule, written out there.
import { readFileSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { Script } from 'node:vm';

export interface Compiled {
  exports: unknown;
  /** For the build: the script, to take its cache after a warm-up. */
  script: Script;
}

function freshCache(file: string): Buffer | undefined {
  try {
    const cache = `${file}.cache`;
    if (statSync(cache).mtimeMs >= statSync(file).mtimeMs) return readFileSync(cache);
  } catch {
    // no cache: compiled without one
  }
  return undefined;
}

/**
 * The source V8 compiles, and its cache is for: the file wrapped as
 * Module.wrap wraps it. bin/tsrun writes the same wrapper out (it does not
 * load node:module, which costs about 0.6 ms); a cache made for another
 * wrapper would be refused.
 */
export function wrapModule(source: string): string {
  return `(function (exports, require, module, __filename, __dirname) { ${source}\n});`;
}

/** Compiles and runs a CommonJS file as require() would, with its code cache if useCache and there is a fresh one. */
export function compileModule(file: string, useCache = true): Compiled {
  const cachedData = useCache ? freshCache(file) : undefined;
  const script = new Script(wrapModule(readFileSync(file, 'utf8')), { filename: file, cachedData });
  const mod = { exports: {} as unknown };
  const { createRequire } = require('node:module') as typeof import('node:module');
  script.runInThisContext().call(mod.exports, mod.exports, createRequire(file), mod, file, dirname(file));
  return { exports: mod.exports, script };
}

const loaded = new Map<string, unknown>();

/** require() of a generated file, compiled with its code cache; once per process. */
export function requireCompiled<T>(file: string): T {
  if (!loaded.has(file)) loaded.set(file, compileModule(file).exports);
  return loaded.get(file) as T;
}
