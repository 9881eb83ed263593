// tsrun's own state record (state.json): its schema is zod's
// (src/state/record.ts), and commands check each read with the validator
// the build compiles from it (dist/validators/state-record.js). The two must
// take and refuse the same records, and a refused read names the field.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { schemaProblems } from '../../src/spec/schema';
import { stateRecord } from '../../src/state/record';
import { ContainerDir } from '../../src/state/store';

const good = () => ({
  id: 'c1',
  bundle: '/b',
  rootfs: '/b/rootfs',
  phase: 'created',
  init: { pid: 42, startTime: '1234' },
  created: '2026-11-30T00:00:00.000Z',
  owner: '',
  annotations: { a: 'b' },
  cgroup: { dirs: [{ version: 1, mountpoint: '/sys/fs/cgroup/memory', controllers: ['memory'], path: '/tsrun/c1', dir: '/sys/fs/cgroup/memory/tsrun/c1' }], created: [] },
  ownPidNamespace: true,
  config: { ociVersion: '1.0.2' },
});

type Record = ReturnType<typeof good> & { [k: string]: unknown };
const cases: [string, (r: Record) => unknown, string | undefined][] = [
  ['a complete record', (r) => r, undefined],
  ['optional fields absent', (r) => ({ ...r, init: undefined, annotations: undefined }), undefined],
  ['a field of a later version (removed, as zod strips it)', (r) => ({ ...r, future: 1, init: { ...r.init, extra: true } }), undefined],
  ['resources and noNewKeyring', (r) => ({ ...r, resources: { pids: { limit: 5 } }, noNewKeyring: false }), undefined],
  ['no id', (r) => ({ ...r, id: undefined }), 'id'],
  ['phase unknown', (r) => ({ ...r, phase: 'running' }), 'phase'],
  ['pid 0', (r) => ({ ...r, init: { pid: 0, startTime: '1' } }), 'init.pid'],
  ['pid not an integer', (r) => ({ ...r, init: { pid: 1.5, startTime: '1' } }), 'init.pid'],
  ['pid a string', (r) => ({ ...r, helper: { pid: '7', startTime: '1' } }), 'helper.pid'],
  ['start time a number', (r) => ({ ...r, init: { pid: 7, startTime: 1 } }), 'init.startTime'],
  ['cgroup version 3', (r) => ({ ...r, cgroup: { ...r.cgroup, dirs: [{ ...r.cgroup.dirs[0], version: 3 }] } }), 'cgroup.dirs[0].version'],
  ['controllers not a list', (r) => ({ ...r, cgroup: { ...r.cgroup, dirs: [{ ...r.cgroup.dirs[0], controllers: 'memory' }] } }), 'cgroup.dirs[0].controllers'],
  ['annotation value not a string', (r) => ({ ...r, annotations: { a: 1 } }), 'annotations.a'],
  ['config a list', (r) => ({ ...r, config: [] }), 'config'],
  ['ownPidNamespace missing', (r) => ({ ...r, ownPidNamespace: undefined }), 'ownPidNamespace'],
  ['not an object', () => 'state', ''],
];

t.test('the compiled validator and the zod schema agree', async (t) => {
  for (const [name, change, field] of cases) {
    const record = JSON.parse(JSON.stringify(change(good())));
    const problems = schemaProblems('state-record', record);
    t.equal(stateRecord.safeParse(record).success, field === undefined, `${name}: zod ${field === undefined ? 'takes' : 'refuses'} it`);
    t.equal(problems.length === 0, field === undefined, `${name}: the compiled validator agrees`);
    if (field !== undefined) t.equal(problems[0]?.field, field, `${name}: names ${field || 'the record'}`);
  }
});

t.test('a damaged state.json is an error naming the field, never a record', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'tsrun-record-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const read = (text: string) => {
    mkdirSync(join(root, 'c1'), { recursive: true });
    writeFileSync(join(root, 'c1', 'state.json'), text);
    const { dir } = ContainerDir.open(root, 'c1', 'shared');
    try {
      return dir.read();
    } finally {
      dir.unlock();
    }
  };
  t.same(read(JSON.stringify(good())), good(), 'a good record reads back as written');
  const later = { ...good(), future: 1, init: { ...good().init, extra: true }, config: { ociVersion: '1.0.2', x: { y: 1 } } };
  const stripped = read(JSON.stringify(later));
  t.same(stripped, stateRecord.parse(later), "unknown keys removed as zod removes them; config's are its own");
  t.notOk('future' in stripped! || 'extra' in stripped!.init!, 'nothing unknown is kept (to be written back later)');
  t.throws(() => read(JSON.stringify({ ...good(), init: { pid: -1, startTime: '1' } })), /c1\/state\.json is damaged: init\.pid must be > 0/);
  t.throws(() => read('{"id": "c1", '), /c1\/state\.json is damaged: .*JSON/);
});

t.test('write: the record replaces state.json whole, readable by its owner only, and reads back the same', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'tsrun-write-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(join(root, 'c1'));
  writeFileSync(join(root, 'c1', 'state.json'), JSON.stringify(good()));
  const { dir } = ContainerDir.open(root, 'c1', 'exclusive');
  t.teardown(() => dir.unlock());
  // Longer than the record before it, with text beyond ASCII (written as UTF-8).
  const record = { ...good(), annotations: { note: 'caf\u00e9 \u2603'.repeat(2000) } } as Parameters<ContainerDir['write']>[0];
  dir.write(record);
  const file = join(root, 'c1', 'state.json');
  t.same(JSON.parse(readFileSync(file, 'utf8')), record, 'the whole record, its text intact');
  t.equal(statSync(file).mode & 0o777, 0o600, 'mode 0600');
  t.same(dir.read(), record, 'read back as written');
  dir.write(good() as Parameters<ContainerDir['write']>[0]);
  t.same(JSON.parse(readFileSync(file, 'utf8')), good(), 'a shorter record replaces it whole');
  t.notOk(existsSync(join(root, 'c1', '.state.json.tmp')), 'no temporary file left');
});

t.test('remove: the state directory goes, whatever is in it', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'tsrun-remove-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const make = (id: string, extra: (dir: string) => void) => {
    mkdirSync(join(root, id));
    writeFileSync(join(root, id, 'state.json'), JSON.stringify(good()));
    extra(join(root, id));
    return ContainerDir.open(root, id, 'exclusive').dir;
  };
  const files = make('c1', (d) => writeFileSync(join(d, 'exec.fifo'), ''));
  files.remove();
  t.notOk(existsSync(join(root, 'c1')), 'files only');
  const nested = make('c2', (d) => mkdirSync(join(d, 'sub', 'deeper'), { recursive: true }));
  nested.remove();
  t.notOk(existsSync(join(root, 'c2')), 'a directory in it too');
  const gone = make('c3', () => {});
  rmSync(join(root, 'c3'), { recursive: true });
  t.doesNotThrow(() => gone.remove(), 'already gone: nothing to do');
  for (const d of [files, nested, gone]) d.unlock();
});

t.test('a container whose directory goes while a command waits for its lock does not exist for that command', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'tsrun-lock-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  // A delete (and, for c2, a create of the same id) holds the lock while it
  // replaces the directory; open waits for it, and must not take the old one.
  const replace = { c1: 'rm -r "$1"', c2: 'mv "$1" "$1.old" && mkdir "$1" && cp "$1.old/state.json" "$1"/' };
  for (const [id, how] of Object.entries(replace)) {
    const dir = join(root, id);
    mkdirSync(dir);
    writeFileSync(join(dir, 'state.json'), JSON.stringify({ ...good(), id }));
    const ready = join(root, `${id}.locked`);
    // It acts once open waits: this process's blocked lock on the
    // directory's inode shows in /proc/locks as
    // "-> FLOCK ADVISORY READ <pid> <major>:<minor>:<inode> ..." (5 s at most).
    const waited = `i=$(stat -c %i "$1"); n=0; until grep -Eq -- "-> FLOCK +ADVISORY +READ +$3 [0-9a-f]+:[0-9a-f]+:$i " /proc/locks || [ $n -ge 500 ]; do sleep 0.01; n=$((n+1)); done`;
    const holder = spawn('flock', ['-x', dir, 'sh', '-c', `touch "$2" && ${waited} && ${how}`, 'sh', dir, ready, String(process.pid)], { stdio: 'ignore' });
    const exited = once(holder, 'exit');
    while (!existsSync(ready)) await new Promise((r) => setTimeout(r, 10));
    t.throws(() => ContainerDir.open(root, id, 'shared'), /container does not exist/, `${id}: ${how}`);
    t.same(await exited, [0, null], `${id}: the holder did its part`);
  }
  const { dir } = ContainerDir.open(root, 'c2', 'shared');
  t.equal(dir.read()?.id, 'c2', 'the new c2 opens');
  dir.unlock();
});
