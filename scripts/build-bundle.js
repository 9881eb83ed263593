#!/usr/bin/env node
// Bundles the compiled CLI (dist/src) into the files bin/tsrun loads:
//   dist/tsrun-hot.js        the hot commands' plain forms (src/cli/hot-path.ts),
//                            loaded on every call;
//   dist/tsrun-container.js  create, run and exec in their plain forms
//                            (src/cli/container-commands.ts), without yargs;
//   dist/tsrun.js            the whole command line (src/cli/main.ts), for
//                            any other line.
// Every command starts a fresh Node process, and resolving and reading some
// forty modules (yargs and zod are many small ones) cost about 10 ms of
// each; reading, decoding and compiling what a command never runs costs
// in proportion to its size. Each bundle keeps the lazy requires lazy:
// esbuild wraps each module in a function called on first use.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const esbuild = require('esbuild');

const root = path.join(__dirname, '..');
const bundles = { 'tsrun-hot.js': 'hot-path.js', 'tsrun-container.js': 'container-commands.js', 'tsrun.js': 'main.js' };
for (const [out, entry] of Object.entries(bundles)) {
  // Its .bin holds the source it was made from (src/code-cache.ts): gone
  // until build-code-cache.js makes one of this source.
  fs.rmSync(path.join(root, 'dist', `${out}.bin`), { force: true });
  esbuild.buildSync({
    entryPoints: [path.join(root, 'dist', 'src', 'cli', entry)],
    outfile: path.join(root, 'dist', out),
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    // The addon and the ahead-of-time validators are loaded by path at run time.
    external: ['*.node'],
    // Half the bytes to read and parse on every call; tsrun's errors are its
    // own sentences, not stack traces.
    minify: !process.env.NOMINIFY,
    logLevel: 'warning',
  });
}
