// src/code-cache.ts: a generated file is compiled from its .bin, the source
// and the V8 code cache the build made of it, read as one file; without a
// .bin it is compiled from its own source, as require() would load it; and
// every .bin of this build holds exactly the source of its file (wrapped).
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import Module from 'node:module';
import { compileModule, compiledBin, compiledSource, wrapModule } from '../../src/code-cache';

const dir = mkdtempSync(join(tmpdir(), 'tsrun-code-cache-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

/** The file, and its .bin as the build makes it (its cache taken after a compile). */
function write(name: string, source: string): string {
  const file = join(dir, name);
  writeFileSync(file, source);
  const first = compileModule(file, false);
  writeFileSync(`${file}.bin`, compiledBin(Buffer.from(source), first.script.createCachedData()));
  return file;
}

t.test('a file is wrapped as require() wraps it', async (t) => {
  const source = 'exports.x = 1; // a last line without its newline';
  t.equal(wrapModule(source), Module.wrap(source));
});

t.test("a .bin's cache is used, for its source", async (t) => {
  const file = write('fresh.js', 'exports.answer = () => "\u00e9" + 42;');
  const { exports, script } = compileModule(file);
  t.equal(script.cachedDataRejected, false, 'V8 was given the cache and took it');
  t.equal((exports as { answer(): string }).answer(), '\u00e942');
  t.equal(compiledSource(file).source, wrapModule(readFileSync(file, 'utf8')), 'the source, wrapped, its é read back');
  t.throws(() => compiledBin(Buffer.from('exports.x = "\u20ac";'), Buffer.alloc(0)), /beyond Latin-1/, 'a character a .bin cannot hold is refused');
});

t.test('the source in the .bin is what runs: the build removes a .bin before it rewrites its file', async (t) => {
  const file = write('kept.js', 'exports.answer = 42;');
  writeFileSync(file, 'exports.answer = 43;');
  t.equal((compileModule(file).exports as { answer: number }).answer, 42, "the .bin's copy");
  rmSync(`${file}.bin`);
  const { exports, script } = compileModule(file);
  t.equal(script.cachedDataRejected, undefined, 'no .bin: compiled without a cache');
  t.equal((exports as { answer: number }).answer, 43, "the file's own source");
  // A .bin of the format before the source was stored wrapped (left by a
  // dist mixed from two builds): the file's own source, without the cache.
  const bin = readFileSync(`${write('older.js', 'exports.answer = 44;')}.bin`);
  const n = bin.readUInt32LE(0);
  writeFileSync(join(dir, 'older.js.bin'), Buffer.concat([bin.subarray(0, 4 + n), Buffer.from('exports.answer = 45;')]));
  const older = compileModule(join(dir, 'older.js'));
  t.equal(older.script.cachedDataRejected, undefined, 'an unwrapped source in the .bin: compiled without its cache');
  t.equal((older.exports as { answer: number }).answer, 44, "the file's own source");
});

t.test('without a .bin, or with a cache made for other source, the file still loads', async (t) => {
  const bare = join(dir, 'bare.js');
  writeFileSync(bare, 'exports.dir = __dirname; exports.req = typeof require;');
  const loaded = compileModule(bare).exports as { dir: string; req: string };
  t.equal(loaded.dir, dir, '__dirname as require() sets it');
  t.equal(loaded.req, 'function');
  // The bundles and validators require only Node's own modules.
  const builtin = join(dir, 'builtin.js');
  writeFileSync(builtin, "exports.sep = require('node:path').sep; exports.plain = require('os').EOL;");
  t.same(compileModule(builtin).exports, { sep: '/', plain: '\n' }, "Node's modules, with and without node:");
  const relative = join(dir, 'relative.js');
  writeFileSync(relative, "require('./bare.js');");
  t.throws(() => compileModule(relative), /relative\.js requires \.\/bare\.js: a generated file may require only Node's own modules/);
  const pkg = join(dir, 'package.js');
  writeFileSync(pkg, "require('tap');");
  t.throws(() => compileModule(pkg), /package\.js requires tap: a generated file may require only Node's own modules/, 'a package, though one resolvable from here');
  const main = join(dir, 'main.js');
  writeFileSync(main, 'exports.main = require.main;');
  t.equal((compileModule(main).exports as { main: unknown }).main, require.main, "require.main is the process's");
  const foreign = write('foreign.js', 'exports.x = 1;');
  const other = write('other.js', 'exports.y = "a longer source than the first";');
  writeFileSync(`${foreign}.bin`, compiledBin(Buffer.from('exports.x = 1;'), compileModule(other, false).script.createCachedData()));
  // V8 checks the cache against the source (its length, and its flags);
  // whatever it makes of it, the source runs.
  t.same(compileModule(foreign).exports, { x: 1 }, 'the source runs, not the one the cache was made from');
});

t.test("every .bin of this build holds its file's source (build-code-cache.js made it of that source)", async (t) => {
  const dist = join(__dirname, '..', '..', 'dist');
  const bins = [...readdirSync(dist), ...readdirSync(join(dist, 'validators')).map((f) => `validators/${f}`)].filter((f) => f.endsWith('.js.bin'));
  t.ok(bins.includes('tsrun-hot.js.bin') && bins.includes('tsrun-container.js.bin') && bins.includes('validators/config.js.bin'), `the bundles and the config validator have one (${bins.join(', ')})`);
  for (const bin of bins) {
    const file = join(dist, bin.slice(0, -'.bin'.length));
    t.equal(compiledSource(file).source, wrapModule(readFileSync(file, 'utf8')), bin);
  }
});

// bin/tsrun loads the hot bundle by the same rule, written out in
// scripts/tsrun-launcher.js. Run as a client runs it (env -i: the test
// runner's NODE_OPTIONS would change V8's flags, and V8 would then refuse
// any cache on its own).
t.test("bin/tsrun's copy of the rule: the hot bundle's .bin, else the bundle itself", async (t) => {
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
  const made = spawnSync(clean[0], [...clean.slice(1), '-e', `const { compileModule, compiledBin } = require(${JSON.stringify(join(repo, 'dist', 'src', 'code-cache.js'))}); const fs = require('fs'); const f = process.argv[1]; fs.writeFileSync(f + '.bin', compiledBin(fs.readFileSync(f), compileModule(f, false).script.createCachedData()));`, hot], { encoding: 'utf8' });
  t.equal(made.status, 0, `.bin made: ${made.stderr}`);
  writeFileSync(hot, source('new'));
  t.equal(run().stdout, 'old\n', "the .bin's source runs, not the file's");
  // A .bin whose source (same length: all V8 checks) is not the one its
  // cache was made of: V8 runs the cached code, which shows the cache was
  // taken, so the launcher wraps the source as compileModule does.
  const bin = readFileSync(`${hot}.bin`);
  const n = bin.readUInt32LE(0);
  writeFileSync(`${hot}.bin`, compiledBin(Buffer.from(source('neu')), bin.subarray(4, 4 + n)));
  t.equal(run().stdout, 'old\n', 'the cache is taken');
  writeFileSync(`${hot}.bin`, Buffer.concat([bin.subarray(0, 4 + n), Buffer.from(source('neu'))]));
  t.equal(run().stdout, 'new\n', "a .bin of the older format, its source not wrapped: the bundle's own source");
  rmSync(`${hot}.bin`);
  const r = run();
  t.equal(r.stdout, 'new\n', `without a .bin, the bundle's own source (${r.stderr})`);
  t.notOk(existsSync(`${hot}.bin`));
});
