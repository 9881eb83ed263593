// runc's clients drive tsrun unchanged: podman (through conmon) and
// containerd (through its runc shim, driven with ctr). Each gets private
// storage, state and sockets in a scratch directory; what they keep in
// fixed host places (cgroups, /run/containerd) is removed afterwards.
// tsrun is reached through a wrapper that logs each call, so the test knows
// the client really used it. In CI a missing client fails the test.
// Both also pass linux.resources from their flags: the values are read
// back from the container's v1 cgroup files (this host is v1 hybrid) and
// the pids limit and device allowlist are shown to be enforced.
// Then the commands on a live container (exec, ps/top, pause/resume,
// update, stats/metrics), read back from tsrun's state and cgroups; with
// runc in tsrun's place only the checks of tsrun's own state fail.
// The setup and teardowns are in test/helpers/clients.ts.
import { readFileSync } from 'node:fs';
import t from 'tap';
import {
  callsOf, fifoDir, hostCgroupFile, inTerminal, need, run, shimRuntimeRoot, startContainerd, startPodman, used, waitFor,
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

  // The commands on a live container: each step is shown to reach tsrun
  // (its call in the wrapper's log, naming the container) and its effect is
  // read where tsrun made it (the container's processes and cgroup files,
  // tsrun's own state), not only in what podman says.
  t.test('podman exec, top, pause, unpause, update and stats on a container tsrun runs', async (t) => {
    if (!need(t, ['podman', 'conmon', 'script'], 'podman bsdutils')) return;
    const { podman, rt, image, common } = startPodman(t);
    const p = (...args: string[]) => run([...podman, ...args]);
    const d = p('run', '-d', ...common, image, 'sleep', '1000');
    t.equal(d.status, 0, d.stderr);
    const cid = d.stdout.trim();
    const pid = Number(p('inspect', '--format', '{{.State.Pid}}', cid).stdout.trim());
    t.ok(pid > 0, `the container's init has host pid ${pid}`);
    const calls = (cmd: string) => callsOf(rt.calls(), cmd, cid);
    const status = () => p('inspect', '--format', '{{.State.Status}}', cid).stdout.trim();
    const psStatus = () => new RegExp(`^${cid.slice(0, 12)} (.*)$`, 'm').exec(p('ps', '-a', '--format', '{{.ID}} {{.Status}}').stdout)?.[1];
    // tsrun's own view (podman gives the runtime no --root: tsrun's default).
    const tsrunStatus = () => {
      const r = run([tsrunBin, 'state', cid]);
      return r.status === 0 ? JSON.parse(r.stdout).status : `(tsrun state: ${r.stderr})`;
    };
    const cgroupTasks = () => hostCgroupFile(pid, 'pids', 'cgroup.procs').split('\n').filter(Boolean).length;

    const plain = p('exec', cid, 'sh', '-c', 'echo out; echo err >&2; id -u; pwd; exit 7');
    t.equal(plain.status, 7, `exec exits with the process's status: ${plain.stderr}`);
    t.equal(plain.stdout, 'out\n0\n/\n', 'its output, as root in the image\'s working directory');
    t.equal(plain.stderr, 'err\n', 'its stderr apart');
    t.equal(calls('exec').length, 1, 'through tsrun exec');
    t.match(calls('exec')[0] ?? '', / --process \S+ --detach /, 'with the --process file conmon writes, detached (conmon holds the stdio)');
    t.equal(p('exec', cid, 'sh', '-c', 'kill -9 $$').status, 137, 'a process killed by SIGKILL: 137');
    const input = run([...podman, 'exec', '-i', cid, 'sh', '-c', 'tr a-z A-Z'], { input: 'from stdin\n' });
    t.equal(input.stdout, 'FROM STDIN\n', '-i: stdin reaches the process');
    // podman maps runc's message wording to these statuses: tsrun's must match.
    const missing = p('exec', cid, 'nosuchcmd');
    t.equal(missing.status, 127, `a missing command: 127 (${missing.stderr.trim()})`);
    t.match(missing.stderr, /executable file not found in \$PATH/);
    t.equal(p('exec', cid, '/etc/passwd').status, 126, 'a file that is not executable: 126');
    t.equal(p('exec', '-w', '/nonexistent', cid, 'pwd').status, 127, 'a missing working directory: 127');

    const tty = inTerminal([...podman, 'exec', '-t', cid, 'sh', '-c', 'tty; sleep 0.3; exit 4']);
    t.equal(tty.status, 4, `exec -t exits with the process's status: ${tty.stderr}`);
    t.match(tty.stdout, /^\/dev\/pts\/\d+\r?$/m, 'a terminal');
    t.ok(calls('exec').some((c) => / --tty --console-socket \S+ /.test(c)), 'from tsrun exec --tty --console-socket');

    const who = p('exec', '-u', '1000', '-w', '/tmp', '-e', 'FOO=bar', cid, 'sh', '-c', 'echo "$(id -u):$(id -g) $PWD $FOO"');
    t.equal(who.status, 0, who.stderr);
    t.equal(who.stdout, '1000:1000 /tmp bar\n', '-u 1000 -w /tmp -e FOO=bar');
    t.equal(p('exec', '-u', '1000', cid, 'sh', '-c', 'grep CapEff /proc/self/status').stdout, 'CapEff:\t0000000000000000\n', 'a non-root user keeps no effective capability');

    const bg = p('exec', '-d', cid, 'sh', '-c', 'echo $$ > /tmp/bg; exec sleep 600');
    t.equal(bg.status, 0, `exec -d: ${bg.stderr}`);
    t.match(bg.stdout, /^[0-9a-f]{64}\n$/, 'prints the exec session id');
    t.ok(await waitFor(() => /^\d+\n$/.test(p('exec', cid, 'cat', '/tmp/bg').stdout)), 'the detached process started');
    await new Promise((r) => setTimeout(r, 300));
    const alive = p('exec', cid, 'sh', '-c', 'kill -0 $(cat /tmp/bg) && cat /proc/$(cat /tmp/bg)/cmdline | tr "\\0" " "');
    t.equal(alive.stdout, 'sleep 600 ', 'and it runs after podman exec -d returned');
    t.equal(cgroupTasks(), 2, "the container's pids cgroup holds the init and the detached process");

    const top = p('top', cid, 'pid', 'hpid', 'args');
    t.equal(top.status, 0, top.stderr);
    t.match(top.stdout, new RegExp(`^1\\s+${pid}\\s+sleep 1000\\s*$`, 'm'), 'top: the init, pid 1 in the container');
    t.match(top.stdout, /^\d+\s+\d+\s+sleep 600\s*$/m, 'top: the detached exec');
    t.equal(top.stdout.trim().split('\n').length, 3, 'and nothing else');

    const freezer = () => hostCgroupFile(pid, 'freezer', 'freezer.state');
    const paused = p('pause', cid);
    t.equal(paused.status, 0, `pause: ${paused.stderr}`);
    t.equal(calls('pause').length, 1, 'through tsrun pause');
    t.equal(freezer(), 'FROZEN', "the container's freezer cgroup is frozen");
    t.equal(tsrunStatus(), 'paused', 'tsrun state: paused');
    t.equal(status(), 'paused', 'podman inspect: paused');
    t.equal(psStatus(), 'Paused', 'podman ps -a: Paused');
    t.match(p('exec', cid, 'true').stderr, /can only create exec sessions on running containers/, 'podman refuses exec while paused');
    const unpaused = p('unpause', cid);
    t.equal(unpaused.status, 0, `unpause: ${unpaused.stderr}`);
    t.equal(calls('resume').length, 1, 'through tsrun resume');
    t.equal(freezer(), 'THAWED', 'thawed');
    t.equal(tsrunStatus(), 'running', 'tsrun state: running');
    t.equal(status(), 'running', 'podman inspect: running');
    t.match(psStatus(), /^Up /, 'podman ps -a: Up');
    t.equal(p('exec', cid, 'echo', 'awake').stdout, 'awake\n', 'the container runs again');

    t.equal(hostCgroupFile(pid, 'cpu', 'cpu.cfs_quota_us'), '-1', 'no CPU quota before the update');
    t.not(hostCgroupFile(pid, 'memory', 'memory.limit_in_bytes'), '67108864', 'nor a 64m memory limit');
    const upd = p('update', '--cpus', '0.5', '--memory', '64m', cid);
    t.equal(upd.status, 0, `update: ${upd.stderr}`);
    t.match(calls('update')[0] ?? '', /update --resources[= ]\S+ /, 'through tsrun update --resources');
    t.equal(hostCgroupFile(pid, 'cpu', 'cpu.cfs_quota_us'), '50000', '--cpus 0.5 -> cpu.cfs_quota_us 50000');
    t.equal(hostCgroupFile(pid, 'cpu', 'cpu.cfs_period_us'), '100000', '-> cpu.cfs_period_us 100000');
    t.equal(hostCgroupFile(pid, 'memory', 'memory.limit_in_bytes'), '67108864', '--memory 64m -> memory.limit_in_bytes');
    t.equal(p('exec', cid, 'echo', 'updated').stdout, 'updated\n', 'the container runs on');

    // podman reads these from the cgroup podman asked tsrun to make (the
    // spec's cgroupsPath): they are tsrun's only if tsrun made it there and
    // put the exec'd process in it too.
    const stats = p('stats', '--no-stream', '--format', 'json', cid);
    t.equal(stats.status, 0, `stats --no-stream: ${stats.stderr}`);
    let st: Record<string, string> = {};
    try {
      st = JSON.parse(stats.stdout)[0] ?? {};
    } catch {
      t.fail(`stats output is JSON: ${stats.stdout}`);
    }
    t.equal(st.pids, '2', 'stats: 2 pids (the init and the detached exec)');
    const usage = /^([\d.]+)([kMG]?B) \/ /.exec(st.mem_usage ?? '');
    t.ok(usage && Number(usage[1]) > 0, `stats: memory in use (${st.mem_usage})`);
    t.match(st.cpu_time ?? '', /^[\d.]+(ms|s|µs)$/, `stats: CPU time (${st.cpu_time})`);

    t.equal(p('rm', '--force', '--time', '0', cid).status, 0, 'rm --force');
    t.equal(calls('delete').length, 1, 'through tsrun delete');
    t.match(run([tsrunBin, 'state', cid]).stderr, /does not exist/, 'tsrun no longer knows the container');
  });

  t.test('containerd (ctr, runc shim): task exec, ps, pause, resume and metrics on a task tsrun runs', async (t) => {
    if (!need(t, ['containerd', 'ctr', 'script'], 'containerd bsdutils')) return;
    const { ctr, rt, runArgs, dir } = await startContainerd(t);
    const c = (...args: string[]) => run([...ctr, ...args]);
    // ctr's spec without an image has no PATH: programs by their path, so
    // that runc 1.1 (which then finds nothing) would run them too.
    const id = uniqueId('ctr');
    const d = c('run', '-d', ...runArgs, id, '/bin/sleep', '1000');
    t.equal(d.status, 0, d.stderr);
    const taskLine = () => new RegExp(`^${id}\\s+(\\d+)\\s+(\\S+)`, 'm').exec(c('task', 'ls').stdout);
    const pid = Number(taskLine()?.[1]);
    t.ok(pid > 0, `the task's init has host pid ${pid}`);
    const calls = (cmd: string) => callsOf(rt.calls(), cmd, id);
    const tsrunStatus = () => {
      const r = run([tsrunBin, '--root', shimRuntimeRoot, 'state', id]);
      return r.status === 0 ? JSON.parse(r.stdout).status : `(tsrun state: ${r.stderr})`;
    };

    const plain = c('task', 'exec', '--exec-id', 'plain', id, '/bin/sh', '-c', 'echo out; echo err >&2; exit 9');
    t.equal(plain.status, 9, `task exec exits with the process's status: ${plain.stderr}`);
    t.equal(plain.stdout, 'out\n', 'its output');
    t.equal(plain.stderr, 'err\n', 'its stderr apart');
    t.equal(calls('exec').length, 1, 'through tsrun exec');
    t.match(calls('exec')[0] ?? '', / exec --process \S+ --detach --pid-file \S+ /, "as the shim runs runc's exec");
    const missing = c('task', 'exec', '--exec-id', 'missing', id, 'nosuchcmd');
    t.equal(missing.status, 1, 'a missing command fails');
    t.match(missing.stderr, /OCI runtime exec failed: .*executable file not found in \$PATH/, "with the runtime's message");

    // The sleep lets ctr's resize land while the process lives (a process
    // that exits at once makes ctr log a resize error, with runc too).
    const tty = inTerminal([...ctr, 'task', 'exec', '-t', '--exec-id', 'tty', id, '/bin/sh', '-c', 'tty; sleep 0.3; exit 3']);
    t.equal(tty.status, 3, `task exec -t exits with the process's status: ${tty.stderr}`);
    t.match(tty.stdout, /^\/dev\/pts\/\d+\r?$/m, 'a terminal');
    t.ok(calls('exec').some((c) => / --console-socket \S+ /.test(c)), 'from tsrun exec --console-socket');

    const bg = c('task', 'exec', '--detach', '--fifo-dir', fifoDir(dir), '--exec-id', 'bg', id, '/bin/sleep', '600');
    t.equal(bg.status, 0, bg.stderr);
    const ps = c('task', 'ps', id);
    t.equal(ps.status, 0, ps.stderr);
    t.ok(calls('ps').some((c) => / ps --format json /.test(c)), 'task ps: through tsrun ps --format json');
    t.match(ps.stdout, new RegExp(`^${pid}\\s+-\\s*$`, 'm'), 'task ps: the init');
    const bgPid = Number(/^(\d+)\s+&ProcessDetails\{ExecID:bg,/m.exec(ps.stdout)?.[1]);
    t.ok(bgPid > 0, `task ps: the detached exec, known to the shim by its pid file (${bgPid})`);
    t.equal(ps.stdout.trim().split('\n').length, 3, 'and nothing else');
    if (bgPid) t.equal(readFileSync(`/proc/${bgPid}/cmdline`, 'utf8'), '/bin/sleep\x00600\x00', 'that pid is the sleep');

    const freezer = () => hostCgroupFile(pid, 'freezer', 'freezer.state');
    const paused = c('task', 'pause', id);
    t.equal(paused.status, 0, `task pause: ${paused.stderr}`);
    t.equal(calls('pause').length, 1, 'through tsrun pause');
    t.equal(taskLine()?.[2], 'PAUSED', 'task ls: PAUSED');
    t.equal(freezer(), 'FROZEN', "the task's freezer cgroup is frozen");
    t.equal(tsrunStatus(), 'paused', 'tsrun state: paused');
    t.match(c('task', 'exec', '--exec-id', 'frozen', id, '/bin/true').stderr, /cannot exec in a paused state/, 'the shim refuses exec while paused');
    const resumed = c('task', 'resume', id);
    t.equal(resumed.status, 0, `task resume: ${resumed.stderr}`);
    t.equal(calls('resume').length, 1, 'through tsrun resume');
    t.equal(taskLine()?.[2], 'RUNNING', 'task ls: RUNNING');
    t.equal(freezer(), 'THAWED', 'thawed');
    t.equal(tsrunStatus(), 'running', 'tsrun state: running');
    t.equal(c('task', 'exec', '--exec-id', 'awake', id, '/bin/echo', 'awake').stdout, 'awake\n', 'the task runs again');

    // The shim reads these from the task's cgroups, found through its init:
    // tsrun's cgroups, holding the detached exec too.
    const m = c('task', 'metrics', '--format', 'json', id);
    t.equal(m.status, 0, `task metrics: ${m.stderr}`);
    let metrics: any = {};
    try {
      metrics = JSON.parse(m.stdout);
    } catch {
      t.fail(`metrics are JSON: ${m.stdout}`);
    }
    t.equal(metrics.pids?.current, 2, 'metrics: 2 pids (the init and the detached exec)');
    t.ok(metrics.memory?.usage?.usage > 0, `metrics: memory usage (${metrics.memory?.usage?.usage})`);
    t.ok(metrics.cpu?.usage?.total > 0, `metrics: CPU time (${metrics.cpu?.usage?.total})`);
    const table = c('task', 'metrics', id);
    t.match(table.stdout, /^memory\.usage_in_bytes\s+[1-9]\d*\s*$/m, 'the table: memory.usage_in_bytes');
    t.match(table.stdout, /^pids\.current\s+2\s*$/m, 'the table: pids.current');

    t.equal(c('task', 'kill', '--signal', 'KILL', id).status, 0);
    t.ok(await waitFor(() => taskLine()?.[2] === 'STOPPED'), 'stopped after kill');
    t.equal(c('task', 'delete', id).status, 0);
    t.equal(c('container', 'delete', id).status, 0);
    t.ok(calls('delete').length >= 1, `through tsrun delete: ${calls('delete').join('; ')}`);
    t.same(run([tsrunBin, '--root', shimRuntimeRoot, 'list', '-q']).stdout, '', 'no container left behind');
  });
}
