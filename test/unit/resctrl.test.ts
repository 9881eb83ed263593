// linux.intelRdt (config-linux.md "IntelRdt") on a temporary directory laid
// out as a resctrl mount, through a ResctrlFs that keeps the kernel's rules
// where a plain directory cannot (Documentation/filesystems/resctrl.rst):
// - mkdir makes a CTRL_MON group only in the root, a MON group only in a
//   mon_groups directory, and fills it (schemata, tasks, mon_groups);
// - schemata takes only whole lines ending in "\n", of resources that have
//   an info directory, of known domains, each domain once a write, masks of
//   consecutive bits and bandwidths in range; it shows them padded;
// - a task moves into one CTRL_MON group, and into a MON group only from its
//   parent's; rmdir moves a group's tasks to the root, and removes any group
//   with its files; errors leave a reason in info/last_cmd_status.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative } from 'node:path';
import t from 'tap';
import { type ResctrlFs, applyIntelRdt, checkIntelRdtUpdate, findResctrlMount, joinIntelRdt, planIntelRdt, realResctrlFs, removeIntelRdt, updateIntelRdt } from '../../src/cgroups/resctrl';
import type { IntelRdt } from '../../src/spec/types';
import { errorOf } from '../helpers/errors';

const tmp = mkdtempSync(join(tmpdir(), 'tsrun-resctrl-'));
t.teardown(() => rmSync(tmp, { recursive: true, force: true }));
let fakes = 0;

type Errno = 'EINVAL' | 'EEXIST' | 'ENOENT' | 'EPERM' | 'EBUSY' | 'ENOSPC' | 'EACCES';
type Schemata = Map<string, Map<number, number>>;
const DOMAINS = [0, 1];

/** As the kernel shows a schemata file: CBMs zero-padded to the mask's width, bandwidths space-padded. */
const show = (s: Schemata) =>
  [...s].map(([res, doms]) => `${res}:${[...doms].map(([d, v]) => `${d}=${res === 'MB' ? String(v).padStart(3) : v.toString(16).padStart(3, '0')}`).join(';')}\n`).join('');
const parse = (text: string): Schemata =>
  new Map(
    text
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => {
        const [res, doms] = l.split(':');
        return [res.trim(), new Map(doms.split(';').map((p) => [Number(p.split('=')[0]), parseInt(p.split('=')[1], res.trim() === 'MB' ? 10 : 16)]))];
      }),
  );

class FakeResctrl implements ResctrlFs {
  readonly root = join(tmp, `resctrl${fakes++}`);
  /** Every operation that succeeded, paths relative to the root. */
  readonly ops: string[] = [];
  readonly busy = new Set<string>();
  readonly refuse = new Map<string, Errno>();

  constructor(readonly o: { monitoring?: boolean; rmids?: number } = {}) {
    const put = (rel: string, text: string) => {
      mkdirSync(dirname(join(this.root, rel)), { recursive: true });
      writeFileSync(join(this.root, rel), text);
    };
    put('schemata', 'L3:0=fff;1=fff\nMB:0=100;1=100\n');
    put('tasks', '1\n4242\n');
    put('info/L3/cbm_mask', 'fff\n');
    put('info/L3/num_closids', '16\n');
    put('info/MB/min_bandwidth', '10\n');
    put('info/MB/bandwidth_gran', '10\n');
    put('info/last_cmd_status', 'ok\n');
    if (o.monitoring !== false) {
      put('info/L3_MON/mon_features', 'llc_occupancy\nmbm_total_bytes\nmbm_local_bytes\n');
      mkdirSync(join(this.root, 'mon_groups'));
      mkdirSync(join(this.root, 'mon_data'));
    }
  }

  path = (rel: string) => join(this.root, rel);
  rel = (p: string) => relative(this.root, p) || '.';
  tasks = (dir: string) => readFileSync(join(dir, 'tasks'), 'utf8').split('\n').filter(Boolean).map(Number);
  private fail(code: Errno, op: string, p: string, status?: string): never {
    if (status !== undefined) writeFileSync(this.path('info/last_cmd_status'), `${status}\n`);
    throw Object.assign(new Error(`${code}: ${op} '${p}'`), { code });
  }
  private isCtrl = (d: string) => dirname(d) === this.root;
  private isMon = (d: string) => basename(dirname(d)) === 'mon_groups' && (dirname(dirname(d)) === this.root || this.isCtrl(dirname(dirname(d))));
  private taskFiles(dir = this.root): string[] {
    return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() && e.name !== 'info' ? this.taskFiles(join(dir, e.name)) : e.name === 'tasks' ? [join(dir, e.name)] : []));
  }
  private setTasks = (dir: string, pids: number[]) => writeFileSync(join(dir, 'tasks'), pids.map((p) => `${p}\n`).join(''));

  exists = (p: string) => existsSync(p);
  read = (f: string) => readFileSync(f, 'utf8');
  mkdir(d: string): void {
    if (existsSync(d)) this.fail('EEXIST', 'mkdir', d);
    if (!existsSync(dirname(d))) this.fail('ENOENT', 'mkdir', d);
    if (this.isCtrl(d)) {
      mkdirSync(d);
      writeFileSync(join(d, 'schemata'), this.read(this.path('schemata')));
      writeFileSync(join(d, 'tasks'), '');
      if (this.o.monitoring !== false) {
        mkdirSync(join(d, 'mon_groups'));
        mkdirSync(join(d, 'mon_data'));
      }
    } else if (this.isMon(d)) {
      const groups = this.taskFiles().filter((f) => this.isMon(dirname(f))).length;
      if (this.o.rmids !== undefined && groups >= this.o.rmids) this.fail('ENOSPC', 'mkdir', d, 'Out of RMIDs');
      mkdirSync(d);
      writeFileSync(join(d, 'tasks'), '');
    } else this.fail('EPERM', 'mkdir', d);
    this.ops.push(`mkdir ${this.rel(d)}`);
  }
  rmdir(d: string): void {
    if (!existsSync(d)) this.fail('ENOENT', 'rmdir', d);
    if (this.refuse.has(d)) this.fail(this.refuse.get(d)!, 'rmdir', d);
    if (this.busy.has(d)) this.fail('EBUSY', 'rmdir', d);
    if (!this.isCtrl(d) && !this.isMon(d)) this.fail('EPERM', 'rmdir', d);
    // A CTRL_MON group's tasks (its MON groups' among them) go back to the root; a MON group's stay in its parent.
    if (this.isCtrl(d)) this.setTasks(this.root, [...this.tasks(this.root), ...this.tasks(d)]);
    rmSync(d, { recursive: true });
    this.ops.push(`rmdir ${this.rel(d)}`);
  }
  write(f: string, data: string): void {
    if (!existsSync(f)) this.fail('ENOENT', 'open', f);
    const dir = dirname(f);
    if (basename(f) === 'schemata') {
      if (!data.endsWith('\n')) this.fail('EINVAL', 'write', f, '');
      const staged: Schemata = new Map();
      for (const line of data.slice(0, -1).split('\n')) {
        const [res, doms = ''] = line.split(':').map((s) => s.trim());
        if (res.endsWith('_MON') || !existsSync(this.path(`info/${res}`))) this.fail('EINVAL', 'write', f, `Unknown or unsupported resource name '${res}'`);
        for (const part of doms.split(';').filter(Boolean)) {
          const [id, v] = part.split('=').map((s) => s.trim());
          const value = parseInt(v, res === 'MB' ? 10 : 16);
          if (!DOMAINS.includes(Number(id))) this.fail('EINVAL', 'write', f, `Unknown domain ${id}`);
          if (staged.get(res)?.has(Number(id))) this.fail('EINVAL', 'write', f, `Duplicate domain ${id}`);
          if (res === 'MB' && (value < 10 || value > 100)) this.fail('EINVAL', 'write', f, `MB value ${value} out of range [10,100]`);
          if (res !== 'MB' && (!value || value > 0xfff || !/^0*1+0*$/.test(value.toString(2)))) this.fail('EINVAL', 'write', f, `The mask ${v} has non-consecutive 1-bits`);
          staged.set(res, (staged.get(res) ?? new Map()).set(Number(id), value));
        }
      }
      const current = parse(this.read(f));
      for (const [res, doms] of staged) for (const [id, v] of doms) current.get(res)!.set(id, v);
      writeFileSync(f, show(current));
    } else if (basename(f) === 'tasks') {
      const pid = Number(data.trim());
      if (!/^\d+$/.test(data.trim())) this.fail('EINVAL', 'write', f, 'Task list parsing error');
      if (this.isMon(dir)) {
        if (!this.tasks(dirname(dirname(dir))).includes(pid)) this.fail('EINVAL', 'write', f, "Can't move task to different control group");
        for (const sibling of this.taskFiles(dirname(dir))) this.setTasks(dirname(sibling), this.tasks(dirname(sibling)).filter((p) => p !== pid));
      } else {
        for (const other of this.taskFiles()) this.setTasks(dirname(other), this.tasks(dirname(other)).filter((p) => p !== pid));
      }
      this.setTasks(dir, [...this.tasks(dir), pid]);
    } else writeFileSync(f, data);
    writeFileSync(this.path('info/last_cmd_status'), 'ok\n');
    this.ops.push(`write ${this.rel(f)} ${JSON.stringify(data)}`);
  }
}

t.test("the fake keeps resctrl's rules", async (t) => {
  const fs = new FakeResctrl();
  const status = () => fs.read(fs.path('info/last_cmd_status')).trim();
  t.match(errorOf(() => fs.mkdir(fs.path('info/x'))), /^EPERM/, 'no group outside the root and mon_groups');
  fs.mkdir(fs.path('g'));
  t.equal(fs.read(fs.path('g/schemata')), 'L3:0=fff;1=fff\nMB:0=100;1=100\n', "a new group has the root's schemata");
  t.match(errorOf(() => fs.write(fs.path('g/schemata'), 'L3:0=ff\nL3:0=f0\n')), /^EINVAL/);
  t.equal(status(), 'Duplicate domain 0', 'a domain twice in one write');
  t.match(errorOf(() => fs.write(fs.path('g/schemata'), 'L3:0=ff')), /^EINVAL/, 'no newline');
  t.match(errorOf(() => fs.write(fs.path('g/schemata'), 'L2:0=f\n')), /^EINVAL/, 'no such resource');
  fs.write(fs.path('g/schemata'), 'L3:0=ff\n');
  fs.write(fs.path('g/schemata'), 'L3:0=f0\nMB:1=50\n');
  t.equal(fs.read(fs.path('g/schemata')), 'L3:0=0f0;1=fff\nMB:0=100;1= 50\n', 'separate writes: the later wins; shown padded');
  fs.mkdir(fs.path('g/mon_groups/m'));
  t.match(errorOf(() => fs.write(fs.path('g/mon_groups/m/tasks'), '4242')), /^EINVAL/, 'into a MON group only from its parent');
  fs.write(fs.path('g/tasks'), '4242');
  fs.write(fs.path('g/mon_groups/m/tasks'), '4242');
  t.same([fs.tasks(fs.root), fs.tasks(fs.path('g')), fs.tasks(fs.path('g/mon_groups/m'))], [[1], [4242], [4242]]);
  fs.rmdir(fs.path('g'));
  t.same(fs.tasks(fs.root), [1, 4242], "a removed group's tasks go back to the root");
  t.match(errorOf(() => fs.rmdir(fs.root)), /^EPERM/);
});

t.test('the resctrl mount, from mountinfo', async (t) => {
  const file = join(tmp, 'mountinfo');
  const mountinfo = (...lines: string[]) => (writeFileSync(file, lines.map((l) => `${l}\n`).join('')), file);
  const base = [
    '22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw',
    '25 22 0:22 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw',
    '30 25 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate',
    '31 22 0:27 / /resctrl rw,relatime shared:10 - tmpfs resctrl rw', // named resctrl, of another type
  ];
  t.equal(findResctrlMount(mountinfo(...base, '40 25 0:35 / /sys/fs/resctrl rw,relatime shared:20 - resctrl resctrl rw,mba_MBps')), '/sys/fs/resctrl');
  t.equal(findResctrlMount(mountinfo(...base, '41 22 0:36 / /mnt/rdt\\040fs rw - resctrl none rw', '42 22 0:36 / /other rw - resctrl none rw')), '/mnt/rdt fs', 'unescaped; the first one');
  t.equal(findResctrlMount(mountinfo(...base)), undefined, 'none mounted');
});

t.test('refused, with the field at fault', async (t) => {
  const fs = new FakeResctrl();
  fs.mkdir(fs.path('shared'));
  fs.write(fs.path('shared/schemata'), 'L3:0=f0;1=f\nMB:0=50\n');
  fs.mkdir(fs.path('shared/mon_groups/c1'));
  const refused = (rdt: IntelRdt, id = 'c1', on: ResctrlFs = fs, mount = fs.root) => errorOf(() => planIntelRdt(rdt, id, mount, on));
  const name = 'a directory name other than "", ".", "..", "info", "mon_groups" and "mon_data"';
  for (const closID of ['.', '..', 'a/b', '/a', 'a/', '', 'info', 'mon_groups', 'mon_data']) {
    t.equal(refused({ closID }), `linux.intelRdt.closID: invalid intelRdt.ClosID ${JSON.stringify(closID)}: must be "/" or ${name}`, `closID ${JSON.stringify(closID)}`);
  }
  t.equal(refused({}, 'info'), `linux.intelRdt: container id "info" cannot name a resctrl group (not ${name}); set closID`);
  t.equal(refused({ closID: 'g' }, 'info'), 'linux.intelRdt.closID: resctrl group "g" does not exist in ' + fs.root + ' (with no schema, closID must name an existing group)', 'the id does not matter with a closID');
  t.equal(refused({ l3CacheSchema: 'MB:0=20' }), 'linux.intelRdt.l3CacheSchema: "MB:0=20" must start with "L3:"');
  t.equal(refused({ l3CacheSchema: 'L3:0=ff\nMB:0=20' }), 'linux.intelRdt.l3CacheSchema: must be one schemata line (no newline)');
  t.equal(refused({ memBwSchema: 'L3:0=ff' }), 'linux.intelRdt.memBwSchema: "L3:0=ff" must start with "MB:"');
  t.equal(refused({ memBwSchema: 'MB:' }), 'linux.intelRdt.memBwSchema: "MB:" is not a schemata line ("<resource>:<id>=<value>;...")');
  t.equal(refused({ schemata: ['L3:0=ff', 'bogus'] }), 'linux.intelRdt.schemata[1]: "bogus" is not a schemata line ("<resource>:<id>=<value>;...")');
  t.equal(refused({ schemata: ['MB:0=20', 'MB:0=x;1'] }), 'linux.intelRdt.schemata[1]: "MB:0=x;1" is not a schemata line ("<resource>:<id>=<value>;...")');
  t.equal(refused({ schemata: ['L2:0=f'] }), `linux.intelRdt.schemata[0]: this host's resctrl has no such resource (no ${fs.root}/info/L2)`);
  t.equal(refused({ schemata: ['L3_MON:0=1'] }), `linux.intelRdt.schemata[0]: this host's resctrl has no such resource (no ${fs.root}/info/L3_MON)`, 'a MON resource is no schema');
  t.equal(refused({ l3CacheSchema: 'L3CODE:0=f' }), `linux.intelRdt.l3CacheSchema: this host's resctrl has no such resource (no ${fs.root}/info/L3CODE)`, 'CDP is off here');
  t.equal(refused({ closID: 'absent' }), `linux.intelRdt.closID: resctrl group "absent" does not exist in ${fs.root} (with no schema, closID must name an existing group)`);
  // The group shows L3:0=0f0;1=00f and MB:0= 50;1=100.
  t.equal(refused({ closID: 'shared', l3CacheSchema: 'L3:0=ff' }), 'linux.intelRdt.l3CacheSchema: resctrl group "shared" exists with L3:0=f0, not L3:0=ff');
  t.equal(refused({ closID: 'shared', memBwSchema: 'MB:0=50', schemata: ['MB:1=70'] }), 'linux.intelRdt.schemata[0]: resctrl group "shared" exists with MB:1=100, not MB:1=70');
  t.equal(refused({ closID: 'shared', l3CacheSchema: 'L3:0=ff', schemata: ['L3:0=f0'] }), 'no error', 'what counts is what the later line leaves');
  t.equal(refused({ closID: 'shared', enableMonitoring: true }), `linux.intelRdt.enableMonitoring: resctrl monitoring group ${fs.root}/shared/mon_groups/c1 already exists`);
  const noMon = new FakeResctrl({ monitoring: false });
  t.equal(refused({ enableMonitoring: true }, 'c1', noMon, noMon.root), `linux.intelRdt.enableMonitoring: resctrl monitoring is not available on this host (no ${noMon.root}/mon_groups)`);
  t.same(fs.ops, ['mkdir shared', 'write shared/schemata "L3:0=f0;1=f\\nMB:0=50\\n"', 'mkdir shared/mon_groups/c1'], 'planning changed nothing');
});

t.test('no resctrl mounted: the error names the most specific field set', async (t) => {
  const untouchable: ResctrlFs = new Proxy({} as ResctrlFs, { get: () => () => t.fail('resctrl touched') });
  const refused = (rdt: IntelRdt) => errorOf(() => planIntelRdt(rdt, 'c1', undefined, untouchable));
  const why = 'Intel RDT is not available on this host (no resctrl filesystem is mounted)';
  t.equal(refused({}), `linux.intelRdt: ${why}`);
  t.equal(refused({ enableMonitoring: false }), `linux.intelRdt: ${why}`);
  t.equal(refused({ enableMonitoring: true }), `linux.intelRdt.enableMonitoring: ${why}`);
  t.equal(refused({ closID: 'g', enableMonitoring: true }), `linux.intelRdt.closID: ${why}`);
  t.equal(refused({ closID: 'g', schemata: ['L2:0=f'] }), `linux.intelRdt.schemata: ${why}`);
  t.equal(refused({ closID: 'g', memBwSchema: 'MB:0=20', schemata: ['L2:0=f'] }), `linux.intelRdt.memBwSchema: ${why}`);
  t.equal(refused({ closID: 'g', l3CacheSchema: 'L3:0=ff', memBwSchema: 'MB:0=20' }), `linux.intelRdt.l3CacheSchema: ${why}`);
  t.equal(refused({ closID: '..' }), 'linux.intelRdt.closID: invalid intelRdt.ClosID "..": must be "/" or a directory name other than "", ".", "..", "info", "mon_groups" and "mon_data"', 'a bad config first');
});

t.test("a group of the container's own: made, written a line a write, joined, removed at delete", async (t) => {
  const fs = new FakeResctrl();
  const rdt: IntelRdt = { l3CacheSchema: 'L3:0=ff;1=ff', memBwSchema: 'MB:0=50', schemata: ['L3:1=f0'] };
  const plan = planIntelRdt(rdt, 'c1', fs.root, fs);
  t.same(plan, {
    mount: fs.root,
    group: fs.path('c1'),
    groupField: 'linux.intelRdt',
    create: true,
    removeAtDelete: true,
    schemata: [
      { line: 'L3:0=ff;1=ff', field: 'linux.intelRdt.l3CacheSchema' },
      { line: 'MB:0=50', field: 'linux.intelRdt.memBwSchema' },
      { line: 'L3:1=f0', field: 'linux.intelRdt.schemata[0]' },
    ],
    monitor: undefined,
  });
  const rec = applyIntelRdt(plan, 4242, fs);
  t.same(fs.ops, ['mkdir c1', 'write c1/schemata "L3:0=ff;1=ff\\n"', 'write c1/schemata "MB:0=50\\n"', 'write c1/schemata "L3:1=f0\\n"', 'write c1/tasks "4242"'], 'in the spec\'s order, schemata last');
  t.equal(fs.read(fs.path('c1/schemata')), 'L3:0=0ff;1=0f0\nMB:0= 50;1=100\n', 'the later line overrides');
  t.same([fs.tasks(fs.root), fs.tasks(fs.path('c1'))], [[1], [4242]]);
  t.same(JSON.parse(JSON.stringify(rec)), { mount: fs.root, group: fs.path('c1'), removeGroup: true, made: true }, 'a record for the state file');
  removeIntelRdt(JSON.parse(JSON.stringify(rec)), () => t.fail('no warning'), fs);
  t.notOk(existsSync(fs.path('c1')), 'removed at delete');
  t.same(fs.tasks(fs.root), [1, 4242]);
  removeIntelRdt(rec, () => t.fail('no warning'), fs);
  t.equal(fs.ops.at(-1), 'rmdir c1', 'gone already is fine');
});

t.test('a closID group tsrun makes is left at delete (spec)', async (t) => {
  const fs = new FakeResctrl();
  const plan = planIntelRdt({ closID: 'gold', memBwSchema: 'MB:0=20;1=30' }, 'c1', fs.root, fs);
  t.same([plan.group, plan.groupField, plan.create, plan.removeAtDelete], [fs.path('gold'), 'linux.intelRdt.closID', true, false]);
  const rec = applyIntelRdt(plan, 4242, fs);
  t.equal(fs.read(fs.path('gold/schemata')), 'L3:0=fff;1=fff\nMB:0= 20;1= 30\n');
  removeIntelRdt(rec, () => {}, fs);
  t.ok(existsSync(fs.path('gold')), 'left');
  t.same(fs.tasks(fs.path('gold')), [4242]);
});

t.test('an existing closID group: compared, joined, not written, left at delete', async (t) => {
  const fs = new FakeResctrl();
  fs.mkdir(fs.path('shared'));
  fs.write(fs.path('shared/schemata'), 'L3:0=f0;1=f\nMB:0=50\n');
  fs.write(fs.path('shared/tasks'), '7');
  fs.ops.length = 0;
  // Shown as L3:0=0f0;1=00f and MB:0= 50;1=100: the same, in the config's own way.
  const plan = planIntelRdt({ closID: 'shared', l3CacheSchema: 'L3:1=F;0=00f0', memBwSchema: 'MB:0=50' }, 'c1', fs.root, fs);
  t.same([plan.create, plan.removeAtDelete, plan.schemata], [false, false, []]);
  const rec = applyIntelRdt(plan, 4242, fs);
  t.same(fs.ops, ['write shared/tasks "4242"'], 'only the pid written');
  t.same(fs.tasks(fs.path('shared')), [7, 4242]);
  removeIntelRdt(rec, () => t.fail('no warning'), fs);
  t.same(fs.ops.length, 1, 'nothing removed');
  t.same(fs.tasks(fs.path('shared')), [7, 4242]);
  // Without a schema too; and "/", the default group, is the mount itself.
  t.same(fs.ops.length, 1);
  const root = applyIntelRdt(planIntelRdt({ closID: '/' }, 'c1', fs.root, fs), 4242, fs);
  t.same([root.group, fs.tasks(fs.root), fs.tasks(fs.path('shared'))], [fs.root, [1, 4242], [7]]);
  removeIntelRdt(root, () => {}, fs);
  t.ok(fs.ops.every((op) => !op.startsWith('rmdir')), 'the root is never removed');
});

t.test('a MON group of its own: made after the group, joined from it, removed at delete', async (t) => {
  const fs = new FakeResctrl();
  const rec = applyIntelRdt(planIntelRdt({ enableMonitoring: true }, 'c1', fs.root, fs), 4242, fs);
  t.same(fs.ops, ['mkdir c1', 'mkdir c1/mon_groups/c1', 'write c1/tasks "4242"', 'write c1/mon_groups/c1/tasks "4242"']);
  t.equal(rec.monitor, fs.path('c1/mon_groups/c1'));
  // An exec'd process joins the group, then its MON group (the other order is refused).
  joinIntelRdt(rec, 5151, fs);
  t.same(fs.ops.slice(-2), ['write c1/tasks "5151"', 'write c1/mon_groups/c1/tasks "5151"']);
  t.same([fs.tasks(fs.path('c1')), fs.tasks(fs.path('c1/mon_groups/c1'))], [[4242, 5151], [4242, 5151]]);
  removeIntelRdt(rec, () => {}, fs);
  t.same(fs.ops.slice(-2), ['rmdir c1/mon_groups/c1', 'rmdir c1']);
  t.notOk(existsSync(fs.path('c1')));

  // In a closID's group: the MON group goes, the group stays.
  fs.mkdir(fs.path('shared'));
  const shared = applyIntelRdt(planIntelRdt({ closID: 'shared', enableMonitoring: true }, 'c2', fs.root, fs), 4343, fs);
  t.same(fs.tasks(fs.path('shared/mon_groups/c2')), [4343]);
  removeIntelRdt(shared, () => {}, fs);
  t.same(fs.ops.at(-1), 'rmdir shared/mon_groups/c2');
  t.ok(existsSync(fs.path('shared')) && !existsSync(fs.path('shared/mon_groups/c2')));
});

t.test("what the kernel refuses: the field, resctrl's reason, and what was made removed", async (t) => {
  const fs = new FakeResctrl({ rmids: 0 });
  const bad = planIntelRdt({ l3CacheSchema: 'L3:0=ff', schemata: ['L3:1=f0f'] }, 'c1', fs.root, fs);
  t.equal(errorOf(() => applyIntelRdt(bad, 4242, fs)), `linux.intelRdt.schemata[0]: cannot write "L3:1=f0f" to ${fs.path('c1/schemata')}: EINVAL: write '${fs.path('c1/schemata')}' (resctrl: The mask f0f has non-consecutive 1-bits)`);
  t.notOk(existsSync(fs.path('c1')), 'the group made is removed');
  t.equal(errorOf(() => applyIntelRdt(planIntelRdt({ enableMonitoring: true }, 'c1', fs.root, fs), 4242, fs)), `linux.intelRdt.enableMonitoring: cannot create resctrl group ${fs.path('c1/mon_groups/c1')}: ENOSPC: mkdir '${fs.path('c1/mon_groups/c1')}' (resctrl: Out of RMIDs)`);
  t.notOk(existsSync(fs.path('c1')));
  t.same(fs.tasks(fs.root), [1, 4242], 'the pid where it was');
  // A group made between plan and apply is not taken, nor removed.
  const raced = planIntelRdt({}, 'c1', fs.root, fs);
  fs.mkdir(fs.path('c1'));
  t.equal(errorOf(() => applyIntelRdt(raced, 4242, fs)), `linux.intelRdt: cannot create resctrl group ${fs.path('c1')}: EEXIST: mkdir '${fs.path('c1')}'`);
  t.ok(existsSync(fs.path('c1')));
});

// runc's update --l3-cache-schema/--mem-bw-schema: the group's schemata
// rewritten, a line a write; a refusal names the flag.
t.test('update: the flags\' lines written to the group, refusals naming the flag', async (t) => {
  const fs = new FakeResctrl();
  const rec = applyIntelRdt(planIntelRdt({ l3CacheSchema: 'L3:0=ff;1=ff' }, 'c1', fs.root, fs), 4242, fs);
  const flags = { l3CacheSchema: '--l3-cache-schema', memBwSchema: '--mem-bw-schema' };
  const update = (rdt: IntelRdt, r = rec) => updateIntelRdt(r, checkIntelRdtUpdate(r, rdt, flags, fs), flags, fs);
  update({ l3CacheSchema: 'L3:0=f0', memBwSchema: 'MB:0=30' });
  t.same(fs.ops.slice(-2), ['write c1/schemata "L3:0=f0\\n"', 'write c1/schemata "MB:0=30\\n"']);
  t.equal(errorOf(() => update({ memBwSchema: 'L3:0=f' })), '--mem-bw-schema: "L3:0=f" must start with "MB:"');
  t.match(errorOf(() => update({ l3CacheSchema: 'L3:0=f0f' })), /^--l3-cache-schema: cannot write "L3:0=f0f" to \S+: EINVAL: .*\(resctrl: The mask f0f has non-consecutive 1-bits\)$/);
  // A closID's group is shared: not rewritten (runc would).
  fs.mkdir(fs.path('shared'));
  const shared = applyIntelRdt(planIntelRdt({ closID: 'shared' }, 'c2', fs.root, fs), 4343, fs);
  const before = fs.ops.length;
  t.match(errorOf(() => update({ l3CacheSchema: 'L3:0=f' }, shared)), /^--l3-cache-schema: the container's resctrl group \S+\/shared is closID's, which other containers may share: tsrun does not rewrite it$/);
  t.equal(fs.ops.length, before, 'nothing written');
});

// A create that fails after making a closID's group removes it; delete never does.
t.test("a failed create removes the group it made, a closID's too", async (t) => {
  const fs = new FakeResctrl();
  const rec = applyIntelRdt(planIntelRdt({ closID: 'fresh', l3CacheSchema: 'L3:0=ff' }, 'c1', fs.root, fs), 4242, fs);
  t.equal(rec.removeGroup, false, 'not removed at delete');
  removeIntelRdt(rec, () => {}, fs);
  t.ok(existsSync(fs.path('fresh')), 'delete leaves it');
  removeIntelRdt(rec, () => {}, fs, true);
  t.notOk(existsSync(fs.path('fresh')), 'a failed create removes it');
});

t.test('removal: EBUSY warned of once and left, other errors thrown', async (t) => {
  const fs = new FakeResctrl();
  const rec = applyIntelRdt(planIntelRdt({ enableMonitoring: true }, 'c1', fs.root, fs), 4242, fs);
  fs.busy.add(fs.path('c1'));
  const warnings: string[] = [];
  removeIntelRdt(rec, (m) => warnings.push(m), fs);
  t.same(warnings, [`linux.intelRdt: resctrl group ${fs.path('c1')} not removed: EBUSY: rmdir '${fs.path('c1')}'`]);
  t.same(fs.ops.filter((op) => op.startsWith('rmdir')), ['rmdir c1/mon_groups/c1'], 'one attempt; the MON group removed first');
  fs.busy.clear();
  fs.refuse.set(fs.path('c1'), 'EACCES');
  t.equal(errorOf(() => removeIntelRdt(rec, () => {}, fs)), `linux.intelRdt: cannot remove resctrl group ${fs.path('c1')}: EACCES: rmdir '${fs.path('c1')}'`);
});

t.test('the real file operations never create a file resctrl does not have', async (t) => {
  const dir = join(tmp, 'real');
  mkdirSync(dir);
  t.match(errorOf(() => realResctrlFs.write(join(dir, 'tasks'), '1')), /^ENOENT/);
  t.notOk(existsSync(join(dir, 'tasks')));
});
