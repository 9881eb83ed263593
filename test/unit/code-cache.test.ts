// src/code-cache.ts: a generated file is compiled with its V8 code cache
// only when the cache was written after the file; a stale or foreign cache
// is never trusted, and the file still loads as require() would load it.
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { compileModule } from '../../src/code-cache';

const dir = mkdtempSync(join(tmpdir(), 'tsrun-code-cache-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, source: string): string {
  const file = join(dir, name);
  writeFileSync(file, source);
  const first = compileModule(file, false);
  writeFileSync(`${file}.cache`, first.script.createCachedData());
  return file;
}

t.test('a cache written after its file is used', async (t) => {
  const file = write('fresh.js', 'exports.answer = () => 42;');
  const { exports, script } = compileModule(file);
  t.equal(script.cachedDataRejected, false, 'V8 was given the cache and took it');
  t.equal((exports as { answer(): number }).answer(), 42);
});

t.test('a cache older than its file is not given to V8', async (t) => {
  const file = write('stale.js', 'exports.answer = 42;');
  // Same length (all V8 checks), new content, written after the cache.
  writeFileSync(file, 'exports.answer = 43;');
  const later = new Date(Date.now() + 60_000);
  utimesSync(file, later, later);
  const { exports, script } = compileModule(file);
  t.equal(script.cachedDataRejected, undefined, 'compiled without a cache');
  t.equal((exports as { answer: number }).answer, 43, 'the new source runs');
});

t.test('without a cache, or with one for other source, the file still loads', async (t) => {
  const bare = join(dir, 'bare.js');
  writeFileSync(bare, 'exports.dir = __dirname; exports.req = typeof require;');
  const loaded = compileModule(bare).exports as { dir: string; req: string };
  t.equal(loaded.dir, dir, '__dirname as require() sets it');
  t.equal(loaded.req, 'function');
  const foreign = write('foreign.js', 'exports.x = 1;');
  const other = write('other.js', 'exports.y = "a longer source than the first";');
  writeFileSync(`${foreign}.cache`, compileModule(other, false).script.createCachedData());
  // V8 checks the cache against the source (its length, and its flags);
  // whatever it makes of it, the file's own code runs.
  t.same(compileModule(foreign).exports, { x: 1 }, 'the file runs, not the source the cache was made from');
});
