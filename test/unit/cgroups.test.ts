// Cgroup layout detection for v1, hybrid and unified hosts, and the cgroup
// managers (src/cgroups/manager.ts) with every controller module behind
// them. This host's cgroup2 has no controllers, so v2 is exercised on a
// fake cgroup2 tree that keeps the kernel's rules (interface files per
// enabled controller, no internal processes, EBUSY, the values each file
// accepts); v1 and hybrid on a simpler fake with the rules the manager's
// order depends on. Each linux.resources field is checked for the files
// and values written, conversions included, and for its refusals.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { constants as osConstants, tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { containerAllowlist } from '../../src/cgroups/devices/rules';
import { deviceProgram } from '../../src/cgroups/devices/bpf';
import { type CgroupHost, cgroupDir, containerCgroupPath, defaultCgroupsPath, parseCgroupHost, plannedCgroupDirs } from '../../src/cgroups/host';
import { type CgroupDirRecord, type CgroupFs, type CgroupManager, cgroupManager, planCgroups } from '../../src/cgroups/manager';
import { WriteEachError, realCgroupFs } from '../../src/cgroups/fs';
import { MAX_U64, emptyRuncStats } from '../../src/cgroups/stats';
import { errorOf } from '../helpers/errors';
import type { Resources } from '../../src/spec/types';

const line = (id: number, root: string, mountpoint: string, fstype: string, superOpts: string) =>
  `${id} 20 0:${id} ${root} ${mountpoint} rw,nosuid,nodev,noexec,relatime shared:${id} - ${fstype} ${fstype} ${superOpts}`;

const v1Mounts = [
  line(30, '/', '/sys/fs/cgroup', 'tmpfs', 'rw,mode=755'),
  line(31, '/', '/sys/fs/cgroup/cpu,cpuacct', 'cgroup', 'rw,cpu,cpuacct'),
  line(32, '/', '/sys/fs/cgroup/memory', 'cgroup', 'rw,memory'),
  line(33, '/', '/sys/fs/cgroup/systemd', 'cgroup', 'rw,xattr,name=systemd'),
  line(34, '/', '/sys/fs/cgroup/pids', 'cgroup', 'rw,pids'),
].join('\n');
const v1Self = '5:pids:/user.slice\n4:name=systemd:/user.slice/session-1.scope\n3:memory:/user.slice\n2:cpu,cpuacct:/\n';

/** pid in the container's cgroups, as tsrun-init puts itself in the directories joins() names (through cgroup.procs here). */
function enter(fs: CgroupFs, cg: CgroupManager, pid: number): void {
  const { v1, v2 } = cg.joins();
  for (const dir of [...v1, ...(v2 === undefined ? [] : [v2])]) fs.write(`${dir}/cgroup.procs`, String(pid));
}

t.test('a v1 host', async (t) => {
  const host = parseCgroupHost(v1Mounts, v1Self);
  t.equal(host.mode, 'v1');
  t.same(host.hierarchies.map((h) => [h.name, h.controllers, h.own]), [
    ['cpu,cpuacct', ['cpu', 'cpuacct'], '/'],
    ['memory', ['memory'], '/user.slice'],
    ['systemd', ['name=systemd'], '/user.slice/session-1.scope'],
    ['pids', ['pids'], '/user.slice'],
  ]);
  const mem = host.hierarchies[1];
  t.equal(containerCgroupPath(mem, defaultCgroupsPath('/run/tsrun', 'c1')), '/user.slice/tsrun/c1', 'default: tsrun/<id> under our own cgroup');
  t.equal(containerCgroupPath(mem, 'x/y'), '/user.slice/x/y', 'relative: under our own cgroup');
  t.equal(containerCgroupPath(mem, '/x/y'), '/x/y', 'absolute: from the hierarchy root');
  t.equal(cgroupDir(mem, '/x/y'), '/sys/fs/cgroup/memory/x/y');
});

t.test('a v1 hierarchy is matched to its line of /proc/self/cgroup whatever the order of the controllers', async (t) => {
  const mounts = [line(31, '/', '/sys/fs/cgroup/net_cls,net_prio', 'cgroup', 'rw,net_cls,net_prio'), line(31, '/', '/sys/fs/cgroup/net_cls', 'cgroup', 'rw,net_cls,net_prio').replace(/^31 /, '32 ')].join('\n');
  const host = parseCgroupHost(mounts, '7:net_prio,net_cls:/pod7\n');
  t.same(
    host.hierarchies.map((h) => [h.mountpoint, h.own]),
    [['/sys/fs/cgroup/net_cls,net_prio', '/pod7']],
    'its own cgroup found, and a second mount of the same hierarchy (same device) counted once',
  );
});

t.test('a hybrid host (this machine\'s layout)', async (t) => {
  const mounts = v1Mounts + '\n' + line(35, '/', '/sys/fs/cgroup/unified', 'cgroup2', 'rw,nsdelegate');
  const host = parseCgroupHost(mounts, v1Self + '0::/user.slice/session-1.scope\n');
  t.equal(host.mode, 'hybrid');
  const v2 = host.hierarchies.find((h) => h.version === 2)!;
  t.equal(v2.name, 'unified');
  t.equal(v2.own, '/user.slice/session-1.scope');
  t.equal(plannedCgroupDirs(host, '/a').length, 5, 'the container goes in every hierarchy, unified included');
});

t.test('a unified host, and a mount that does not show the whole hierarchy', async (t) => {
  const host = parseCgroupHost(line(40, '/', '/sys/fs/cgroup', 'cgroup2', 'rw'), '0::/system.slice/x.service\n');
  t.equal(host.mode, 'unified');
  t.equal(containerCgroupPath(host.hierarchies[0], defaultCgroupsPath('/run/tsrun', 'c')), '/system.slice/x.service/tsrun/c');
  // Inside a cgroup namespace, or a bind of a subtree: paths are relative to the mount's root.
  const sub = parseCgroupHost(line(41, '/kubepods/pod1', '/sys/fs/cgroup', 'cgroup2', 'rw'), '0::/kubepods/pod1/c0\n');
  const h = sub.hierarchies[0];
  t.equal(cgroupDir(h, '/kubepods/pod1/c0/tsrun/x'), '/sys/fs/cgroup/c0/tsrun/x');
  t.equal(cgroupDir(h, '/elsewhere'), undefined, 'a path the mount does not reach');
  t.throws(() => plannedCgroupDirs(sub, '/elsewhere'), /linux\.cgroupsPath: cgroup \/elsewhere is outside/);
});

// --- a fake cgroup2 tree ------------------------------------------------------

type Errno = 'ENOENT' | 'EBUSY' | 'EINVAL' | 'ERANGE' | 'EACCES' | 'ENOSPC';

/** An error as Node's fs raises it (code, and the negative errno the manager turns into text). */
const fail = (code: Errno, what: string) => Object.assign(new Error(`${code}: ${what}`), { code, errno: -osConstants.errno[code] });

function need(ok: unknown, code: Errno = 'EINVAL', what = ''): asserts ok {
  if (!ok) throw fail(code, what);
}

/** The interface files a controller gives a cgroup whose parent enables it, with their initial contents. */
const interfaceFiles: Record<string, Record<string, string>> = {
  cpu: { 'cpu.weight': '100\n', 'cpu.max': 'max 100000\n', 'cpu.max.burst': '0\n', 'cpu.idle': '0\n', 'cpu.stat': 'usage_usec 0\nuser_usec 0\nsystem_usec 0\nnr_periods 0\nnr_throttled 0\nthrottled_usec 0\n' },
  cpuset: { 'cpuset.cpus': '\n', 'cpuset.mems': '\n' },
  memory: { 'memory.max': 'max\n', 'memory.low': '0\n', 'memory.swap.max': 'max\n', 'memory.current': '0\n', 'memory.events': 'low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n', 'memory.stat': 'anon 0\nfile 0\n' },
  io: { 'io.weight': 'default 100\n', 'io.max': '', 'io.stat': '' },
  pids: { 'pids.max': 'max\n', 'pids.current': '0\n' },
  hugetlb: { 'hugetlb.2MB.max': 'max\n', 'hugetlb.2MB.rsvd.max': 'max\n' },
  rdma: { 'rdma.max': '' },
};
const readOnly = new Set(['cgroup.controllers', 'cgroup.events', 'cpu.stat', 'memory.current', 'memory.events', 'memory.stat', 'io.stat', 'pids.current']);
const uint = (v: string) => /^\d+$/.test(v);
const maxOrUint = (v: string) => v === 'max' || uint(v);

interface Cgroup {
  /** cgroup.controllers: what the parent's subtree_control enables (everything, at the root). */
  controllers: string[];
  /** cgroup.subtree_control. */
  subtree: string[];
  procs: number[];
  files: Map<string, string>;
}

/**
 * An in-memory cgroup2 tree that keeps the kernel's rules
 * (Documentation/admin-guide/cgroup-v2.rst):
 * - a cgroup has the interface files of the controllers its parent enables
 *   in cgroup.subtree_control, and only those (a write elsewhere: ENOENT);
 * - subtree_control takes only controllers of cgroup.controllers (ENOENT);
 * - no internal processes: outside the root, a cgroup with processes
 *   cannot enable controllers for its children, and a process cannot join
 *   a cgroup that enables some (EBUSY);
 * - rmdir of a cgroup with children or processes: EBUSY;
 * - the values each file accepts (cpu.weight 1..10000 else ERANGE, cpu.max
 *   quota >= 1ms and period 1ms..1s, "max" or a number for limits...), and
 *   io.max / rdma.max / io.weight merging per device.
 * Every write that succeeds is logged, in order.
 */
class FakeCgroup2 implements CgroupFs {
  readonly cgroups = new Map<string, Cgroup>();
  readonly writes: [file: string, value: string][] = [];
  readonly programs = new Map<string, Buffer[]>();
  /** A killed process's pid -> how many more rmdir attempts it takes to exit. */
  readonly exiting = new Map<number, number>();
  rmdirAttempts = 0;
  /** cgroup.freeze takes effect only when the tasks get there: while false, a frozen cgroup stays "freezing". */
  freezeCompletes = true;

  constructor(
    readonly root: string,
    available: string[],
    /** swap: memory.swap.max exists (swap accounting on); bfq: the BFQ scheduler's io.bfq.weight exists too. */
    readonly opts: { swap?: boolean; bfq?: boolean } = {},
  ) {
    this.cgroups.set(root, { controllers: available, subtree: [], procs: [1, 42], files: new Map() });
  }

  has(dir: string): boolean {
    return this.cgroups.has(dir);
  }
  /** What the kernel would show in a file (usage counters), set without the write rules. */
  set(file: string, value: string): void {
    const [dir, name] = split(file);
    this.cgroups.get(dir)!.files.set(name, value);
  }
  enabled(dir: string): string {
    return this.cgroups.get(dir)!.subtree.join(' ');
  }

  mkdir(dir: string): boolean {
    if (this.cgroups.has(dir)) return false;
    const parent = this.cgroups.get(split(dir)[0]);
    if (!parent) throw fail('ENOENT', dir);
    // The core files of every non-root cgroup (cpu.stat's usage is the core's; the cpu controller adds throttling).
    const files = new Map([['cgroup.freeze', '0\n'], ['cgroup.max.depth', 'max\n'], ['cpu.stat', 'usage_usec 0\nuser_usec 0\nsystem_usec 0\n']]);
    for (const c of parent.subtree) for (const [f, v] of Object.entries(interfaceFiles[c] ?? {})) files.set(f, v);
    if (this.opts.swap === false) files.delete('memory.swap.max');
    if (this.opts.bfq && files.has('io.weight')) files.set('io.bfq.weight', 'default 100\n');
    this.cgroups.set(dir, { controllers: [...parent.subtree], subtree: [], procs: [], files });
    return true;
  }

  mkdirAll(dir: string): string | undefined {
    return mkdirAllBy((d) => this.cgroups.has(d), (d) => this.mkdir(d), dir);
  }

  rmdir(dir: string): void {
    const cg = this.cgroups.get(dir);
    if (!cg) throw fail('ENOENT', dir);
    this.rmdirAttempts++;
    if (this.hasChildren(dir) || cg.procs.length) {
      for (const pid of cg.procs) {
        const left = this.exiting.get(pid);
        if (left === undefined) continue;
        if (left > 1) this.exiting.set(pid, left - 1);
        else {
          this.exiting.delete(pid);
          cg.procs = cg.procs.filter((p) => p !== pid);
        }
      }
      throw fail('EBUSY', dir);
    }
    this.cgroups.delete(dir);
  }

  exists(dir: string): boolean {
    return this.cgroups.has(dir);
  }

  hasChildren(dir: string): boolean {
    return [...this.cgroups.keys()].some((d) => d.startsWith(`${dir}/`));
  }

  read(file: string): string | undefined {
    const [dir, name] = split(file);
    const cg = this.cgroups.get(dir);
    if (!cg) return undefined;
    if (name === 'cgroup.procs') return cg.procs.map((p) => `${p}\n`).join('');
    if (name === 'cgroup.controllers') return `${cg.controllers.join(' ')}\n`;
    if (name === 'cgroup.subtree_control') return `${cg.subtree.join(' ')}\n`;
    if (name === 'cgroup.events' && dir !== this.root) {
      const frozen = cg.files.get('cgroup.freeze') === '1\n' && this.freezeCompletes;
      return `populated ${cg.procs.length ? 1 : 0}\nfrozen ${frozen ? 1 : 0}\n`;
    }
    return cg.files.get(name);
  }

  write(file: string, value: string): void {
    const [dir, name] = split(file);
    const cg = this.cgroups.get(dir);
    const core = ['cgroup.procs', 'cgroup.subtree_control', 'cgroup.controllers'].includes(name);
    need(cg && (core || cg.files.has(name)), 'ENOENT', file);
    need(!readOnly.has(name), 'EACCES', file);
    const v = value.trim();
    if (name === 'cgroup.subtree_control') this.subtreeControl(dir, cg, v);
    else if (name === 'cgroup.procs') this.attach(dir, cg, v);
    else cg.files.set(name, `${this.accept(cg, name, v)}\n`);
    this.writes.push([file, value]);
  }

  /** Files opened once for several writes (writeEach), in order. */
  readonly writtenEach: string[] = [];
  writeEach(file: string, values: readonly string[]): void {
    this.writtenEach.push(file);
    writeEachBy((f, v) => this.write(f, v), file, values);
  }

  attachDeviceProgram(dir: string, program: Buffer): void {
    need(this.cgroups.has(dir), 'ENOENT', dir);
    this.programs.set(dir, [...(this.programs.get(dir) ?? []), program]);
  }

  private subtreeControl(dir: string, cg: Cgroup, v: string): void {
    const next = new Set(cg.subtree);
    for (const tok of v.split(/\s+/)) {
      const c = tok.slice(1);
      need(tok[0] === '+' || tok[0] === '-', 'EINVAL', tok);
      need(cg.controllers.includes(c), 'ENOENT', tok);
      if (tok[0] === '+') {
        // No internal processes (the root is exempt).
        need(dir === this.root || cg.procs.length === 0, 'EBUSY', `${dir} has processes`);
        next.add(c);
      } else {
        const children = [...this.cgroups].filter(([d]) => split(d)[0] === dir);
        need(children.every(([, child]) => !child.subtree.includes(c)), 'EBUSY', `a child of ${dir} enables ${c}`);
        next.delete(c);
      }
    }
    cg.subtree = cg.controllers.filter((c) => next.has(c));
  }

  private attach(dir: string, cg: Cgroup, v: string): void {
    need(uint(v), 'EINVAL', v);
    // No internal processes: a process only joins a cgroup that enables no controllers (or the root).
    need(dir === this.root || cg.subtree.length === 0, 'EBUSY', `${dir} enables controllers`);
    for (const other of this.cgroups.values()) other.procs = other.procs.filter((p) => p !== Number(v));
    cg.procs.push(Number(v));
  }

  /** The file's new contents after writing v, as the kernel accepts it; throws its errno otherwise. */
  private accept(cg: Cgroup, name: string, v: string): string {
    const current = (cg.files.get(name) ?? '').trim();
    switch (name) {
      case 'cgroup.freeze':
      case 'cpu.idle':
        need(v === '0' || v === '1');
        return v;
      case 'cpu.weight':
        need(uint(v));
        need(Number(v) >= 1 && Number(v) <= 10000, 'ERANGE');
        return v;
      case 'cpu.max': {
        const m = /^(max|\d+)(?: (\d+))?$/.exec(v);
        need(m);
        const period = m[2] ?? current.split(' ')[1];
        need(m[1] === 'max' || Number(m[1]) >= 1000, 'EINVAL', 'quota below 1ms');
        need(Number(period) >= 1000 && Number(period) <= 1000000, 'EINVAL', 'period outside 1ms..1s');
        const burst = Number(cg.files.get('cpu.max.burst'));
        need(m[1] === 'max' || burst <= Number(m[1]), 'EINVAL', 'quota below burst');
        return `${m[1]} ${period}`;
      }
      case 'cpu.max.burst': {
        need(uint(v));
        const quota = (cg.files.get('cpu.max') ?? '').split(' ')[0];
        need(quota === 'max' || Number(v) <= Number(quota), 'EINVAL', 'burst above quota');
        return v;
      }
      case 'cpuset.cpus':
      case 'cpuset.mems':
        need(/^[\d,-]*$/.test(v));
        return v;
      case 'io.weight':
        return weights(current, v, 10000, 'EINVAL');
      case 'io.bfq.weight':
        return weights(current, v, 1000, 'ERANGE');
      case 'io.max':
        return perDevice(current, v, ['rbps', 'wbps', 'riops', 'wiops']);
      case 'rdma.max':
        return perDevice(current, v, ['hca_handle', 'hca_object']);
      default:
        // memory.max, memory.low, memory.swap.max, pids.max, hugetlb.*.max, ...
        need(maxOrUint(v));
        return v;
    }
  }
}

/** A fake's mkdirAll, as Node's mkdir -p: the missing parents, then dir; the topmost directory made, undefined if dir existed. */
function mkdirAllBy(exists: (dir: string) => boolean, mkdir: (dir: string) => void, dir: string): string | undefined {
  if (exists(dir)) return undefined;
  const parent = split(dir)[0];
  const top = exists(parent) ? undefined : mkdirAllBy(exists, mkdir, parent);
  mkdir(dir);
  return top ?? dir;
}

/** A fake's writeEach, as the real one: each value in turn, a failure with the index of its value. */
function writeEachBy(write: (file: string, value: string) => void, file: string, values: readonly string[]): void {
  values.forEach((v, i) => {
    try {
      write(file, v);
    } catch (err) {
      throw new WriteEachError(i, err);
    }
  });
}

const split = (file: string): [string, string] => [file.slice(0, file.lastIndexOf('/')), file.slice(file.lastIndexOf('/') + 1)];

/** io.weight / io.bfq.weight: "N" or "default N" sets the default, "MAJ:MIN N" a device's weight. */
function weights(current: string, v: string, max: number, outOfRange: Errno): string {
  const m = /^(?:(default|\d+:\d+) )?(-?\d+)$/.exec(v);
  need(m);
  need(Number(m[2]) >= 1 && Number(m[2]) <= max, outOfRange);
  const lines = new Map(current.split('\n').filter(Boolean).map((l) => l.split(' ') as [string, string]));
  lines.set(m[1] ?? 'default', m[2]);
  return [...lines].map((kv) => kv.join(' ')).join('\n');
}

/**
 * io.max and rdma.max: "<device> key=value..." changes only the keys given
 * of that device; a key is "max" or a number (0 for io.max: ERANGE); a
 * device whose keys are all "max" is dropped.
 */
function perDevice(current: string, v: string, keys: string[]): string {
  const [dev, ...pairs] = v.split(/\s+/);
  need(dev && pairs.length);
  const devices = new Map<string, Map<string, string>>();
  for (const line of current.split('\n').filter(Boolean)) {
    const [d, ...kv] = line.split(' ');
    devices.set(d, new Map(kv.map((p) => p.split('=') as [string, string])));
  }
  const limits = devices.get(dev) ?? new Map(keys.map((k) => [k, 'max']));
  for (const p of pairs) {
    const [k, val] = p.split('=');
    need(keys.includes(k) && val !== undefined && maxOrUint(val));
    need(val !== '0' || keys[0] !== 'rbps', 'ERANGE');
    limits.set(k, val);
  }
  devices.set(dev, limits);
  return [...devices]
    .filter(([, l]) => [...l.values()].some((x) => x !== 'max'))
    .map(([d, l]) => [d, ...keys.map((k) => `${k}=${l.get(k)}`)].join(' '))
    .join('\n');
}

const root = '/sys/fs/cgroup';
const unified = parseCgroupHost(line(40, '/', root, 'cgroup2', 'rw'), '0::/\n');
const records = (path: string | undefined, id: string): CgroupDirRecord[] =>
  plannedCgroupDirs(unified, path ?? defaultCgroupsPath('/run/tsrun', id)).map(({ hierarchy: h, path: p, dir }) => ({ version: h.version, mountpoint: h.mountpoint, controllers: h.controllers, path: p, dir }));


t.test('the fake cgroup2 tree keeps the kernel\'s rules', async (t) => {
  const fs = new FakeCgroup2(root, ['cpu', 'memory', 'pids']);
  fs.mkdir(`${root}/a`);
  t.equal(fs.read(`${root}/a/memory.max`), undefined, 'no interface files of a controller the parent does not enable');
  t.throws(() => fs.write(`${root}/a/pids.max`, '5'), { code: 'ENOENT' });
  t.throws(() => fs.write(`${root}/cgroup.subtree_control`, '+io'), { code: 'ENOENT' }, 'only controllers of cgroup.controllers');
  fs.write(`${root}/cgroup.subtree_control`, '+pids +memory');
  t.equal(fs.read(`${root}/a/pids.max`), undefined, 'files appear in cgroups made after the enable');
  fs.mkdir(`${root}/b`);
  t.equal(fs.read(`${root}/b/cgroup.controllers`), 'memory pids\n');
  t.equal(fs.read(`${root}/b/pids.max`), 'max\n');
  t.equal(fs.read(`${root}/b/cpu.weight`), undefined);
  fs.write(`${root}/b/cgroup.procs`, '100');
  t.throws(() => fs.write(`${root}/b/cgroup.subtree_control`, '+pids'), { code: 'EBUSY' }, 'no internal processes: no controllers for the children of a cgroup with processes');
  fs.mkdir(`${root}/c`);
  fs.write(`${root}/c/cgroup.subtree_control`, '+memory');
  t.throws(() => fs.write(`${root}/c/cgroup.procs`, '101'), { code: 'EBUSY' }, 'no internal processes: no process into a cgroup that enables controllers');
  t.throws(() => fs.write(`${root}/cgroup.subtree_control`, '-memory'), { code: 'EBUSY' }, 'a controller a child still enables stays');
  t.throws(() => fs.rmdir(`${root}/b`), { code: 'EBUSY' }, 'rmdir of a cgroup with processes');
  fs.mkdir(`${root}/c/d`);
  t.throws(() => fs.rmdir(`${root}/c`), { code: 'EBUSY' }, 'rmdir of a cgroup with children');
  t.throws(() => fs.write(`${root}/b/pids.current`, '0'), { code: 'EACCES' }, 'read-only files');
  t.throws(() => fs.write(`${root}/b/pids.max`, '-1'), { code: 'EINVAL' }, 'a limit is "max" or a number');
  fs.write(`${root}/b/pids.max`, 'max');

  const cpu = new FakeCgroup2(root, ['cpu', 'io', 'rdma']);
  cpu.write(`${root}/cgroup.subtree_control`, '+cpu +io +rdma');
  cpu.mkdir(`${root}/x`);
  const x = (f: string) => `${root}/x/${f}`;
  t.throws(() => cpu.write(x('cpu.weight'), '0'), { code: 'ERANGE' });
  t.throws(() => cpu.write(x('cpu.weight'), '10001'), { code: 'ERANGE' });
  cpu.write(x('cpu.weight'), '10000');
  t.throws(() => cpu.write(x('cpu.max'), '999'), { code: 'EINVAL' }, 'a quota below 1ms');
  t.throws(() => cpu.write(x('cpu.max'), 'max 2000000'), { code: 'EINVAL' }, 'a period above 1s');
  cpu.write(x('cpu.max'), '5000');
  t.equal(cpu.read(x('cpu.max')), '5000 100000\n', 'a quota alone keeps the period');
  t.throws(() => cpu.write(x('cpu.max.burst'), '6000'), { code: 'EINVAL' }, 'a burst above the quota');
  t.throws(() => cpu.write(x('io.weight'), '0'), { code: 'EINVAL' });
  cpu.write(x('io.weight'), '8:0 300');
  t.equal(cpu.read(x('io.weight')), 'default 100\n8:0 300\n');
  cpu.write(x('io.max'), '8:0 rbps=600');
  cpu.write(x('io.max'), '8:0 wiops=300');
  cpu.write(x('io.max'), '8:16 wbps=1000');
  t.equal(cpu.read(x('io.max')), '8:0 rbps=600 wbps=max riops=max wiops=300\n8:16 rbps=max wbps=1000 riops=max wiops=max\n', 'io.max merges the keys of each device');
  cpu.write(x('io.max'), '8:16 wbps=max');
  t.equal(cpu.read(x('io.max')), '8:0 rbps=600 wbps=max riops=max wiops=300\n', 'a device with no limit left is dropped');
  t.throws(() => cpu.write(x('io.max'), '8:0 rbps=0'), { code: 'ERANGE' });
  t.throws(() => cpu.write(x('io.max'), '8:0 speed=1'), { code: 'EINVAL' });
});

const allControllers = ['cpuset', 'cpu', 'io', 'memory', 'hugetlb', 'pids', 'rdma'];
const C = `${root}/pod/c`;

/** create + apply on a fake cgroup2 tree, the container at /pod/c. */
function v2(resources: Resources | undefined, opts: { swap?: boolean; bfq?: boolean; controllers?: string[] } = {}) {
  const fs = new FakeCgroup2(root, opts.controllers ?? allControllers, opts);
  const cg = cgroupManager(planCgroups(records('/pod/c', 'c'), false, fs), fs);
  cg.create(resources);
  cg.apply(resources);
  /** The files written in the container's cgroup, in order, and their values. */
  const written = fs.writes.filter(([f]) => f.startsWith(`${C}/`)).map(([f, v]) => [f.slice(C.length + 1), v]);
  return { fs, cg, written };
}
const writtenV2 = (r: Resources, opts?: { swap?: boolean; bfq?: boolean }) => v2(r, opts).written;
const refusedV2 = (r: Resources, opts?: { swap?: boolean; bfq?: boolean; controllers?: string[] }) => errorOf(() => v2(r, opts));
const M = 1024 * 1024;

t.test('v2 cpu: shares -> cpu.weight, quota/period -> cpu.max, burst, idle; realtime refused', async (t) => {
  // cpu.weight = 1 + (shares - 2) * 9999 / 262142, integer division
  t.same(writtenV2({ cpu: { shares: 2 } }), [['cpu.weight', '1']], 'the v1 minimum is the v2 minimum');
  t.same(writtenV2({ cpu: { shares: 1024 } }), [['cpu.weight', '39']], 'the v1 default: 1 + 1022 * 9999 / 262142 = 39');
  t.same(writtenV2({ cpu: { shares: 262144 } }), [['cpu.weight', '10000']], 'the v1 maximum is the v2 maximum');
  t.same(writtenV2({ cpu: { shares: 100000 } }), [['cpu.weight', '3815']], '1 + 99998 * 9999 / 262142 = 3815');
  t.equal(refusedV2({ cpu: { shares: 1000000 } }), 'linux.resources.cpu.shares: cannot set cpu.weight to "38144": result too large', 'past the v1 range: the kernel\'s ERANGE, named');
  t.same(writtenV2({ cpu: { quota: 50000, period: 100000 } }), [['cpu.max', '50000 100000']]);
  t.same(writtenV2({ cpu: { quota: -1, period: 100000 } }), [['cpu.max', 'max 100000']], 'quota -1 is "max"');
  t.same(writtenV2({ cpu: { period: 250000 } }), [['cpu.max', 'max 250000']], 'a period alone: no quota');
  const q = v2({ cpu: { quota: 20000 } });
  t.same(q.written, [['cpu.max', '20000']], 'a quota alone');
  t.equal(q.fs.read(`${C}/cpu.max`), '20000 100000\n', 'keeps the kernel\'s period');
  t.same(writtenV2({ cpu: { quota: 50000, period: 100000, burst: 20000 } }), [['cpu.max', '50000 100000'], ['cpu.max.burst', '20000']], 'the quota before the burst it bounds');
  t.equal(refusedV2({ cpu: { quota: 50000, period: 100000, burst: 60000 } }), 'linux.resources.cpu.burst: cannot set cpu.max.burst to "60000": invalid argument', 'a burst above the quota: the kernel\'s EINVAL, named');
  t.equal(refusedV2({ cpu: { quota: 500 } }), 'linux.resources.cpu.quota: cannot set cpu.max to "500": invalid argument', 'a quota below 1ms');
  t.same(writtenV2({ cpu: { idle: 1 } }), [['cpu.idle', '1']]);
  t.same(writtenV2({ cpu: { shares: 0, quota: 0, period: 0 } }), [], '0 is "not set"');
  t.equal(refusedV2({ cpu: { realtimeRuntime: 950000 } }), 'linux.resources.cpu.realtimeRuntime: cgroup v2 has no realtime CPU bandwidth');
  t.equal(refusedV2({ cpu: { realtimePeriod: 1000000 } }), 'linux.resources.cpu.realtimePeriod: cgroup v2 has no realtime CPU bandwidth');
});

t.test('v2 cpuset: cpus and mems', async (t) => {
  const { fs, written } = v2({ cpu: { cpus: '0-1', mems: '0' } });
  t.same(written, [['cpuset.cpus', '0-1'], ['cpuset.mems', '0']]);
  t.equal(fs.enabled(root), 'cpuset', 'only cpuset is enabled, not cpu');
  t.equal(refusedV2({ cpu: { cpus: 'zero' } }), 'linux.resources.cpu.cpus: cannot set cpuset.cpus to "zero": invalid argument');
});

t.test('v2 memory: limit, reservation, swap (memory.swap.max = swap - limit); what v2 cannot do is refused', async (t) => {
  t.same(writtenV2({ memory: { limit: 100 * M } }), [['memory.max', String(100 * M)]]);
  t.same(writtenV2({ memory: { reservation: 50 * M } }), [['memory.low', String(50 * M)]]);
  t.same(writtenV2({ memory: { reservation: -1 } }), [['memory.low', 'max']]);
  t.same(writtenV2({ memory: { limit: 100 * M, swap: 300 * M } }), [['memory.swap.max', String(200 * M)], ['memory.max', String(100 * M)]], 'v1 counts memory+swap, v2 swap alone');
  t.same(writtenV2({ memory: { limit: 100 * M, swap: 100 * M } }), [['memory.swap.max', '0'], ['memory.max', String(100 * M)]], 'swap = limit: no swap');
  t.same(writtenV2({ memory: { limit: 100 * M, swap: -1 } }), [['memory.swap.max', 'max'], ['memory.max', String(100 * M)]], 'swap -1: unlimited');
  t.equal(refusedV2({ memory: { swap: 300 * M } }), 'linux.resources.memory.swap: cannot set a swap limit without a memory limit on cgroup v2 (memory.swap.max is swap alone)');
  t.equal(refusedV2({ memory: { limit: -1, swap: 300 * M } }), 'linux.resources.memory.swap: cannot set a swap limit without a memory limit on cgroup v2 (memory.swap.max is swap alone)');
  t.equal(refusedV2({ memory: { limit: 200 * M, swap: 100 * M } }), `linux.resources.memory.swap: memory+swap limit ${100 * M} is lower than the memory limit ${200 * M}`);
  t.same(writtenV2({ memory: { limit: -1 } }), [['memory.swap.max', 'max'], ['memory.max', 'max']], 'limit -1 lifts the swap limit too');
  t.same(writtenV2({ memory: { limit: -1 } }, { swap: false }), [['memory.max', 'max']], 'limit -1 without swap accounting: nothing to lift');
  t.same(writtenV2({ memory: { limit: 100 * M, swap: -1 } }, { swap: false }), [['memory.max', String(100 * M)]], 'swap -1 without swap accounting: nothing to enforce');
  t.equal(refusedV2({ memory: { limit: 100 * M, swap: 200 * M } }, { swap: false }), "linux.resources.memory.swap: this host's cgroup has no memory.swap.max (the kernel does not support it)", 'a swap limit where there is no swap accounting is refused');
  t.same(writtenV2({ memory: { kernel: 10 * M, useHierarchy: true, disableOOMKiller: false, checkBeforeUpdate: true } }), [], 'kernel is ignored (warned at plan), the rest is v2\'s own behaviour');
  t.equal(refusedV2({ memory: { kernelTCP: 10 * M } }), 'linux.resources.memory.kernelTCP: cgroup v2 has no kernel TCP memory limit');
  t.equal(refusedV2({ memory: { swappiness: 10 } }), 'linux.resources.memory.swappiness: cgroup v2 has no per-cgroup swappiness');
  t.equal(refusedV2({ memory: { disableOOMKiller: true } }), 'linux.resources.memory.disableOOMKiller: cgroup v2 cannot disable the OOM killer');
  t.equal(refusedV2({ memory: { useHierarchy: false } }), 'linux.resources.memory.useHierarchy: cgroup v2 accounting is always hierarchical');
});

t.test('v2 pids', async (t) => {
  t.same(writtenV2({ pids: { limit: 10 } }), [['pids.max', '10']]);
  t.same(writtenV2({ pids: { limit: -1 } }), [['pids.max', 'max']]);
  t.same(writtenV2({ pids: { limit: 0 } }), [['pids.max', '0']], 'config-linux.md: 0 is a valid limit and SHOULD be treated as such');
});

t.test('v2 io: weight -> io.weight (converted) or io.bfq.weight (as is), throttles -> io.max; leaf weights refused', async (t) => {
  // io.weight = 1 + (weight - 10) * 9999 / 990
  t.same(writtenV2({ blockIO: { weight: 10 } }), [['io.weight', '1']]);
  t.same(writtenV2({ blockIO: { weight: 500 } }), [['io.weight', '4950']]);
  t.same(writtenV2({ blockIO: { weight: 1000 } }), [['io.weight', '10000']]);
  t.same(writtenV2({ blockIO: { weight: 500, weightDevice: [{ major: 8, minor: 0, weight: 100 }] } }), [['io.weight', '4950'], ['io.weight', '8:0 910']], 'a device weight: 1 + 90 * 9999 / 990 = 910');
  const bfq = v2({ blockIO: { weight: 500, weightDevice: [{ major: 8, minor: 16, weight: 100 }] } }, { bfq: true });
  t.same(bfq.written, [['io.bfq.weight', '500'], ['io.bfq.weight', '8:16 100']], 'with BFQ: its own weight file, v1\'s scale as is');
  t.equal(bfq.fs.read(`${C}/io.bfq.weight`), 'default 500\n8:16 100\n');
  t.equal(refusedV2({ blockIO: { weight: 5 } }), 'linux.resources.blockIO.weight: cannot set io.weight to "-49": invalid argument', 'below v1\'s range: the kernel\'s EINVAL, named');
  const io = v2({
    blockIO: {
      throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 600 }],
      throttleWriteBpsDevice: [{ major: 8, minor: 16, rate: 1000 }],
      throttleReadIOPSDevice: [{ major: 8, minor: 16, rate: 50 }],
      throttleWriteIOPSDevice: [{ major: 8, minor: 0, rate: 300 }],
    },
  });
  t.same(io.written, [['io.max', '8:0 rbps=600'], ['io.max', '8:16 wbps=1000'], ['io.max', '8:16 riops=50'], ['io.max', '8:0 wiops=300']]);
  t.same(io.fs.writtenEach, [`${C}/io.max`], 'the four through one open');
  t.equal(io.fs.read(`${C}/io.max`), '8:0 rbps=600 wbps=max riops=max wiops=300\n8:16 rbps=max wbps=1000 riops=50 wiops=max\n', 'one line per device, as the kernel keeps them');
  t.equal(refusedV2({ blockIO: { throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 600 }, { major: 8, minor: 16, rate: 0 }] } }), 'linux.resources.blockIO.throttleReadBpsDevice[1]: cannot set io.max to "8:16 rbps=0": result too large');
  t.equal(refusedV2({ blockIO: { leafWeight: 300 } }), 'linux.resources.blockIO.leafWeight: cgroup v2 has no leaf weights');
  t.equal(refusedV2({ blockIO: { weightDevice: [{ major: 8, minor: 0, weight: 500 }, { major: 8, minor: 16, leafWeight: 300 }] } }), 'linux.resources.blockIO.weightDevice[1].leafWeight: cgroup v2 has no leaf weights');
});

t.test('v2 hugetlb: the reservation limit and the usage limit of each page size', async (t) => {
  t.same(writtenV2({ hugepageLimits: [{ pageSize: '2MB', limit: 4 * M }] }), [['hugetlb.2MB.rsvd.max', String(4 * M)], ['hugetlb.2MB.max', String(4 * M)]]);
  t.equal(refusedV2({ hugepageLimits: [{ pageSize: '2MB', limit: 4 * M }, { pageSize: '1GB', limit: 1024 * M }] }), "linux.resources.hugepageLimits[1].limit: this host's cgroup has no hugetlb.1GB.max (the kernel does not support it)", 'a page size the host does not have');
  t.equal(refusedV2({ hugepageLimits: [{ pageSize: '2M', limit: 1 }] }), 'linux.resources.hugepageLimits[0].pageSize: "2M" is not a page size such as 2MB or 1GB');
});

t.test('v2 rdma, and the network fields v2 has no controller for', async (t) => {
  const r = v2({ rdma: { mlx5_1: { hcaHandles: 3, hcaObjects: 10000 }, mlx4_0: { hcaObjects: 1000 } } });
  t.same(r.written, [['rdma.max', 'mlx5_1 hca_handle=3 hca_object=10000'], ['rdma.max', 'mlx4_0 hca_object=1000']]);
  t.equal(r.fs.read(`${C}/rdma.max`), 'mlx5_1 hca_handle=3 hca_object=10000\nmlx4_0 hca_handle=max hca_object=1000\n');
  t.equal(refusedV2({ network: { classID: 1048577 } }), 'linux.resources.network.classID: cgroup v2 has no net_cls controller');
  t.equal(refusedV2({ network: { priorities: [{ name: 'eth0', priority: 500 }] } }), 'linux.resources.network.priorities: cgroup v2 has no net_prio controller');
});

t.test('v2 unified: files written as given, after their controller is enabled', async (t) => {
  const u = v2({ unified: { 'pids.max': '7', 'memory.low': '1048576' } });
  t.same(u.written, [['pids.max', '7'], ['memory.low', '1048576']]);
  t.equal(u.fs.enabled(root), 'memory pids', 'the controllers of the keys are enabled');
  t.equal(u.fs.enabled(`${root}/pod`), 'memory pids');
  const over = v2({ pids: { limit: 5 }, unified: { 'pids.max': '9' } });
  t.same(over.written, [['pids.max', '5'], ['pids.max', '9']], 'unified is written last: it overrides the converted value');
  const core = v2({ unified: { 'cgroup.max.depth': '3' } });
  t.same(core.written, [['cgroup.max.depth', '3']]);
  t.equal(core.fs.enabled(root), '', 'a cgroup core file needs no controller');
  t.equal(refusedV2({ unified: { 'pids.max': '5', 'rdma.max': 'mlx5_1 hca_handle=2' } }, { controllers: ['memory', 'pids'] }), 'linux.resources.unified["rdma.max"]: the rdma controller is not available in /sys/fs/cgroup', 'a controller the host lacks: the key that needs it is named');
  t.equal(refusedV2({ unified: { '../memory.max': '1' } }), 'linux.resources.unified["../memory.max"]: is not the name of a cgroup v2 interface file');
  // Writing a host pid into cgroup.procs would make delete kill it.
  for (const key of ['cgroup.procs', 'cgroup.threads', 'cgroup.subtree_control', 'cgroup.kill', 'cgroup.freeze']) {
    t.equal(refusedV2({ unified: { [key]: '1' } }), `linux.resources.unified["${key}"]: is not a resource: tsrun places, freezes and kills the container itself`, `${key} refused`);
  }
  t.same(writtenV2({ unified: { 'cgroup.max.depth': '3' } }).filter(([f]) => f.startsWith('cgroup.max')), [['cgroup.max.depth', '3']], 'other core files are resources (cgroup.max.*)');
  t.equal(refusedV2({ unified: { 'io/../../memory.max': '1' } }), 'linux.resources.unified["io/../../memory.max"]: is not the name of a cgroup v2 interface file', 'a bad key is refused as such, not taken for a controller');
  t.equal(refusedV2({ unified: { memory: '1' } }), 'linux.resources.unified.memory: is not the name of a cgroup v2 interface file');
  t.equal(refusedV2({ unified: { 'memory.nonesuch': '1' } }), 'linux.resources.unified["memory.nonesuch"]: this host\'s cgroup has no memory.nonesuch (the kernel does not support it)');
  t.equal(refusedV2({ unified: { 'pids.max': 'lots' } }), 'linux.resources.unified["pids.max"]: cannot set pids.max to "lots": invalid argument');
});

t.test('v2 controllers are enabled only where the resources need them', async (t) => {
  const cases: [Resources | undefined, string][] = [
    [undefined, ''],
    [{}, ''],
    [{ devices: [{ allow: false, access: 'rwm' }] }, ''],
    [{ cpu: { shares: 512 } }, 'cpu'],
    [{ cpu: { cpus: '0' } }, 'cpuset'],
    [{ memory: { limit: M } }, 'memory'],
    [{ pids: { limit: 3 } }, 'pids'],
    [{ blockIO: { weight: 100 } }, 'io'],
    [{ hugepageLimits: [{ pageSize: '2MB', limit: 2 * M }] }, 'hugetlb'],
    [{ rdma: { mlx5_1: { hcaHandles: 1 } } }, 'rdma'],
    [{ cpu: { shares: 512, mems: '0' }, pids: { limit: 3 }, memory: { limit: M } }, 'cpuset cpu memory pids'],
  ];
  for (const [r, want] of cases) {
    const { fs } = v2(r);
    t.equal(fs.enabled(root), want, `${JSON.stringify(r)}: the root enables "${want}"`);
    t.equal(fs.enabled(`${root}/pod`), want, 'and so does the parent');
    t.equal(fs.enabled(C), '', 'the container\'s own cgroup enables nothing (its processes live there)');
  }
});

t.test('v2 devices: every container gets its allowlist as a BPF program on its own cgroup', async (t) => {
  const rules = [{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 10, minor: 229, access: 'rw' }];
  for (const r of [undefined, {}, { devices: rules }, { devices: [{ allow: true, access: 'rwm' }] }] as (Resources | undefined)[]) {
    const { fs } = v2(r);
    t.same([...fs.programs.keys()], [C], `${JSON.stringify(r)}: attached to the container's cgroup only`);
    t.equal(fs.programs.get(C)!.length, 1, 'once');
    t.ok(fs.programs.get(C)![0].equals(deviceProgram(containerAllowlist(r))), 'the program of the container\'s effective allowlist');
  }
  t.notOk(deviceProgram(containerAllowlist({ devices: rules })).equals(deviceProgram(containerAllowlist({}))), '(different allowlists give different programs)');
  const fs = new FakeCgroup2(root, allControllers);
  fs.attachDeviceProgram = () => {
    throw fail('EINVAL', 'verifier');
  };
  const cg = cgroupManager(planCgroups(records('/pod/c', 'c'), false, fs), fs);
  cg.create({});
  t.equal(errorOf(() => cg.apply({})), 'linux.resources.devices: cannot attach the device program to /sys/fs/cgroup/pod/c: invalid argument');
});

t.test('v2: a parent with processes cannot hand controllers down (no internal processes)', async (t) => {
  const fs = new FakeCgroup2(root, allControllers);
  fs.write(`${root}/cgroup.subtree_control`, '+pids');
  fs.mkdir(`${root}/busy`);
  fs.write(`${root}/busy/cgroup.procs`, '77');
  const cg = cgroupManager(planCgroups(records('/busy/c', 'c'), false, fs), fs);
  t.equal(errorOf(() => cg.create({ pids: { limit: 5 } })), 'linux.resources.pids.limit: cannot enable the pids controller in /sys/fs/cgroup/busy: resource busy or locked');
  const free = cgroupManager(planCgroups(records('/busy/d', 'd'), false, fs), fs);
  free.create({});
  free.apply({});
  t.ok(fs.has(`${root}/busy/d`), 'without resources there is nothing to enable: allowed');
});

t.test('v2: create, apply, enter, freeze, thaw, pids, destroy', async (t) => {
  const fs = new FakeCgroup2(root, ['cpu', 'io', 'memory', 'pids']);
  const record = planCgroups(records('/machine/c1', 'c1'), false, fs);
  t.same(record.created, [`${root}/machine`, `${root}/machine/c1`], 'the directories that will be ours');
  const cg = cgroupManager(record, fs);
  const r = { memory: { limit: M }, pids: { limit: 10 } };
  cg.create(r);
  t.equal(fs.enabled(root), 'memory pids', 'the root hands memory and pids down');
  t.equal(fs.enabled(`${root}/machine`), 'memory pids', 'and so does the parent');
  cg.apply(r);
  t.equal(fs.read(`${root}/machine/c1/memory.max`), `${M}\n`);
  t.equal(fs.read(`${root}/machine/c1/pids.max`), '10\n');
  const pid = 10_000_001; // above any pid_max: destroy's SIGKILL reaches no real process
  enter(fs, cg, pid);
  t.same(cg.pids(), [pid]);
  t.equal(cg.freezerState(), 'thawed');
  t.equal(cg.freeze(), 'frozen');
  t.equal(fs.read(`${root}/machine/c1/cgroup.freeze`), '1\n', 'kill --all freezes through cgroup.freeze');
  t.equal(cg.freezerState(), 'frozen');
  cg.thaw();
  t.equal(fs.read(`${root}/machine/c1/cgroup.freeze`), '0\n');
  t.equal(cg.freezerState(), 'thawed');
  fs.freezeCompletes = false;
  fs.write(`${root}/machine/c1/cgroup.freeze`, '1');
  t.equal(cg.freezerState(), 'freezing', 'asked to freeze, not frozen yet (cgroup.events)');
  fs.freezeCompletes = true;
  cg.thaw();
  fs.exiting.set(pid, 3); // killed, and gone after three more tries
  cg.destroy();
  t.equal(fs.rmdirAttempts, 4 + 1, 'EBUSY three times while the killed process exits, then the cgroup and its parent go');
  t.notOk(fs.has(`${root}/machine/c1`), 'removed');
  t.notOk(fs.has(`${root}/machine`), 'the parent create made is removed too');
});

t.test('v2: errors', async (t) => {
  const fs = new FakeCgroup2(root, ['cpu', 'pids']);
  const cg = cgroupManager(planCgroups(records('/c2', 'c2'), false, fs), fs);
  t.equal(errorOf(() => cg.create({ memory: { limit: M } })), 'linux.resources.memory.limit: the memory controller is not available in /sys/fs/cgroup', 'a missing controller is named with the field that needs it');
  fs.mkdir(`${root}/busy`);
  fs.write(`${root}/busy/cgroup.procs`, '77');
  t.throws(() => planCgroups(records('/busy', 'b'), false, fs), /linux\.cgroupsPath: cgroup \/sys\/fs\/cgroup\/busy already has processes in it/);
});

t.test('planCgroups lists as ours exactly the directories that do not exist yet, and the shared parent', async (t) => {
  const fs = new FakeCgroup2(root, ['pids']);
  fs.mkdir(`${root}/machine`);
  t.same(planCgroups(records('/machine/c1', 'c1'), false, fs).created, [`${root}/machine/c1`], 'an existing parent is not ours');
  t.same(planCgroups(records('/a/b/c', 'c'), false, fs).created, [`${root}/a`, `${root}/a/b`, `${root}/a/b/c`], 'every missing one, parents first');
  fs.mkdir(`${root}/machine/c2`);
  t.same(planCgroups(records('/machine/c2', 'c2'), false, fs).created, [], 'an existing (empty) cgroup of the config is not ours');
  t.same(planCgroups(records(undefined, 'a'), true, fs).created, [`${root}/tsrun`, `${root}/tsrun/a`], 'the default path, first container: both');
  fs.mkdir(`${root}/tsrun`);
  fs.mkdir(`${root}/tsrun/a`);
  t.same(planCgroups(records(undefined, 'a'), true, fs).created, [`${root}/tsrun`], 'the default path, its cgroup already there (empty): only the shared parent');
});

t.test('v2: the default path shares tsrun/ between containers', async (t) => {
  const fs = new FakeCgroup2(root, ['pids']);
  const a = cgroupManager(planCgroups(records(undefined, 'a'), true, fs), fs);
  a.create({});
  const b = cgroupManager(planCgroups(records(undefined, 'b'), true, fs), fs);
  b.create({});
  t.ok(b.record.created.includes(`${root}/tsrun`), 'each container lists the shared parent');
  a.destroy();
  t.ok(fs.has(`${root}/tsrun`), 'the parent stays while another container uses it');
  t.ok(fs.has(`${root}/tsrun/b`));
  b.destroy();
  t.notOk(fs.has(`${root}/tsrun`), 'the last container removes it');
});

t.test('v2 stats from the cgroup2 files', async (t) => {
  const { fs, cg } = v2({ memory: { limit: 100 * M }, pids: { limit: 50 }, cpu: { shares: 1024 }, blockIO: { weight: 500 } });
  fs.set(`${C}/cpu.stat`, 'usage_usec 1500\nuser_usec 1000\nsystem_usec 500\nnr_periods 10\nnr_throttled 2\nthrottled_usec 300\n');
  fs.set(`${C}/memory.current`, '4096\n');
  fs.set(`${C}/memory.peak`, '8192\n');
  fs.set(`${C}/memory.events`, 'low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n');
  fs.set(`${C}/memory.stat`, 'anon 1024\nfile 2048\n');
  fs.set(`${C}/memory.swap.current`, '512\n');
  fs.set(`${C}/pids.current`, '4\n');
  fs.set(`${C}/io.stat`, '8:0 rbytes=4096 wbytes=8192 rios=1 wios=2 dbytes=0 dios=0\n');
  fs.set(`${C}/hugetlb.2MB.current`, '2097152\n');
  fs.set(`${C}/hugetlb.2MB.events`, 'max 5\n');
  const want = emptyRuncStats();
  want.cpu = {
    usage: { total: 1_500_000n, percpu: [], percpuKernel: [], percpuUser: [], kernel: 500_000n, user: 1_000_000n },
    throttling: { periods: 10n, throttledPeriods: 2n, throttledTime: 300_000n },
  };
  want.memory = {
    cache: 2048n, // memory.stat's file
    usage: { usage: 4096n, maxUsage: 8192n, failcnt: 3n, limit: BigInt(100 * M) },
    // v1's "swap" is memory+swap, so runc adds v2's swap (512) and memory (4096); memory.swap.max "max" stays max.
    swap: { usage: 512n + 4096n, maxUsage: 0n, failcnt: 0n, limit: MAX_U64 },
    kernel: { usage: 0n, maxUsage: 0n, failcnt: 0n, limit: 0n },
    kernelTCP: { usage: 0n, maxUsage: 0n, failcnt: 0n, limit: 0n },
    stats: new Map([['anon', 1024n], ['file', 2048n]]),
  };
  want.oomKills = 1n;
  want.pids = { current: 4n, limit: 50n };
  want.blkio.ioServiceBytesRecursive = [{ major: 8n, minor: 0n, op: 'Read', value: 4096n }, { major: 8n, minor: 0n, op: 'Write', value: 8192n }];
  want.blkio.ioServicedRecursive = [{ major: 8n, minor: 0n, op: 'Read', value: 1n }, { major: 8n, minor: 0n, op: 'Write', value: 2n }];
  want.hugetlb = new Map([['2MB', { usage: 2097152n, maxUsage: 0n, failcnt: 5n }]]);
  t.strictSame(cg.stats(['2MB']), want, 'every number, in runc\'s shape (the page sizes given)');
  t.strictSame(cg.stats([]).hugetlb, new Map(), 'no page sizes: no hugetlb numbers');
  fs.set(`${C}/memory.swap.max`, `${50 * M}\n`);
  t.equal(cg.stats([]).memory.swap.limit, BigInt(150 * M), 'a swap limit: memory.max + memory.swap.max, as v1\'s memsw');
  const none = emptyRuncStats();
  t.strictSame(v2({}).cg.stats([]), none, 'no controller enabled: the core\'s cpu.stat (zeros) and no processes, everything else zero');
});

// --- a fake v1 (and hybrid) tree ---------------------------------------------

const UNLIMITED = '9223372036854771712'; // what v1 shows for "-1"

/** The files a v1 controller gives each cgroup of its hierarchy, with their initial contents. */
function v1Files(controller: string, o: V1Options): Record<string, string> {
  const files: Record<string, Record<string, string>> = {
    cpu: { 'cpu.shares': '1024', 'cpu.cfs_period_us': '100000', 'cpu.cfs_quota_us': '-1', 'cpu.cfs_burst_us': '0', 'cpu.rt_period_us': '1000000', 'cpu.rt_runtime_us': '0', 'cpu.idle': '0', 'cpu.stat': 'nr_periods 0\nnr_throttled 0\nthrottled_time 0\n' },
    cpuacct: { 'cpuacct.usage': '0', 'cpuacct.usage_percpu': '0 0 ', 'cpuacct.stat': 'user 0\nsystem 0\n' },
    cpuset: { 'cpuset.cpus': '', 'cpuset.mems': '' },
    memory: {
      'memory.limit_in_bytes': UNLIMITED,
      'memory.soft_limit_in_bytes': UNLIMITED,
      ...(o.memsw === false ? {} : { 'memory.memsw.limit_in_bytes': UNLIMITED, 'memory.memsw.usage_in_bytes': '0' }),
      'memory.kmem.tcp.limit_in_bytes': UNLIMITED,
      'memory.swappiness': '60',
      'memory.oom_control': 'oom_kill_disable 0\nunder_oom 0\noom_kill 0\n',
      'memory.use_hierarchy': '1',
      'memory.usage_in_bytes': '0',
      'memory.stat': 'cache 0\nrss 0\n',
    },
    devices: { 'devices.allow': '', 'devices.deny': '', 'devices.list': 'a *:* rwm\n' },
    blkio: {
      ...(o.bfq ? { 'blkio.bfq.weight': '100', 'blkio.bfq.weight_device': '' } : { 'blkio.weight': '500', 'blkio.weight_device': '' }),
      'blkio.throttle.read_bps_device': '',
      'blkio.throttle.write_bps_device': '',
      'blkio.throttle.read_iops_device': '',
      'blkio.throttle.write_iops_device': '',
      'blkio.throttle.io_service_bytes_recursive': 'Total 0\n',
      'blkio.throttle.io_serviced_recursive': 'Total 0\n',
    },
    pids: { 'pids.max': 'max', 'pids.current': '0' },
    hugetlb: { 'hugetlb.2MB.limit_in_bytes': UNLIMITED, ...(o.rsvd ? { 'hugetlb.2MB.rsvd.limit_in_bytes': UNLIMITED } : {}) },
    freezer: { 'freezer.state': 'THAWED' },
    net_cls: { 'net_cls.classid': '0' },
    net_prio: { 'net_prio.ifpriomap': '' },
    rdma: { 'rdma.max': '' },
  };
  return files[controller] ?? {};
}

interface V1Options {
  /** memory.memsw.* exist (swap accounting on). */
  memsw?: boolean;
  /** blkio has BFQ's files (blkio.bfq.weight) instead of CFQ's blkio.weight. */
  bfq?: boolean;
  /** hugetlb has reservation limits. */
  rsvd?: boolean;
}

/**
 * v1 hierarchies as plain files, with the few kernel rules the manager's
 * order depends on: memory.memsw.limit_in_bytes >= memory.limit_in_bytes at
 * every step (EINVAL otherwise), memory.swappiness 0..100, a process joins
 * a cpuset cgroup only once it has cpus (ENOSPC), rmdir EBUSY while busy.
 */
class FakeCgroupV1 implements CgroupFs {
  readonly files = new Map<string, string>();
  readonly dirs = new Set<string>();
  readonly writes: [file: string, value: string][] = [];

  constructor(
    readonly host: CgroupHost,
    readonly opts: V1Options = {},
  ) {
    for (const h of host.hierarchies) this.populate(h.mountpoint);
    for (const h of host.hierarchies) this.files.set(`${h.mountpoint}/cgroup.procs`, '1\n');
    if (this.files.has(`${v1Root}/cpuset/cpuset.cpus`)) {
      this.files.set(`${v1Root}/cpuset/cpuset.cpus`, '0-3');
      this.files.set(`${v1Root}/cpuset/cpuset.mems`, '0');
    }
  }

  private hierarchy(dir: string) {
    return this.host.hierarchies.find((h) => dir === h.mountpoint || dir.startsWith(`${h.mountpoint}/`))!;
  }
  private populate(dir: string) {
    this.dirs.add(dir);
    this.files.set(`${dir}/cgroup.procs`, '');
    for (const c of this.hierarchy(dir).controllers) for (const [f, v] of Object.entries(v1Files(c, this.opts))) this.files.set(`${dir}/${f}`, v);
  }

  mkdir(dir: string): boolean {
    if (this.dirs.has(dir)) return false;
    need(this.dirs.has(split(dir)[0]), 'ENOENT', dir);
    this.populate(dir);
    return true;
  }
  mkdirAll(dir: string): string | undefined {
    return mkdirAllBy((d) => this.dirs.has(d), (d) => this.mkdir(d), dir);
  }
  rmdir(dir: string): void {
    need(this.dirs.has(dir), 'ENOENT', dir);
    need(!this.hasChildren(dir) && this.files.get(`${dir}/cgroup.procs`) === '', 'EBUSY', dir);
    this.dirs.delete(dir);
    for (const f of [...this.files.keys()]) if (split(f)[0] === dir) this.files.delete(f);
  }
  exists(dir: string): boolean {
    return this.dirs.has(dir);
  }
  hasChildren(dir: string): boolean {
    return [...this.dirs].some((d) => d.startsWith(`${dir}/`));
  }
  read(file: string): string | undefined {
    return this.files.get(file);
  }
  /** Files opened once for several writes (writeEach), in order. */
  readonly writtenEach: string[] = [];
  writeEach(file: string, values: readonly string[]): void {
    this.writtenEach.push(file);
    writeEachBy((f, v) => this.write(f, v), file, values);
  }

  write(file: string, value: string): void {
    need(this.files.has(file), 'ENOENT', file);
    const [dir, name] = split(file);
    const get = (n: string) => this.files.get(`${dir}/${n}`);
    const bytes = (v: string) => BigInt(v === '-1' ? UNLIMITED : v);
    if (name === 'cgroup.procs') {
      need(get('cpuset.cpus') !== '', 'ENOSPC', `${dir} has no cpus`);
      // Out of its cgroup in this hierarchy (each hierarchy has the process in one cgroup).
      for (const d of [...this.dirs].filter((x) => this.hierarchy(x) === this.hierarchy(dir))) {
        const procs = this.files.get(`${d}/cgroup.procs`)!.split('\n').filter((p) => p && p !== value);
        this.files.set(`${d}/cgroup.procs`, procs.map((p) => `${p}\n`).join(''));
      }
      this.files.set(file, `${get('cgroup.procs')}${value}\n`);
    } else if (name === 'memory.limit_in_bytes') {
      const memsw = get('memory.memsw.limit_in_bytes');
      need(memsw === undefined || bytes(value) <= BigInt(memsw), 'EINVAL', 'limit above memsw');
      this.files.set(file, String(bytes(value)));
    } else if (name === 'memory.memsw.limit_in_bytes') {
      need(bytes(value) >= BigInt(get('memory.limit_in_bytes')!), 'EINVAL', 'memsw below limit');
      this.files.set(file, String(bytes(value)));
    } else if (name === 'memory.swappiness') {
      need(uint(value) && Number(value) <= 100);
      this.files.set(file, value);
    } else {
      this.files.set(file, value);
    }
    this.writes.push([file, value]);
  }
  attachDeviceProgram(): void {
    throw new Error('no device programs on v1');
  }
}

const v1Root = '/sys/fs/cgroup';
const allV1 = ['cpu,cpuacct', 'cpuset', 'memory', 'devices', 'blkio', 'pids', 'hugetlb', 'freezer', 'net_cls,net_prio', 'rdma', 'systemd'];

/** A v1 host with these hierarchies (and, if hybrid, the unified one) mounted under /sys/fs/cgroup. */
function v1Host(hierarchies: string[], hybrid = true): CgroupHost {
  const mounts = hierarchies.map((h, i) => line(50 + i, '/', `${v1Root}/${h}`, 'cgroup', `rw,${h === 'systemd' ? 'xattr,name=systemd' : h}`));
  if (hybrid) mounts.push(line(90, '/', `${v1Root}/unified`, 'cgroup2', 'rw,nsdelegate'));
  return parseCgroupHost(mounts.join('\n'), '0::/\n');
}

/** create + apply on a fake v1 tree, the container at /c. */
function v1(resources: Resources | undefined, opts: V1Options & { hierarchies?: string[]; hybrid?: boolean } = {}) {
  const host = v1Host(opts.hierarchies ?? allV1, opts.hybrid);
  const fs = new FakeCgroupV1(host, opts);
  const dirs = plannedCgroupDirs(host, '/c').map(({ hierarchy: h, path, dir }) => ({ version: h.version, mountpoint: h.mountpoint, controllers: h.controllers, path, dir }));
  const cg = cgroupManager(planCgroups(dirs, false, fs), fs);
  cg.create(resources);
  cg.apply(resources);
  /** The files written in the container's cgroup of one hierarchy, in order, and their values. */
  const written = (hierarchy: string) => fs.writes.filter(([f]) => split(f)[0] === `${v1Root}/${hierarchy}/c`).map(([f, v]) => [split(f)[1], v]);
  return { fs, cg, written };
}
const refusedV1 = (r: Resources, opts?: V1Options & { hierarchies?: string[] }) => errorOf(() => v1(r, opts));

t.test("v1 create: a shared parent removed meanwhile by another container's delete makes it start over", async (t) => {
  {
    const code = 'ENODEV';
    const fake = new FakeCgroupV1(v1Host(['cpuset']));
    const parentCpus = `${v1Root}/cpuset/tsrun/cpuset.cpus`;
    let raced = 0;
    // The parent exists; as the new container reads its cpus, another
    // container's delete removes it: ENODEV if the file was already open.
    // (Directory by directory, without mkdirAll: once made, the container's
    // own directory keeps its parent from being removed.)
    const racing: CgroupFs = {
      read: (f) => {
        if (f === parentCpus && raced++ === 0) {
          fake.dirs.delete(`${v1Root}/cpuset/tsrun`);
          throw Object.assign(new Error(`${code}: gone, read`), { code });
        }
        return fake.read(f);
      },
      write: (f, v) => fake.write(f, v),
      mkdir: (d) => fake.mkdir(d),
      rmdir: (d) => fake.rmdir(d),
      exists: (d) => fake.exists(d),
      hasChildren: (d) => fake.hasChildren(d),
      attachDeviceProgram: (d, p) => fake.attachDeviceProgram(d, p),
    };
    fake.mkdir(`${v1Root}/cpuset/tsrun`);
    fake.files.set(parentCpus, '0-3');
    const dirs = plannedCgroupDirs(v1Host(['cpuset']), 'tsrun/c').map(({ hierarchy: h, path, dir }) => ({ version: h.version, mountpoint: h.mountpoint, controllers: h.controllers, path, dir }));
    cgroupManager(planCgroups(dirs, true, fake), racing).create({});
    t.equal(raced, 1, `${code}: the race happened`);
    t.ok(fake.exists(`${v1Root}/cpuset/tsrun`), `${code}: the removed parent made again`);
    t.equal(fake.read(parentCpus), '0-3', `${code}: the parent made again, with the root's cpus`);
    t.equal(fake.read(`${v1Root}/cpuset/tsrun/c/cpuset.cpus`), '0-3', `${code}: the container's cgroup made, with its parent's cpus`);
  }
});

t.test('v1 create: one mkdir -p a hierarchy; a new cpuset cgroup gets its parent\'s cpus and mems, passed down without reading back', async (t) => {
  const host = v1Host(['cpuset', 'memory', 'pids']);
  const dirs = () => plannedCgroupDirs(host, 'tsrun/c').map(({ hierarchy: h, path, dir }) => ({ version: h.version, mountpoint: h.mountpoint, controllers: h.controllers, path, dir }));
  const cpuset = `${v1Root}/cpuset`;
  /** create on fake, every call to its fs logged. */
  const created = (fake: FakeCgroupV1) => {
    const calls: string[] = [];
    const logged: CgroupFs = {
      read: (f) => (calls.push(`read ${f}`), fake.read(f)),
      write: (f, v) => (calls.push(`write ${f} ${v}`), fake.write(f, v)),
      mkdir: (d) => (calls.push(`mkdir ${d}`), fake.mkdir(d)),
      mkdirAll: (d) => (calls.push(`mkdirAll ${d}`), fake.mkdirAll(d)),
      rmdir: (d) => fake.rmdir(d),
      exists: (d) => fake.exists(d),
      hasChildren: (d) => fake.hasChildren(d),
      attachDeviceProgram: (d, p) => fake.attachDeviceProgram(d, p),
    };
    cgroupManager(planCgroups(dirs(), true, fake), logged).create({});
    return calls;
  };

  const fresh = new FakeCgroupV1(host);
  t.same(created(fresh), [
    `mkdirAll ${cpuset}/tsrun/c`,
    `read ${cpuset}/cpuset.cpus`,
    `write ${cpuset}/tsrun/cpuset.cpus 0-3`,
    `read ${cpuset}/cpuset.mems`,
    `write ${cpuset}/tsrun/cpuset.mems 0`,
    `write ${cpuset}/tsrun/c/cpuset.cpus 0-3`,
    `write ${cpuset}/tsrun/c/cpuset.mems 0`,
    `mkdirAll ${v1Root}/memory/tsrun/c`,
    `mkdirAll ${v1Root}/pids/tsrun/c`,
    `mkdirAll ${v1Root}/unified/tsrun/c`,
  ], "both levels made by one call a hierarchy; the root's cpus and mems read once, the new directories' never");
  t.equal(fresh.read(`${cpuset}/tsrun/c/cpuset.cpus`), '0-3');

  // The parent made by someone else, without cpus: it gets the root's first.
  const empty = new FakeCgroupV1(host);
  empty.mkdir(`${cpuset}/tsrun`);
  t.same(created(empty).filter((c) => c.includes('/cpuset')), [
    `mkdirAll ${cpuset}/tsrun/c`,
    `read ${cpuset}/tsrun/cpuset.cpus`,
    `read ${cpuset}/tsrun/cpuset.cpus`,
    `read ${cpuset}/cpuset.cpus`,
    `write ${cpuset}/tsrun/cpuset.cpus 0-3`,
    `read ${cpuset}/tsrun/cpuset.mems`,
    `read ${cpuset}/cpuset.mems`,
    `write ${cpuset}/tsrun/cpuset.mems 0`,
    `write ${cpuset}/tsrun/c/cpuset.cpus 0-3`,
    `write ${cpuset}/tsrun/c/cpuset.mems 0`,
  ], 'an existing parent without cpus or mems gets its own parent\'s before the container\'s directory gets them');
  t.same([empty.read(`${cpuset}/tsrun/cpuset.cpus`), empty.read(`${cpuset}/tsrun/c/cpuset.mems`)], ['0-3', '0']);

  // The parent with cpus of its own: the container gets those.
  const own = new FakeCgroupV1(host);
  own.mkdir(`${cpuset}/tsrun`);
  own.files.set(`${cpuset}/tsrun/cpuset.cpus`, '1');
  own.files.set(`${cpuset}/tsrun/cpuset.mems`, '0');
  created(own);
  t.same([own.read(`${cpuset}/tsrun/cpuset.cpus`), own.read(`${cpuset}/tsrun/c/cpuset.cpus`)], ['1', '1'], "the parent keeps its cpus, and the container's directory gets them");

  // The container's directory exists with cpus of its own: left as it is.
  const kept = new FakeCgroupV1(host);
  kept.mkdirAll(`${cpuset}/tsrun/c`);
  kept.files.set(`${cpuset}/tsrun/c/cpuset.cpus`, '2');
  kept.files.set(`${cpuset}/tsrun/c/cpuset.mems`, '0');
  t.same(created(kept).filter((c) => c.includes('/cpuset')), [`mkdirAll ${cpuset}/tsrun/c`, `read ${cpuset}/tsrun/c/cpuset.cpus`, `read ${cpuset}/tsrun/c/cpuset.mems`], 'read, not written');

  // The container's directory there, without cpus or mems: it gets them,
  // and so does its parent, empty too.
  const bare = new FakeCgroupV1(host);
  bare.mkdirAll(`${cpuset}/tsrun/c`);
  created(bare);
  t.same([bare.read(`${cpuset}/tsrun/cpuset.cpus`), bare.read(`${cpuset}/tsrun/c/cpuset.cpus`), bare.read(`${cpuset}/tsrun/c/cpuset.mems`)], ['0-3', '0-3', '0'], "an existing empty container directory gets its parent's, after the parent gets the root's");
});

t.test('v1 create: a failed mkdir -p is taken again directory by directory, for the error that names its directory', async (t) => {
  const host = v1Host(['cpuset', 'pids']);
  const dirs = plannedCgroupDirs(host, 'tsrun/c').map(({ hierarchy: h, path, dir }) => ({ version: h.version, mountpoint: h.mountpoint, controllers: h.controllers, path, dir }));
  /** The fake, its mkdirAll replaced. */
  const withMkdirAll = (fake: FakeCgroupV1, mkdirAll: (d: string) => string | undefined, mkdir = (d: string) => fake.mkdir(d)): CgroupFs =>
    Object.assign(Object.create(fake) as FakeCgroupV1, { mkdirAll, mkdir });

  // Node's mkdir -p reports the kernel's EAGAIN (v2's cgroup.max.descendants)
  // as the ENOENT of its stat after it.
  const limited = new FakeCgroupV1(host);
  const leaf = `${v1Root}/pids/tsrun/c`;
  const masked = withMkdirAll(
    limited,
    (d) => (d === leaf ? (() => { throw fail('ENOENT', d); })() : limited.mkdirAll(d)),
    (d) => (d === leaf ? (() => { throw fail('EAGAIN', d); })() : limited.mkdir(d)),
  );
  t.match(errorOf(() => cgroupManager(planCgroups(dirs, true, limited), masked).create({})), new RegExp(`EAGAIN: ${leaf}`), "the kernel's error on the directory refused, not ENOENT after ten attempts");

  // A mkdir -p that failed once: the hierarchy made directory by directory.
  const flaky = new FakeCgroupV1(host);
  let calls = 0;
  const once = withMkdirAll(flaky, (d) => {
    if (calls++ === 0) throw fail('ENOENT', d);
    return flaky.mkdirAll(d);
  });
  cgroupManager(planCgroups(dirs, true, flaky), once).create({});
  t.equal(calls, 3, 'cpuset: failed, taken again directory by directory; pids and the unified hierarchy by mkdir -p');
  t.equal(flaky.read(`${v1Root}/cpuset/tsrun/c/cpuset.cpus`), '0-3', 'the cpuset directory made, with its cpus');

  // The hierarchy unmounted since the host was read: mkdir -p made its
  // mountpoint too. Refused, and what it made removed.
  const unmounted = new FakeCgroupV1(host);
  const gone = withMkdirAll(unmounted, (d) => {
    unmounted.mkdirAll(d);
    return d.startsWith(`${v1Root}/pids/`) ? `${v1Root}/pids` : undefined;
  });
  t.equal(errorOf(() => cgroupManager(planCgroups(dirs, true, unmounted), gone).create({})), `the pids cgroup hierarchy is no longer mounted at ${v1Root}/pids`);
  t.same([unmounted.exists(leaf), unmounted.exists(`${v1Root}/pids/tsrun`)], [false, false], 'what it made is removed');
});

t.test('the real mkdirAll: mkdir -p, the topmost directory made', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tsrun-mkdirall-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  t.equal(realCgroupFs.mkdirAll!(join(dir, 'a/b/c')), join(dir, 'a'), 'three levels: the first made');
  t.equal(realCgroupFs.mkdirAll!(join(dir, 'a/b/c')), undefined, 'all there: undefined, no error');
  t.equal(realCgroupFs.mkdirAll!(join(dir, 'a/b/d')), join(dir, 'a/b/d'));
  writeFileSync(join(dir, 'f'), '');
  t.throws(() => realCgroupFs.mkdirAll!(join(dir, 'f/x')), { code: 'ENOTDIR' }, 'a file in the way');
});

t.test('v1 cpu and cpuset: each field to its file', async (t) => {
  const { written } = v1({ cpu: { shares: 512, quota: 50000, period: 200000, burst: 10000, realtimeRuntime: 950000, realtimePeriod: 1000000, idle: 1, cpus: '1-2', mems: '0' } });
  t.same(written('cpu,cpuacct'), [
    ['cpu.shares', '512'],
    ['cpu.cfs_period_us', '200000'],
    ['cpu.cfs_quota_us', '50000'],
    ['cpu.cfs_burst_us', '10000'],
    ['cpu.rt_period_us', '1000000'],
    ['cpu.rt_runtime_us', '950000'],
    ['cpu.idle', '1'],
  ], 'as is (no conversion on v1), the period before the quota');
  t.same(written('cpuset'), [['cpuset.cpus', '0-3'], ['cpuset.mems', '0'], ['cpuset.cpus', '1-2'], ['cpuset.mems', '0']], 'a new cpuset cgroup first gets its parent\'s cpus and mems, then the config\'s');
  t.same(v1({ cpu: { quota: -1 } }).written('cpu,cpuacct'), [['cpu.cfs_quota_us', '-1']]);
  t.same(v1({}).written('cpu,cpuacct'), [], 'nothing set, nothing written');
});

t.test('v1 memory: each field to its file', async (t) => {
  const { written } = v1({ memory: { limit: 100 * M, reservation: 80 * M, swap: 200 * M, kernel: 10 * M, kernelTCP: 5 * M, swappiness: 10, disableOOMKiller: true, useHierarchy: true, checkBeforeUpdate: true } });
  t.same(written('memory'), [
    ['memory.limit_in_bytes', String(100 * M)],
    ['memory.memsw.limit_in_bytes', String(200 * M)],
    ['memory.soft_limit_in_bytes', String(80 * M)],
    ['memory.kmem.tcp.limit_in_bytes', String(5 * M)],
    ['memory.swappiness', '10'],
    ['memory.oom_control', '1'],
    ['memory.use_hierarchy', '1'],
  ], 'swap is memory+swap as in v1; kernel is not written (ignored, warned at plan)');
  t.same(v1({ memory: { limit: -1 } }).written('memory'), [['memory.memsw.limit_in_bytes', '-1'], ['memory.limit_in_bytes', '-1']], 'limit -1 lifts memory+swap too');
  t.same(v1({ memory: { limit: -1 } }, { memsw: false }).written('memory'), [['memory.limit_in_bytes', '-1']], 'without swap accounting: nothing to lift');
  t.equal(refusedV1({ memory: { limit: 100 * M, swap: 200 * M } }, { memsw: false }), "linux.resources.memory.swap: this host's cgroup has no memory.memsw.limit_in_bytes (the kernel does not support it)");
  t.equal(refusedV1({ memory: { swappiness: 101 } }), 'linux.resources.memory.swappiness: cannot set memory.swappiness to "101": invalid argument', 'the kernel\'s EINVAL, named');
  t.equal(refusedV1({ memory: { limit: 200 * M, swap: 100 * M } }), 'linux.resources.memory.swap: cannot set memory.memsw.limit_in_bytes to "104857600": invalid argument', 'memory+swap below the limit: the kernel refuses');
});

t.test('v1 memory and swap: written in the order the kernel accepts (memsw >= limit at every step)', async (t) => {
  const { fs, cg, written } = v1({ memory: { limit: 100 * M, swap: 200 * M } });
  t.same(written('memory'), [['memory.limit_in_bytes', String(100 * M)], ['memory.memsw.limit_in_bytes', String(200 * M)]], 'from unlimited: the limit first');
  const memsw = () => fs.read(`${v1Root}/memory/c/memory.memsw.limit_in_bytes`);
  const memoryWrites = (since: number) => fs.writes.slice(since).filter(([f]) => split(f)[0] === `${v1Root}/memory/c`).map(([f, v]) => [split(f)[1], v]);
  const since = fs.writes.length;
  cg.apply({ memory: { limit: 300 * M, swap: 400 * M } });
  t.same(memoryWrites(since), [['memory.memsw.limit_in_bytes', String(400 * M)], ['memory.limit_in_bytes', String(300 * M)]], 'raising swap past the current limit: memsw first (the new limit would exceed the old memsw)');
  t.equal(memsw(), String(400 * M));
  const since2 = fs.writes.length;
  cg.apply({ memory: { limit: 50 * M, swap: 60 * M } });
  t.same(memoryWrites(since2), [['memory.limit_in_bytes', String(50 * M)], ['memory.memsw.limit_in_bytes', String(60 * M)]], 'lowering: the limit first (the new memsw would be below the old limit)');
  const since3 = fs.writes.length;
  cg.apply({ memory: { limit: 70 * M, swap: -1 } });
  t.same(memoryWrites(since3), [['memory.memsw.limit_in_bytes', '-1'], ['memory.limit_in_bytes', String(70 * M)]], 'unlimited swap: memsw first');
  t.equal(memsw(), UNLIMITED);
});

t.test('v1 pids, hugetlb, net_cls, net_prio, rdma', async (t) => {
  t.same(v1({ pids: { limit: 10 } }).written('pids'), [['pids.max', '10']]);
  t.same(v1({ pids: { limit: -1 } }).written('pids'), [['pids.max', 'max']]);
  t.same(v1({ pids: { limit: 0 } }).written('pids'), [['pids.max', '0']], '0 is a limit');
  t.same(v1({ hugepageLimits: [{ pageSize: '2MB', limit: 4 * M }] }).written('hugetlb'), [['hugetlb.2MB.limit_in_bytes', String(4 * M)]], 'without reservation accounting: the usage limit');
  t.same(v1({ hugepageLimits: [{ pageSize: '2MB', limit: 4 * M }] }, { rsvd: true }).written('hugetlb'), [['hugetlb.2MB.rsvd.limit_in_bytes', String(4 * M)], ['hugetlb.2MB.limit_in_bytes', String(4 * M)]], 'with it: the reservation limit too');
  const net = v1({ network: { classID: 1048577, priorities: [{ name: 'eth0', priority: 500 }, { name: 'eth1', priority: 1000 }] } });
  t.same(net.written('net_cls,net_prio'), [['net_cls.classid', '1048577'], ['net_prio.ifpriomap', 'eth0 500'], ['net_prio.ifpriomap', 'eth1 1000']]);
  t.same(v1({ rdma: { mlx5_1: { hcaHandles: 3, hcaObjects: 10000 }, mlx4_0: { hcaObjects: 1000 } } }).written('rdma'), [['rdma.max', 'mlx5_1 hca_handle=3 hca_object=10000'], ['rdma.max', 'mlx4_0 hca_object=1000']]);
  t.equal(refusedV1({ unified: { 'pids.max': '5' } }), 'linux.resources.unified["pids.max"]: cgroup v2 files cannot be written on this host, whose resources are in cgroup v1');
});

t.test('v1 blkio: blkio.weight or BFQ\'s blkio.bfq.weight, throttles; leaf weights only where the kernel has them', async (t) => {
  const blockIO = {
    weight: 500,
    weightDevice: [{ major: 8, minor: 0, weight: 300 }],
    throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 600 }],
    throttleWriteBpsDevice: [{ major: 8, minor: 16, rate: 700 }],
    throttleReadIOPSDevice: [{ major: 8, minor: 0, rate: 80 }],
    throttleWriteIOPSDevice: [{ major: 8, minor: 16, rate: 90 }],
  };
  const throttles = [
    ['blkio.throttle.read_bps_device', '8:0 600'],
    ['blkio.throttle.write_bps_device', '8:16 700'],
    ['blkio.throttle.read_iops_device', '8:0 80'],
    ['blkio.throttle.write_iops_device', '8:16 90'],
  ];
  t.same(v1({ blockIO }).written('blkio'), [['blkio.weight', '500'], ['blkio.weight_device', '8:0 300'], ...throttles], 'CFQ\'s files');
  t.same(v1({ blockIO }, { bfq: true }).written('blkio'), [['blkio.bfq.weight', '500'], ['blkio.bfq.weight_device', '8:0 300'], ...throttles], 'BFQ\'s files where the kernel has only those');
  t.equal(refusedV1({ blockIO: { leafWeight: 300 } }), "linux.resources.blockIO.leafWeight: this host's cgroup has no blkio.leaf_weight (the kernel does not support it)");
  t.equal(refusedV1({ blockIO: { weightDevice: [{ major: 8, minor: 0, leafWeight: 300 }] } }), "linux.resources.blockIO.weightDevice[0].leafWeight: this host's cgroup has no blkio.leaf_weight_device (the kernel does not support it)");
});

t.test('v1: a controller whose hierarchy is not mounted is refused, naming the field', async (t) => {
  const without = (h: string) => allV1.filter((x) => x !== h);
  t.equal(refusedV1({ hugepageLimits: [{ pageSize: '2MB', limit: 2 * M }] }, { hierarchies: without('hugetlb') }), 'linux.resources.hugepageLimits[0].limit: the hugetlb cgroup controller is not mounted on this host');
  t.equal(refusedV1({ pids: { limit: 5 } }, { hierarchies: without('pids') }), 'linux.resources.pids.limit: the pids cgroup controller is not mounted on this host');
  t.equal(refusedV1({ network: { classID: 1 } }, { hierarchies: without('net_cls,net_prio') }), 'linux.resources.network.classID: the net_cls cgroup controller is not mounted on this host');
  t.equal(refusedV1({ devices: [{ allow: true, access: 'rwm' }] }, { hierarchies: without('devices') }), 'linux.resources.devices: the devices cgroup controller is not mounted on this host');
  t.same(v1({}, { hierarchies: without('devices') }).fs.writes.filter(([f]) => f.includes('devices')), [], 'no devices rules and no devices hierarchy: nothing to confine with, no error');
  t.same(v1({ memory: { limit: M } }, { hierarchies: without('pids') }).written('memory'), [['memory.limit_in_bytes', String(M)]], 'a missing hierarchy matters only to its fields');
});

t.test("the real writeEach: each value its own write through one open; a failure names the value's index", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tsrun-write-each-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'devices.allow');
  writeFileSync(file, '');
  realCgroupFs.writeEach!(file, ['c 1:3 rwm\n', 'c 1:5 rwm\n']);
  t.equal(readFileSync(file, 'utf8'), 'c 1:3 rwm\nc 1:5 rwm\n', 'in order, through one open (a regular file appends them)');
  const failed = (path: string, values: string[]) => {
    try {
      realCgroupFs.writeEach!(path, values);
    } catch (err) {
      return err instanceof WriteEachError ? [err.index, (err.error as { code?: string }).code] : err;
    }
    return 'no error';
  };
  t.same(failed(join(dir, 'missing'), ['a', 'b']), [0, 'ENOENT'], 'no such file: the open, the first value');
  t.same(failed('/dev/full', ['a', 'b']), [0, 'ENOSPC'], 'a refused write: its value');
  // A kernel file that takes one value and refuses the next, as a cgroup
  // file would: this process's own oom_score_adj, given back unchanged.
  const own = readFileSync('/proc/self/oom_score_adj', 'utf8').trim();
  t.same(failed('/proc/self/oom_score_adj', [own, 'not a number']), [1, 'EINVAL'], 'the second value refused: index 1');
  t.equal(readFileSync('/proc/self/oom_score_adj', 'utf8').trim(), own, '(unchanged)');
});

t.test('v1 devices: deny all, then the effective allowlist, as runc writes it', async (t) => {
  const runcSpec = v1({ devices: [{ allow: false, access: 'rwm' }] });
  t.same(runcSpec.written('devices'), [
    ['devices.deny', 'a'],
    ['devices.allow', 'b *:* m'],
    ['devices.allow', 'c *:* m'],
    ['devices.allow', 'c 1:3 rwm'],
    ['devices.allow', 'c 1:5 rwm'],
    ['devices.allow', 'c 1:7 rwm'],
    ['devices.allow', 'c 1:8 rwm'],
    ['devices.allow', 'c 1:9 rwm'],
    ['devices.allow', 'c 5:0 rwm'],
    ['devices.allow', 'c 5:2 rwm'],
    ['devices.allow', 'c 10:200 rwm'],
    ['devices.allow', 'c 136:* rwm'],
  ], "runc spec's config: runc's devices.list");
  t.same(runcSpec.fs.writtenEach, [`${v1Root}/devices/c/devices.allow`], 'the eleven rules through one open, after the deny on its own');
  t.same(v1(undefined).written('devices'), runcSpec.written('devices'), 'no rules: the same (deny-all is the start)');
  t.same(v1({ devices: [{ allow: true, access: 'rwm' }] }).written('devices'), [['devices.allow', 'a']], 'privileged: allow all, no exception');
  const some = v1({ devices: [{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 10, minor: 229, access: 'rw' }, { allow: false, type: 'c', major: 1, minor: 9, access: 'w' }] });
  t.same(some.written('devices').slice(0, 4), [['devices.deny', 'a'], ['devices.allow', 'b *:* m'], ['devices.allow', 'c *:* m'], ['devices.allow', 'c 1:3 rwm']]);
  t.ok(some.written('devices').some(([f, v]) => f === 'devices.allow' && v === 'c 10:229 rw'), 'the config\'s own exception');
  t.ok(some.written('devices').some(([, v]) => v === 'c 1:9 rwm'), 'the defaults come after the config\'s rules: a config deny of one is given back');
  const denied = v1({ devices: [{ allow: true, access: 'rwm' }, { allow: false, type: 'c', major: 10, minor: 229, access: 'rw' }] });
  t.same(denied.written('devices'), [['devices.allow', 'a'], ['devices.deny', 'c 10:229 rw']], 'allow all but one');
  t.same(denied.fs.writtenEach, [], 'one write to each of two files: no run to put through one open');
});

t.test('v1 hybrid: the unified hierarchy gets the process only, never resources', async (t) => {
  const pid = 10_000_002;
  const { fs, cg } = v1({ memory: { limit: M }, pids: { limit: 5 }, cpu: { shares: 100 } });
  t.same(cg.joins(), { v1: allV1.map((h) => `${v1Root}/${h}/c`), v2: `${v1Root}/unified/c` }, 'joined: every v1 hierarchy (named ones included), and the unified one as cgroup v2');
  enter(fs, cg, pid);
  t.ok(fs.dirs.has(`${v1Root}/unified/c`), 'created in the unified hierarchy too');
  t.same(fs.writes.filter(([f]) => f.startsWith(`${v1Root}/unified/`)), [[`${v1Root}/unified/c/cgroup.procs`, String(pid)]], 'nothing else written there');
  t.ok(fs.read(`${v1Root}/systemd/c/cgroup.procs`)!.includes(String(pid)), 'and in every v1 hierarchy, named ones included');
  t.same(cg.pids(), [pid], 'listed once');
  t.equal(cg.freeze(), 'frozen');
  t.equal(fs.read(`${v1Root}/freezer/c/freezer.state`), 'FROZEN');
  t.equal(cg.freezerState(), 'frozen');
  cg.thaw();
  t.equal(cg.freezerState(), 'thawed');
  for (const d of fs.dirs) if (fs.files.get(`${d}/cgroup.procs`)?.includes(String(pid))) fs.files.set(`${d}/cgroup.procs`, ''); // the process exited
  cg.destroy();
  t.same([...fs.dirs].filter((d) => d.endsWith('/c')), [], 'removed from every hierarchy');
  const noFreezer = v1({}, { hierarchies: allV1.filter((h) => h !== 'freezer') });
  t.equal(noFreezer.cg.freeze(), false, 'no freezer hierarchy: freeze says so');
  t.equal(noFreezer.cg.freezerState(), undefined);
});

/**
 * fs with a v1 freezer that stays FREEZING for the first `stuck` writes of
 * FROZEN (Infinity: for ever), as the kernel's does while processes keep
 * appearing; what freezer.state was given, in order, in `given`.
 */
function stickyFreezer(fs: CgroupFs, stuck: number) {
  const given: string[] = [];
  let left = stuck;
  const sticky: CgroupFs = {
    read: (f) => fs.read(f),
    write: (f, v) => {
      if (f.endsWith('/freezer.state')) {
        given.push(v);
        if (v === 'FROZEN' && left-- > 0) return fs.write(f, 'FREEZING');
      }
      fs.write(f, v);
    },
    mkdir: (d) => fs.mkdir(d),
    rmdir: (d) => fs.rmdir(d),
    exists: (d) => fs.exists(d),
    hasChildren: (d) => fs.hasChildren(d),
    attachDeviceProgram: (d, p) => fs.attachDeviceProgram(d, p),
  };
  return { sticky, given };
}

t.test('v1 freeze: FROZEN written again while FREEZING, a brief thaw between rounds, "freezing" when the time is up', async (t) => {
  const { fs, cg } = v1({});
  const state = () => fs.read(`${v1Root}/freezer/c/freezer.state`);

  const late = stickyFreezer(fs, 120);
  t.equal(cgroupManager(cg.record, late.sticky, { freezeTimeoutMs: 5000 }).freeze(), 'frozen', 'frozen at the 121st write');
  t.equal(state(), 'FROZEN');
  t.equal(late.given.filter((v) => v === 'FROZEN').length, 121, 'FROZEN written at every look');
  t.same(late.given.map((v, i) => (v === 'THAWED' ? i : -1)).filter((i) => i >= 0), [50, 101], 'thawed after each round of 50 looks');
  fs.write(`${v1Root}/freezer/c/freezer.state`, 'THAWED');

  const never = stickyFreezer(fs, Infinity);
  const began = performance.now();
  t.equal(cgroupManager(cg.record, never.sticky, { freezeTimeoutMs: 200 }).freeze(), 'freezing', 'never frozen: said so, not true');
  const took = performance.now() - began;
  t.ok(took >= 200 && took < 2000, `gave up after the time allowed (${Math.round(took)} ms)`);
  t.equal(state(), 'FREEZING', 'left freezing, for the caller to report and thaw');
  t.equal(never.given.at(-1), 'FROZEN');
  t.ok(never.given.includes('THAWED'), 'with thaws between rounds');

  fs.write(`${v1Root}/freezer/c/freezer.state`, 'THAWED');
  const odd: CgroupFs = { ...never.sticky, write: (f, v) => fs.write(f, f.endsWith('/freezer.state') ? 'THAWED' : v) };
  t.throws(() => cgroupManager(cg.record, odd).freeze(), /unexpected state THAWED while freezing/, 'a state that is neither: an error, as runc');
});

t.test('v2 freeze: "freezing" when cgroup.events never says frozen', async (t) => {
  const { fs, cg } = v2({});
  fs.freezeCompletes = false;
  const began = performance.now();
  t.equal(cgroupManager(cg.record, fs, { freezeTimeoutMs: 200 }).freeze(), 'freezing');
  const took = performance.now() - began;
  t.ok(took >= 200 && took < 2000, `gave up after the time allowed (${Math.round(took)} ms)`);
  t.equal(fs.read(`${C}/cgroup.freeze`), '1\n', 'left asked to freeze, for the caller to thaw');
  fs.freezeCompletes = true;
  t.equal(cg.freeze(), 'frozen');
});

/** A process of the fake v1 tree gone from every hierarchy, as a killed process that exited. */
function exited(fs: FakeCgroupV1, pid: number): void {
  for (const [f, v] of fs.files) {
    if (f.endsWith('/cgroup.procs')) fs.files.set(f, v.split('\n').filter((p) => p && p !== String(pid)).map((p) => `${p}\n`).join(''));
  }
}

t.test('destroy: not frozen, it kills until a look at the cgroup finds no new process', async (t) => {
  const { fs, cg } = v1({});
  const procs = `${v1Root}/pids/c/cgroup.procs`;
  // Each look finds a child of the last process killed, three times: forks that raced the kill.
  const forks = [10_000_010, 10_000_011, 10_000_012];
  enter(fs, cg, forks[0]); // in every hierarchy: each rmdir is EBUSY until it is gone
  let looks = 0;
  const freezer = stickyFreezer(fs, Infinity);
  const forking: CgroupFs = {
    ...freezer.sticky,
    read: (f) => {
      if (f !== procs) return fs.read(f);
      looks++;
      return forks.slice(0, looks).map((p) => `${p}\n`).join('');
    },
  };
  const signalled: number[] = [];
  const realKill = process.kill;
  process.kill = ((pid: number) => (signalled.push(pid), pid === forks.at(-1) && exited(fs, forks[0]), true)) as typeof process.kill;
  t.teardown(() => void (process.kill = realKill));
  const m = cgroupManager(cg.record, forking, { freezeTimeoutMs: 20 });
  m.destroy();
  process.kill = realKill;
  t.same(signalled, forks, 'each process killed once, the late ones too');
  t.ok(looks >= forks.length + 1, 'looked again until nothing new');
  t.equal(freezer.given.at(-1), 'THAWED', 'the half-frozen cgroup thawed, so that the killed can die');
  t.same([...fs.dirs].filter((d) => d.endsWith('/c')), [], 'removed');

  // Frozen: one look after the freeze is enough.
  const frozen = v1({});
  enter(frozen.fs, frozen.cg, 10_000_020);
  let frozenLooks = 0;
  const frozenFreezer = stickyFreezer(frozen.fs, 0);
  const counting: CgroupFs = { ...frozenFreezer.sticky, read: (f) => (f.endsWith('/cgroup.procs') && frozenLooks++, frozen.fs.read(f)) };
  process.kill = ((pid: number) => (signalled.push(pid), exited(frozen.fs, pid), true)) as typeof process.kill;
  cgroupManager(frozen.cg.record, counting).destroy();
  process.kill = realKill;
  t.equal(signalled.at(-1), 10_000_020, 'its process killed');
  t.same(frozenFreezer.given, ['FROZEN', 'THAWED'], 'frozen, then thawed');
  t.equal(frozenLooks, 2 * frozen.cg.record.dirs.length, "every hierarchy's cgroup.procs read twice: whether anything is in it, and once frozen");
  t.same([...frozen.fs.dirs].filter((d) => d.endsWith('/c')), [], 'removed');
});

t.test('destroy of an empty cgroup (a container that ended): its directories removed, nothing else', async (t) => {
  const { fs, cg } = v1({});
  const freezer = stickyFreezer(fs, Infinity);
  const touched: string[] = [];
  const watched: CgroupFs = {
    ...freezer.sticky,
    read: (f) => (touched.push(`read ${f}`), fs.read(f)),
    rmdir: (d) => (touched.push(`rmdir ${d}`), fs.rmdir(d)),
  };
  cgroupManager(cg.record, watched, { freezeTimeoutMs: 20 }).destroy();
  t.same(freezer.given, [], 'the freezer is not touched');
  t.same(touched, [...cg.record.created].reverse().map((d) => `rmdir ${d}`), 'one rmdir for each directory, children first; no process list read');
  t.same([...fs.dirs].filter((d) => d.endsWith('/c')), [], 'removed');
});

t.test("destroy leaves a shared parent busy with a process that is not the container's, without waiting", async (t) => {
  const host = v1Host(['pids', 'freezer']);
  const fs = new FakeCgroupV1(host);
  const dirs = plannedCgroupDirs(host, '/tsrun/a').map(({ hierarchy: h, path, dir }) => ({ version: h.version, mountpoint: h.mountpoint, controllers: h.controllers, path, dir }));
  const cg = cgroupManager(planCgroups(dirs, true, fs), fs);
  cg.create({});
  t.ok(cg.record.created.includes(`${v1Root}/pids/tsrun`), 'the shared parent is listed');
  fs.write(`${v1Root}/pids/tsrun/cgroup.procs`, '10000030'); // someone else's process, in the parent itself
  const started = Date.now();
  cg.destroy();
  t.ok(Date.now() - started < 1000, 'no retrying for a cgroup that is not the container\'s');
  t.notOk(fs.dirs.has(`${v1Root}/pids/tsrun/a`), "the container's cgroup removed");
  t.ok(fs.dirs.has(`${v1Root}/pids/tsrun`), 'the busy parent left');
  t.notOk(fs.dirs.has(`${v1Root}/freezer/tsrun`), 'an idle parent removed');
});

t.test('v1 stats from the v1 files', async (t) => {
  const { fs, cg } = v1({ memory: { limit: 100 * M, swap: 200 * M }, pids: { limit: 50 } });
  const set = (f: string, v: string) => fs.files.set(`${v1Root}/${f}`, v);
  set('cpu,cpuacct/c/cpuacct.usage', '2000000000');
  set('cpu,cpuacct/c/cpuacct.usage_percpu', '1500000000 500000000 ');
  set('cpu,cpuacct/c/cpuacct.stat', 'user 150\nsystem 50\n');
  set('cpu,cpuacct/c/cpu.stat', 'nr_periods 10\nnr_throttled 2\nthrottled_time 3000\n');
  set('memory/c/memory.usage_in_bytes', '4096');
  set('memory/c/memory.max_usage_in_bytes', '8192');
  set('memory/c/memory.failcnt', '1');
  set('memory/c/memory.memsw.usage_in_bytes', '5000');
  set('memory/c/memory.oom_control', 'oom_kill_disable 0\nunder_oom 0\noom_kill 2\n');
  set('memory/c/memory.stat', 'cache 10\nrss 20\n');
  set('pids/c/pids.current', '3');
  set('blkio/c/blkio.throttle.io_service_bytes_recursive', '8:0 Read 4096\n8:0 Write 512\nTotal 4608\n');
  set('blkio/c/blkio.throttle.io_serviced_recursive', '8:0 Read 2\n8:0 Write 1\nTotal 3\n');
  const want = emptyRuncStats();
  want.cpu = {
    // cpuacct.stat counts USER_HZ (100) ticks: 150 and 50 ticks are 1.5 s and 0.5 s.
    usage: { total: 2_000_000_000n, percpu: [1_500_000_000n, 500_000_000n], percpuKernel: [], percpuUser: [], kernel: 500_000_000n, user: 1_500_000_000n },
    throttling: { periods: 10n, throttledPeriods: 2n, throttledTime: 3000n },
  };
  const zero = { usage: 0n, maxUsage: 0n, failcnt: 0n, limit: 0n };
  want.memory = {
    cache: 10n,
    usage: { usage: 4096n, maxUsage: 8192n, failcnt: 1n, limit: BigInt(100 * M) },
    swap: { usage: 5000n, maxUsage: 0n, failcnt: 0n, limit: BigInt(200 * M) },
    kernel: zero, // no kmem files in this cgroup
    kernelTCP: zero,
    stats: new Map([['cache', 10n], ['rss', 20n]]),
  };
  want.oomKills = 2n;
  want.pids = { current: 3n, limit: 50n };
  want.blkio.ioServiceBytesRecursive = [{ major: 8n, minor: 0n, op: 'Read', value: 4096n }, { major: 8n, minor: 0n, op: 'Write', value: 512n }];
  want.blkio.ioServicedRecursive = [{ major: 8n, minor: 0n, op: 'Read', value: 2n }, { major: 8n, minor: 0n, op: 'Write', value: 1n }];
  set('cpuset/c/cpuset.cpus', '0-1,3');
  set('cpuset/c/cpuset.mems', '0');
  want.cpuset.cpus = [0, 1, 3];
  want.cpuset.mems = [0];
  t.strictSame(cg.stats([]), want, 'every number, in runc\'s shape');
  set('hugetlb/c/hugetlb.2MB.usage_in_bytes', '4194304');
  set('hugetlb/c/hugetlb.2MB.max_usage_in_bytes', '6291456');
  set('hugetlb/c/hugetlb.2MB.failcnt', '7');
  t.strictSame(cg.stats(['2MB']).hugetlb, new Map([['2MB', { usage: 4194304n, maxUsage: 6291456n, failcnt: 7n }]]), 'the hugetlb hierarchy, for the page sizes given');
  t.strictSame(cg.stats([]).hugetlb, new Map(), 'none without page sizes');
});

t.test('update writes only the fields it is given (no allowlist reset), on v1 and v2', async (t) => {
  const a = v2({ memory: { limit: 64 * M }, pids: { limit: 10 } });
  const before = a.fs.writes.length;
  a.cg.update({ pids: { limit: 20 } });
  t.same(a.fs.writes.slice(before).map(([f, v]) => [f.slice(C.length + 1), v]), [['pids.max', '20']], 'v2: pids.max alone; no new device program');
  t.equal((a.fs.programs.get(C) ?? []).length, 1, 'the device program attached at create is the only one');
  t.match(errorOf(() => a.cg.update({ devices: [{ allow: true, access: 'rwm' }] })), /^linux\.resources\.devices: cannot be changed on a running container on cgroup v2 yet$/, 'a second program could only narrow the first: refused');

  const b = v1({ memory: { limit: 64 * M } });
  const n = b.fs.writes.length;
  b.cg.update({ cpu: { shares: 256 } });
  t.same(b.fs.writes.slice(n).map(([f, v]) => [split(f)[1], v]), [['cpu.shares', '256']], 'v1: cpu.shares alone; devices.deny is not written again');
});

t.test('v2 update with memory.checkBeforeUpdate: a limit below the usage is refused, not OOM-killed into', async (t) => {
  const { fs, cg } = v2({ memory: { limit: 64 * M } });
  fs.set(`${C}/memory.current`, `${32 * M}\n`);
  t.match(errorOf(() => cg.update({ memory: { limit: 16 * M, checkBeforeUpdate: true } })), /^linux\.resources\.memory\.limit: the container uses 33554432 bytes, more than the new limit$/);
  t.equal(fs.read(`${C}/memory.max`), `${64 * M}\n`, 'the limit is left as it was');
  cg.update({ memory: { limit: 16 * M } });
  t.equal(fs.read(`${C}/memory.max`), `${16 * M}\n`, 'without the check, the kernel is left to reclaim');
  cg.update({ memory: { limit: 48 * M, checkBeforeUpdate: true } });
  t.equal(fs.read(`${C}/memory.max`), `${48 * M}\n`, 'a limit above the usage passes the check');
});
