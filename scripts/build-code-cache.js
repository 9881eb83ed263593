#!/usr/bin/env node
// Makes dist/tsrun.js.cache, the V8 code cache bin/tsrun compiles the
// bundle with. It is taken after the bundle has run a command whose code
// every call shares (the command line, the state root, the output), so the
// functions compiled on the way are in the cache too, not only the top level.
// It must be compiled exactly as bin/tsrun compiles it: the same wrapped
// source and file name.
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { Script } = require('node:vm');
const Module = require('node:module');

const bundle = path.join(__dirname, '..', 'dist', 'tsrun.js');
const script = new Script(Module.wrap(fs.readFileSync(bundle, 'utf8')), { filename: bundle });
const mod = { exports: {} };
script.runInThisContext().call(mod.exports, mod.exports, Module.createRequire(bundle), mod, bundle, path.dirname(bundle));
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-cache-'));
mod.exports
  .main(['--root', root, 'list', '--quiet'])
  .then(() => fs.writeFileSync(`${bundle}.cache`, script.createCachedData()))
  .finally(() => fs.rmSync(root, { recursive: true, force: true }));
