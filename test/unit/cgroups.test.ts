// Cgroup layout detection for v1, hybrid and unified hosts, and the manager
// on a pure cgroup v2 host. This host's cgroup2 has no controllers, so v2 is
// exercised on a fake tree that keeps the kernel's rules (interface files
// per enabled controller, subtree_control only with controllers the parent
// offers, rmdir refused while busy).
import t from 'tap';
import { cgroupDir, containerCgroupPath, defaultCgroupsPath, parseCgroupHost, plannedCgroupDirs } from '../../src/cgroups/host';
import { type CgroupDirRecord, type CgroupFs, cgroupManager, planCgroups } from '../../src/cgroups/manager';

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

/** An in-memory cgroup2 tree with the kernel's rules. */
class FakeCgroup2 implements CgroupFs {
  files = new Map<string, string>();
  dirs = new Set<string>();
  constructor(root: string, controllers: string[]) {
    this.dirs.add(root);
    this.populate(root, controllers);
    this.files.set(`${root}/cgroup.procs`, '1\n42\n'); // the root has processes: allowed only there
  }
  private populate(dir: string, controllers: string[]) {
    this.files.set(`${dir}/cgroup.procs`, '');
    this.files.set(`${dir}/cgroup.controllers`, controllers.join(' '));
    this.files.set(`${dir}/cgroup.subtree_control`, '');
    this.files.set(`${dir}/cgroup.freeze`, '0');
    this.files.set(`${dir}/cgroup.events`, 'populated 0\nfrozen 0\n');
    if (controllers.includes('memory')) this.files.set(`${dir}/memory.max`, 'max');
    if (controllers.includes('pids')) this.files.set(`${dir}/pids.max`, 'max');
  }
  private err(code: string): Error {
    return Object.assign(new Error(code), { code });
  }
  mkdir(dir: string): boolean {
    if (this.dirs.has(dir)) return false;
    const parent = dir.slice(0, dir.lastIndexOf('/'));
    if (!this.dirs.has(parent)) throw this.err('ENOENT');
    this.dirs.add(dir);
    this.populate(dir, (this.files.get(`${parent}/cgroup.subtree_control`) ?? '').split(' ').filter(Boolean));
    return true;
  }
  rmdir(dir: string): void {
    if (!this.dirs.has(dir)) throw this.err('ENOENT');
    if (this.hasChildren(dir) || (this.files.get(`${dir}/cgroup.procs`) ?? '') !== '') throw this.err('EBUSY');
    this.dirs.delete(dir);
    for (const f of [...this.files.keys()]) if (f.startsWith(`${dir}/`)) this.files.delete(f);
  }
  read(file: string): string | undefined {
    return this.files.get(file);
  }
  write(file: string, value: string): void {
    if (!this.files.has(file)) throw this.err('ENOENT');
    const dir = file.slice(0, file.lastIndexOf('/'));
    const name = file.slice(dir.length + 1);
    if (name === 'cgroup.subtree_control') {
      const available = this.files.get(`${dir}/cgroup.controllers`)!.split(' ');
      const enabled = new Set(this.files.get(file)!.split(' ').filter(Boolean));
      for (const tok of value.split(' ')) {
        if (!available.includes(tok.slice(1))) throw this.err('ENOENT');
        if (tok[0] === '+') enabled.add(tok.slice(1));
        else enabled.delete(tok.slice(1));
      }
      this.files.set(file, [...enabled].join(' '));
    } else if (name === 'cgroup.procs') {
      for (const f of this.files.keys()) if (f.endsWith('/cgroup.procs')) this.files.set(f, this.files.get(f)!.split('\n').filter((p) => p && p !== value).map((p) => `${p}\n`).join(''));
      this.files.set(file, this.files.get(file)! + `${value}\n`);
    } else if (name === 'cgroup.freeze') {
      this.files.set(file, value);
      this.files.set(`${dir}/cgroup.events`, `populated 1\nfrozen ${value}\n`);
    } else {
      this.files.set(file, value);
    }
  }
  hasChildren(dir: string): boolean {
    return [...this.dirs].some((d) => d.startsWith(`${dir}/`));
  }
  programs = new Map<string, Buffer[]>();
  attachDeviceProgram(dir: string, program: Buffer): void {
    if (!this.dirs.has(dir)) throw this.err('ENOENT');
    this.programs.set(dir, [...(this.programs.get(dir) ?? []), program]);
  }
}

const root = '/sys/fs/cgroup';
const unified = parseCgroupHost(line(40, '/', root, 'cgroup2', 'rw'), '0::/\n');
const records = (path: string | undefined, id: string): CgroupDirRecord[] =>
  plannedCgroupDirs(unified, path ?? defaultCgroupsPath('/run/tsrun', id)).map(({ hierarchy: h, path: p, dir }) => ({ version: h.version, mountpoint: h.mountpoint, controllers: h.controllers, path: p, dir }));

t.test('v2: create enables the needed controllers down the path, limits, placement, removal', async (t) => {
  const fs = new FakeCgroup2(root, ['cpu', 'io', 'memory', 'pids']);
  const record = planCgroups(records('/machine/c1', 'c1'), false, fs);
  t.same(record.created, [`${root}/machine`, `${root}/machine/c1`], 'the directories that will be ours');
  const cg = cgroupManager(record, fs);
  cg.create({ memory: { limit: 1 << 20 }, pids: { limit: 10 } });
  t.equal(fs.read(`${root}/cgroup.subtree_control`), 'memory pids', 'the root hands memory and pids down');
  t.equal(fs.read(`${root}/machine/cgroup.subtree_control`), 'memory pids', 'and so does the parent');
  t.equal(fs.read(`${root}/machine/c1/memory.max`), 'max', 'the container cgroup has the memory files');
  cg.apply({ memory: { limit: 1 << 20 }, pids: { limit: 10 } });
  t.equal(fs.read(`${root}/machine/c1/memory.max`), String(1 << 20));
  t.equal(fs.read(`${root}/machine/c1/pids.max`), '10');
  cg.apply({ memory: { limit: -1 }, pids: { limit: -1 } });
  t.equal(fs.read(`${root}/machine/c1/memory.max`), 'max', '-1 means no limit');
  t.equal(fs.read(`${root}/machine/c1/pids.max`), 'max', '-1 means no limit');
  cg.enter(4242);
  t.same(cg.pids(), [4242]);
  t.ok(cg.freeze());
  t.equal(fs.read(`${root}/machine/c1/cgroup.freeze`), '1', 'kill --all freezes through cgroup.freeze');
  t.equal(cg.freezerState(), 'frozen');
  cg.thaw();
  t.equal(cg.freezerState(), 'thawed');
  fs.write(`${root}/cgroup.procs`, '4242'); // the process left (exited)
  cg.destroy();
  t.notOk(fs.dirs.has(`${root}/machine/c1`), 'removed');
  t.notOk(fs.dirs.has(`${root}/machine`), 'the parent create made is removed too');
});

t.test('v2: errors', async (t) => {
  const fs = new FakeCgroup2(root, ['cpu', 'pids']);
  const cg = cgroupManager(planCgroups(records('/c2', 'c2'), false, fs), fs);
  t.throws(() => cg.create({ memory: { limit: 1 << 20 } }), /linux\.resources\.memory\.limit: the memory controller is not available in \/sys\/fs\/cgroup/, 'a missing controller is named with the field that needs it');
  fs.mkdir(`${root}/busy`);
  fs.write(`${root}/busy/cgroup.procs`, '77');
  t.throws(() => planCgroups(records('/busy', 'b'), false, fs), /linux\.cgroupsPath: cgroup \/sys\/fs\/cgroup\/busy already has processes in it/);
});

t.test('v2: the default path shares tsrun/ between containers', async (t) => {
  const fs = new FakeCgroup2(root, ['pids']);
  const a = cgroupManager(planCgroups(records(undefined, 'a'), true, fs), fs);
  a.create({});
  const b = cgroupManager(planCgroups(records(undefined, 'b'), true, fs), fs);
  b.create({});
  t.ok(b.record.created.includes(`${root}/tsrun`), 'each container lists the shared parent');
  a.destroy();
  t.ok(fs.dirs.has(`${root}/tsrun`), 'the parent stays while another container uses it');
  t.ok(fs.dirs.has(`${root}/tsrun/b`));
  b.destroy();
  t.notOk(fs.dirs.has(`${root}/tsrun`), 'the last container removes it');
});
