// The pure parts of the cgroup code: the device rules emulator
// (src/cgroups/devices/rules.ts) against the v1 kernel's semantics, the
// conversions of the controller modules, the check of linux.resources at
// plan time (src/plan/resources.ts), and the list of applied fields against
// the schema's linux.resources, so that a field added to the schema without
// a controller to apply it fails here.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { blkioWeightToIoWeight } from '../../src/cgroups/controllers/blkio';
import { sharesToWeight } from '../../src/cgroups/controllers/cpu';
import { appliedFields, controllers } from '../../src/cgroups/controllers';
import { v2SwapValue } from '../../src/cgroups/controllers/memory';
import { type DeviceRule, containerAllowlist, defaultDeviceRules, effectiveAllowlist, normalizeRule, ruleLine } from '../../src/cgroups/devices/rules';
import { errorOf } from '../helpers/errors';
import { resourceWarnings } from '../../src/plan/resources';
import type { Resources } from '../../src/spec/types';

const rule = (allow: boolean, type: DeviceRule['type'], major: number, minor: number, access: string): DeviceRule => ({ allow, type, major, minor, access });
const allow = (type: DeviceRule['type'], major: number, minor: number, access = 'rwm') => rule(true, type, major, minor, access);
const deny = (type: DeviceRule['type'], major: number, minor: number, access = 'rwm') => rule(false, type, major, minor, access);
const lines = (rules: DeviceRule[]) => rules.map((r) => `${r.allow ? 'allow' : 'deny'} ${ruleLine(r)}`);


t.test('the device rules emulator keeps the v1 kernel\'s semantics (security/device_cgroup.c)', async (t) => {
  const eff = (...rules: DeviceRule[]) => effectiveAllowlist(rules);
  t.same(eff(), { defaultAllow: false, exceptions: [] }, 'a new container starts from deny-all');
  t.same(lines(eff(allow('c', 1, 3)).exceptions), ['allow c 1:3 rwm'], 'a rule of the other polarity appends an exception');
  t.same(lines(eff(allow('c', 1, 3), deny('c', 1, 3, 'w')).exceptions), ['allow c 1:3 rm'], 'a rule of the default\'s polarity takes its access away');
  t.same(eff(allow('c', 1, 3, 'rw'), deny('c', 1, 3, 'rwm')).exceptions, [], 'and the exception goes when no access is left');
  t.same(lines(eff(allow('c', 1, 3, 'r'), allow('c', 1, 3, 'mw')).exceptions), ['allow c 1:3 rwm'], 'exceptions of one device merge their access (in r, w, m order)');
  t.same(eff(deny('c', 1, 3)).exceptions, [], 'denying what is denied already changes nothing');
  t.same(lines(eff(allow('c', 1, -1), deny('c', 1, 3)).exceptions), ['allow c 1:* rwm'], 'removal is of the exception with exactly that type and numbers: c 1:* stays');
  t.same(lines(eff(allow('c', 1, 3), allow('b', 8, 0), rule(true, 'a', -1, -1, 'rwm')).exceptions), [], 'type "a" sets the default and clears the exceptions');
  const open = eff(rule(true, 'a', -1, -1, 'rwm'), deny('b', 8, 0), allow('b', 8, 0, 'w'), deny('c', 1, 5, 'r'));
  t.equal(open.defaultAllow, true);
  t.same(lines(open.exceptions), ['deny b 8:0 rm', 'deny c 1:5 r'], 'under allow-all the polarities swap: deny adds, allow takes away');
  t.same(eff(allow('c', 1, 3), rule(false, 'a', -1, -1, 'rwm')), { defaultAllow: false, exceptions: [] }, 'deny "a" resets to deny-all');
  t.same(
    lines(eff(allow('c', 136, -1), allow('c', 1, 3), allow('b', 8, 0), allow('c', -1, -1, 'm'), allow('c', 1, -1, 'r'), allow('b', -1, -1, 'm')).exceptions),
    ['allow b *:* m', 'allow b 8:0 rwm', 'allow c *:* m', 'allow c 1:* r', 'allow c 1:3 rwm', 'allow c 136:* rwm'],
    'exceptions sorted by type, major, minor, "*" first (runc\'s order, so devices.list reads as runc\'s)',
  );
  const input = [allow('c', 1, 3), deny('c', 1, 3, 'w')];
  const copy = JSON.parse(JSON.stringify(input));
  effectiveAllowlist(input);
  t.same(input, copy, 'the rules given are not changed');
});

t.test('normalizeRule: unset type is "a", unset numbers "*", unset access "rwm"', async (t) => {
  t.same(normalizeRule({ allow: false }), { allow: false, type: 'a', major: -1, minor: -1, access: 'rwm' });
  t.same(normalizeRule({ allow: true, type: 'b', major: 8 }), { allow: true, type: 'b', major: 8, minor: -1, access: 'rwm' });
  t.same(normalizeRule({ allow: true, type: 'c', major: 1, minor: 3, access: 'mw' }), { allow: true, type: 'c', major: 1, minor: 3, access: 'wm' }, 'access in the kernel\'s r, w, m order');
  t.same(normalizeRule({ allow: true, type: 'c', major: 1, minor: 3, access: 'r' }).access, 'r');
  t.equal(ruleLine(deny('c', -1, 5, 'rw')), 'c *:5 rw');
});

t.test('containerAllowlist: the config\'s rules, then runc\'s defaults', async (t) => {
  const runcList = ['b *:* m', 'c *:* m', 'c 1:3 rwm', 'c 1:5 rwm', 'c 1:7 rwm', 'c 1:8 rwm', 'c 1:9 rwm', 'c 5:0 rwm', 'c 5:2 rwm', 'c 10:200 rwm', 'c 136:* rwm'];
  const none = containerAllowlist(undefined);
  t.equal(none.defaultAllow, false);
  t.same(none.exceptions.map(ruleLine), runcList, 'no rules: deny-all and the default devices');
  t.ok(none.exceptions.every((e) => e.allow), 'all of them allowed');
  t.same(containerAllowlist({ devices: [{ allow: false, access: 'rwm' }] }), none, 'runc spec\'s deny-all changes nothing');
  t.same(containerAllowlist({ devices: [{ allow: true, access: 'rwm' }] }), { defaultAllow: true, exceptions: [] }, 'privileged: allow-all, the defaults add nothing');
  const own = containerAllowlist({ devices: [{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 10, minor: 229, access: 'rw' }, { allow: false, type: 'c', major: 1, minor: 3 }] });
  t.ok(own.exceptions.some((e) => ruleLine(e) === 'c 10:229 rw'), 'the config\'s exception');
  t.ok(own.exceptions.some((e) => ruleLine(e) === 'c 1:3 rwm'), 'a default device cannot be denied: the defaults come after the config\'s rules (as runc appends them)');
  t.equal(defaultDeviceRules.length, runcList.length);
});

t.test('the v2 conversions', async (t) => {
  t.same([2, 1024, 262144].map(sharesToWeight), [1, 39, 10000], 'cpu.weight = 1 + (shares - 2) * 9999 / 262142');
  t.same([10, 500, 1000].map(blkioWeightToIoWeight), [1, 4950, 10000], 'io.weight = 1 + (weight - 10) * 9999 / 990');
  let last = 0;
  for (let s = 2; s <= 262144; s += 97) {
    const w = sharesToWeight(s);
    if (w < last || w < 1 || w > 10000) t.fail(`shares ${s} -> cpu.weight ${w}`);
    last = w;
  }
  last = 0;
  for (let b = 10; b <= 1000; b++) {
    const w = blkioWeightToIoWeight(b);
    if (w < last || w < 1 || w > 10000) t.fail(`blkio weight ${b} -> io.weight ${w}`);
    last = w;
  }
  t.pass('v1\'s ranges map into [1, 10000], never decreasing');
  t.equal(v2SwapValue(300, 100), '200', 'memory.swap.max = swap - limit');
  t.equal(v2SwapValue(100, 100), '0');
  t.equal(v2SwapValue(-1, undefined), 'max');
  t.equal(v2SwapValue(-1, 100), 'max');
  t.equal(errorOf(() => v2SwapValue(300, undefined)), 'linux.resources.memory.swap: cannot set a swap limit without a memory limit on cgroup v2 (memory.swap.max is swap alone)');
  t.equal(errorOf(() => v2SwapValue(300, -1)), 'linux.resources.memory.swap: cannot set a swap limit without a memory limit on cgroup v2 (memory.swap.max is swap alone)');
  t.equal(errorOf(() => v2SwapValue(100, 300)), 'linux.resources.memory.swap: memory+swap limit 100 is lower than the memory limit 300');
});

// --- linux.resources in the schema --------------------------------------------

type Schema = { $ref?: string; type?: string; properties?: Record<string, Schema>; additionalProperties?: Schema | boolean; items?: Schema };
const schema = JSON.parse(readFileSync(join(__dirname, '..', '..', 'schemas', 'config.schema.json'), 'utf8')) as { definitions: Record<string, Schema> };
const resolve = (s: Schema): Schema => (s.$ref ? resolve(schema.definitions[s.$ref.replace('#/definitions/', '')]) : s);

/**
 * The leaf fields of linux.resources: the members of an object with named
 * properties are walked into; a number, string, boolean, list or map is a
 * leaf (lists and maps are applied as a whole).
 */
function leaves(s: Schema, path: string): string[] {
  const r = resolve(s);
  if (!r.properties) return [path];
  return Object.entries(r.properties).flatMap(([k, sub]) => leaves(sub, `${path}.${k}`));
}
const schemaLeaves = leaves(schema.definitions.resources, 'linux.resources');

/** A value of this schema: every member of an object set, one item per list, one key per map. */
function sample(s: Schema): unknown {
  const r = resolve(s);
  if (r.properties) return Object.fromEntries(Object.entries(r.properties).map(([k, sub]) => [k, sample(sub)]));
  if (r.type === 'array') return [sample(r.items!)];
  if (r.type === 'object') return { x: sample(r.additionalProperties as Schema) };
  return r.type === 'boolean' ? true : r.type === 'string' ? '0' : 1;
}
const everything = sample(schema.definitions.resources) as Resources;

t.test('every leaf of linux.resources in the schema is applied by a controller, and only those', async (t) => {
  t.ok(schemaLeaves.length >= 30, `the walk finds the fields (${schemaLeaves.length})`);
  for (const leaf of ['linux.resources.memory.swap', 'linux.resources.cpu.idle', 'linux.resources.blockIO.throttleReadIOPSDevice', 'linux.resources.network.priorities', 'linux.resources.unified']) {
    t.ok(schemaLeaves.includes(leaf), `(the walk reaches ${leaf})`);
  }
  for (const leaf of schemaLeaves) t.ok(appliedFields.includes(leaf), `${leaf} is applied`);
  for (const f of appliedFields) t.ok(schemaLeaves.includes(f), `${f} is a field of the schema`);
  t.equal(new Set(appliedFields).size, appliedFields.length, 'each field has one controller');
});

t.test('each controller reports the fields it handles when they are set', async (t) => {
  // A handled field its controller did not report would be skipped at apply (and on v2 its controller never enabled).
  const under = (f: string, leaf: string) => f === leaf || f.startsWith(`${leaf}.`) || f.startsWith(`${leaf}[`);
  for (const c of controllers) {
    const reported = c.fields(everything);
    for (const leaf of c.handles) t.ok(reported.some((f) => under(f, leaf)), `${c.name}: ${leaf} is reported when set`);
    for (const f of reported) t.ok(c.handles.some((leaf) => under(f, leaf)), `${c.name}: ${f} is one of its own`);
  }
  t.equal(controllers[controllers.length - 1].name, 'unified', 'unified is written last, over the converted values');
});

t.test('resourceWarnings: unknown fields refused with their path, memory.kernel warned', async (t) => {
  t.same(resourceWarnings(undefined), []);
  t.same(resourceWarnings({}), []);
  t.same(resourceWarnings({ memory: { limit: 1 }, cpu: { shares: 2 }, pids: { limit: 0 }, unified: { 'pids.max': '1' } }), [], 'applied fields: no warning');
  t.same(resourceWarnings({ memory: { limit: null } } as unknown as Resources), [], 'a null member is unset');
  t.same(resourceWarnings({ memory: { kernel: 1 << 20 } }), ['linux.resources.memory.kernel: kernel memory limits are no longer supported by the kernel; ignored (as runc does)']);
  t.same(resourceWarnings({ memory: { kernel: -1, limit: 1 } }), ['linux.resources.memory.kernel: kernel memory limits are no longer supported by the kernel; ignored (as runc does)'], 'even -1');
  const refused = (r: unknown) => errorOf(() => resourceWarnings(r as Resources));
  t.equal(refused({ bogus: 1 }), 'linux.resources.bogus: is not supported by tsrun');
  t.equal(refused({ memory: { limit: 1, bogus: 1 } }), 'linux.resources.memory.bogus: is not supported by tsrun');
  t.equal(refused({ cpu: { weight: 100 } }), 'linux.resources.cpu.weight: is not supported by tsrun', 'a v2 name in a v1 field\'s place');
  t.equal(refused({ blockIO: { 'weight-device': [] } }), 'linux.resources.blockIO["weight-device"]: is not supported by tsrun');
  t.same(resourceWarnings(everything), ['linux.resources.memory.kernel: kernel memory limits are no longer supported by the kernel; ignored (as runc does)'], 'every schema field set: accepted, only memory.kernel warned');
});
