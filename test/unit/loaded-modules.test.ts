// Which of Node's own modules a command loads beyond those Node starts with.
// Every command is a fresh Node process, and loading node:os costs about
// 0.15 ms, node:tty about 2 and node:child_process about 3: each is required
// where it is used (a hook, a signal's name, a terminal), not at the top of
// a module every command loads.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { tsrunBin } from '../helpers/tsrun';

const dir = mkdtempSync(join(tmpdir(), 'tsrun-modules-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const preload = join(dir, 'record.js');
writeFileSync(preload, "process.on('exit', () => require('fs').writeFileSync(process.env.LOADED_TO, process.moduleLoadList.join('\\n')));");

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
