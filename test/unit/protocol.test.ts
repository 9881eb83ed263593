// The plan protocol's one table (src/init/wire-protocol.json): the two
// generated ends are what the table gives, record() lays named fields out as
// tsrun-init reads them, and tsrun-init refuses what does not fit the table.
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { Channel } from '../../src/init/channel';
import { initError } from '../../src/init/launcher';
import { encodePlan, Msg, record, recordValues, type PlanRecord, Tag, type TagName, type WireValue } from '../../src/init/protocol';
import { layouts } from '../../src/init/protocol-table';
import { initHelperPath, native } from '../../src/native/addon';

const root = join(__dirname, '..', '..');
const generator = join(root, 'scripts', 'gen-protocol.js');

t.test('the generated protocol.h and protocol-table.ts are up to date with the table', async (t) => {
  const r = spawnSync(process.execPath, [generator, '--check'], { encoding: 'utf8' });
  t.equal(r.status, 0, r.stderr);
  // The check can fail: a table one MOUNT field short (the drift there once was).
  const dir = mkdtempSync(join(tmpdir(), 'tsrun-protocol-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const table = JSON.parse(readFileSync(join(root, 'src/init/wire-protocol.json'), 'utf8'));
  const mount = table.records.find((x: { name?: string }) => x.name === 'MOUNT');
  mount.fields = mount.fields.filter((f: { name: string }) => f.name !== 'attrSet');
  writeFileSync(join(dir, 'table.json'), JSON.stringify(table));
  const stale = spawnSync(process.execPath, [generator, '--check', '--table', join(dir, 'table.json')], { encoding: 'utf8' });
  t.equal(stale.status, 1);
  t.match(stale.stderr, /^src\/init\/protocol-table\.ts and addon\/init\/protocol\.h out of date/);
  // and refuses a table that would not be read back the same on both ends
  mount.fields.push({ name: 'late', type: 'string' });
  mount.fields.splice(0, 0, { name: 'first', type: 'strings' });
  writeFileSync(join(dir, 'table.json'), JSON.stringify(table));
  const bad = spawnSync(process.execPath, [generator, '--check', '--table', join(dir, 'table.json')], { encoding: 'utf8' });
  t.not(bad.status, 0);
  t.match(bad.stderr, /^src\/init\/wire-protocol\.json: MOUNT\.source: a field after a list$/m);
});

t.test('record() lays named fields out in wire order', async (t) => {
  t.same(
    record('MOUNT', 'mounts[0]', { source: 's', dest: '/d', fstype: 'tmpfs', flags: 2, data: 'x', rattrSet: 3, rattrClear: 4, propagation: 5, attrSet: 6, copyUp: true, xattrLabel: 'l' }).fields,
    ['s', '/d', 'tmpfs', 2, 'x', 3, 4, 5, 6, 1, 'l'],
  );
  t.same(record('PIVOT', 'root.path', { noPivot: true, propagation: 0 }).fields, [1, 0], 'a bool is 0 or 1');
  t.same(record('USER', 'process.user', { uid: 1, gid: 2, additionalGids: [3, 4n] }).fields, [1, 2, 3, 4n], 'the last list runs to the end');
  t.same(record('HOOK_EXEC', 'hook', { path: '/h', args: ['a', 'b'], env: ['E=1'] }).fields, ['/h', 2, 'a', 'b', 'E=1'], 'a list before the last is counted');
  t.same(record('FORK', 'linux.namespaces'), { tag: 'FORK', field: 'linux.namespaces', fields: [] });
  t.throws(() => record('HOSTNAME', 'hostname', {} as never), /^plan record HOSTNAME without name$/);
});

// Values of each type, to build every record of the table.
const sample: { [K in keyof WireValue]: (i: number) => WireValue[K] } = {
  string: (i) => `s${i}`,
  bytes: (i) => Buffer.from([i, 0, 1]),
  u64: (i) => (i % 2 ? 2n ** 64n - 1n : i),
  i64: (i) => -i,
  bool: (i) => i % 2 === 0,
  fd: () => ({ fd: 'execFifo' }),
  strings: (i) => Array.from({ length: i % 3 }, (_, j) => `item${j}`),
  u64s: (i) => Array.from({ length: i % 3 }, (_, j) => j),
};

t.test('every record of the table reads back as it was built, and encodes', async (t) => {
  for (const tag of Object.keys(layouts) as TagName[]) {
    const values = Object.fromEntries(layouts[tag].map(([name, type], i) => [name, (sample[type] as (i: number) => unknown)(i)]));
    const r = (record as (tag: TagName, field: string, values: object) => PlanRecord)(tag, tag, values);
    t.same(recordValues(r, tag), values, tag);
    t.ok(encodePlan([r], { execFifo: 3 }).length >= 12 + 4 * r.fields.length, `${tag} encodes`);
  }
  t.throws(() => recordValues(record('FORK', 'f'), 'LOOPBACK'), /a FORK record, not LOOPBACK/);
});

t.test('the wire bytes: per record tag, ref and field count, then each field as its length and its bytes', async (t) => {
  const a: PlanRecord = { tag: 'FORK', field: 'f', fields: [] };
  const b: PlanRecord = { tag: 'ARGS', field: 'process.args', fields: ['n\u00e9t', { fd: 'execFifo' }, 18446744073709551615n, Buffer.from([0, 255]), 7] };
  const u32 = (n: number) => { const x = Buffer.alloc(4); x.writeUInt32LE(n); return x; };
  const field = (bytes: Buffer) => Buffer.concat([u32(bytes.length), bytes]);
  const expected = Buffer.concat([
    u32(Tag.FORK), u32(0), u32(0),
    u32(Tag.ARGS), u32(1), u32(5),
    field(Buffer.from('n\u00e9t')), field(Buffer.from('12')), field(Buffer.from('18446744073709551615')), field(Buffer.from([0, 255])), field(Buffer.from('7')),
  ]);
  t.same([...encodePlan([a, b], { execFifo: 12 })], [...expected], 'UTF-8 text, an fd by its number, a u64 by its digits, bytes as they are');
});

t.test('a record that does not fit its layout is not sent', async (t) => {
  const eight: PlanRecord = { tag: 'MOUNT', field: 'mounts[3]', fields: ['', '/d', '', 0, '', 0, 0, 0] };
  t.throws(() => encodePlan([eight], {}), /^malformed plan record MOUNT: 8 fields$/);
  const short: PlanRecord = { tag: 'START_HOOK', field: 'hooks.startContainer[0]', fields: ['/h', 0, 3, 'a'] };
  t.throws(() => encodePlan([short], {}), /^malformed plan record START_HOOK: 4 fields$/, 'a count past the end');
});

// tsrun-init itself: it reads the plan before anything else, so a bad one
// is refused at once, naming the record, whatever the kind.
function sendToInit(t: Test, payload: Buffer, records: PlanRecord[]): string {
  const [ours, theirs] = native().socketpair();
  const channel = new Channel(ours);
  const exe = native().openHelper(initHelperPath);
  let pid: number;
  try {
    pid = native().spawnInit(exe, ['tsrun-init', '--hook', String(theirs)], [0, 1, 2, theirs]);
  } finally {
    closeSync(exe);
    closeSync(theirs);
  }
  t.teardown(() => channel.close());
  channel.send(Msg.PLAN, payload);
  const frame = channel.recv();
  native().waitPid(pid, false);
  return frame && frame.type === Msg.ERROR ? initError(frame, records).message : `frame ${frame?.type}`;
}

/** A plan with raw tags: u32 tag | u32 ref | u32 count | fields. */
function rawPlan(recs: [number, string[]][]): Buffer {
  return Buffer.concat(
    recs.flatMap(([tag, fields], ref) => {
      const head = Buffer.alloc(12);
      head.writeUInt32LE(tag, 0);
      head.writeUInt32LE(ref, 4);
      head.writeUInt32LE(fields.length, 8);
      return [head, ...fields.flatMap((f) => [Buffer.from([f.length, 0, 0, 0]), Buffer.from(f)])];
    }),
  );
}

t.test('tsrun-init refuses an unknown tag and a record that does not fit, naming it', { skip: !existsSync(initHelperPath) && 'tsrun-init is not built' }, async (t) => {
  const named = (field: string) => ({ tag: 'FORK', field, fields: [] }) as PlanRecord;
  t.equal(sendToInit(t, rawPlan([[Tag.FORK, []], [99, ['x']]]), [named('linux.namespaces'), named('a future record')]), 'a future record: unknown plan record tag 99: invalid argument');
  t.equal(
    sendToInit(t, rawPlan([[Tag.MOUNT, ['', '/d', '', '0', '', '0', '0', '0']]]), [named('mounts[3]')]),
    'mounts[3]: malformed plan record MOUNT: invalid argument',
    'a MOUNT one field short',
  );
  t.equal(sendToInit(t, rawPlan([[Tag.HOOK_EXEC, ['/h', '5', 'a']]]), [named('hook')]), 'hook: malformed plan record HOOK_EXEC: invalid argument', 'a count past the end');
  t.equal(sendToInit(t, rawPlan([[Tag.NS_NEW, ['x']]]), [named('linux.namespaces')]), 'linux.namespaces: malformed number in plan record NS_NEW: invalid argument');
});
