// From a validated config to tsrun-init records: mount options (config.md
// "Linux mount options"), the order of the records, capabilities, devices,
// namespaces, and the wire encoding of the plan.
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { parseCgroupHost } from '../../src/cgroups/host';
import { encodePlan, record, recordValues, type RecordFields, Tag, type PlanRecord, type TagName } from '../../src/init/protocol';
import { ATTR, MS, bindAttributes, parseOptions, recognizedMountOptions } from '../../src/plan/mounts';
import { planExec } from '../../src/plan/exec';
import { CLONE, planContainer } from '../../src/plan/plan';
import { defaultSpec } from '../../src/spec/default';
import type { Spec } from '../../src/spec/types';

const bundle = mkdtempSync(join(tmpdir(), 'tsrun-plan-'));
mkdirSync(join(bundle, 'rootfs'));
t.teardown(() => rmSync(bundle, { recursive: true, force: true }));

const hybrid = parseCgroupHost(
  ['31 20 0:31 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory', '35 20 0:35 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw'].join('\n'),
  '3:memory:/\n0::/\n',
);
const unified = parseCgroupHost('40 20 0:40 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw', '0::/\n');

const spec = (mutate?: (s: Spec & Record<string, any>) => void): Spec => {
  const s = JSON.parse(JSON.stringify(defaultSpec({ rootless: false, uid: 0, gid: 0 })));
  s.process.terminal = false;
  mutate?.(s);
  return s;
};
// A host without LSMs, whatever this one has; SELinux's plan is tested on a described host.
const noLsm = { apparmor: false, selinux: false };
const selinuxHost = { apparmor: false, selinux: true };
const opts = { root: '/run/tsrun', id: 'c1', bundle, noPivot: false, noNewKeyring: false, preserveFds: 0, listenFds: 0, lsm: noLsm };
const plan = (s: Spec, host = hybrid, o = opts) => planContainer(s, o, host);
const tags = (records: PlanRecord[]) => records.map((r) => r.tag);
const find = (records: PlanRecord[], tag: TagName, field?: string) => records.find((r) => r.tag === tag && (!field || r.field === field));
/** The named fields of the first `tag` record (undefined without one). */
const values = <T extends TagName>(records: PlanRecord[], tag: T): RecordFields[T] | undefined => {
  const r = find(records, tag);
  return r && recordValues(r, tag);
};
/** The named fields of every `tag` record. */
const all = <T extends TagName>(records: PlanRecord[], tag: T): RecordFields[T][] => records.filter((r) => r.tag === tag).map((r) => recordValues(r, tag));
/** Any record's named fields, for what MOUNT and BIND share. */
const named = (r: PlanRecord) => recordValues(r, r.tag) as Record<string, unknown>;
const mountAt = (records: PlanRecord[], dest: string) => all(records, 'MOUNT').find((m) => m.dest === dest)!;

t.test('mount options to mount(2) flags and mount_setattr attributes', async (t) => {
  const p = parseOptions(['nosuid', 'strictatime', 'mode=755', 'size=65536k']);
  t.equal(p.set, MS.NOSUID | MS.STRICTATIME);
  t.same(p.data, ['mode=755', 'size=65536k'], 'unknown options are filesystem data');
  t.equal(parseOptions(['ro', 'rw']).set & MS.RDONLY, 0, 'the last of ro/rw wins');
  t.equal(parseOptions(['rbind', 'bind']).bind, 'rbind');
  t.equal(parseOptions(['rslave']).propagation, MS.SLAVE | MS.REC);
  t.equal(parseOptions(['private']).propagation, MS.PRIVATE);
  const r = parseOptions(['rro', 'rnosuid', 'rnoatime']);
  t.equal(r.rset, ATTR.RDONLY | ATTR.NOSUID | ATTR.NOATIME);
  t.equal(r.rclear & ATTR.ATIME_MASK, ATTR.ATIME_MASK, 'an atime mode clears the whole atime mask');
  t.equal(parseOptions(['tmpcopyup']).copyUp, true);
  t.equal(parseOptions(['mode=755']).copyUp, false);

  t.same(bindAttributes(parseOptions(['bind', 'ro', 'nosuid'])), { set: ATTR.RDONLY | ATTR.NOSUID, clear: 0 }, 'only what the options name');
  t.same(bindAttributes(parseOptions(['bind', 'rw', 'dev', 'exec', 'suid'])), { set: 0, clear: ATTR.RDONLY | ATTR.NODEV | ATTR.NOEXEC | ATTR.NOSUID });
  t.same(bindAttributes(parseOptions(['bind', 'noatime'])), { set: ATTR.NOATIME, clear: ATTR.ATIME_MASK });
  t.same(bindAttributes(parseOptions(['bind'])), { set: 0, clear: 0 }, 'a plain bind keeps the source flags');

  const known = recognizedMountOptions();
  for (const o of ['bind', 'rbind', 'ro', 'rw', 'nosuid', 'rro', 'rshared', 'private', 'strictatime', 'remount']) t.ok(known.includes(o), `${o} is recognized`);
  t.ok(known.includes('tmpcopyup'), 'tmpcopyup is recognized (test/integration/filesystem.test.ts copies up for real)');
});

t.test('records of the default config, in order', async (t) => {
  const p = plan(spec());
  const order = tags(p.records);
  t.same(order.slice(0, 3), ['NS_NEW', 'FORK', 'KEYRING'], 'namespaces first, then a fork for the pid namespace');
  const nsFlags = Number(values(p.records, 'NS_NEW')!.flags);
  t.equal(nsFlags, CLONE.pid | CLONE.network | CLONE.ipc | CLONE.uts | CLONE.mount);
  t.ok(order.indexOf('ROOT') < order.indexOf('MOUNT'), 'root before mounts');
  t.ok(order.lastIndexOf('MOUNT') < order.indexOf('MKDEV'), 'devices after mounts (they may need /dev)');
  t.ok(order.lastIndexOf('SYMLINK') < order.indexOf('PIVOT'), '/dev symlinks before pivot');
  t.ok(order.indexOf('PIVOT') < order.indexOf('ROOT_RO'), 'read-only root after pivot');
  t.ok(order.indexOf('PIVOT') < order.indexOf('READONLY') && order.indexOf('READONLY') < order.indexOf('MASK'), 'readonly then masked paths after pivot');
  const processTags: TagName[] = ['RLIMIT', 'NO_NEW_PRIVS', 'USER', 'CAPS', 'CWD', 'ARGS', 'ENV', 'EXEC_FIFO', 'PRESERVE_FDS'];
  for (const tag of processTags) t.ok(order.indexOf(tag) > order.lastIndexOf('MASK'), `${tag} comes after the filesystem`);
  t.ok(order.indexOf('MKDIR') < order.indexOf('PIVOT'), 'the cwd is created before pivot (the root may become read-only)');
  t.equal(find(p.records, 'LOOPBACK')?.tag, 'LOOPBACK', 'lo is brought up in a new network namespace');

  t.same(mountAt(p.records, '/dev'), {
    source: 'tmpfs', dest: '/dev', fstype: 'tmpfs', flags: MS.NOSUID | MS.STRICTATIME, data: 'mode=755,size=65536k', rattrSet: 0, rattrClear: 0, propagation: 0, attrSet: 0, copyUp: false, xattrLabel: '',
  });
  t.equal(p.records.find((r) => r.tag === 'MOUNT' && named(r).dest === '/dev')!.field, 'mounts[1]', 'each record knows its config field');
  const mask = (1n << 29n) | (1n << 5n) | (1n << 10n);
  t.same(values(p.records, 'CAPS'), { bounding: mask, effective: mask, permitted: mask, inheritable: 0n, ambient: 0n }, 'bounding, effective, permitted; nothing inheritable or ambient');
  t.same(values(p.records, 'USER'), { uid: 0, gid: 0, additionalGids: [] });
  t.same(values(p.records, 'EXEC_FIFO'), { fifo: { fd: 'execFifo' } });
  t.same(p.warnings, [], 'every resource of the default config is applied: no warning');
  t.equal(p.idMaps, undefined);
});

t.test('cgroup mount on a hybrid host: tmpfs plus one bind per hierarchy', async (t) => {
  const p = plan(spec());
  const cg = p.records.filter((r) => r.field === 'mounts[6]');
  t.same(cg.map((r) => [r.tag, named(r).dest]), [
    ['MOUNT', '/sys/fs/cgroup'],
    ['BIND', '/sys/fs/cgroup/memory'],
    ['BIND', '/sys/fs/cgroup/unified'],
    ['MOUNT', '/sys/fs/cgroup'],
  ]);
  t.equal(recordValues(cg[1], 'BIND').source, '/sys/fs/cgroup/memory/tsrun/c1', 'the container cgroup is what gets bound');
  t.ok((Number(recordValues(cg[3], 'MOUNT').flags) & MS.REMOUNT) !== 0, 'ro: the tmpfs is remounted read-only at the end');
  t.same(cg.filter((r) => r.tag === 'MOUNT').map((r) => r.fields.length), [11, 11], 'every MOUNT record has the same fields');
  const ns = plan(spec((s) => s.linux!.namespaces!.push({ type: 'cgroup' })));
  t.same(ns.records.filter((r) => r.field === 'mounts[6]').map((r) => [r.tag, named(r).fstype]).slice(1, 3), [['MOUNT', 'cgroup'], ['MOUNT', 'cgroup2']], 'with a cgroup namespace: fresh cgroup mounts');
  const u = plan(spec(), unified);
  t.same(u.records.filter((r) => r.field === 'mounts[6]').map((r) => r.tag), ['BIND'], 'unified host without cgroupns: the container cgroup bound');
});

t.test('user namespace, joined namespaces, limits on unified hosts, warnings', async (t) => {
  const p = plan(spec((s) => {
    s.linux!.namespaces!.push({ type: 'user' }, { type: 'time' });
    s.linux!.namespaces![1] = { type: 'network', path: '/run/netns/x' };
    s.linux!.uidMappings = [{ containerID: 0, hostID: 1000, size: 10 }, { containerID: 10, hostID: 5000, size: 1 }];
    s.linux!.gidMappings = [{ containerID: 0, hostID: 1000, size: 10 }];
    s.linux!.timeOffsets = { monotonic: { secs: 5, nanosecs: 7 } };
    s.linux!.resources = { memory: { limit: 1 << 20 }, pids: { limit: 5 }, cpu: { shares: 2 } };
    s.process!.oomScoreAdj = 100;
    s.linux!.seccomp = { defaultAction: 'SCMP_ACT_ALLOW' };
  }), unified);
  t.same(p.idMaps, { uid: '0 1000 10\n10 5000 1\n', gid: '0 1000 10\n' }, 'uid_map and gid_map contents');
  t.same(values(p.records, 'NS_JOIN'), { flag: CLONE.network, path: '/run/netns/x' });
  t.notOk(Number(values(p.records, 'NS_NEW')!.flags) & CLONE.network, 'a joined namespace is not also created');
  t.notOk(find(p.records, 'LOOPBACK'), 'lo is left alone in a joined network namespace');
  t.same(values(p.records, 'TIME_OFFSET'), { clock: 'monotonic', secs: 5, nanosecs: 7 });
  t.same(all(p.records, 'MKDEV').map((d) => d.hostPath), ['/dev/null', '/dev/random', '/dev/full', '/dev/tty', '/dev/zero', '/dev/urandom'], 'devices bound from the host in a user namespace');
  t.equal(p.oomScoreAdj, 100);
  t.same(p.warnings, [], 'memory, pids and cpu resources are applied, not warned about');
  const sc = values(p.records, 'SECCOMP')!;
  const program = p.seccompProgram!();
  t.ok(program.length > 0 && program.length % 8 === 0, 'seccomp compiled to BPF instructions (8 bytes each)');
  t.equal(sc.flags, 0, 'no load flags');
});

t.test('linux.resources at plan time: memory.kernel warned, a field no controller applies refused by its path', async (t) => {
  const p = plan(spec((s) => (s.linux!.resources = { memory: { limit: 1 << 20, kernel: 1 << 20 }, pids: { limit: 0 } })), unified);
  t.same(p.warnings, ['linux.resources.memory.kernel: kernel memory limits are no longer supported by the kernel; ignored (as runc does)']);
  t.throws(() => plan(spec((s) => (s.linux!.resources = { cpu: { weight: 100 } }))), { message: 'linux.resources.cpu.weight: is not supported by tsrun' }, 'before anything is created');
});

t.test('tmpcopyup: on a tmpfs only', async (t) => {
  const p = plan(spec((s) => s.mounts!.push({ destination: '/etc', type: 'tmpfs', source: 'tmpfs', options: ['tmpcopyup', 'mode=755'] })));
  t.equal(mountAt(p.records, '/etc').copyUp, true);
  t.equal(mountAt(p.records, '/etc').data, 'mode=755', 'not passed to the filesystem');
  t.equal(mountAt(p.records, '/proc').copyUp, false);
  t.throws(
    () => plan(spec((s) => s.mounts!.push({ destination: '/x', type: 'bind', source: '/tmp', options: ['rbind', 'tmpcopyup'] }))),
    /^mounts\[\d+\]\.options\[1\]: tmpcopyup applies to a new tmpfs mount only$/,
  );
  t.throws(
    () => plan(spec((s) => s.mounts!.push({ destination: '/y', type: 'tmpfs', source: 'tmpfs', options: ['remount', 'tmpcopyup'] }))),
    /^mounts\[\d+\]\.options\[1\]: tmpcopyup applies to a new tmpfs mount only$/,
    'not to a remount',
  );
});

t.test('a read-only tmpfs: writable superblock, read-only mount (as runc)', async (t) => {
  const p = plan(spec((s) => s.mounts!.push({ destination: '/ro', type: 'tmpfs', source: 'tmpfs', options: ['ro', 'nosuid', 'size=1m'] })));
  const ro = mountAt(p.records, '/ro');
  t.equal(ro.flags, MS.NOSUID, 'mounted without MS_RDONLY');
  t.equal(ro.attrSet, ATTR.RDONLY, 'then made a read-only mount');
  t.ok(Number(mountAt(p.records, '/sys').flags) & MS.RDONLY, 'other filesystems get MS_RDONLY at mount');
});

t.test('scheduler, ioPriority; what cannot be applied is refused', async (t) => {
  const p = plan(spec((s) => {
    s.process!.scheduler = { policy: 'SCHED_FIFO', priority: 10, flags: ['SCHED_FLAG_RESET_ON_FORK'] };
    s.process!.ioPriority = { class: 'IOPRIO_CLASS_BE', priority: 3 };
  }));
  t.same(values(p.records, 'SCHEDULER'), { policy: 1, flags: 1, nice: 0, priority: 10, runtime: 0n, deadline: 0n, period: 0n });
  t.same(values(p.records, 'IOPRIO'), { value: (2 << 13) | 3 });
  for (const [field, mutate] of [
    ['process.selinuxLabel', (s: any) => (s.process.selinuxLabel = 'l')],
    ['linux.intelRdt.closID', (s: any) => (s.linux.intelRdt = { closID: 'x' })], // no resctrl here
    ['linux.seccomp.syscalls[0].action', (s: any) => (s.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['kill'], action: 'SCMP_ACT_KILL', errnoRet: 1 }] })],
  ] as const) {
    t.throws(() => plan(spec(mutate)), new RegExp(`^${field.replace(/[.[\]]/g, '\\$&')}: `), `${field} that cannot be applied is an error`);
  }
});

// The filter's compile runs on a thread of the addon from the plan until
// tsrun-init asks for the program (ContainerPlan.seccompProgram): what
// libseccomp refuses is only known then, and still names the rule.
t.test('seccomp: the record leaves the program out; seccompProgram() waits for it, or names the rule refused', async (t) => {
  const refused = spec((s) => (s.linux!.seccomp = {
    defaultAction: 'SCMP_ACT_ALLOW',
    syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }, { names: ['read'], action: 'SCMP_ACT_ERRNO', args: [{ index: 6, value: 1, op: 'SCMP_CMP_EQ' }] }],
  }));
  const p = planContainer(refused, opts, hybrid);
  t.equal(values(p.records, 'SECCOMP')!.program.length, 0, 'an empty program in the record: tsrun-init asks for it');
  t.throws(() => p.seccompProgram!(), { message: 'linux.seccomp.syscalls[1]: cannot add a seccomp rule for read: Invalid argument' }, 'a seventh argument (index 6) is refused by libseccomp');
  const good = planContainer(spec((s) => (s.linux!.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }] })), opts, hybrid);
  const program = good.seccompProgram!();
  t.ok(program.length > 0 && program.length % 8 === 0, 'the BPF program');
  t.equal(good.seccompProgram!(), program, 'compiled once');
  t.equal(plan(spec()).seccompProgram, undefined, 'nothing to ask for without a filter');
  // exec has nothing to overlap the compile with: its record holds the program.
  const filtered = spec((s) => (s.linux!.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }] }));
  const handles = { ns: Object.fromEntries(filtered.linux!.namespaces!.map((n) => [n.type, '/proc/self/fd/5'])), root: '/proc/self/fd/6' };
  const exec = planExec('c1', filtered, filtered.process!, handles, { preserveFds: 0, newKeyring: true, lsm: noLsm });
  t.same(values(exec.records, 'SECCOMP')!.program, program, "exec's record holds the same program");
});

// config.md "Linux Process" apparmorProfile; runc writes the same to the
// same files (libcontainer/apparmor), AppArmor's own directory first.
t.test('AppArmor: the profile for the exec attribute, AppArmor\'s own file first', async (t) => {
  const p = plan(spec((s) => (s.process!.apparmorProfile = 'tsrun-test')));
  t.same(values(p.records, 'LSM_ATTR'), { value: 'exec tsrun-test', paths: ['/proc/thread-self/attr/apparmor/exec', '/proc/thread-self/attr/exec'] });
  t.equal(find(p.records, 'LSM_ATTR')!.field, 'process.apparmorProfile', 'a failure names the field');
  t.ok(p.warnings.includes('process.apparmorProfile: AppArmor is not enabled on this host'), 'a host without AppArmor is named before the write fails');
  const withAppArmor = plan(spec((s) => (s.process!.apparmorProfile = 'tsrun-test')), hybrid, { ...opts, lsm: { apparmor: true, selinux: false } });
  t.same(withAppArmor.warnings.filter((w) => w.includes('AppArmor')), [], 'no warning where AppArmor is enabled');
  t.notOk(find(plan(spec()).records, 'LSM_ATTR'), 'no profile, nothing written');
});

// config.md "Linux Process" selinuxLabel and config-linux.md "Mount Label",
// as runc and crun apply them: the label as it is to the exec attribute
// and to keycreate for the session keyring; context="<label>" (quoted: an
// MCS label holds commas) on new filesystems other than proc, sysfs and
// cgroupfs; mqueue's root labelled by xattr (binds carry no data).
t.test('SELinux: the process label, the keyring label and the mount label', async (t) => {
  const label = 'system_u:system_r:container_t:s0:c1,c2';
  const mountLabel = 'system_u:object_r:container_file_t:s0:c1,c2';
  const ctx = `context="${mountLabel}"`;
  const labelled = spec((s) => {
    s.process!.selinuxLabel = label;
    s.linux!.mountLabel = mountLabel;
  });
  const p = plan(labelled, hybrid, { ...opts, lsm: selinuxHost });
  t.same(all(p.records, 'LSM_ATTR'), [{ value: label, paths: ['/proc/thread-self/attr/exec'] }], 'no "exec " prefix, no directory of its own');
  t.equal(find(p.records, 'LSM_ATTR')!.field, 'process.selinuxLabel');
  t.same(values(p.records, 'KEYRING'), { name: 'c1', label });
  t.equal(mountAt(p.records, '/dev').data, `mode=755,size=65536k,${ctx}`, 'appended to the tmpfs data');
  t.equal(mountAt(p.records, '/dev/pts').data, `newinstance,ptmxmode=0666,mode=0620,gid=5,${ctx}`, 'devpts');
  t.equal(mountAt(p.records, '/dev/shm').data, `mode=1777,size=65536k,${ctx}`, 'shm');
  for (const dest of ['/proc', '/sys', '/dev/mqueue']) t.notMatch(mountAt(p.records, dest).data, /context=/, `none for ${dest}`);
  t.equal(mountAt(p.records, '/dev/mqueue').xattrLabel, mountLabel, "mqueue's root labelled instead");
  t.equal(mountAt(p.records, '/dev').xattrLabel, '');
  t.same(all(p.records, 'MASK').map((m) => m.data), all(p.records, 'MASK').map(() => ctx), "the tmpfs over a masked directory");
  const cgroup = plan(spec((s) => {
    s.linux!.mountLabel = mountLabel;
    s.mounts!.push({ destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['ro'] });
  }), hybrid, { ...opts, lsm: selinuxHost });
  t.equal(mountAt(cgroup.records, '/sys/fs/cgroup').data, `mode=755,${ctx}`, "the tmpfs holding a v1 host's hierarchies");
  const own = plan(spec((s) => {
    s.linux!.mountLabel = mountLabel;
    s.mounts!.push({ destination: '/own', type: 'tmpfs', source: 'tmpfs', options: ['rootcontext=system_u:object_r:tmp_t:s0'] });
    s.mounts!.push({ destination: '/remounted', type: 'tmpfs', source: 'tmpfs', options: ['remount', 'size=1m'] });
  }), hybrid, { ...opts, lsm: selinuxHost });
  t.equal(mountAt(own.records, '/own').data, 'rootcontext=system_u:object_r:tmp_t:s0', 'a context option of the mount\'s own: none added');
  t.equal(mountAt(own.records, '/remounted').data, 'size=1m', 'none on a remount');
  t.throws(() => plan(spec((s) => (s.linux!.mountLabel = 'a"b')), hybrid, { ...opts, lsm: selinuxHost }), /^linux\.mountLabel: must not contain a double quote or a newline$/);

  // Without SELinux: the process label is refused (runc's rule), the mount
  // label ignored with a warning (crun's; runc would pass context= to a
  // kernel that refuses it), and nothing is labelled.
  t.throws(() => plan(labelled), /^process\.selinuxLabel: SELinux is not enabled on this host$/);
  const off = plan(spec((s) => (s.linux!.mountLabel = mountLabel)));
  t.ok(off.warnings.includes('linux.mountLabel: SELinux is not enabled on this host; ignored'));
  t.notOk(all(off.records, 'MOUNT').some((m) => m.data.includes('context=') || m.xattrLabel), 'no label on any mount');
  t.same(values(off.records, 'KEYRING'), { name: 'c1', label: '' });
  t.same(values(plan(spec(), hybrid, { ...opts, lsm: selinuxHost }).records, 'KEYRING'), { name: 'c1', label: '' }, 'no process label, none for the keyring');

  // An exec'd process: the same label and keyring label (runc's setns init).
  const init = { ns: Object.fromEntries(labelled.linux!.namespaces!.map((n) => [n.type, '/proc/self/fd/5'])), root: '/proc/self/fd/6' };
  const e = planExec('c1', labelled, labelled.process!, init, { preserveFds: 0, newKeyring: true, lsm: selinuxHost });
  t.same(all(e.records, 'LSM_ATTR'), [{ value: label, paths: ['/proc/thread-self/attr/exec'] }], 'exec: the process label');
  t.same(values(e.records, 'KEYRING'), { name: 'c1', label }, 'exec: the keyring label');
  t.throws(() => planExec('c1', labelled, labelled.process!, init, { preserveFds: 0, newKeyring: true, lsm: noLsm }), /^process\.selinuxLabel: SELinux is not enabled on this host$/);
});

// config.md "Mounts" (uidMappings, gidMappings, idmap, ridmap): the tree of
// an idmapped bind mount is cloned and idmapped in stage 0, with the
// mount's mappings or else the container's user namespace's, and attached
// by its BIND (numbered from 1).
t.test('idmapped mounts: their trees in stage 0, attached by number', async (t) => {
  const own = { uidMappings: [{ containerID: 0, hostID: 1000, size: 10 }], gidMappings: [{ containerID: 0, hostID: 2000, size: 10 }] };
  const userns = (s: Spec & Record<string, any>) => {
    s.linux!.namespaces!.push({ type: 'user' });
    s.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    s.linux!.gidMappings = [{ containerID: 0, hostID: 200000, size: 65536 }];
  };
  const p = plan(spec((s) => {
    userns(s);
    s.mounts!.push({ destination: '/a', type: 'bind', source: '/srv/a', options: ['rbind', 'ridmap'] });
    s.mounts!.push({ destination: '/b', type: 'bind', source: '/srv/b', options: ['bind'], ...own });
    s.mounts!.push({ destination: '/c', type: 'bind', source: '/srv/c', options: ['rbind'] });
  }));
  t.same(all(p.records, 'IDMAP_TREE'), [
    { source: '/srv/a', recursive: true, recursiveIdmap: true, uidMap: '0 100000 65536\n', gidMap: '0 200000 65536\n', usernsPath: '', propagation: MS.SLAVE | MS.REC },
    { source: '/srv/b', recursive: false, recursiveIdmap: false, uidMap: '0 1000 10\n', gidMap: '0 2000 10\n', usernsPath: '', propagation: MS.SLAVE | MS.REC },
  ], "ridmap; the container's mappings where the mount has none; mappings alone mean idmap");
  t.same(all(p.records, 'BIND').filter((b) => ['/a', '/b', '/c'].includes(b.dest)).map((b) => [b.dest, Number(b.idmapTree)]), [['/a', 1], ['/b', 2], ['/c', 0]]);
  const order = tags(p.records);
  t.ok(order.lastIndexOf('IDMAP_TREE') < order.indexOf('ROOT'), 'before the container setup');
  t.notOk(all(p.records, 'BIND').some((b) => /idmap/.test(b.source)), 'no option reaches the mount');
  t.same(parseOptions(['rbind', 'idmap', 'ro']).data, [], 'idmap is not filesystem data');

  const joined = plan(spec((s) => {
    s.linux!.namespaces!.push({ type: 'user', path: '/proc/1/ns/user' });
    s.mounts!.push({ destination: '/a', type: 'bind', source: '/srv/a', options: ['rbind', 'idmap'] });
  }));
  t.same(values(joined.records, 'IDMAP_TREE'), { source: '/srv/a', recursive: true, recursiveIdmap: false, uidMap: '', gidMap: '', usernsPath: '/proc/1/ns/user', propagation: MS.SLAVE | MS.REC }, 'a joined user namespace: its own mappings');
  const shared = plan(spec((s) => {
    s.linux!.rootfsPropagation = 'rshared';
    s.mounts!.push({ destination: '/b', type: 'bind', source: '/srv/b', options: ['bind'], ...own });
  }));
  t.equal(values(shared.records, 'IDMAP_TREE')!.propagation, MS.SHARED | MS.REC, "the rootfs's propagation");
  t.notOk(find(plan(spec()).records, 'IDMAP_TREE'), 'none without idmapped mounts');
});

// Rootless (runc's rules), where tsrun runs in a user namespace already
// (rootless podman): device nodes bound from the host, sysfs without a
// network namespace of the config's bound from the host's /sys.
t.test('rootless: host device nodes, /sys bound', async (t) => {
  const noNet = spec((s) => (s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'network')));
  const p = plan(noNet, hybrid, { ...opts, rootless: true });
  t.same(all(p.records, 'MKDEV').map((d) => d.hostPath), ['/dev/null', '/dev/random', '/dev/full', '/dev/tty', '/dev/zero', '/dev/urandom'], 'device nodes bound, not made');
  const sys = all(p.records, 'BIND').find((b) => b.dest === '/sys');
  t.ok(sys, '/sys is a bind');
  t.equal(sys?.source, '/sys', "of the host's /sys");
  t.equal(sys?.recursive, true);
  t.notOk(all(p.records, 'MOUNT').some((m) => m.fstype === 'sysfs'), 'no sysfs mount');
  const withNet = plan(spec(), hybrid, { ...opts, rootless: true });
  t.ok(all(withNet.records, 'MOUNT').some((m) => m.fstype === 'sysfs'), 'with a network namespace: sysfs');
  // (Which cgroups a user can write is tested as a user, in
  // test/integration/rootless.test.ts.)
  t.same(plan(spec(), hybrid).unwritableCgroups, undefined, 'not rootless: none left out');
});

// config-linux.md "Network Devices": tsrun moves them when the init asks,
// first of the setup (sysctls and hooks may name them).
t.test('netDevices: one request, before the rest of the setup', async (t) => {
  const p = plan(spec((s) => (s.linux!.netDevices = { eth1: { name: 'c0' }, eth2: {} })));
  const setup = tags(p.records).filter((tag) => !['NS_NEW', 'NS_JOIN', 'TIME_OFFSET', 'FORK'].includes(tag));
  t.equal(setup[0], 'NET_DEVICES');
  t.equal(tags(p.records).filter((tag) => tag === 'NET_DEVICES').length, 1);
  t.notOk(find(plan(spec()).records, 'NET_DEVICES'), 'none without devices');
});

t.test('a bound /dev is used as it is; LISTEN_FDS; no keyring', async (t) => {
  const p = plan(spec((s) => {
    s.mounts = s.mounts!.filter((m) => m.destination !== '/dev');
    s.mounts.push({ destination: '/dev', type: 'bind', source: '/dev', options: ['rbind'] });
  }), hybrid, { ...opts, listenFds: 2, preserveFds: 3, noNewKeyring: true });
  t.notOk(find(p.records, 'MKDEV'), 'no device nodes');
  t.notOk(find(p.records, 'SYMLINK'), 'no /dev symlinks');
  t.notOk(find(p.records, 'KEYRING'));
  t.same(values(p.records, 'ENV')!.env.slice(-2), ['LISTEN_FDS=2', 'LISTEN_PID=1']);
  t.same(values(p.records, 'PRESERVE_FDS'), { count: 3 });
});

// config.md "startContainer": run by the init, which alone knows its pid
// as the container sees it; the state around that pid comes in the plan.
t.test('startContainer hooks: records for the init, the state around its pid', async (t) => {
  t.notOk(find(plan(spec(), hybrid).records, 'START_REPORT'), 'nothing without startContainer hooks');
  const p = plan(spec((s) => {
    s.annotations = { 'a"b': 'c\\d', 'org.example': 'x' };
    s.hooks = { startContainer: [{ path: '/bin/first', args: ['first', '-v'], env: ['A=1'], timeout: 5 }, { path: '/bin/second' }] };
  }), hybrid);
  const hooks = p.records.filter((r) => r.tag === 'START_HOOK');
  t.same(hooks.map((r) => r.field), ['hooks.startContainer[0]', 'hooks.startContainer[1]']);
  t.same(recordValues(hooks[0], 'START_HOOK'), { path: '/bin/first', timeout: 5, args: ['first', '-v'], env: ['A=1'] });
  t.same(hooks[0].fields, ['/bin/first', 5, 2, 'first', '-v', 'A=1'], 'on the wire: path, timeout, argc, argv, env to the end');
  t.same(recordValues(hooks[1], 'START_HOOK'), { path: '/bin/second', timeout: 0, args: ['/bin/second'], env: [] }, 'argv defaults to the path; no timeout');
  t.same(values(p.records, 'START_REPORT'), { fifo: { fd: 'startReport' } });
  const { beforePid: before, afterPid: after } = values(p.records, 'HOOK_STATE')!;
  t.same(JSON.parse(`${before}1${after}`), {
    ociVersion: '1.3.0', id: opts.id, status: 'created', pid: 1, bundle: opts.bundle, annotations: { 'a"b': 'c\\d', 'org.example': 'x' },
  }, 'valid state JSON once the pid is in');
  const last = p.records.map((r) => r.tag).lastIndexOf('START_HOOK');
  t.ok(last > p.records.map((r) => r.tag).indexOf('EXEC_FIFO'), 'after the process records');
});

t.test('wire encoding', async (t) => {
  const buf = encodePlan(
    [
      record('HOSTNAME', 'hostname', { name: 'box' }),
      record('CONSOLE', 'process.terminal', { socket: { fd: 'consoleSocket' }, rows: 12n, cols: 80, bindDevConsole: true }),
    ],
    { consoleSocket: 9 },
  );
  const u32 = (o: number) => buf.readUInt32LE(o);
  t.same([u32(0), u32(4), u32(8), u32(12)], [Tag.HOSTNAME, 0, 1, 3]);
  t.equal(buf.toString('utf8', 16, 19), 'box');
  t.same([u32(19), u32(23), u32(27)], [Tag.CONSOLE, 1, 4], 'the ref of a record is its index');
  t.equal(buf.toString('utf8', 35, 36), '9', 'fd placeholders are filled in');
  t.equal(buf.toString('utf8', 40, 42), '12');
  t.throws(() => encodePlan([{ tag: 'HOSTNAME', field: 'h', fields: ['a\0b'] }], {}), /NUL/);
  t.throws(() => encodePlan([record('CONSOLE', 'c', { socket: { fd: 'consoleSocket' }, rows: 0, cols: 0, bindDevConsole: false })], {}), /no fd for consoleSocket/);
  t.throws(() => encodePlan([{ tag: 'EXEC_FIFO', field: 'fifo', fields: [{ fd: 'execFifo' }, 12n] }], { execFifo: 9 }), /^malformed plan record EXEC_FIFO: 2 fields$/, 'a record that does not fit its layout is not sent');
  // A plan over what tsrun-init accepts is refused before it is sent (the
  // init would hang up, and the write fail with EPIPE), naming the field
  // that makes most of it.
  const env = Array.from({ length: 70 }, (_, i) => `X${i}=${'y'.repeat(1 << 20)}`);
  t.throws(
    () => encodePlan([record('HOSTNAME', 'hostname', { name: 'box' }), record('ENV', 'process.env', { env })], {}),
    /^process\.env: the container's plan would be 70\.0 MiB, over the 64\.0 MiB its init accepts; this field alone is 70\.0 MiB$/,
  );
  t.equal(encodePlan([record('ENV', 'process.env', { env: env.slice(0, 60) })], {}).length > 60 << 20, true, 'just under the limit is sent');
});

t.test('what cannot take effect is refused with its field, not dropped', async (t) => {
  // A bind mount shares its source's superblock: its flags cannot change.
  for (const o of ['sync', 'async', 'dirsync', 'mand', 'lazytime', 'iversion']) {
    const s = spec((x) => x.mounts!.push({ destination: '/mnt', type: 'bind', source: '/tmp', options: ['rbind', o] }));
    t.throws(() => plan(s), new RegExp(`^mounts\\[\\d+\\]\\.options\\[1\\]: ${o} applies to a filesystem, not to a bind mount of one$`), `${o} on a bind mount`);
  }
  const tmpfs = spec((x) => x.mounts!.push({ destination: '/mnt', type: 'tmpfs', source: 'tmpfs', options: ['sync', 'dirsync'] }));
  t.equal(Number(mountAt(plan(tmpfs).records, '/mnt').flags) & (MS.SYNCHRONOUS | MS.DIRSYNC), MS.SYNCHRONOUS | MS.DIRSYNC, 'on a filesystem of its own they are flags of the mount');
  // WAIT_KILLABLE_RECV only exists with a notify listener: EINVAL alone.
  const killable = spec((x) => (x.linux!.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', flags: ['SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'] }));
  t.throws(() => plan(killable), /^linux\.seccomp\.flags\[0\]: SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV applies to a notify listener, and no rule is SCMP_ACT_NOTIFY$/);
});

// config-linux.md "Seccomp": SCMP_ACT_NOTIFY rules load the filter with a
// new listener (seccomp(2) SECCOMP_FILTER_FLAG_NEW_LISTENER, 8), which goes
// to listenerPath with listenerMetadata; the path means nothing without
// such a rule.
t.test('seccomp notify: the listener flag and where the listener goes', async (t) => {
  const notify = (more: Record<string, unknown> = {}) =>
    spec((x) => (x.linux!.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', listenerPath: '/run/agent.sock', listenerMetadata: 'm', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_NOTIFY' }], ...more }));
  const p = plan(notify());
  t.equal(Number(values(p.records, 'SECCOMP')!.flags), 8, 'NEW_LISTENER');
  t.same(p.seccompListener, { path: '/run/agent.sock', metadata: 'm' });
  const sync = plan(notify({ flags: ['SECCOMP_FILTER_FLAG_TSYNC', 'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'] }));
  t.equal(Number(values(sync.records, 'SECCOMP')!.flags), 1 | 8 | 16 | 32, 'TSYNC with a listener needs TSYNC_ESRCH; WAIT_KILLABLE_RECV applies');
  const none = plan(notify({ syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }] }));
  t.equal(Number(values(none.records, 'SECCOMP')!.flags), 0, 'no NOTIFY rule: no listener');
  t.equal(none.seccompListener, undefined, 'and the path is ignored');
  t.throws(() => plan(notify({ listenerPath: undefined, listenerMetadata: undefined })), /^linux\.seccomp\.listenerPath: is required with an SCMP_ACT_NOTIFY rule$/);
  t.throws(() => plan(notify({ listenerPath: 'agent.sock' })), /^linux\.seccomp\.listenerPath: "agent\.sock" is not an absolute path$/);
  t.throws(() => plan(notify({ defaultAction: 'SCMP_ACT_NOTIFY' })), /^linux\.seccomp\.defaultAction: SCMP_ACT_NOTIFY cannot be the default action$/);
});
