// runc's clients drive tsrun unchanged: podman (through conmon) and
// containerd (through its runc shim, driven with ctr). Each gets private
// storage, state and sockets in a scratch directory; what they keep in
// fixed host places (cgroups, /run/containerd) is removed afterwards.
// tsrun is reached through a wrapper that logs each call, so the test knows
// the client really used it. In CI a missing client fails the test.
// Both also pass linux.resources from their flags: the values are read
// back from the container's v1 cgroup files (this host is v1 hybrid) and
// the pids limit and device allowlist are shown to be enforced.
import { readFileSync } from 'node:fs';
import t from 'tap';
import {
  hostCgroupFile, inTerminal, need, run, shimRuntimeRoot, startContainerd, startPodman, used,
} from '../helpers/clients';
import { requireRoot, tsrunBin, uniqueId } from '../helpers/tsrun';

if (requireRoot(t)) {
  t.test('podman runs containers with tsrun as its runtime', async (t) => {
    if (!need(t, ['podman', 'conmon', 'script'], 'podman bsdutils')) return;
    const { podman, rt, image, common } = startPodman(t);

    const fg = run([...podman, 'run', '--rm', ...common, image, 'sh', '-c', 'echo hello from $(hostname); exit 3']);
    t.equal(fg.status, 3, `run exits with the container's status: ${fg.stderr}`);
    t.match(fg.stdout, /^hello from [0-9a-f]{12}\n$/, 'output and the hostname podman set');
    for (const cmd of ['create', 'start', 'delete']) t.ok(used(rt.calls(), cmd), `podman called tsrun ${cmd}`);

    const d = run([...podman, 'run', '-d', ...common, image, 'sleep', '1000']);
    t.equal(d.status, 0, d.stderr);
    const cid = d.stdout.trim();
    t.match(run([...podman, 'ps', '--format', '{{.ID}} {{.Status}}']).stdout, new RegExp(`^${cid.slice(0, 12)} Up`, 'm'), 'running');
    t.equal(run([...podman, 'stop', '--time', '1', cid]).status, 0, 'stop (TERM, which pid 1 ignores, then KILL)');
    t.match(run([...podman, 'ps', '-a', '--format', '{{.ID}} {{.Status}}']).stdout, new RegExp(`^${cid.slice(0, 12)} Exited \\(137\\)`, 'm'), 'exited 137');
    t.ok(used(rt.calls(), 'kill'), 'podman called tsrun kill');
    t.equal(run([...podman, 'rm', cid]).status, 0);

    const tty = inTerminal([...podman, 'run', '--rm', '-t', ...common, image, 'sh', '-c', 'tty; exit 4']);
    t.equal(tty.status, 4, tty.stderr);
    t.match(tty.stdout, /\/dev\/pts\/0/, 'a terminal from the console socket');

    // linux.resources from podman's flags. With the cgroupfs manager podman
    // only makes libpod_parent (and conmon's cgroup); the container's
    // cgroup and every value in it are tsrun's. tsrun mounts the
    // container's own cgroups at /sys/fs/cgroup, so they are read inside.
    // Every value differs from what the container would inherit
    // (libpod_parent: no memory limits, swappiness 60, shares 1024, quota
    // -1, period 100000, cpus 0-1, pids max, no throttles, devices a *:* rwm),
    // except where said.
    const cgroupRun = (flags: string[], files: string[], script = 'true') => {
      const r = run([...podman, 'run', '--rm', ...common, ...flags, image, 'sh', '-c', `${script}; for f in ${files.join(' ')}; do echo "== $f"; cat /sys/fs/cgroup/$f; done`]);
      const read: Record<string, string> = {};
      for (const part of r.stdout.split(/^== /m).slice(1)) {
        const nl = part.indexOf('\n');
        read[part.slice(0, nl)] = part.slice(nl + 1).trim();
      }
      return { ...r, read, before: r.stdout.split(/^== /m)[0] };
    };

    const mem = cgroupRun(
      ['--memory', '64m', '--memory-reservation', '32m', '--memory-swap', '128m', '--memory-swappiness', '10', '--oom-kill-disable'],
      ['memory/memory.limit_in_bytes', 'memory/memory.soft_limit_in_bytes', 'memory/memory.memsw.limit_in_bytes', 'memory/memory.swappiness', 'memory/memory.oom_control'],
    );
    t.equal(mem.status, 0, `memory flags: ${mem.stderr}`);
    t.equal(mem.read['memory/memory.limit_in_bytes'], '67108864', '--memory 64m -> memory.limit_in_bytes');
    t.equal(mem.read['memory/memory.soft_limit_in_bytes'], '33554432', '--memory-reservation 32m -> memory.soft_limit_in_bytes');
    t.equal(mem.read['memory/memory.memsw.limit_in_bytes'], '134217728', '--memory-swap 128m (memory plus swap) -> memory.memsw.limit_in_bytes');
    t.equal(mem.read['memory/memory.swappiness'], '10', '--memory-swappiness 10 -> memory.swappiness');
    t.match(mem.read['memory/memory.oom_control'], /^oom_kill_disable 1$/m, '--oom-kill-disable -> memory.oom_control');

    // --cpus is podman's quota over a 100000us period (the period is also
    // the inherited one; --cpu-period is checked below). --cpuset-mems 0:
    // this host has one NUMA node, so 0 is also the inherited value; it
    // only shows the value is written without error.
    const cpu = cgroupRun(
      ['--cpus', '0.5', '--cpu-shares', '512', '--cpuset-cpus', '1', '--cpuset-mems', '0'],
      ['cpu/cpu.cfs_quota_us', 'cpu/cpu.cfs_period_us', 'cpu/cpu.shares', 'cpuset/cpuset.cpus', 'cpuset/cpuset.mems'],
      'grep Cpus_allowed_list /proc/self/status',
    );
    t.equal(cpu.status, 0, `cpu flags: ${cpu.stderr}`);
    t.equal(cpu.read['cpu/cpu.cfs_quota_us'], '50000', '--cpus 0.5 -> cpu.cfs_quota_us 50000');
    t.equal(cpu.read['cpu/cpu.cfs_period_us'], '100000', '--cpus 0.5 -> cpu.cfs_period_us 100000');
    t.equal(cpu.read['cpu/cpu.shares'], '512', '--cpu-shares 512 -> cpu.shares');
    t.equal(cpu.read['cpuset/cpuset.cpus'], '1', '--cpuset-cpus 1 -> cpuset.cpus (the host has 0-1)');
    t.equal(cpu.read['cpuset/cpuset.mems'], '0', '--cpuset-mems 0 -> cpuset.mems');
    t.match(cpu.before, /^Cpus_allowed_list:\s+1$/m, 'the process runs on CPU 1 only');

    // --pids-limit 5: the shell, the subshell and at most three sleeps; the
    // fourth fork fails (ash reports it and leaves the subshell).
    const pids = cgroupRun(
      ['--pids-limit', '5', '--cpu-quota', '30000', '--cpu-period', '60000'],
      ['pids/pids.max', 'cpu/cpu.cfs_quota_us', 'cpu/cpu.cfs_period_us'],
      '(for i in 1 2 3 4 5 6 7 8 9 10; do sleep 100 & echo started; done); set -- /proc/[0-9]*; read cur < /sys/fs/cgroup/pids/pids.current; echo "processes=$# current=$cur"',
    );
    t.equal(pids.status, 0, `pids flags: ${pids.stderr}`);
    t.equal(pids.read['pids/pids.max'], '5', '--pids-limit 5 -> pids.max');
    t.equal(pids.read['cpu/cpu.cfs_quota_us'], '30000', '--cpu-quota 30000 -> cpu.cfs_quota_us');
    t.equal(pids.read['cpu/cpu.cfs_period_us'], '60000', '--cpu-period 60000 -> cpu.cfs_period_us');
    const started = pids.before.match(/^started$/gm)?.length ?? 0;
    t.ok(started <= 3, `at most 3 of the 10 sleeps started, beside the shell and its subshell (${started})`);
    t.match(pids.stderr, /can't fork: Resource temporarily unavailable/, 'a fork past the limit fails with EAGAIN');
    const [, procs, current] = /^processes=(\d+) current=(\d+)$/m.exec(pids.before) ?? [];
    t.ok(Number(procs) >= 1 && Number(procs) <= 5, `at most 5 processes in the container (${procs})`);
    t.ok(Number(current) >= 1 && Number(current) <= 5, `pids.current at most 5 (${current})`);

    // The device allowlist. podman 4.3's default capabilities lack MKNOD,
    // so it is added: mknod itself then succeeds (the devices cgroup lets
    // any node be made: "c *:* m", "b *:* m") and the EPERM on open comes
    // from the devices cgroup alone. Opens are for writing without a write
    // (`true >`), or reads of 0 bytes: nothing reaches the host's kernel log
    // or a disk. /dev/kmsg (1:11), /dev/loop0 (7:0) and /dev/loop-control
    // (10:237) are outside the default list. The block device is loop0, not
    // vda: on this host even the host's root gets EPERM opening vda, which
    // would hide whether the devices cgroup refused it; loop0 (unbound)
    // opens on the host.
    const defaults = cgroupRun(
      ['--cap-add', 'MKNOD'],
      ['devices/devices.list'],
      [
        'mknod /tmp/kmsg c 1 11 && echo mknod kmsg ok',
        'true > /tmp/kmsg && echo kmsg opened',
        'mknod /tmp/loop0 b 7 0 && echo mknod loop0 ok',
        'head -c0 /tmp/loop0 && echo loop0 opened',
        'mknod /tmp/loop-control c 10 237 && echo mknod loop-control ok',
        'head -c0 /tmp/loop-control && echo loop-control opened',
        'mknod /tmp/null c 1 3 && true > /tmp/null && echo null opened',
      ].join('; '),
    );
    t.equal(defaults.status, 0, defaults.stderr);
    t.notMatch(defaults.read['devices/devices.list'], /^a /m, 'devices.list is an allowlist, not "a *:* rwm"');
    t.match(defaults.read['devices/devices.list'], /^c 1:3 rwm$/m, 'devices.list holds the default devices');
    for (const node of ['kmsg', 'loop0', 'loop-control']) t.match(defaults.before, new RegExp(`^mknod ${node} ok$`, 'm'), `mknod ${node} succeeds (CAP_MKNOD, "m" allowed)`);
    t.match(defaults.stderr, /can't create \/tmp\/kmsg: Operation not permitted/, 'the unlisted char device 1:11 cannot be opened: EPERM');
    t.match(defaults.stderr, /head: \/tmp\/loop0: Operation not permitted/, 'the unlisted block device 7:0 cannot be opened: EPERM');
    t.match(defaults.stderr, /head: \/tmp\/loop-control: Operation not permitted/, 'the unlisted char device 10:237 cannot be opened: EPERM');
    t.notMatch(defaults.before, /(kmsg|loop0|loop-control) opened/, 'no unlisted device opened');
    t.match(defaults.before, /^null opened$/m, 'a listed device (1:3) made with mknod opens');

    // --device adds a node and its rule, --device-cgroup-rule a rule alone
    // (the node is made with mknod). podman 4.3 drops --blkio-weight when
    // the blkio hierarchy's root has no blkio.weight, as here (this kernel
    // has only BFQ's blkio.bfq.weight): it warns and passes no weight to
    // the runtime, so blkio.bfq.weight keeps libpod_parent's value.
    const parentWeight = readFileSync('/sys/fs/cgroup/blkio/libpod_parent/blkio.bfq.weight', 'utf8').trim();
    const devs = cgroupRun(
      [
        '--blkio-weight', '300', '--device-read-bps', '/dev/vda:1mb',
        '--device', '/dev/null:/dev/mynull', '--device', '/dev/loop-control:/dev/myloop',
        '--device-cgroup-rule', 'c 1:11 rw', '--device-cgroup-rule', 'b 7:0 r', '--cap-add', 'MKNOD',
      ],
      ['blkio/blkio.bfq.weight', 'blkio/blkio.throttle.read_bps_device', 'devices/devices.list'],
      [
        'stat -c "mynull %F %t:%T" /dev/mynull',
        'true > /dev/mynull && head -c0 /dev/mynull && echo mynull opened',
        'head -c0 /dev/myloop && echo myloop opened',
        'mknod /tmp/kmsg c 1 11 && true > /tmp/kmsg && echo kmsg opened for writing',
        'mknod /tmp/loop0 b 7 0 && head -c0 /tmp/loop0 && echo loop0 opened for reading',
      ].join('; '),
    );
    t.equal(devs.status, 0, devs.stderr);
    t.match(devs.stderr, /does not support Block I\/O weight.*Weight discarded/, 'podman discards --blkio-weight on this host (no blkio.weight)');
    t.equal(devs.read['blkio/blkio.bfq.weight'], parentWeight, 'so blkio.bfq.weight is the inherited one');
    t.equal(devs.read['blkio/blkio.throttle.read_bps_device'], '254:0 1048576', '--device-read-bps /dev/vda:1mb -> blkio.throttle.read_bps_device');
    t.match(devs.before, /^mynull character special file 1:3$/m, '--device /dev/null:/dev/mynull makes the node');
    t.match(devs.before, /^mynull opened$/m, 'and it opens');
    t.match(devs.read['devices/devices.list'], /^c 10:237 rwm$/m, '--device /dev/loop-control adds its rule');
    t.match(devs.before, /^myloop opened$/m, 'and the unlisted device opens');
    t.match(devs.read['devices/devices.list'], /^c 1:11 rw$/m, "--device-cgroup-rule 'c 1:11 rw' -> devices.list");
    t.match(devs.before, /^kmsg opened for writing$/m, 'and the kmsg node opens for writing');
    t.match(devs.read['devices/devices.list'], /^b 7:0 r$/m, "--device-cgroup-rule 'b 7:0 r' -> devices.list");
    t.match(devs.before, /^loop0 opened for reading$/m, 'and the loop0 node opens for reading');
    t.equal(devs.stderr.match(/Operation not permitted/g), null, 'no EPERM');
  });

  t.test('containerd (ctr, runc shim) runs containers with tsrun as its runc', async (t) => {
    if (!need(t, ['containerd', 'ctr', 'script'], 'containerd bsdutils')) return;
    const { ctr, rt, runArgs } = await startContainerd(t);

    const fg = run([...ctr, 'run', '--rm', ...runArgs, uniqueId('ctr'), 'sh', '-c', 'echo hello; exit 5']);
    t.equal(fg.status, 5, `the exit status comes through: ${fg.stderr}`);
    t.equal(fg.stdout, 'hello\n');
    for (const cmd of ['create', 'start', 'delete']) t.ok(used(rt.calls(), cmd), `the shim called tsrun ${cmd}`);

    // ctr's resource flags (before --rootfs, which ends ctr's options):
    // read from the host through the task's pid, as ctr's default spec
    // mounts no cgroups in the container.
    const id = uniqueId('ctr');
    const d = run([...ctr, 'run', '-d', '--memory-limit', '67108864', '--cpus', '0.5', ...runArgs, id, 'sleep', '1000']);
    t.equal(d.status, 0, d.stderr);
    const task = new RegExp(`^${id}\\s+(\\d+)\\s+RUNNING`, 'm').exec(run([...ctr, 'task', 'ls']).stdout);
    t.ok(task, 'running');
    if (task) {
      const pid = Number(task[1]);
      t.equal(hostCgroupFile(pid, 'memory', 'memory.limit_in_bytes'), '67108864', '--memory-limit -> memory.limit_in_bytes');
      t.equal(hostCgroupFile(pid, 'cpu', 'cpu.cfs_quota_us'), '50000', '--cpus 0.5 -> cpu.cfs_quota_us 50000');
      t.equal(hostCgroupFile(pid, 'cpu', 'cpu.cfs_period_us'), '100000', '--cpus 0.5 -> cpu.cfs_period_us 100000');
      t.notMatch(hostCgroupFile(pid, 'devices', 'devices.list'), /^a /m, 'devices.list is an allowlist, not "a *:* rwm"');
    }
    t.equal(run([...ctr, 'task', 'kill', '--signal', 'KILL', id]).status, 0);
    let stopped = false;
    for (let i = 0; i < 100 && !stopped; i++) {
      stopped = new RegExp(`^${id}\\s+\\d+\\s+STOPPED`, 'm').test(run([...ctr, 'task', 'ls']).stdout);
      if (!stopped) await new Promise((r) => setTimeout(r, 50));
    }
    t.ok(stopped, 'stopped after kill');
    t.ok(used(rt.calls(), 'kill'), 'the shim called tsrun kill');
    t.equal(run([...ctr, 'task', 'delete', id]).status, 0);
    t.equal(run([...ctr, 'container', 'delete', id]).status, 0);

    // The default allowlist: containerd's default capabilities include
    // MKNOD, so the node is made and only its open fails. The rootfs is
    // shared by these containers: the node's name is this run's own.
    const kmsg = `/tmp/kmsg-${uniqueId('node')}`;
    const dev = run([...ctr, 'run', '--rm', ...runArgs, uniqueId('ctr'), 'sh', '-c', `mknod ${kmsg} c 1 11 && echo mknod ok; true > ${kmsg} && echo opened; mknod ${kmsg}-null c 1 3 && true > ${kmsg}-null && echo null opened; rm -f ${kmsg} ${kmsg}-null`]);
    t.equal(dev.status, 0, dev.stderr);
    t.match(dev.stdout, /^mknod ok$/m, 'mknod of an unlisted device succeeds');
    t.match(dev.stderr, new RegExp(`can't create ${kmsg}: Operation not permitted`), 'but it cannot be opened: EPERM');
    t.notMatch(dev.stdout, /^opened$/m, 'the unlisted device did not open');
    t.match(dev.stdout, /^null opened$/m, 'a listed device made with mknod opens');

    const tty = inTerminal([...ctr, 'run', '--rm', '-t', ...runArgs, uniqueId('ctr'), 'sh', '-c', 'tty; exit 6']);
    t.equal(tty.status, 6, tty.stderr);
    t.match(tty.stdout, /\/dev\/pts\/0/, 'a terminal from the console socket');
    t.same(run([tsrunBin, '--root', shimRuntimeRoot, 'list', '-q']).stdout, '', 'no container left behind');
  });

}
