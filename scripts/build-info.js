#!/usr/bin/env node
// Writes what `tsrun --version` prints (dist/version.txt), at build time: the
// version, the commit (a clone without git history says "unknown") and the
// runtime-spec version; Node's own is added when it runs.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');

const root = path.join(__dirname, '..');
let commit = 'unknown';
try {
  commit = execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { cwd: root, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
} catch {
  // not a git checkout
}
const { version } = require(path.join(root, 'package.json'));
const { specVersion } = require(path.join(root, 'dist', 'src', 'spec', 'version.js'));
fs.mkdirSync(path.join(root, 'dist'), { recursive: true });
// All but the last line, Node's version, which is the running Node's.
fs.writeFileSync(path.join(root, 'dist', 'version.txt'), `tsrun version ${version}\ncommit: ${commit}\nspec: ${specVersion}\n`);
