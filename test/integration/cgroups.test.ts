// config-linux.md "Control groups" on this host's real cgroup v1 (and the
// unified hierarchy of a hybrid layout): placement before the program runs,
// cgroupsPath, every linux.resources field written to its file, the device
// allowlist enforced (and equal to runc's), the v2 device program enforced
// in the unified hierarchy, refusals that leave nothing behind, and two
// state roots that never touch each other's cgroups.
// Pure v2 is tested against a fake tree in test/unit/cgroups.test.ts.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { defaultCgroupsPath } from '../../src/cgroups/host';
import { cgroupLeftovers, env, hostHierarchies, requireRoot, scratch, skipOrFail, tsrunCmd, tsrunShell, uniqueId } from '../helpers/tsrun';

type Config = Record<string, any>;

/** hierarchy controllers ("memory", "name=systemd", "" for v2) -> [mountpoint, own cgroup] */
function hierarchies(): Map<string, [string, string]> {
  return new Map(hostHierarchies().map((h) => [h.controllers, [h.mountpoint, h.own]]));
}

function sleepMs(ms: number) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** controllers -> cgroup path of a process. */
function cgroupsOf(pid: number | 'self'): Map<string, string> {
  return new Map(
    readFileSync(`/proc/${pid}/cgroup`, 'utf8')
      .trim()
      .split('\n')
      .map((l) => {
        const [, c, p] = /^\d+:([^:]*):(.*)$/.exec(l)!;
        return [c, p] as const;
      }),
  );
}

/** A real block device of this host (not a loop or ram disk), as major:minor. */
function blockDevice(): { major: number; minor: number } {
  const name = readdirSync('/sys/block').find((d) => !/^(loop|ram|zram)/.test(d)) ?? readdirSync('/sys/block')[0];
  const [major, minor] = readFileSync(`/sys/block/${name}/dev`, 'utf8').trim().split(':').map(Number);
  return { major, minor };
}

// mknod in a writable rootfs.
/**
 * A block device the host itself may open: a loop device (an unbound one
 * opens and reads as empty). Disks may be closed to the host's own root
 * by whatever runs this machine, which would prove nothing here.
 */
function openableBlockDevice(t: Test): { major: number; minor: number } {
  const [major, minor] = readFileSync('/sys/block/loop0/dev', 'utf8').trim().split(':').map(Number);
  closeSync(openSync('/dev/loop0', 'r'));
  t.pass(`the host can open /dev/loop0 (${major}:${minor})`);
  return { major, minor };
}

const withMknod = (c: Config) => {
  c.root.readonly = false;
  for (const set of ['bounding', 'effective', 'permitted']) c.process.capabilities[set].push('CAP_MKNOD');
};

if (requireRoot(t)) {
  const hs = hierarchies();
  const file = (controller: string, root: string, id: string, name: string) => {
    const [mount, own] = hs.get(controller)!;
    return readFileSync(join(mount, own, defaultCgroupsPath(root, id), name), 'utf8').trim();
  };

  t.test('placed in every hierarchy before the program runs; removed on delete', async (t) => {
    const e = env(t);
    const bundle = e.bundle((c: Config) => (c.process.args = ['sleep', '1000']));
    const id = uniqueId('place');
    t.equal(e.tsrun(['create', '--bundle', bundle, id]).status, 0);
    const pid = JSON.parse(e.tsrun(['state', id]).stdout).pid;
    const seen = cgroupsOf(pid);
    for (const [c, [, own]] of hs) {
      t.equal(seen.get(c), join(own, defaultCgroupsPath(e.root, id)), `${c || 'unified'}: <own cgroup>/<default path> while still waiting for start`);
    }
    t.match(defaultCgroupsPath(e.root, id), /^tsrun-[0-9a-f]{12}\//, 'a state root other than the default gets a directory of its own');
    t.equal(defaultCgroupsPath('/run/tsrun', id), `tsrun/${id}`, 'the default root keeps tsrun/<id>');
    t.equal(cgroupLeftovers(e.root, id).length, hs.size, 'one directory per hierarchy');
    t.equal(e.tsrun(['delete', '--force', id]).status, 0);
    t.same(cgroupLeftovers(e.root, id), [], 'all removed by delete');
    // Other test files may have containers of their own there meanwhile;
    // what must hold is that the shared parent is never left empty.
    const [memMount, memOwn] = hs.get('memory')!;
    const parent = join(memMount, memOwn, defaultCgroupsPath(e.root, id), '..');
    t.ok(!existsSync(parent) || readdirSync(parent, { withFileTypes: true }).some((d) => d.isDirectory()), 'the shared parent is removed with the last container');
  });

  t.test('cgroupsPath, absolute and relative', async (t) => {
    const e = env(t);
    const abs = `/tsrun-test-abs-${process.pid}/c1`;
    const r = e.sh('cat /proc/self/cgroup', (c: Config) => (c.linux.cgroupsPath = abs));
    t.equal(r.status, 0, r.stderr);
    for (const line of r.stdout.trim().split('\n')) t.match(line, new RegExp(`:${abs}$`), `absolute: from the hierarchy root (${line})`);
    for (const [c, [mount]] of hs) t.notOk(existsSync(join(mount, abs)), `${c || 'unified'}: removed after run`);
    for (const [, [mount]] of hs) t.notOk(existsSync(join(mount, `/tsrun-test-abs-${process.pid}`)), 'created parents removed too');

    const rel = `tsrun-test-rel-${process.pid}`;
    const r2 = e.sh('cat /proc/self/cgroup', (c: Config) => (c.linux.cgroupsPath = rel));
    const lines = new Map(r2.stdout.trim().split('\n').map((l) => { const [, c, p] = /^\d+:([^:]*):(.*)$/.exec(l)!; return [c, p] as const; }));
    t.equal(lines.get('memory'), join(hs.get('memory')![1], rel), 'relative: under this process cgroup (not the hierarchy root)');

    const bad = e.sh('true', (c: Config) => (c.linux.cgroupsPath = '/a/../../b'));
    t.equal(bad.status, 1);
    t.match(bad.stderr, /linux\.cgroupsPath: must not contain "\.\."/);
  });

  t.test('every linux.resources field this host has is written to the container cgroup', async (t) => {
    const e = env(t);
    const dev = blockDevice();
    const d = `${dev.major}:${dev.minor}`;
    const MiB = 1024 * 1024;
    const bundle = e.bundle((c: Config) => {
      c.process.args = ['sleep', '1000'];
      c.linux.resources = {
        devices: c.linux.resources?.devices,
        memory: { limit: 64 * MiB, reservation: 32 * MiB, swap: 128 * MiB, swappiness: 17, disableOOMKiller: true, kernelTCP: 16 * MiB, useHierarchy: true, checkBeforeUpdate: true },
        // cpus "1" differs from what a new cpuset inherits ("0-1" here).
        cpu: { shares: 512, quota: 50000, period: 200000, burst: 10000, idle: 0, cpus: '1', mems: '0' },
        pids: { limit: 42 },
        blockIO: {
          weight: 300,
          throttleReadBpsDevice: [{ ...dev, rate: MiB }],
          throttleWriteBpsDevice: [{ ...dev, rate: 2 * MiB }],
          throttleReadIOPSDevice: [{ ...dev, rate: 300 }],
          throttleWriteIOPSDevice: [{ ...dev, rate: 400 }],
        },
      };
    });
    const id = uniqueId('fields');
    const r = e.tsrun(['create', '--bundle', bundle, id]);
    t.equal(r.status, 0, r.stderr);
    t.notMatch(r.stderr, /level=warning/, 'nothing is warned about: every field is applied');
    const want: [string, string, string | RegExp][] = [
      ['memory', 'memory.limit_in_bytes', String(64 * MiB)],
      ['memory', 'memory.soft_limit_in_bytes', String(32 * MiB)],
      ['memory', 'memory.memsw.limit_in_bytes', String(128 * MiB)],
      ['memory', 'memory.swappiness', '17'],
      ['memory', 'memory.oom_control', /^oom_kill_disable 1$/m],
      ['memory', 'memory.kmem.tcp.limit_in_bytes', String(16 * MiB)],
      ['memory', 'memory.use_hierarchy', '1'],
      ['cpu', 'cpu.shares', '512'],
      ['cpu', 'cpu.cfs_quota_us', '50000'],
      ['cpu', 'cpu.cfs_period_us', '200000'],
      ['cpu', 'cpu.cfs_burst_us', '10000'],
      ['cpu', 'cpu.idle', '0'],
      ['cpuset', 'cpuset.cpus', '1'],
      ['cpuset', 'cpuset.mems', '0'],
      ['pids', 'pids.max', '42'],
      ['blkio', existsSync(join(hs.get('blkio')![0], hs.get('blkio')![1], defaultCgroupsPath(e.root, id), 'blkio.weight')) ? 'blkio.weight' : 'blkio.bfq.weight', /(^|\s)300$/m],
      ['blkio', 'blkio.throttle.read_bps_device', `${d} ${MiB}`],
      ['blkio', 'blkio.throttle.write_bps_device', `${d} ${2 * MiB}`],
      ['blkio', 'blkio.throttle.read_iops_device', `${d} 300`],
      ['blkio', 'blkio.throttle.write_iops_device', `${d} 400`],
    ];
    for (const [controller, name, value] of want) {
      const got = file(controller, e.root, id, name);
      if (typeof value === 'string') t.equal(got, value, `${controller}/${name}`);
      else t.match(got, value, `${controller}/${name}`);
    }
    t.equal(e.tsrun(['delete', '--force', id]).status, 0);

    // A realtime budget needs one in every ancestor: directly below the root, which has it.
    const rt = `/tsrun-test-rt-${process.pid}`;
    const rtRun = e.sh('cat /sys/fs/cgroup/cpu/cpu.rt_period_us /sys/fs/cgroup/cpu/cpu.rt_runtime_us', (c: Config) => {
      c.linux.cgroupsPath = rt;
      c.linux.resources = { cpu: { realtimePeriod: 900000, realtimeRuntime: 5000 } };
    });
    t.equal(rtRun.status, 0, rtRun.stderr);
    t.equal(rtRun.stdout, '900000\n5000\n', 'cpu.realtimePeriod and realtimeRuntime, seen from inside');

    // SCHED_IDLE gives the cgroup the minimum weight, so it is checked on its own.
    const idle = e.sh('cat /sys/fs/cgroup/cpu/cpu.idle', (c: Config) => (c.linux.resources = { cpu: { idle: 1 } }));
    t.equal(idle.stdout, '1\n', 'cpu.idle');
  });

  t.test('memory.kernel is ignored with a warning naming it, as runc does', async (t) => {
    const e = env(t);
    const r = e.sh('echo ran', (c: Config) => (c.linux.resources = { memory: { kernel: 32 << 20 } }));
    t.equal(r.status, 0, r.stderr);
    t.equal(r.stdout, 'ran\n');
    t.match(r.stderr, /level=warning msg="linux\.resources\.memory\.kernel: kernel memory limits are no longer supported by the kernel; ignored/);
  });

  t.test('a field this host cannot apply is refused with its path, and nothing is left behind', async (t) => {
    const e = env(t);
    const dev = blockDevice();
    const cases: [string, (c: Config) => void, RegExp][] = [
      ['no hugetlb hierarchy', (c) => (c.linux.resources = { hugepageLimits: [{ pageSize: '2MB', limit: 2 << 20 }] }), /linux\.resources\.hugepageLimits\[0\]\.limit: the hugetlb cgroup controller is not mounted on this host/],
      ['no net_cls hierarchy', (c) => (c.linux.resources = { network: { classID: 1048577 } }), /linux\.resources\.network\.classID: the net_cls cgroup controller is not mounted on this host/],
      ['no leaf weights without CFQ', (c) => (c.linux.resources = { blockIO: { leafWeight: 300 } }), /linux\.resources\.blockIO\.leafWeight: this host's cgroup has no blkio\.leaf_weight/],
      ['unified on a v1 host', (c) => (c.linux.resources = { unified: { 'pids.max': '3' } }), /linux\.resources\.unified\["pids\.max"\]: cgroup v2 files cannot be written on this host/],
      ['a cpu the host does not have', (c) => (c.linux.resources = { cpu: { cpus: '63' } }), /linux\.resources\.cpu\.cpus: cannot set cpuset\.cpus to "63": result too large/],
      ['non-hierarchical accounting, which the kernel refuses', (c) => (c.linux.resources = { memory: { useHierarchy: false } }), /linux\.resources\.memory\.useHierarchy: cannot set memory\.use_hierarchy to "0": invalid argument/],
      ['a device weight the scheduler refuses', (c) => (c.linux.resources = { blockIO: { weightDevice: [{ ...dev, weight: 200 }] } }), /linux\.resources\.blockIO\.weightDevice\[0\]\.weight: cannot set blkio\.(bfq\.)?weight_device to "\d+:\d+ 200": /],
      ['a field no controller knows', (c) => (c.linux.resources = { memory: { limit: 1 << 26 }, cpu: { shares: 2, futureField: 1 } }), /linux\.resources\.cpu\.futureField: is not supported by tsrun/],
    ];
    for (const [what, mutate, message] of cases) {
      const id = uniqueId('refused');
      const bundle = e.bundle((c: Config) => {
        c.process.args = ['sh', '-c', 'echo the program ran'];
        mutate(c);
      });
      const r = e.tsrun(['run', '--bundle', bundle, id]);
      t.equal(r.status, 1, `${what}: exit status 1`);
      t.match(r.stderr, message, `${what}: the field and the reason`);
      t.notMatch(r.stdout, /the program ran/, `${what}: the program never ran`);
      t.notOk(existsSync(join(e.root, id)), `${what}: no state directory`);
      t.same(cgroupLeftovers(e.root, id), [], `${what}: no cgroup`);
    }
  });

  t.test('the device allowlist: unlisted devices cannot be opened even with CAP_MKNOD (config-linux.md "Allowed Device list")', async (t) => {
    const e = env(t);
    const dev = openableBlockDevice(t);
    const marker = `tsrun-device-escape-${process.pid}-${Date.now()}`;
    const script = [
      'mknod /tmp/kmsg c 1 11 && echo mknod-char-ok',
      `(echo ${marker} > /tmp/kmsg) 2>&1`,
      `mknod /tmp/disk b ${dev.major} ${dev.minor} && echo mknod-block-ok`,
      '(head -c 512 /tmp/disk && echo read-ok) 2>&1',
      '(exec 3>/tmp/disk) 2>&1',
      'echo x > /dev/null && echo null-ok',
      'head -c 4 /dev/zero | wc -c',
    ].join('; ');
    // The loop device may be read (never written): the rule allows r only.
    const r = e.sh(script, (c: Config) => {
      withMknod(c);
      c.linux.resources = { devices: [{ allow: false, access: 'rwm' }, { allow: true, type: 'b', major: dev.major, minor: dev.minor, access: 'r' }] };
    });
    t.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    t.equal(lines[0], 'mknod-char-ok', 'mknod itself is allowed (c *:* m), so the refusal below is the allowlist');
    t.match(lines[1], /can't create \/tmp\/kmsg: Operation not permitted/, 'the host kernel log (c 1:11) cannot be opened');
    t.equal(lines[2], 'mknod-block-ok');
    t.equal(lines[3], 'read-ok', 'a listed block device (b major:minor r) can be read');
    t.match(lines[4], /can't create \/tmp\/disk: Operation not permitted/, 'but not opened for writing: only r is listed');
    t.equal(lines[5], 'null-ok', 'the default devices work');
    t.equal(lines[6].trim(), '4');
    const dmesg = spawnSync('dmesg', { encoding: 'utf8' });
    t.equal(dmesg.status, 0, 'the host kernel log is readable here');
    t.notOk(dmesg.stdout.includes(marker), 'nothing reached the host kernel log, where a successful write would be');

    const unlisted = e.sh(`mknod /tmp/disk b ${dev.major} ${dev.minor} && (head -c 1 /tmp/disk && echo read-ok) 2>&1`, (c: Config) => withMknod(c));
    t.match(unlisted.stdout, /^head: \/tmp\/disk: Operation not permitted$/m, 'without a rule, a block device the host can open cannot be read (runc spec config)');
    t.notMatch(unlisted.stdout, /read-ok/);
  });

  t.test("the container's devices.list is runc's, for the runc spec config and podman's rules", async (t) => {
    const e = env(t);
    const runcRoot = join(scratch(t, 'runc-state'), 'root');
    const list = (pid: number) => readFileSync(join(hs.get('devices')![0], cgroupsOf(pid).get('devices')!, 'devices.list'), 'utf8');
    const podmanRules = JSON.parse(readFileSync(join(__dirname, '..', '..', 'conformance', 'corpus', 'podman-device-rules.json'), 'utf8')).linux.resources.devices;
    const configs: [string, (c: Config) => void][] = [
      ['runc spec', () => {}],
      ["podman's --device rules", (c) => (c.linux.resources = { devices: podmanRules })],
      ['privileged', (c) => (c.linux.resources = { devices: [{ allow: true, access: 'rwm' }] })],
    ];
    for (const [what, mutate] of configs) {
      const bundle = e.bundle((c: Config) => {
        c.process.args = ['sleep', '1000'];
        mutate(c);
      });
      const id = uniqueId('devlist');
      t.equal(e.tsrun(['create', '--bundle', bundle, id]).status, 0);
      const ours = list(JSON.parse(e.tsrun(['state', id]).stdout).pid);
      e.tsrun(['delete', '--force', id]);
      // runc, on the same (harmless) bundle; its output goes to a file, as it
      // keeps the container's stdio open.
      const out = openSync(join(runcRoot, '..', `${id}.log`), 'w');
      const runcId = `${id}-runc`;
      try {
        const c = spawnSync('runc', ['--root', runcRoot, 'create', '--bundle', bundle, runcId], { stdio: ['ignore', out, out], timeout: 30_000 });
        t.equal(c.status, 0, `runc create (${what})`);
        if (c.status !== 0) continue;
        const pid = JSON.parse(spawnSync('runc', ['--root', runcRoot, 'state', runcId], { encoding: 'utf8' }).stdout).pid;
        t.equal(ours, list(pid), `${what}: devices.list as runc writes it`);
      } finally {
        closeSync(out);
        spawnSync('runc', ['--root', runcRoot, 'delete', '--force', runcId]);
      }
    }
  });

  t.test('cgroup v2: the device program is attached and enforced in the unified hierarchy', async (t) => {
    const unified = hostHierarchies().find((h) => h.controllers === '');
    if (!unified) {
      skipOrFail(t, 'the v2 device program', 'this host has no cgroup2 mount');
      return;
    }
    const e = env(t);
    const bundle = e.bundle((c: Config) => {
      withMknod(c);
      c.process.args = ['sh', '-c', 'grep -E ":devices:|^0::" /proc/self/cgroup; mknod /tmp/kmsg c 1 11 && echo mknod-ok; (head -c 0 /tmp/kmsg) 2>&1; echo x > /dev/null && echo null-ok'];
    });
    const id = uniqueId('v2dev');
    // In a mount namespace where only the cgroup2 mount is left, tsrun sees
    // a unified host: the container stays in this test's v1 cgroups (where
    // every device is allowed), so only the BPF program can refuse.
    const script = [
      `for d in /sys/fs/cgroup/*; do [ "$d" = "${unified.mountpoint}" ] || umount -l "$d" 2>/dev/null; done`,
      `${tsrunShell} --root ${e.root} run --bundle ${bundle} ${id}`,
    ].join('; ');
    const r = spawnSync('unshare', ['-m', '--propagation', 'private', 'sh', '-c', script], { encoding: 'utf8', timeout: 60_000 });
    t.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    t.match(lines.find((l) => l.includes(':devices:')), /:devices:\/$/, 'in the root v1 devices cgroup: v1 allows everything');
    t.match(lines.find((l) => l.startsWith('0::')), new RegExp(`${defaultCgroupsPath(e.root, id)}$`), 'in its own cgroup of the unified hierarchy');
    t.ok(lines.includes('mknod-ok'), 'mknod is allowed');
    t.ok(lines.includes('head: /tmp/kmsg: Operation not permitted'), 'the unlisted device is refused by the program');
    t.ok(lines.includes('null-ok'), 'a listed device works');
    t.notOk(existsSync(join(unified.mountpoint, unified.own, defaultCgroupsPath(e.root, id))), 'the unified cgroup is removed');

    // Without the controllers a resource needs, a unified host refuses it.
    const mem = e.bundle((c: Config) => (c.linux.resources = { memory: { limit: 64 << 20 } }));
    const r2 = spawnSync('unshare', ['-m', '--propagation', 'private', 'sh', '-c', script.replace(bundle, mem).replace(id, `${id}-mem`)], { encoding: 'utf8', timeout: 60_000 });
    t.equal(r2.status, 1);
    t.match(r2.stderr, /linux\.resources\.memory\.limit: the memory controller is not available in /);
    t.notOk(existsSync(join(unified.mountpoint, unified.own, defaultCgroupsPath(e.root, `${id}-mem`))), 'nothing left in the unified hierarchy');
  });

  t.test('two state roots, one container id: a delete in one never touches the other', async (t) => {
    const a = env(t);
    const b = env(t);
    const id = uniqueId('tworoots');
    const exited = a.bundle((c: Config) => (c.process.args = ['true']));
    t.equal(a.tsrun(['run', '--detach', '--bundle', exited, id]).status, 0);
    for (let i = 0; i < 300 && JSON.parse(a.tsrun(['state', id]).stdout).status !== 'stopped'; i++) sleepMs(10);
    const running = b.bundle((c: Config) => (c.process.args = ['sleep', '1000']));
    t.equal(b.tsrun(['run', '--detach', '--bundle', running, id]).status, 0);
    const pid = JSON.parse(b.tsrun(['state', id]).stdout).pid;
    t.equal(a.tsrun(['delete', id]).status, 0, "root A's stopped container is deleted");
    t.equal(JSON.parse(b.tsrun(['state', id]).stdout).status, 'running', "root B's container still runs");
    t.ok(existsSync(`/proc/${pid}`), 'its process is alive');
    t.equal(cgroupLeftovers(b.root, id).length, hs.size, 'and its cgroups are all there');
    t.equal(b.tsrun(['delete', '--force', id]).status, 0);
    t.same(cgroupLeftovers(b.root, id), []);
  });

  t.test('two creates of one id at once: the loser is told the id exists, never about a busy cgroup', async (t) => {
    const e = env(t);
    const bundle = e.bundle((c: Config) => (c.process.args = ['sleep', '1000']));
    // Output through files: the winner's container keeps its stdio open.
    const logs = scratch(t, 'race');
    const create = (id: string, n: number) =>
      new Promise<{ code: number | null; stderr: string }>((resolve) => {
        const log = join(logs, `${id}-${n}`);
        const p = spawn('/bin/sh', ['-c', `${tsrunShell} --root ${e.root} create --bundle ${bundle} ${id} >/dev/null 2>${log}`], { stdio: 'ignore' });
        p.on('exit', (code) => resolve({ code, stderr: readFileSync(log, 'utf8') }));
      });
    for (let round = 0; round < 8; round++) {
      const id = uniqueId('race');
      const results = await Promise.all([create(id, 1), create(id, 2)]);
      t.equal(results.filter((r) => r.code === 0).length, 1, `round ${round}: one create wins`);
      const loser = results.find((r) => r.code !== 0)!;
      t.match(loser.stderr, /already exists/, `round ${round}: the other is told why`);
      t.notMatch(loser.stderr, /cgroupsPath|already has processes/, `round ${round}: and not about a cgroup it never asked for`);
      t.equal(e.tsrun(['delete', '--force', id]).status, 0);
    }
  });

  t.test('memory.limit and pids.limit are enforced', async (t) => {
    const e = env(t);
    const tiny = e.sh('echo ran under 1 MiB', (c: Config) => (c.linux.resources = { memory: { limit: 1024 * 1024 } }));
    t.equal(tiny.status, 0, tiny.stderr);
    t.equal(tiny.stdout, 'ran under 1 MiB\n', 'a container runs under a 1 MiB memory limit');

    // The shell and three sleeps fill a limit of 4; the next fork fails
    // (and a non-interactive shell gives up). Counted with a builtin glob.
    const forks = e.sh('sleep 5 & sleep 5 & sleep 5 & set -- /proc/[0-9]*; echo $#; sleep 0; echo forked past the limit', (c: Config) => (c.linux.resources = { pids: { limit: 4 } }));
    t.equal(forks.stdout, '4\n', 'four processes, and no fifth');
    t.match(forks.stderr, /can't fork: Resource temporarily unavailable/, 'the fifth fork fails with EAGAIN');
  });

  t.test('a cgroup that already has processes is refused, and left alone', async (t) => {
    const e = env(t);
    const path = `/tsrun-test-busy-${process.pid}`;
    const [mount] = hs.get('pids')!;
    const dir = join(mount, path);
    mkdirSync(dir);
    t.teardown(() => {
      writeFileSync(join(mount, 'cgroup.procs'), String(process.pid));
      rmdirSync(dir);
    });
    writeFileSync(join(dir, 'cgroup.procs'), String(process.pid));
    const r = e.sh('true', (c: Config) => (c.linux.cgroupsPath = path));
    t.equal(r.status, 1);
    t.match(r.stderr, /linux\.cgroupsPath: cgroup .* already has processes in it/);
    t.ok(existsSync(dir), 'the existing cgroup is not removed');
  });

  // tsrun-init puts itself in its cgroups (addon/init/join_cgroups.cc): a
  // v1 hierarchy by writing "0" to tasks, falling back to its pid in
  // cgroup.procs; the v2 one by being cloned into it. Each refusal of the
  // kernel is reported with the directory, before the program could run.
  t.test('a cgroup the init cannot join: an error naming linux.cgroupsPath and the directory, nothing left behind', async (t) => {
    const e = env(t);
    const cases: { what: string; controllers: string; cgroupsPath: string; prepare(): void; runAs: string[]; reason: string }[] = [
      {
        // A new cpu cgroup has no real-time runtime (cpu.rt_runtime_us 0): a
        // real-time process may not enter it, and tsrun-init is one when
        // tsrun is (it is not the config's process.scheduler yet).
        what: 'v1: a real-time tsrun-init, a cpu cgroup without real-time runtime',
        controllers: 'cpu',
        cgroupsPath: `/tsrun-test-nojoin-v1-${process.pid}`,
        prepare() {
          t.equal(readFileSync(join(hs.get('cpu')![0], 'cpu.rt_runtime_us'), 'utf8').trim() !== '0', true, 'this host groups real-time runtime by cgroup');
        },
        runAs: ['chrt', '--fifo', '1'],
        reason: 'invalid argument',
      },
    ];
    if (hs.has('')) {
      const [unified] = hs.get('')!;
      const path = `/tsrun-test-nojoin-v2-${process.pid}`;
      cases.push({
        // Beside a threaded sibling, a domain cgroup is "domain invalid": no process may enter it.
        what: 'v2: a "domain invalid" cgroup',
        controllers: '',
        cgroupsPath: `${path}/c`,
        prepare() {
          mkdirSync(join(unified, path, 'threads'), { recursive: true });
          writeFileSync(join(unified, path, 'threads', 'cgroup.type'), 'threaded');
          mkdirSync(join(unified, path, 'c'));
          t.equal(readFileSync(join(unified, path, 'c', 'cgroup.type'), 'utf8').trim(), 'domain invalid');
          t.teardown(() => {
            for (const dir of ['c', 'threads', '']) rmdirSync(join(unified, path, dir));
          });
        },
        runAs: [],
        reason: 'operation not supported',
      });
    }
    for (const { what, controllers, cgroupsPath, prepare, runAs, reason } of cases) {
      const existing = new Map([...hs].map(([c, [mount]]) => [c, existsSync(join(mount, cgroupsPath))]));
      prepare();
      const id = uniqueId('nojoin');
      const bundle = e.bundle((c: Config) => {
        c.process.args = ['sh', '-c', 'echo the program ran'];
        c.linux.cgroupsPath = cgroupsPath;
      });
      const r = spawnSync(runAs[0] ?? tsrunCmd[0], [...runAs.slice(1), ...(runAs.length ? tsrunCmd : tsrunCmd.slice(1)), '--root', e.root, 'run', '--bundle', bundle, id], { encoding: 'utf8', timeout: 30_000 });
      t.equal(r.status, 1, `${what}: exit status 1`);
      const dir = join(hs.get(controllers)![0], cgroupsPath);
      t.match(r.stderr, new RegExp(`linux\\.cgroupsPath: cannot join the cgroup ${dir}: ${reason}`), `${what}: the field, the directory and the kernel's reason`);
      t.notMatch(r.stdout, /the program ran/, `${what}: the program never ran`);
      t.notOk(existsSync(join(e.root, id)), `${what}: no state directory`);
      for (const [c, [mount]] of hs) {
        if (!existing.get(c) && !(c === controllers && runAs.length === 0)) t.notOk(existsSync(join(mount, cgroupsPath)), `${what}: ${c || 'unified'}: the cgroup tsrun made is removed`);
      }
    }
  });

  t.test('the cgroup mount shows the container its own cgroups', async (t) => {
    const e = env(t);
    const r = e.sh('cat /sys/fs/cgroup/memory/memory.limit_in_bytes; cat /sys/fs/cgroup/pids/pids.max; ls /sys/fs/cgroup', (c: Config) => {
      c.linux.resources = { memory: { limit: 48 * 1024 * 1024 }, pids: { limit: 77 } };
    });
    t.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    t.equal(lines[0], String(48 * 1024 * 1024), 'memory limit visible inside');
    t.equal(lines[1], '77', 'pids limit visible inside');
    for (const name of ['cpu', 'memory', 'pids', 'systemd', 'unified']) t.ok(lines.includes(name), `/sys/fs/cgroup/${name}`);
  });

  // config-linux.md "IntelRdt": without a resctrl filesystem mounted, an
  // error (the resctrl work itself is tested on a fake in
  // test/unit/resctrl.test.ts). The field named is the most specific set.
  t.test('intelRdt without resctrl: an error naming the field, nothing left', async (t) => {
    const mounted = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((l) => l.split(' - ')[1]?.startsWith('resctrl '));
    if (mounted) return t.skip('this host has resctrl mounted');
    const e = env(t);
    for (const [rdt, field] of [
      [{ closID: 'tsrun-test' }, 'linux.intelRdt.closID'],
      [{ l3CacheSchema: 'L3:0=f', enableMonitoring: true }, 'linux.intelRdt.l3CacheSchema'],
      [{ enableMonitoring: true }, 'linux.intelRdt.enableMonitoring'],
    ] as const) {
      const r = e.sh('echo ran', (c: Config) => (c.linux.intelRdt = rdt));
      t.equal(r.status, 1);
      t.equal(r.stderr, `tsrun: ${field}: Intel RDT is not available on this host (no resctrl filesystem is mounted)\n`);
      t.equal(r.stdout, '');
    }
    t.same(e.tsrun(['list', '-q']).stdout, '', 'no container left');
  });
}
