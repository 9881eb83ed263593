#!/usr/bin/env node
// Writes <file>.bin, the source and its V8 code cache (src/code-cache.ts), of
// each file tsrun loads that way: the three CLI bundles and the config
// validators. Each cache is taken
// in a child process (its output is not the build's) after a warm-up of
// calls every command of that kind shares, so the functions compiled on the
// way are in the cache too, not only the top level. A warm-up call that no
// longer works as expected fails the build: the cache would quietly go cold.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const dist = path.join(__dirname, '..', 'dist');
// The state record's validator is not among them: it is in the bundles.
const validators = fs.readdirSync(path.join(dist, 'validators')).filter((f) => f.endsWith('.js') && f !== 'state-record.js');
const files = ['tsrun-hot.js', 'tsrun-container.js', 'tsrun.js', ...validators.map((f) => `validators/${f}`)];

if (process.argv[2] !== '--child') {
  for (const file of files) {
    fs.rmSync(path.join(dist, `${file}.bin`), { force: true });
    const r = spawnSync(process.execPath, [__filename, '--child', file], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
    if (r.status !== 0) {
      process.stderr.write(`code cache of dist/${file}: ${r.stderr || `exit ${r.status}`}\n`);
      process.exit(1);
    }
  }
  process.exit(0);
}

// The child: compile without a cache, warm up, write the cache.
const { compileModule, compiledBin } = require(path.join(dist, 'src', 'code-cache.js'));
const file = process.argv[3];
const source = fs.readFileSync(path.join(dist, file));
const { exports: loaded, script } = compileModule(path.join(dist, file), false);
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-cache-'));

function expect(what, got, want) {
  if (got !== want) throw new Error(`warm-up ${what}: got ${got}, expected ${want}`);
}

/** A container record whose init is this process (running), with a cgroup of the given version that does not exist. */
function fakeRecord(id, version) {
  const stat = fs.readFileSync('/proc/self/stat', 'utf8');
  const startTime = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  return {
    id,
    bundle: scratch,
    rootfs: path.join(scratch, 'rootfs'),
    phase: 'created',
    init: { pid: process.pid, startTime },
    created: new Date().toISOString(),
    owner: '',
    cgroup: { dirs: [{ version, mountpoint: scratch, controllers: version === 1 ? ['freezer'] : [], path: `/${id}`, dir: path.join(scratch, id) }], created: [] },
    ownPidNamespace: true,
    config: { ociVersion: '1.0.2', process: { args: ['true'], cwd: '/' }, root: { path: 'rootfs' } },
  };
}

function writeContainer(root, rec) {
  fs.mkdirSync(path.join(root, rec.id), { recursive: true });
  fs.writeFileSync(path.join(root, rec.id, 'state.json'), JSON.stringify(rec));
}

function fakeContainer(root, id, version) {
  writeContainer(root, fakeRecord(id, version));
}

/** A child process of this one, as a container's init: its pid and start time. */
function childInit(child) {
  const stat = fs.readFileSync(`/proc/${child.pid}/stat`, 'utf8');
  return { pid: child.pid, startTime: stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] };
}

async function warmUp() {
  const root = path.join(scratch, 'root');
  if (file === 'tsrun-hot.js') {
    const run = (argv) => loaded.runHotCommandLine(argv);
    fakeContainer(root, 'c1', 1);
    fakeContainer(root, 'c2', 2);
    expect('state (cgroup v1)', run(['--root', root, 'state', 'c1']), 0);
    expect('state (cgroup v2)', run(['--root', root, 'state', 'c2']), 0);
    expect('list', run(['--root', root, 'list']), 0);
    expect('list json', run(['--root', root, 'list', '--format', 'json']), 0);
    expect('state of a missing container', run(['--root', root, '--log-format', 'json', 'state', 'missing']), 1);
    expect('kill of a missing container', run(['--root', root, 'kill', 'missing', 'KILL']), 1);
    expect('features', run(['features']), 0);
    expect('--version', run(['--version']), 0);
    // start, kill and delete of a container whose init is a child of this
    // process (cat, which ends with this process's end of its stdin), with
    // its exec fifo open here, and a cgroup that is a directory of the
    // scratch: start writes the fifo, kill ends the child, delete removes
    // the directories.
    const child = require('node:child_process').spawn('cat', [], { stdio: ['pipe', 'ignore', 'ignore'] });
    try {
      await new Promise((resolve, reject) => child.once('spawn', resolve).once('error', reject));
      const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(signal)));
      const rec = { ...fakeRecord('c3', 1), init: childInit(child) };
      fs.mkdirSync(rec.cgroup.dirs[0].dir);
      rec.cgroup.created = [rec.cgroup.dirs[0].dir];
      writeContainer(root, rec);
      const fifo = path.join(root, 'c3', 'exec.fifo');
      expect('mkfifo', spawnSync('mkfifo', [fifo]).status, 0);
      const reader = fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
      expect('start', run(['--root', root, 'start', 'c3']), 0);
      fs.closeSync(reader);
      expect('start consumes the exec fifo', fs.existsSync(fifo), false);
      expect('kill', run(['--root', root, 'kill', 'c3', 'KILL']), 0);
      const timeout = new Promise((resolve) => setTimeout(resolve, 5000, 'still running 5 s after').unref());
      expect('the killed init', await Promise.race([exited, timeout]), 'SIGKILL');
      expect('delete', run(['--root', root, 'delete', 'c3']), 0);
      expect('delete removes the cgroup', fs.existsSync(rec.cgroup.dirs[0].dir), false);
      expect('delete removes the container', fs.existsSync(path.join(root, 'c3')), false);
    } finally {
      child.kill('SIGKILL');
    }
  } else if (file === 'tsrun-container.js') {
    // Refused at validation and at the start: nothing is created.
    fs.writeFileSync(path.join(scratch, 'config.json'), JSON.stringify({ ociVersion: '1.0.2', root: { path: 5 } }));
    expect('create of a bad bundle', await loaded.main(['--root', root, 'create', '--bundle', scratch, '--pid-file', path.join(scratch, 'pid'), 'c2']), 1);
    expect('exec in a missing container', await loaded.main(['--root', root, 'exec', '--process', path.join(scratch, 'process.json'), '--detach', 'missing']), 255);
    // create's steps up to tsrun-init's start: its state in the scratch
    // root, its cgroups in an in-memory tree (src/lifecycle/create-rehearsal.ts).
    fs.rmSync(path.join(scratch, 'config.json'));
    const spec = spawnSync(process.execPath, [path.join(__dirname, '..', 'bin', 'tsrun'), 'spec', '--bundle', scratch]);
    expect('tsrun spec', spec.status, 0);
    const config = JSON.parse(fs.readFileSync(path.join(scratch, 'config.json'), 'utf8'));
    config.process.terminal = false; // as containerd's shim and conmon create most containers
    fs.writeFileSync(path.join(scratch, 'config.json'), JSON.stringify(config));
    fs.mkdirSync(path.join(scratch, 'rootfs'));
    expect('a rehearsed create', loaded.rehearseCreate(root, scratch) > 0, true);
  } else if (file === 'tsrun.js') {
    // (Not --help: yargs ends the process after it.)
    expect('exec in a missing container', await loaded.main(['--root', root, 'exec', 'missing', 'true']), 255);
    expect('spec', await loaded.main(['spec', '--bundle', scratch]), 0);
    // Refused at validation: nothing is created.
    fs.writeFileSync(path.join(scratch, 'config.json'), JSON.stringify({ ociVersion: '1.0.2', root: { path: 5 } }));
    expect('create of a bad bundle', await loaded.main(['--root', root, 'create', '--bundle', scratch, 'c2']), 1);
  } else if (file === 'validators/config.js') {
    fs.rmSync(path.join(scratch, 'config.json'), { force: true });
    const spec = spawnSync(process.execPath, [path.join(__dirname, '..', 'bin', 'tsrun'), 'spec', '--bundle', scratch]);
    expect('tsrun spec', spec.status, 0);
    expect('validation of the default config', loaded(JSON.parse(fs.readFileSync(path.join(scratch, 'config.json'), 'utf8'))), true);
  }
}

warmUp()
  .then(() => {
    // The source as compiled here: a file rewritten since gets no .bin.
    if (!fs.readFileSync(path.join(dist, file)).equals(source)) throw new Error(`dist/${file} changed while its cache was made`);
    fs.writeFileSync(path.join(dist, `${file}.bin`), compiledBin(source, script.createCachedData()));
  })
  .finally(() => fs.rmSync(scratch, { recursive: true, force: true }))
  .catch((err) => {
    process.stderr.write(`${err.message}\n`);
    process.exitCode = 1;
  });
