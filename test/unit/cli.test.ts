// The command line as callers see it, without creating containers: flags,
// version, spec, features, and the error conventions (stderr, --log json
// lines, exit status 1).
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { featuresDocument } from '../../src/features';
import { schemaProblems } from '../../src/spec/schema';
import { requireAll } from '../helpers/tsrun';

const bin = join(__dirname, '..', '..', 'bin', 'tsrun');
const dir = mkdtempSync(join(tmpdir(), 'tsrun-cli-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const run = (...args: string[]) => spawnSync(bin, ['--root', join(dir, 'state'), ...args], { encoding: 'utf8' });

t.test('bin/tsrun is the launcher, started by the Node that built it (no /usr/bin/env)', async (t) => {
  const [first, ...rest] = readFileSync(bin, 'utf8').split('\n');
  const [, ...template] = readFileSync(join(__dirname, '..', '..', 'scripts', 'tsrun-launcher.js'), 'utf8').split('\n');
  t.equal(first, /\s/.test(process.execPath) ? '#!/usr/bin/env node' : `#!${process.execPath}`, 'the Node that runs the build and the tests');
  t.same(rest, template, 'the rest is scripts/tsrun-launcher.js');
});

t.test('--version', async (t) => {
  const r = run('--version');
  t.equal(r.status, 0);
  t.match(r.stdout, /^tsrun version \d+\.\d+\.\d+\ncommit: \S+\nspec: 1\.3\.0\n/);
});

/** bin/tsrun in a package of its own with only these files of dist/: what it loads must be among them. */
function barePackage(name: string, files: string[]): string {
  const pkg = join(dir, name);
  mkdirSync(join(pkg, 'bin'), { recursive: true });
  const bare = join(pkg, 'bin', 'tsrun');
  copyFileSync(bin, bare);
  for (const f of files) cpSync(join(bin, '..', '..', 'dist', f), join(pkg, 'dist', f), { recursive: true });
  return bare;
}

t.test('--version and features, alone or with --root, are printed by bin/tsrun itself, as the hot bundle prints them', async (t) => {
  const bare = barePackage('bare', ['version.txt', 'features.json']);
  t.not(spawnSync(bare, ['--log-format', 'text', 'features']).status, 0, 'without bundles, another form fails');
  for (const word of ['--version', '-v', 'features']) {
    // --log-format: a form bin/tsrun leaves to the hot bundle.
    const bundled = spawnSync(bin, ['--log-format', 'text', word], { encoding: 'utf8' });
    t.equal(bundled.status, 0, `--log-format text ${word}: exit 0`);
    for (const args of [[word], ['--root', dir, word], [`--root=${dir}`, word], [word, '--root', dir]]) {
      // A package with the launcher and the two files only: no bundle to fall back on.
      const alone = spawnSync(bare, args, { encoding: 'utf8' });
      t.equal(alone.status, 0, `${args}: exit 0`);
      t.equal(alone.stdout, bundled.stdout, `${args}: the same text`);
      t.equal(alone.stderr, '', `${args}: nothing on stderr`);
    }
  }
  // A --root without its value, with one yargs reads as a flag, or given
  // twice: bin/tsrun leaves the line to the bundles (none in this package).
  for (const args of [['--root'], ['--root', '--version'], ['features', '--root'], ['--version', '--root', '-x'], ['--root', dir, '--root', dir, '--version']]) {
    const left = spawnSync(bare, args, { encoding: 'utf8' });
    t.match(left.stderr, /ENOENT.*tsrun-hot\.js/, `${args}: left to the hot bundle`);
    t.equal(left.stdout, '', `${args}: nothing printed`);
  }
  t.match(spawnSync(bin, ['--version'], { encoding: 'utf8' }).stdout, new RegExp(`\\nnode: ${process.version.replace(/\./g, '\\.')}\\n$`), "the running Node's version last");
});

t.test('a line with create, run or exec starts from the container bundle, without the hot one', async (t) => {
  const bare = barePackage('container-only', ['tsrun-container.js', 'tsrun-container.js.bin', 'validators']);
  const bundle = join(dir, 'bad-bundle');
  mkdirSync(bundle);
  writeFileSync(join(bundle, 'config.json'), JSON.stringify({ ociVersion: '1.0.2', root: { path: 5 } }));
  const root = join(dir, 'container-only-state');
  const create = spawnSync(bare, ['--root', root, 'create', '--bundle', bundle, 'c1'], { encoding: 'utf8' });
  t.equal(create.status, 1, 'create: exit 1');
  t.match(create.stderr, /root\.path/, "create: config.json's error, from the container bundle");
  // A hot command whose id is one of those words: the container bundle runs it too.
  const state = spawnSync(bare, ['--root', root, 'state', 'run'], { encoding: 'utf8' });
  t.equal(state.stderr, 'tsrun: container does not exist: run\n', 'state run');
  t.equal(state.status, 1);
  t.match(spawnSync(bare, ['--root', root, 'state', 'c2'], { encoding: 'utf8' }).stderr, /ENOENT.*tsrun-hot\.js/, 'without the word, the missing hot bundle is needed');
  // exec with a command is a plain form too: the container bundle runs it.
  const exec = spawnSync(bare, ['--root', root, 'exec', 'c1', 'ls'], { encoding: 'utf8' });
  t.equal(exec.stderr, 'tsrun: exec failed: container does not exist: c1\n', 'exec c1 ls');
  t.equal(exec.status, 255);
  // Not a plain form (an exec option the plain parser leaves to yargs): the container bundle names the whole command line's.
  t.match(spawnSync(bare, ['--root', root, 'exec', '--cwd', '/', 'c1', 'ls'], { encoding: 'utf8' }).stderr, /ENOENT.*tsrun\.js/, 'exec --cwd / c1 ls: the whole command line is needed');
});

// runc's exec and ps take every word after the container id as the
// command's: a --log or --debug there is not tsrun's (it would make tsrun,
// as root, append its log to a file the command line names).
t.test("--log and --debug after exec's or ps's container id are the command's", async (t) => {
  const root = join(dir, 'log-words-state');
  for (const command of ['exec', 'ps']) {
    const log = join(dir, `${command}-words.log`);
    const r = spawnSync(bin, ['--root', root, command, 'missing', 'sh', '--log', log, '--debug'], { encoding: 'utf8' });
    t.not(r.status, 0, `${command}: fails (no such container)`);
    t.match(r.stderr, /container does not exist: missing/, `${command}: the error on stderr`);
    t.notOk(existsSync(log), `${command}: no log written where the command's words say`);
    // Control: before the command, --log is tsrun's.
    const before = spawnSync(bin, ['--root', root, '--log', log, command, 'missing', 'sh'], { encoding: 'utf8' });
    t.not(before.status, 0);
    t.match(readFileSync(log, 'utf8'), /container does not exist: missing/, `${command}: control: the global --log is written`);
  }
});

t.test('--help lists the runc commands', async (t) => {
  const r = run('--help');
  t.equal(r.status, 0);
  for (const c of ['create', 'start', 'state', 'kill', 'delete', 'run', 'list', 'spec', 'features']) t.match(r.stdout, new RegExp(`tsrun ${c}`), c);
  for (const f of ['--root', '--log', '--log-format', '--debug', '--systemd-cgroup']) t.match(r.stdout, new RegExp(f), f);
});

t.test('spec writes a valid config, and never over an existing one', async (t) => {
  const b = join(dir, 'bundle');
  require('node:fs').mkdirSync(b);
  t.equal(run('spec', '--bundle', b).status, 0);
  const config = JSON.parse(readFileSync(join(b, 'config.json'), 'utf8'));
  t.same(schemaProblems('config', config), [], 'valid against the schema');
  t.equal(config.process.terminal, true, 'a terminal, like runc spec');
  t.same(config.process.args, ['sh']);
  t.equal(config.root.path, 'rootfs');
  const again = run('spec', '--bundle', b);
  t.equal(again.status, 1);
  t.match(again.stderr, /config\.json already exists/);
  const rl = join(dir, 'rootless');
  require('node:fs').mkdirSync(rl);
  t.equal(run('spec', '--rootless', '--bundle', rl).status, 0);
  const rc = JSON.parse(readFileSync(join(rl, 'config.json'), 'utf8'));
  t.ok(rc.linux.namespaces.some((n: { type: string }) => n.type === 'user'), '--rootless has a user namespace');
  t.equal(rc.linux.uidMappings[0].hostID, process.getuid?.(), 'mapped onto the caller');
  t.notOk(rc.linux.namespaces.some((n: { type: string }) => n.type === 'network'), 'and no network namespace');
});

t.test('features: valid, and only what is implemented', async (t) => {
  const r = run('features');
  t.equal(r.status, 0);
  const doc = JSON.parse(r.stdout);
  t.same(doc, featuresDocument());
  t.same(schemaProblems('features', doc), [], 'valid against the features schema');
  t.equal(doc.ociVersionMin, '1.0.0');
  t.equal(doc.ociVersionMax, '1.3.0');
  t.same(doc.linux.namespaces, ['cgroup', 'ipc', 'mount', 'network', 'pid', 'time', 'user', 'uts']);
  t.equal(doc.linux.seccomp.enabled, true);
  // NOTIFY with an agent runs in test/integration/seccomp.test.ts.
  t.ok(doc.linux.seccomp.actions.includes('SCMP_ACT_NOTIFY'), 'NOTIFY');
  t.ok(doc.linux.seccomp.supportedFlags.includes('SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'), 'with a listener, WAIT_KILLABLE_RECV');
  // Idmapped mounts run in test/integration/filesystem.test.ts.
  t.equal(doc.linux.mountExtensions.idmap.enabled, true);
  // Moved devices are tested in test/integration/net-devices.test.ts.
  t.equal(doc.linux.netDevices.enabled, true);
  // Each mode and flag runs in test/integration/process.test.ts ("memoryPolicy").
  t.same([...doc.linux.memoryPolicy.modes].sort(), ['MPOL_BIND', 'MPOL_DEFAULT', 'MPOL_INTERLEAVE', 'MPOL_LOCAL', 'MPOL_PREFERRED', 'MPOL_PREFERRED_MANY', 'MPOL_WEIGHTED_INTERLEAVE']);
  t.same([...doc.linux.memoryPolicy.flags].sort(), ['MPOL_F_NUMA_BALANCING', 'MPOL_F_RELATIVE_NODES', 'MPOL_F_STATIC_NODES']);
  t.equal(doc.linux.apparmor.enabled, false, 'AppArmor: only its failure on a host without it is tested here');
  t.same(doc.hooks, ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop']);
});

t.test('errors: stderr, exit 1, and the --log file as json lines', async (t) => {
  const unknown = run('frobnicate');
  t.equal(unknown.status, 1, 'an unknown command');
  t.match(unknown.stderr, /^tsrun: /);
  const noId = run('state');
  t.equal(noId.status, 1, 'a missing id');
  const badId = run('state', '../etc');
  t.equal(badId.status, 1);
  t.match(badId.stderr, /invalid container id/);
  const systemd = run('--systemd-cgroup', 'state', 'x');
  t.equal(systemd.status, 1);
  t.match(systemd.stderr, /--systemd-cgroup is not supported/);
  const log = join(dir, 'log.json');
  const missing = run('--log', log, '--log-format', 'json', 'state', 'nope');
  t.equal(missing.status, 1);
  t.match(missing.stderr, /container does not exist: nope/, 'said on stderr');
  const entry = JSON.parse(readFileSync(log, 'utf8').trim().split('\n').pop()!);
  t.equal(entry.level, 'error');
  t.match(entry.msg, /container does not exist: nope/);
  t.ok(!Number.isNaN(Date.parse(entry.time)), 'and logged with a time, as containerd reads runc logs');
  const text = join(dir, 'log.txt');
  run('--log', text, 'state', 'nope');
  t.match(readFileSync(text, 'utf8'), /^time="[^"]+" level=error msg="container does not exist: nope"\n$/, 'text format');
  const badFormat = run('--log-format', 'xml', 'list');
  t.equal(badFormat.status, 1);
  const bundle = join(dir, 'badbundle');
  require('node:fs').mkdirSync(bundle);
  writeFileSync(join(bundle, 'config.json'), '{ not json');
  const parse = run('create', '--bundle', bundle, 'x');
  t.equal(parse.status, 1);
  t.match(parse.stderr, /config\.json is not valid JSON/);
});

t.test('list on an empty root', async (t) => {
  const r = run('list');
  t.equal(r.status, 0);
  // runc's tabwriter: columns at least 12 wide, 3 spaces of padding.
  t.equal(r.stdout, 'ID          PID         STATUS      BUNDLE      CREATED     OWNER\n');
  t.equal(run('list', '--format', 'json').stdout, '[]\n');
});

// The guards of the integration tests (requireRoot, skipOrFail) skip with
// their reason, but fail under requireAll(): what .ci/run asks for with
// its own variable, whatever the runner sets.
t.test('CI: .ci/run turns every skip of a guard into a failure', async (t) => {
  const ci = readFileSync(join(__dirname, '..', '..', '.ci', 'run'), 'utf8');
  const exported = ci.search(/^export TSRUN_REQUIRE_ALL=1$/m);
  t.ok(exported >= 0, '.ci/run exports TSRUN_REQUIRE_ALL=1');
  t.ok(exported < ci.search(/^npm test/m), 'before it runs the tests');
  t.equal(requireAll({}), false, 'no variable: skips stay skips');
  t.equal(requireAll({ TSRUN_REQUIRE_ALL: '1' }), true, 'TSRUN_REQUIRE_ALL alone');
  t.equal(requireAll({ CI: 'true' }), true, 'CI alone');
  t.equal(requireAll({ CI: 'false', TSRUN_REQUIRE_ALL: '0' }), false, '"false" and "0" are off');
});
