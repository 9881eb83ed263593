// Which of Node's own modules a command loads beyond those Node starts with.
// Every command is a fresh Node process, and loading node:os costs about
// 0.15 ms, node:tty about 2 and node:child_process about 3: each is required
// where it is used (a hook, a signal's name, a terminal), not at the top of
// a module every command loads.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { tsrunBin } from '../helpers/tsrun';

const dir = mkdtempSync(join(tmpdir(), 'tsrun-modules-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const preload = join(dir, 'record.js');
writeFileSync(preload, "process.on('exit', () => require('fs').writeFileSync(process.env.LOADED_TO, process.moduleLoadList.join('\\n')));");
const mapsPreload = join(dir, 'maps.js');
writeFileSync(mapsPreload, "process.on('exit', () => require('fs').writeFileSync(process.env.MAPS_TO, require('fs').readFileSync('/proc/self/maps', 'utf8')));");

/** The NativeModule entries the command loaded (env -i: without the runner's NODE_OPTIONS). */
function loaded(t: Test, args: string[]): string[] {
  const to = join(dir, 'loaded');
  rmSync(to, { force: true }); // not the list of the command before
  const r = spawnSync('/usr/bin/env', ['-i', `LOADED_TO=${to}`, process.execPath, '-r', preload, tsrunBin, '--root', join(dir, 'root'), ...args], { encoding: 'utf8' });
  t.not(r.status, null, `${args.join(' ')} ran (${r.stderr})`);
  return readFileSync(to, 'utf8').split('\n').filter((m) => m.startsWith('NativeModule ')).map((m) => m.slice('NativeModule '.length));
}

const heavy = ['os', 'tty', 'child_process', 'net', 'readline'];
writeFileSync(join(dir, 'config.json'), JSON.stringify({ ociVersion: '1.0.2', root: { path: 5 } }));
for (const args of [['state', 'missing'], ['kill', 'missing', '9'], ['delete', 'missing'], ['create', '--bundle', dir, 'c1']]) {
  t.test(args[0], async (t) => {
    const mods = loaded(t, args);
    t.ok(mods.includes('vm'), 'a bundle was loaded (by node:vm)');
    t.same(heavy.filter((m) => mods.includes(m)), [], `none of ${heavy.join(', ')}`);
  });
}

t.test('kill with a signal by name loads node:os, for its table', async (t) => {
  t.ok(loaded(t, ['kill', 'missing', 'TERM']).includes('os'));
});

// state and list read a record that create has finished without the
// container's lock, whose flock is the addon's (query.ts): no dlopen. A
// record still 'creating' needs the lock, to tell a create at work from
// one that died: the addon then loads, as it does for kill.
t.test('state and list of a created container do not load the addon', async (t) => {
  const root = join(dir, 'root-addon');
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const init = { pid: process.pid, startTime: stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] };
  const record = (phase: string) => ({
    id: 'c1', bundle: dir, rootfs: join(dir, 'rootfs'), phase, init, created: new Date().toISOString(), owner: '',
    cgroup: { dirs: [], created: [] }, ownPidNamespace: true, config: { ociVersion: '1.0.2', process: { args: ['true'], cwd: '/' }, root: { path: 'rootfs' } },
  });
  mkdirSync(join(root, 'c1'), { recursive: true });
  const addonLoaded = (args: string[]) => {
    const to = join(dir, 'maps');
    rmSync(to, { force: true });
    const r = spawnSync('/usr/bin/env', ['-i', `MAPS_TO=${to}`, process.execPath, '-r', mapsPreload, tsrunBin, '--root', root, ...args], { encoding: 'utf8' });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr, addon: readFileSync(to, 'utf8').includes('tsrun_native.node') };
  };
  writeFileSync(join(root, 'c1', 'state.json'), JSON.stringify(record('created')));
  const state = addonLoaded(['state', 'c1']);
  t.equal(state.status, 0, state.stderr);
  t.match(JSON.parse(state.stdout), { id: 'c1', status: 'running', pid: process.pid }, 'the state of the record (this process as its init)');
  t.notOk(state.addon, 'state: no addon');
  const list = addonLoaded(['list', '-q']);
  t.equal(list.stdout, 'c1\n');
  t.notOk(list.addon, 'list: no addon');
  const del = addonLoaded(['delete', 'c1']);
  t.match(del.stderr, /running/, 'control: delete refuses a running container...');
  t.ok(del.addon, '...under the lock, so with the addon, where this looks');
  writeFileSync(join(root, 'c1', 'state.json'), JSON.stringify(record('creating')));
  const creating = addonLoaded(['state', 'c1']);
  t.match(JSON.parse(creating.stdout), { status: 'stopped' }, 'a create that is not at work (no lock held): stopped');
  t.ok(creating.addon, 'a record still creating: the lock, so the addon');
});
