#!/usr/bin/env node
// Writes bin/tsrun, the command clients run, from scripts/tsrun-launcher.js:
// the same code, started by this Node by its absolute path. A
// `#!/usr/bin/env node` line costs an extra exec and a PATH search on every
// call; and the V8 code caches the build makes are valid for this Node only.
// Build again after moving or replacing Node (bin/tsrun names it).
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const source = fs.readFileSync(path.join(__dirname, 'tsrun-launcher.js'), 'utf8');
// A path with a space cannot be a #! line's interpreter: env finds Node then.
const interpreter = /\s/.test(process.execPath) ? '/usr/bin/env node' : process.execPath;
const launcher = source.replace(/^#!.*\n/, `#!${interpreter}\n`);
fs.mkdirSync(path.join(root, 'bin'), { recursive: true });
fs.writeFileSync(path.join(root, 'bin', 'tsrun.tmp'), launcher, { mode: 0o755 });
fs.renameSync(path.join(root, 'bin', 'tsrun.tmp'), path.join(root, 'bin', 'tsrun'));
