// tsrun update without a container: its flags as runc 1.1 reads them
// (src/container/update-flags.ts), the checks and the merge of
// src/container/update.ts, and the cgroup manager's update paths that this
// v1 host cannot show (cgroup v2: controllers enabled for a field set
// later, undone with the writes when the kernel refuses one), on a small
// fake cgroup2 tree of its own.
import t from 'tap';
import { posix } from 'node:path';
import { limitFirst } from '../../src/cgroups/controllers/cpu';
import { restoreValue } from '../../src/cgroups/controllers/restore';
import { type CgroupFs, cgroupManager } from '../../src/cgroups/manager';
import { mergeResources, requestedResources } from '../../src/container/update';
import { ramInBytes, resourcesFromFlags } from '../../src/container/update-flags';
import type { Resources } from '../../src/spec/types';
import { errorOf } from '../helpers/errors';

t.test('sizes as docker/go-units v0.4.0 RAMInBytes reads them (what runc 1.1.5 accepted here)', async (t) => {
  const ok: [string, bigint][] = [
    ['1024', 1024n],
    ['1k', 1024n],
    ['1K', 1024n],
    ['1kb', 1024n],
    ['1KiB', 1024n],
    ['64m', 64n << 20n],
    ['1.5g', 1610612736n],
    ['1 g', 1n << 30n],
    ['10Pi', 11258999068426240n],
    ['1Pb', 1n << 50n],
    ['1ib', 1n],
    ['0', 0n],
    ['9223372036854775807', 9223372036854775807n],
  ];
  for (const [text, want] of ok) t.equal(ramInBytes(text), want, text);
  const refused: [string, RegExp][] = [
    ['abc', /^invalid size: 'abc'$/],
    ['-5', /^invalid size: '-5'$/],
    ['1bb', /^invalid size: '1bb'$/],
    ['5.', /^invalid size: '5\.'$/],
    ['1x', /^invalid size: '1x'$/],
    ['1.2.3', /^strconv\.ParseFloat: parsing "1\.2\.3": invalid syntax$/],
    ['99999999999999999999', /more than 2\^63-1 bytes/],
    ['8192p', /more than 2\^63-1 bytes/],
  ];
  for (const [text, re] of refused) t.match(errorOf(() => ramInBytes(text)), re, text);
});

t.test('each flag to its linux.resources field, remembered with the flag', async (t) => {
  const r = resourcesFromFlags({
    'blkio-weight': '300',
    'cpu-period': '100000',
    'cpu-quota': '-1',
    'cpu-share': '512',
    'cpu-rt-period': '1000000',
    'cpu-rt-runtime': '5000',
    'cpuset-cpus': '0-1',
    'cpuset-mems': '0',
    memory: '64m',
    'memory-reservation': '32M',
    'memory-swap': '-1',
    'pids-limit': '-1',
  });
  t.same(r.resources, {
    blockIO: { weight: 300 },
    cpu: { cpus: '0-1', mems: '0', period: 100000, realtimePeriod: 1000000, shares: 512, quota: -1, realtimeRuntime: 5000 },
    memory: { limit: 64 << 20, swap: -1, reservation: 32 << 20 },
    pids: { limit: -1 },
  });
  t.equal(r.fromFlag.get('linux.resources.memory.swap'), '--memory-swap');
  t.equal(r.fromFlag.get('linux.resources.cpu.shares'), '--cpu-share');
  t.equal(r.fromFlag.size, 12);
  t.same(r.warnings, []);
});

t.test("runc's rules for empty, zero, repeated and ignored flags", async (t) => {
  t.same(resourcesFromFlags({ memory: '', 'cpuset-cpus': '' }).resources, {}, 'an empty value is no value');
  t.same(resourcesFromFlags({ 'pids-limit': '0', 'blkio-weight': '0' }).resources, {}, '0 of an integer flag is its default: unchanged');
  t.same(resourcesFromFlags({ 'cpu-share': '0' }).resources, { cpu: { shares: 0 } }, 'a string flag keeps 0 (the cgroup code leaves 0 alone)');
  t.same(resourcesFromFlags({ memory: ['1m', '2m'] }).resources, { memory: { limit: 2 << 20 } }, 'given twice: the last one');
  const k = resourcesFromFlags({ 'kernel-memory': '1m', 'kernel-memory-tcp': '1m' });
  t.same(k.resources, {});
  t.match(k.warnings, [/^--kernel-memory: kernel memory settings are ignored/, /^--kernel-memory-tcp: kernel memory settings are ignored/]);
});

t.test('a bad flag value is refused naming the flag', async (t) => {
  const cases: [Record<string, string>, RegExp][] = [
    [{ memory: 'abc' }, /^--memory: invalid size: 'abc'$/],
    [{ 'memory-swap': '-2' }, /^--memory-swap: invalid size: '-2'$/],
    [{ 'memory-reservation': '1.2.3' }, /^--memory-reservation: strconv\.ParseFloat/],
    [{ 'cpu-share': '-1' }, /^--cpu-share: invalid value "-1": out of range for an unsigned 64-bit integer$/],
    [{ 'cpu-period': '1e5' }, /^--cpu-period: invalid value "1e5": not an unsigned 64-bit integer$/],
    [{ 'cpu-quota': 'x' }, /^--cpu-quota: invalid value "x": not a 64-bit integer$/],
    [{ 'cpu-rt-runtime': '9223372036854775808' }, /^--cpu-rt-runtime: .*out of range/],
    [{ 'blkio-weight': '70000' }, /^--blkio-weight: .*out of range for an integer from 0 to 65535$/],
    [{ 'pids-limit': 'many' }, /^--pids-limit: invalid value "many"/],
  ];
  for (const [flags, re] of cases) t.match(errorOf(() => resourcesFromFlags(flags)), re, JSON.stringify(flags));
});

t.test('the request is checked whole; a field a flag set is named by the flag', async (t) => {
  t.match(errorOf(() => requestedResources({ 'cpuset-cpus': '0-' })), /^--cpuset-cpus: "0-" is not a list of numbers and ranges such as 0-3,5$/);
  t.match(errorOf(() => requestedResources({ 'cpuset-mems': '3-1' })), /^--cpuset-mems: "3-1": the range 3-1 ends before it starts$/);
  t.equal(errorOf(() => requestedResources({ 'cpuset-cpus': '0,2-3' })), 'no error', 'a list with a range passes');
  t.match(requestedResources({ memory: '1m' }).change, { memory: { limit: 1 << 20 } });
});

t.test('merge: the update over the current resources, as runc merges', async (t) => {
  const current: Resources = {
    devices: [{ allow: false, access: 'rwm' }],
    memory: { limit: 64 << 20, swap: 128 << 20 },
    cpu: { shares: 512, cpus: '1' },
    hugepageLimits: [{ pageSize: '2MB', limit: 1 }, { pageSize: '1GB', limit: 2 }],
    unified: { 'a.b': '1' },
  };
  t.same(mergeResources(current, { cpu: { quota: 5000 } }).cpu, { shares: 512, cpus: '1', quota: 5000 }, 'fields of a group one by one');
  t.same(mergeResources(current, { memory: { limit: -1 } }).memory, { limit: -1, swap: -1 }, 'unlimited memory without a swap: unlimited swap (runc)');
  t.same(mergeResources(current, { memory: { limit: 1 << 30 } }).memory, { limit: 1 << 30, swap: 128 << 20 }, 'the swap set before stays');
  t.same(mergeResources(current, { hugepageLimits: [{ pageSize: '2MB', limit: 5 }] }).hugepageLimits, [{ pageSize: '1GB', limit: 2 }, { pageSize: '2MB', limit: 5 }], 'one page size replaced');
  t.same(mergeResources(current, { unified: { 'c.d': '2' } }).unified, { 'a.b': '1', 'c.d': '2' }, 'maps key by key');
  t.same(mergeResources(current, { devices: [] }).devices, current.devices, 'the allowlist stays create\'s');
  t.same(mergeResources({}, { pids: { limit: 3 } }), { pids: { limit: 3 } });
  t.same(current.cpu, { shares: 512, cpus: '1' }, 'the current resources are not modified');
});

t.test('v1 cpu: a quota and its period in the order the parent accepts', async (t) => {
  t.equal(limitFirst(25000, 50000, 50000, 100000), true, 'both lowered: the quota first (25000/100000 on the way, not 50000/50000)');
  t.equal(limitFirst(100000, 200000, 50000, 100000), false, 'both raised: the period first');
  t.equal(limitFirst(-1, 50000, 50000, 100000), true, 'unlimited: first');
  t.equal(limitFirst(50000, 100000, -1, 100000), false, 'from unlimited: the period first');
  t.equal(limitFirst(50000, undefined, 20000, 100000), false, 'alone: one write');
});

t.test('what an update writes back when the kernel refuses a later write', async (t) => {
  t.equal(restoreValue('memory.limit_in_bytes', '9223372036854771712\n', '1024'), '9223372036854771712');
  t.equal(restoreValue('pids.max', 'max\n', '5'), 'max');
  t.equal(restoreValue('blkio.bfq.weight', '100\n', '300'), '100');
  t.equal(restoreValue('io.bfq.weight', 'default 100\n', '300'), '100');
  t.equal(restoreValue('memory.oom_control', 'oom_kill_disable 0\nunder_oom 0\noom_kill 0\n', '1'), '0');
  t.equal(restoreValue('blkio.throttle.read_bps_device', '8:0 1048576\n8:16 5\n', '8:16 7'), '8:16 5', 'the line of the device');
  t.equal(restoreValue('blkio.throttle.read_bps_device', '8:0 1048576\n', '8:16 7'), '8:16 0', 'a device without a line: its limit removed');
  t.equal(restoreValue('io.max', '', '8:0 rbps=5'), '8:0 rbps=max wbps=max riops=max wiops=max');
  t.equal(restoreValue('hugetlb.2MB.limit_in_bytes', 'a\nb\n', '5'), null, 'a file of several lines without keys: no way back');
});

// A cgroup2 tree with the rules update depends on: a controller's files
// exist in a cgroup only while its parent enables it; writes a test makes
// the kernel refuse.
class Fake2 implements CgroupFs {
  readonly files = new Map<string, string>();
  readonly subtree = new Map<string, Set<string>>();
  readonly writes: [string, string][] = [];
  refuse?: (file: string, value: string) => boolean;
  constructor(readonly dirs: string[]) {
    for (const d of dirs) this.subtree.set(d, new Set());
  }
  private enabled(file: string): boolean {
    const [dir, name] = [posix.dirname(file), posix.basename(file)];
    const c = name.split('.')[0];
    if (c === 'cgroup') return true;
    return this.subtree.get(posix.dirname(dir))?.has(c) ?? false;
  }
  mkdir(): boolean {
    return false;
  }
  rmdir(): void {}
  read(file: string): string | undefined {
    const dir = posix.dirname(file);
    if (posix.basename(file) === 'cgroup.subtree_control') return `${[...(this.subtree.get(dir) ?? [])].join(' ')}\n`;
    if (posix.basename(file) === 'cgroup.controllers') return 'cpu cpuset memory pids io\n';
    return this.enabled(file) ? (this.files.get(file) ?? defaults[posix.basename(file)]) : undefined;
  }
  write(file: string, value: string): void {
    const dir = posix.dirname(file);
    if (posix.basename(file) === 'cgroup.subtree_control') {
      const set = this.subtree.get(dir)!;
      if (value.startsWith('+')) set.add(value.slice(1));
      else set.delete(value.slice(1));
    } else {
      if (!this.enabled(file)) throw Object.assign(new Error(`ENOENT ${file}`), { code: 'ENOENT', errno: -2 });
      if (this.refuse?.(file, value)) throw Object.assign(new Error(`EINVAL ${file}`), { code: 'EINVAL', errno: -22 });
      this.files.set(file, `${value}\n`);
    }
    this.writes.push([file, value]);
  }
  exists(dir: string): boolean {
    return this.dirs.includes(dir);
  }
  hasChildren(): boolean {
    return true;
  }
  attachDeviceProgram(): void {}
}
const defaults: Record<string, string> = { 'pids.max': 'max\n', 'memory.max': 'max\n', 'cpu.max': 'max 100000\n', 'cpuset.cpus': '\n', 'memory.low': '0\n', 'memory.swap.max': 'max\n', 'cpu.weight': '100\n' };

function v2(enabled: string[]) {
  const mount = '/sys/fs/cgroup';
  const fs = new Fake2([mount, `${mount}/pod`, `${mount}/pod/c`]);
  for (const c of enabled) {
    fs.subtree.get(mount)!.add(c);
    fs.subtree.get(`${mount}/pod`)!.add(c);
  }
  const cg = cgroupManager({ dirs: [{ version: 2, mountpoint: mount, controllers: [], path: '/pod/c', dir: `${mount}/pod/c` }], created: [`${mount}/pod`, `${mount}/pod/c`] }, fs);
  return { fs, cg, C: `${mount}/pod/c` };
}

t.test('v2 update: a field set for the first time gets its controller enabled down the path', async (t) => {
  const { fs, cg, C } = v2(['memory']);
  t.equal(fs.read(`${C}/pids.max`), undefined, 'no pids controller at create');
  cg.update({ pids: { limit: 9 } });
  t.equal(fs.read(`${C}/pids.max`), '9\n');
  t.ok(fs.subtree.get('/sys/fs/cgroup')!.has('pids') && fs.subtree.get('/sys/fs/cgroup/pod')!.has('pids'), 'enabled in each parent');
});

t.test('v2 update: the kernel refuses a write half-way: what was written (controllers enabled too) is undone', async (t) => {
  const { fs, cg, C } = v2(['memory']);
  fs.files.set(`${C}/memory.max`, `${64 << 20}\n`);
  fs.refuse = (file) => file.endsWith('/cpuset.mems');
  const err = errorOf(() => cg.update({ cpu: { cpus: '1', mems: '7' }, memory: { limit: 1 << 30 } }));
  t.match(err, /^linux\.resources\.cpu\.mems: cannot set cpuset\.mems to "7": invalid argument; what this update had already written was put back$/);
  t.same(fs.writes.map(([f, v]) => [f.replace(/^\/sys\/fs\/cgroup/, ''), v]), [
    ['/cgroup.subtree_control', '+cpuset'],
    ['/pod/cgroup.subtree_control', '+cpuset'],
    ['/pod/c/cpuset.cpus', '1'],
    ['/pod/c/cpuset.cpus', ''],
    ['/pod/cgroup.subtree_control', '-cpuset'],
    ['/cgroup.subtree_control', '-cpuset'],
  ], 'memory.max was never reached; cpuset.cpus and the controllers were put back, newest first');
  t.equal(fs.read(`${C}/memory.max`), `${64 << 20}\n`);
});

t.test('v2 update: a refusal of the plan comes before any write', async (t) => {
  const { fs, cg } = v2(['memory', 'cpu']);
  t.match(errorOf(() => cg.update({ cpu: { shares: 100, realtimeRuntime: 5 } })), /^linux\.resources\.cpu\.realtimeRuntime: cgroup v2 has no realtime CPU bandwidth$/);
  t.match(errorOf(() => cg.update({ pids: { limit: 3 }, memory: { swappiness: 3 } })), /^linux\.resources\.memory\.swappiness: /);
  t.same(fs.writes, [], 'nothing written, no controller enabled');
  t.match(errorOf(() => cg.update({ devices: [{ allow: true, access: 'rwm' }] })), /^linux\.resources\.devices: /, 'the device program is not replaced');
});
