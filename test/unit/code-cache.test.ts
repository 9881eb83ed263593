// src/code-cache.ts: a generated file is compiled with its V8 code cache
// only when the cache was written after the file; a stale or foreign cache
// is never trusted, and the file still loads as require() would load it.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import Module from 'node:module';
import { compileModule, wrapModule } from '../../src/code-cache';

const dir = mkdtempSync(join(tmpdir(), 'tsrun-code-cache-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, source: string): string {
  const file = join(dir, name);
  writeFileSync(file, source);
  const first = compileModule(file, false);
  writeFileSync(`${file}.cache`, first.script.createCachedData());
  return file;
}

t.test('a file is wrapped as require() wraps it', async (t) => {
  const source = 'exports.x = 1; // a last line without its newline';
  t.equal(wrapModule(source), Module.wrap(source));
});

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

// bin/tsrun loads the hot bundle by the same rule, written out in
// scripts/tsrun-launcher.js. Run as a client runs it (env -i: the test
// runner's NODE_OPTIONS would change V8's flags, and V8 would then refuse
// any cache on its own), with a cache made the same way for a source of the
// same length, which V8 alone would take.
t.test("bin/tsrun's copy of the rule: a hot bundle newer than its cache is compiled without it", async (t) => {
  const repo = join(__dirname, '..', '..');
  const pkg = join(dir, 'pkg');
  mkdirSync(join(pkg, 'bin'), { recursive: true });
  mkdirSync(join(pkg, 'dist'));
  copyFileSync(join(repo, 'scripts', 'tsrun-launcher.js'), join(pkg, 'bin', 'tsrun'));
  const hot = join(pkg, 'dist', 'tsrun-hot.js');
  const source = (word: string) => `const word = '${word}';\nexports.runHotCommandLine = () => (require('fs').writeSync(1, word + '\\n'), 0);\n`;
  const clean = ['/usr/bin/env', '-i', `PATH=${process.env.PATH}`, process.execPath];
  const run = () => spawnSync(clean[0], [...clean.slice(1), join(pkg, 'bin', 'tsrun')], { encoding: 'utf8' });
  writeFileSync(hot, source('old'));
  const made = spawnSync(clean[0], [...clean.slice(1), '-e', `const { compileModule } = require(${JSON.stringify(join(repo, 'dist', 'src', 'code-cache.js'))}); require('fs').writeFileSync(process.argv[1] + '.cache', compileModule(process.argv[1], false).script.createCachedData());`, hot], { encoding: 'utf8' });
  t.equal(made.status, 0, `cache made: ${made.stderr}`);
  t.equal(run().stdout, 'old\n', 'with its own cache');
  // Same length, changed behind the cache's back (older than it): V8 runs
  // what it cached, so the launcher's wrapper is the one the cache was made for.
  const cacheTime = statSync(`${hot}.cache`).mtime;
  writeFileSync(hot, source('neu'));
  const earlier = new Date(cacheTime.getTime() - 60_000);
  utimesSync(hot, earlier, earlier);
  t.equal(run().stdout, 'old\n', 'the cache is taken: bin/tsrun wraps the bundle as compileModule does');
  writeFileSync(hot, source('new'));
  const later = new Date(Date.now() + 60_000);
  utimesSync(hot, later, later);
  const r = run();
  t.equal(r.stdout, 'new\n', `the new source runs, not the cached one (${r.stderr})`);
});
