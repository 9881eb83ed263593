#!/usr/bin/env node
'use strict';
// bin/tsrun, as scripts/build-launcher.js writes it from this file: with the
// absolute path of the Node that built tsrun on the first line instead of
// /usr/bin/env, whose exec and PATH search cost about 3 ms of every call.
// The code caches are that Node's anyway (another one rejects them).
//
// The CLI is three bundles (scripts/build-bundle.js), each compiled with its
// V8 code cache: the hot commands' bundle, the bundle of create, run and
// exec, and the whole command line. The first one is loaded here by the
// rule of src/code-cache.ts, written out because requiring that file first
// costs a module resolution and a compile of its own on every call; both
// first bundles carry code-cache.ts for everything loaded after them. It is
// wrapped as Module.wrap would, and given this file's require: the bundles
// require nothing but Node's own modules, and loading node:module for
// Module.wrap and createRequire cost about 0.6 ms.
const fs = require('node:fs');
const path = require('node:path');

// bin/ and scripts/ are both one level below the package root.
const dist = path.join(__dirname, '..', 'dist');
const argv = process.argv.slice(2);

// `tsrun --version` and `tsrun features`, alone on the line or with a
// --root (which clients pass to every command, and which changes neither),
// print what the build wrote, without loading any bundle
// (src/cli/hot-path.ts prints the same for them in any other form).
// false: not one of these, or no file.
function printBuilt(args) {
  const at = args.findIndex((a) => a === '--root' || a.startsWith('--root='));
  if (at >= 0) {
    const pair = args[at] === '--root' ? 2 : 1;
    // No value, or one yargs would read as a flag: the bundles decide.
    if (pair === 2 && (args[at + 1] === undefined || args[at + 1].startsWith('-'))) return false;
    args = [...args.slice(0, at), ...args.slice(at + pair)];
  }
  const name = args.length !== 1 ? undefined : args[0] === 'features' ? 'features.json' : args[0] === '--version' || args[0] === '-v' ? 'version.txt' : undefined;
  let text;
  try {
    text = name && fs.readFileSync(path.join(dist, name), 'utf8');
  } catch {
    return false;
  }
  if (!text) return false;
  const out = Buffer.from(name === 'version.txt' ? `${text}node: ${process.version}\n` : text);
  for (let off = 0; off < out.length; ) {
    try {
      off += fs.writeSync(1, out, off);
    } catch (err) {
      if (err.code === 'EAGAIN') continue;
      // Nobody reads any more, or (as runc) a failed write of the version.
      if (err.code !== 'EPIPE' && name !== 'version.txt') {
        fs.writeSync(2, `tsrun: ${err.message}\n`);
        process.exitCode = 1;
      }
      break;
    }
  }
  return true;
}

// A line with the word create, run or exec is most likely one of their
// plain forms: it starts from the container commands' bundle, which holds
// everything the hot bundle does (it is built from the same modules), so
// that create and exec do not load the hot bundle as well (about 3.5 ms).
// Any other line starts from the hot bundle. Either one then runs the line
// or names the bundle that does.
function loadBundle(name) {
  const { Script } = require('node:vm');
  const file = path.join(dist, name);
  const head = '(function (exports, require, module, __filename, __dirname) { ';
  let source;
  let cachedData;
  try {
    const bin = fs.readFileSync(`${file}.bin`);
    const n = bin.readUInt32LE(0);
    source = bin.toString('latin1', 4 + n); // wrapped by the build
    cachedData = bin.subarray(4, 4 + n);
  } catch {
    // No .bin: compiled without a cache.
  }
  // Not wrapped: a .bin of an older build's format, left beside a new file.
  if (!source?.startsWith(head)) {
    cachedData = undefined;
    source = `${head}${fs.readFileSync(file, 'utf8')}\n});`;
  }
  const script = new Script(source, { filename: file, cachedData });
  const mod = { exports: {} };
  script.runInThisContext().call(mod.exports, mod.exports, require, mod, file, dist);
  return mod.exports;
}

if (!printBuilt(argv)) {
  const entry = argv.some((a) => a === 'create' || a === 'run' || a === 'exec') ? 'tsrun-container.js' : 'tsrun-hot.js';
  const first = loadBundle(entry);
  const code = first.runHotCommandLine(argv);
  if (code !== undefined) {
    process.exitCode = code;
  } else {
    const name = first.bundleFor(argv);
    (name === entry ? first : first.requireCompiled(path.join(dist, name))).main(argv).then((c) => {
      process.exitCode = c;
    });
  }
}
