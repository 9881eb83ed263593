#!/usr/bin/env node
// Bundles the compiled CLI (dist/src) into one file, dist/tsrun.js, which is
// what bin/tsrun loads. Every command starts a fresh Node process, and
// resolving and reading some forty modules (yargs and zod are many small
// ones) cost about 10 ms of each. The bundle keeps the lazy requires lazy:
// esbuild wraps each module in a function called on first use.
'use strict';
const path = require('node:path');
const esbuild = require('esbuild');

const root = path.join(__dirname, '..');
esbuild.buildSync({
  entryPoints: [path.join(root, 'dist', 'src', 'cli', 'main.js')],
  outfile: path.join(root, 'dist', 'tsrun.js'),
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  // The addon and the ahead-of-time validators are loaded by path at run time.
  external: ['*.node'],
  // Half the bytes to read and parse on every call; tsrun's errors are its
  // own sentences, not stack traces.
  minify: true,
  logLevel: 'warning',
});
