#!/usr/bin/env node
'use strict';
// bin/tsrun, as scripts/build-launcher.js writes it from this file: with the
// absolute path of the Node that built tsrun on the first line instead of
// /usr/bin/env, whose exec and PATH search cost about 3 ms of every call.
// The code caches are that Node's anyway (another one rejects them).
//
// The CLI is three bundles (scripts/build-bundle.js), each compiled with its
// V8 code cache: the hot commands' bundle, then, for a line it does not run
// itself, the bundle of create, run and exec or the whole command line. The
// hot bundle is loaded here by the rule of src/code-cache.ts, written out
// because requiring that file first costs a module resolution and a compile
// of its own on every call; the hot bundle carries code-cache.ts for
// everything loaded after it. It is wrapped as Module.wrap would, and given
// this file's require: it requires nothing but Node's own modules, and
// loading node:module for Module.wrap and createRequire cost about 0.6 ms.
const fs = require('node:fs');
const path = require('node:path');
const { Script } = require('node:vm');

// bin/ and scripts/ are both one level below the package root.
const hotBundle = path.join(__dirname, '..', 'dist', 'tsrun-hot.js');
let bundle;
let cachedData;
try {
  const bin = fs.readFileSync(`${hotBundle}.bin`);
  const n = bin.readUInt32LE(0);
  cachedData = bin.subarray(4, 4 + n);
  bundle = bin.toString('utf8', 4 + n);
} catch {
  bundle = fs.readFileSync(hotBundle, 'utf8'); // no .bin: compiled without a cache
}
const source = `(function (exports, require, module, __filename, __dirname) { ${bundle}\n});`;
const script = new Script(source, { filename: hotBundle, cachedData });
const hot = { exports: {} };
script.runInThisContext().call(hot.exports, hot.exports, require, hot, hotBundle, path.dirname(hotBundle));

const argv = process.argv.slice(2);
const code = hot.exports.runHotCommandLine(argv);
if (code !== undefined) {
  process.exitCode = code;
} else {
  hot.exports
    .requireCompiled(path.join(path.dirname(hotBundle), hot.exports.bundleFor(argv)))
    .main(argv)
    .then((c) => {
      process.exitCode = c;
    });
}
