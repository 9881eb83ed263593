// Kubernetes' path to a runtime, end to end: containerd's CRI plugin (the
// kubelet's side of it is played by this test's own gRPC client) runs pods
// through the runc shim with two runtime handlers, `runc` and `tsrun`, and
// the same workflow runs against both: a pod whose containers share its
// namespaces, exec (sync and streamed, with a terminal and stdin), attach, exit
// codes, OOMKilled, stop with a grace period, resource updates, stats, logs,
// mount propagation and the pod's stop and removal. What the kubelet cannot
// see is read from the host: cgroup files, the device allowlist, the
// namespaces of the pause container. Every step that passes with runc must
// pass with tsrun. The daemon, its images and the teardown are in
// test/helpers/cri/.
import { existsSync, mkdirSync, readFileSync, readdirSync, readlinkSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import type { Test } from 'tap';
import { hostCgroupDir, hostCgroupFile, need, run } from '../helpers/clients';
import { criClient, type CriClient } from '../helpers/cri/client';
import { BUSYBOX_IMAGE } from '../helpers/cri/images';
import { CNI_BIN, HANDLERS, runtimeRoot, startCriContainerd, type CriContainerd, type Handler } from '../helpers/cri/daemon';
import { streamAttach, streamExec } from '../helpers/cri/stream';
import { requireRoot, skipOrFail } from '../helpers/tsrun';
import { sleepMs, waitFor } from '../helpers/wait';

const MiB = 1024 * 1024;

/** The cgroup directories below `rel` in every hierarchy mounted on this host. */
function cgroupsUnder(rel: string): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (!e.isDirectory()) continue;
      found.push(join(dir, e.name));
      walk(join(dir, e.name));
    }
  };
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const f = line.split(' ');
    const dir = join(f[4] ?? '', rel);
    if (/ - cgroup2? /.test(line) && existsSync(dir)) walk(dir);
  }
  return found;
}

/** The init pid of a container, from its runtime's own state (throws, failing the step, when there is none). */
function pidOf(d: CriContainerd, h: Handler, id: string): number {
  const rt = d.runtimes[h];
  const r = run([rt.path, '--root', runtimeRoot(rt), 'state', id]);
  const pid = r.status === 0 ? JSON.parse(r.stdout).pid : 0;
  if (!(pid > 0)) throw new Error(`no pid for ${id} from ${h} state: ${r.stderr}`);
  return pid;
}

const nsOf = (pid: number, ns: string) => readlinkSync(`/proc/${pid}/ns/${ns}`);

/** The pod and container configs the workflow uses, as the kubelet would write them. */
function podConfig(d: CriContainerd, h: Handler, name = `pod-${h}`) {
  const logs = join(d.dir, 'logs', name);
  mkdirSync(logs, { recursive: true });
  return {
    metadata: { name, uid: `uid-${name}-${process.pid}`, namespace: 'default', attempt: 0 },
    hostname: `pod-${h}`,
    log_directory: logs,
    dns_config: { servers: ['10.96.0.10'], searches: ['default.svc.cluster.local'], options: ['ndots:5'] },
    labels: { app: 'cri-test' },
    linux: {
      cgroup_parent: `/${d.cgroupParent}/${h}`,
      // An ipc-namespaced sysctl, set in the pause container's namespace.
      sysctls: { 'kernel.shm_rmid_forced': '1' },
      security_context: { namespace_options: { network: 'POD', pid: 'CONTAINER', ipc: 'POD' }, privileged: false },
    },
  };
}

type Pod = ReturnType<typeof podConfig>;

function containerConfig(name: string, command: string[], extra: Record<string, unknown> = {}, linux: Record<string, unknown> = {}) {
  return {
    metadata: { name, attempt: 0 },
    image: { image: BUSYBOX_IMAGE },
    command,
    log_path: `${name}.log`,
    envs: [{ key: 'GREETING', value: 'hello' }],
    ...extra,
    linux: { security_context: { namespace_options: { network: 'POD', pid: 'CONTAINER', ipc: 'POD' } }, ...linux },
  };
}

async function waitExited(c: CriClient, id: string, ms: number) {
  const end = Date.now() + ms;
  for (;;) {
    const { status } = await c.containerStatus({ container_id: id });
    if (status.state === 'CONTAINER_EXITED' || Date.now() > end) return status;
    sleepMs(100);
  }
}

/** The CRI workflow against one handler; returns, per step, whether every check in it passed. */
async function workflow(t: Test, d: CriContainerd, c: CriClient, h: Handler): Promise<Map<string, boolean>> {
  const steps = new Map<string, boolean>();
  const step = async (name: string, body: (t: Test) => Promise<void>) => {
    let ok = false;
    await t.test(name, async (st) => {
      try {
        await body(st);
      } catch (e) {
        st.fail(`${name}: ${(e as Error).message}`);
      }
      ok = st.passing();
    });
    steps.set(name, ok);
    return ok;
  };
  const pod = podConfig(d, h);
  let podId = '';
  const create = async (config: ReturnType<typeof containerConfig>) => {
    const { container_id } = await c.createContainer({ pod_sandbox_id: podId, config, sandbox_config: pod });
    await c.startContainer({ container_id });
    return container_id as string;
  };
  t.teardown(async () => {
    // A failed step leaves its pod: stop and remove it as the kubelet would.
    if (!podId) return;
    await c.stopPodSandbox({ pod_sandbox_id: podId }).catch(() => undefined);
    await c.removePodSandbox({ pod_sandbox_id: podId }).catch(() => undefined);
  });

  const started = await step('RunPodSandbox: the pause container, with the pod network, hostname, DNS and sysctls', async (t) => {
    podId = (await c.runPodSandbox({ config: pod, runtime_handler: h })).pod_sandbox_id;
    const { status } = await c.podSandboxStatus({ pod_sandbox_id: podId });
    t.equal(status.state, 'SANDBOX_READY');
    t.ok(status.network?.ip?.startsWith(d.subnetPrefix), `an address from the CNI bridge's subnet: ${status.network?.ip}`);
    t.ok(pidOf(d, h, podId) > 0, 'the pause container runs under the handler');
  });
  if (!started) return steps;

  let app = '';
  await step('CreateContainer/StartContainer: a container that shares the pod namespaces, with limits and a device', async (t) => {
    app = await create(containerConfig('app', ['sh', '-c', 'echo started; while :; do echo tick; sleep 1; done'], {
      devices: [{ container_path: '/dev/tsrun-null', host_path: '/dev/null', permissions: 'rwm' }],
    }, {
      resources: { cpu_period: 100000, cpu_quota: 50000, cpu_shares: 512, memory_limit_in_bytes: 64 * MiB },
    }));
    const { status } = await c.containerStatus({ container_id: app });
    t.equal(status.state, 'CONTAINER_RUNNING');
    const pause = pidOf(d, h, podId);
    const pid = pidOf(d, h, app);
    for (const ns of ['net', 'ipc', 'uts']) t.equal(nsOf(pid, ns), nsOf(pause, ns), `the ${ns} namespace is the pause container's`);
    t.not(nsOf(pid, 'pid'), nsOf(pause, 'pid'), 'its own pid namespace (namespace_options.pid CONTAINER)');
    t.not(nsOf(pid, 'mnt'), nsOf(pause, 'mnt'), 'its own mount namespace');
    // The resources from the pod spec, read back from the v1 cgroup files.
    t.equal(hostCgroupFile(pid, 'cpu', 'cpu.cfs_quota_us'), '50000', 'cpu quota');
    t.equal(hostCgroupFile(pid, 'cpu', 'cpu.cfs_period_us'), '100000', 'cpu period');
    t.equal(hostCgroupFile(pid, 'cpu', 'cpu.shares'), '512', 'cpu shares');
    t.equal(hostCgroupFile(pid, 'memory', 'memory.limit_in_bytes'), String(64 * MiB), 'memory limit');
    t.match(hostCgroupDir(pid, 'memory') ?? '', new RegExp(`/${d.cgroupParent}/${h}/${app}$`), 'under the pod cgroup_parent');
    // The allowlist: the default devices and the one asked for, nothing more.
    const devices = hostCgroupFile(pid, 'devices', 'devices.list').split('\n');
    t.notOk(devices.includes('a *:* rwm'), 'the device cgroup is an allowlist, not allow-all');
    t.ok(devices.includes('c 1:3 rwm'), '/dev/null (the device asked for) is allowed');
    t.notOk(devices.some((l) => /^b 7:0 /.test(l)), 'a block device not asked for is not');
    // mknod is allowed for every device (the "m" rules), opening only the listed ones.
    const script = 'stat -c "%t:%T" /dev/tsrun-null; echo x > /dev/tsrun-null && echo written; mknod /dev/blk b 7 0 && echo made; head -c1 /dev/blk 2>&1';
    const dev = (await c.execSync({ container_id: app, cmd: ['sh', '-c', script], timeout: 10 })).stdout.toString();
    t.match(dev, /^1:3\nwritten\n/, 'the device node asked for is made and usable');
    t.match(dev, /\nmade\nhead: \/dev\/blk: Operation not permitted\n$/, 'a block device outside the allowlist cannot be opened (EPERM from the device cgroup)');
    const env = await c.execSync({ container_id: app, cmd: ['sh', '-c', 'echo $GREETING $(hostname)'], timeout: 10 });
    t.equal(env.stdout.toString(), `hello pod-${h}\n`, "the config's env and the pod's hostname");
    const sysctl = await c.execSync({ container_id: app, cmd: ['cat', '/proc/sys/kernel/shm_rmid_forced', '/etc/resolv.conf'], timeout: 10 });
    t.match(sysctl.stdout.toString(), /^1\n[^]*nameserver 10\.96\.0\.10/, "the pod's sysctl and DNS");
  });

  let second = '';
  await step('a second container in the pod, in the first one\'s pid namespace, with a security context: user, groups, read-only rootfs, no_new_privs, capabilities, seccomp, masked and read-only paths', async (t) => {
    second = await create(containerConfig('second', ['sleep', '3600'], {}, {
      security_context: {
        // pid TARGET: the first container's pid namespace, as a debug container's.
        namespace_options: { network: 'POD', pid: 'TARGET', ipc: 'POD', target_id: app },
        run_as_user: { value: 1000 },
        run_as_group: { value: 1000 },
        supplemental_groups: [2000],
        readonly_rootfs: true,
        no_new_privs: true,
        capabilities: { drop_capabilities: ['ALL'], add_capabilities: ['NET_BIND_SERVICE'] },
        seccomp: { profile_type: 'RuntimeDefault' },
        masked_paths: ['/proc/keys'],
        readonly_paths: ['/proc/sys'],
      },
    }));
    t.equal(nsOf(pidOf(d, h, second), 'net'), nsOf(pidOf(d, h, app), 'net'), 'the same network namespace as the first container');
    t.equal(nsOf(pidOf(d, h, second), 'pid'), nsOf(pidOf(d, h, app), 'pid'), "the first container's pid namespace (TARGET)");
    const script = 'id -u; id -g; id -G; grep -E "^(CapBnd|NoNewPrivs|Seccomp):" /proc/self/status; touch /x 2>&1; stat -c "keys %t:%T" /proc/keys 2>&1; grep " /proc/sys " /proc/self/mountinfo';
    const out = (await c.execSync({ container_id: second, cmd: ['sh', '-c', script], timeout: 10 })).stdout.toString();
    t.match(out, /^1000\n1000\n1000 2000\n/, 'uid, gid and supplemental groups');
    t.match(out, /CapBnd:\s+0000000000000400\n/, 'only CAP_NET_BIND_SERVICE is left in the bounding set');
    t.match(out, /NoNewPrivs:\s+1\n/, 'no_new_privs');
    t.match(out, /Seccomp:\s+2\n/, 'a seccomp filter (RuntimeDefault)');
    t.match(out, /Read-only file system/, 'the root filesystem is read-only');
    t.match(out, /\nkeys 1:3\n/, 'a masked path is the null device');
    t.match(out, / \/proc\/sys ro,/, 'a read-only path is mounted read-only');
  });

  await step('ExecSync: stdout, stderr and the exit code', async (t) => {
    const r = await c.execSync({ container_id: app, cmd: ['sh', '-c', 'echo out; echo err >&2; exit 3'], timeout: 10 });
    t.equal(r.stdout.toString(), 'out\n');
    t.equal(r.stderr.toString(), 'err\n');
    t.equal(r.exit_code, 3);
  });

  await step('Exec streaming: stdin without a terminal, and a terminal', async (t) => {
    // The v4 websocket protocol cannot close stdin alone: the command reads
    // what it is given and ends by itself.
    const { url } = await c.exec({ container_id: app, cmd: ['sh', '-c', 'head -c 14; exit 4'], stdin: true, stdout: true, stderr: true, tty: false });
    const piped = await streamExec(url, { stdin: 'through stdin\n' });
    t.equal(piped.stdout, 'through stdin\n', 'stdin reaches the process and its stdout comes back');
    t.equal(piped.exitCode, 4);
    // Typed at the terminal, echoed by it, then ^D ends cat's input.
    const tty = await c.exec({ container_id: app, cmd: ['sh', '-c', 'tty; cat; exit 5'], stdin: true, stdout: true, stderr: false, tty: true });
    const term = await streamExec(tty.url, { tty: true, stdin: 'typed\n\x04' });
    // The echo of the input may come before tty's line: compared as a set.
    t.same(term.stdout.split('\r\n').sort(), ['', 'typed', 'typed', term.stdout.match(/\/dev\/pts\/\d+/)?.[0]].sort(), 'a terminal (CRLF from its line discipline) that echoes, and cat got the input');
    t.match(term.stdout, /\/dev\/pts\/\d+\r\n/, 'tty names a pseudo-terminal');
    t.equal(term.exitCode, 5);
  });

  await step('Attach: to the stdin and stdout of a container started with stdin', async (t) => {
    const id = await create(containerConfig('attached', ['sh', '-c', 'read line; echo got $line; echo to-err >&2; exit 6'], { stdin: true, stdin_once: true }));
    const { url } = await c.attach({ container_id: id, stdin: true, stdout: true, stderr: true, tty: false });
    const r = await streamAttach(url, { stdin: 'hi\n' });
    t.equal(r.stdout, 'got hi\n', "the line sent reaches the container's own stdin");
    t.equal(r.stderr, 'to-err\n');
    const status = await waitExited(c, id, 10_000);
    t.equal(status.exit_code, 6, 'its exit code');
    await c.removeContainer({ container_id: id });
  });

  await step('ContainerStats, ListContainerStats and PodSandboxStats', async (t) => {
    const { stats } = await c.containerStats({ container_id: app });
    t.ok(Number(stats.memory?.working_set_bytes?.value) > 0, 'memory working set');
    t.ok(Number(stats.cpu?.usage_core_nano_seconds?.value) > 0, 'cpu usage');
    const list = await c.listContainerStats({ filter: { pod_sandbox_id: podId } });
    t.same(list.stats.map((s: { attributes: { id: string } }) => s.attributes.id).sort(), [app, second].sort(), 'both containers');
    const pod = await c.podSandboxStats({ pod_sandbox_id: podId });
    t.equal(pod.stats.attributes.id, podId);
    t.ok(Number(pod.stats.linux?.memory?.working_set_bytes?.value) > 0, 'pod memory');
    t.ok(Number(pod.stats.linux?.process?.process_count?.value) >= 1, 'pod process count (from the runtime)');
    t.same(pod.stats.linux.containers.map((s: { attributes: { id: string } }) => s.attributes.id).sort(), [app, second].sort(), "the pod's containers");
  });

  await step('UpdateContainerResources: CPU and memory, in the cgroup', async (t) => {
    await c.updateContainerResources({ container_id: app, linux: { cpu_period: 100000, cpu_quota: 20000, cpu_shares: 256, memory_limit_in_bytes: 96 * MiB } });
    const pid = pidOf(d, h, app);
    t.equal(hostCgroupFile(pid, 'cpu', 'cpu.cfs_quota_us'), '20000', 'cpu quota');
    t.equal(hostCgroupFile(pid, 'cpu', 'cpu.shares'), '256', 'cpu shares');
    t.equal(hostCgroupFile(pid, 'memory', 'memory.limit_in_bytes'), String(96 * MiB), 'memory limit');
    const { status } = await c.containerStatus({ container_id: app });
    t.equal(Number(status.resources?.linux?.memory_limit_in_bytes), 96 * MiB, 'the status reports the new limit');
  });

  await step('logs: the CRI log file, and ReopenContainerLog', async (t) => {
    const log = join(pod.log_directory, 'app.log');
    t.match(readFileSync(log, 'utf8'), /^\S+ stdout F started\n/, "the container's output, in the CRI log format");
    renameSync(log, `${log}.1`);
    await c.reopenContainerLog({ container_id: app });
    t.ok(waitFor(() => existsSync(log) && /stdout F tick\n/.test(readFileSync(log, 'utf8')), 5000), 'a new log file gets the output after the reopen');
  });

  await step('a container that exits by itself: its exit code; a Localhost seccomp profile', async (t) => {
    // The profile refuses mkdir: the exit status says the filter is in place.
    const profile = join(d.dir, `seccomp-${h}.json`);
    writeFileSync(profile, JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO' }] }));
    const id = await create(containerConfig('exiter', ['sh', '-c', 'mkdir /tmp/refused || exit 7'], {}, {
      security_context: { namespace_options: { network: 'POD', pid: 'CONTAINER', ipc: 'POD' }, seccomp: { profile_type: 'Localhost', localhost_ref: profile } },
    }));
    const status = await waitExited(c, id, 10_000);
    t.equal(status.state, 'CONTAINER_EXITED');
    t.equal(status.exit_code, 7);
    t.equal(status.reason, 'Error');
    await c.removeContainer({ container_id: id });
  });

  await step('OOMKilled: a container over its memory limit', async (t) => {
    // dd allocates its 64 MiB block and fills it: over the 16 MiB limit.
    // A second first: containerd 1.6's shim starts watching for OOM only
    // once the runtime's start has returned, so an OOM at once can be
    // missed (reason Error) whichever the runtime; a pod's OOM comes later.
    const id = await create(containerConfig('oom', ['sh', '-c', 'sleep 1; exec dd if=/dev/zero of=/dev/null bs=64M count=1'], {}, {
      resources: { memory_limit_in_bytes: 16 * MiB },
    }));
    const status = await waitExited(c, id, 15_000);
    t.equal(status.state, 'CONTAINER_EXITED');
    t.equal(status.reason, 'OOMKilled');
    t.equal(status.exit_code, 137);
    await c.removeContainer({ container_id: id });
  });

  await step('StopContainer: SIGTERM, then SIGKILL when the grace period ends', async (t) => {
    // Exits on SIGTERM: stopped at once, with its own status.
    const polite = await create(containerConfig('polite', ['sh', '-c', 'trap "exit 0" TERM; while :; do sleep 0.1; done']));
    let start = Date.now();
    await c.stopContainer({ container_id: polite, timeout: 10 });
    let status = (await c.containerStatus({ container_id: polite })).status;
    t.equal(status.exit_code, 0, 'exited on SIGTERM with its own status');
    t.ok(Date.now() - start < 5000, `within the grace period (${Date.now() - start} ms)`);
    // pid 1 without a handler ignores SIGTERM: killed after the 2 s grace.
    const stubborn = await create(containerConfig('stubborn', ['sleep', '3600']));
    start = Date.now();
    await c.stopContainer({ container_id: stubborn, timeout: 2 });
    const took = Date.now() - start;
    status = (await c.containerStatus({ container_id: stubborn })).status;
    t.equal(status.state, 'CONTAINER_EXITED');
    t.equal(status.exit_code, 137, 'SIGKILL');
    t.ok(took >= 2000 && took < 10_000, `after the grace period, not much later (${took} ms)`);
    for (const id of [polite, stubborn]) await c.removeContainer({ container_id: id });
  });

  await step('a privileged pod: mount propagation private, host-to-container and bidirectional', async (t) => {
    const shared = join(d.dir, 'propagation', h);
    mkdirSync(shared, { recursive: true });
    // Bidirectional needs a shared mount on the host side, as kubelet's pod volumes are.
    t.equal(run(['mount', '--bind', shared, shared]).status, 0);
    t.equal(run(['mount', '--make-shared', shared]).status, 0);
    t.teardown(() => run(['umount', '-R', shared]));
    // Only a privileged pod may hold a privileged container.
    const privileged = podConfig(d, h, `privileged-${h}`);
    privileged.linux.security_context.privileged = true;
    const pod = (await c.runPodSandbox({ config: privileged, runtime_handler: h })).pod_sandbox_id;
    try {
      const { container_id: id } = await c.createContainer({
        pod_sandbox_id: pod,
        sandbox_config: privileged,
        config: containerConfig('propagation', ['sleep', '3600'], {
          mounts: [
            { container_path: '/private', host_path: shared, propagation: 'PROPAGATION_PRIVATE' },
            { container_path: '/slave', host_path: shared, propagation: 'PROPAGATION_HOST_TO_CONTAINER' },
            { container_path: '/shared', host_path: shared, propagation: 'PROPAGATION_BIDIRECTIONAL' },
          ],
        }, { security_context: { privileged: true, namespace_options: { network: 'POD', pid: 'CONTAINER', ipc: 'POD' } } }),
      });
      await c.startContainer({ container_id: id });
      mkdirSync(join(shared, 'from-host'));
      t.equal(run(['mount', '-t', 'tmpfs', 'from-host', join(shared, 'from-host')]).status, 0, 'a mount made on the host');
      const seen = await c.execSync({ container_id: id, cmd: ['sh', '-c', 'for m in private slave shared; do grep -q " /$m/from-host " /proc/self/mountinfo && echo $m; done; grep ^CapEff: /proc/self/status; mkdir -p /shared/from-pod && mount -t tmpfs from-pod /shared/from-pod && echo mounted'], timeout: 10 });
      // Every capability this host gives: its own (it lacks CAP_SYS_RESOURCE).
      const all = /^CapEff:\t(\w+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
      t.equal(seen.stdout.toString(), `slave\nshared\nCapEff:\t${all}\nmounted\n`, 'the host mount reaches host-to-container and bidirectional, not private; every capability; a mount inside');
      t.ok(readFileSync('/proc/self/mountinfo', 'utf8').includes(` ${join(shared, 'from-pod')} `), "the container's mount reaches the host through the bidirectional one");
    } finally {
      await c.stopPodSandbox({ pod_sandbox_id: pod });
      await c.removePodSandbox({ pod_sandbox_id: pod });
    }
  });

  await step('StopPodSandbox and RemovePodSandbox: within seconds, nothing left behind', async (t) => {
    const pids = [podId, app, second].map((id) => pidOf(d, h, id));
    const start = Date.now();
    await c.stopPodSandbox({ pod_sandbox_id: podId });
    const stopped = Date.now() - start;
    t.ok(stopped < 15_000, `stopped in ${stopped} ms, not a timeout`);
    for (const id of [app, second]) t.equal((await c.containerStatus({ container_id: id })).status.state, 'CONTAINER_EXITED', 'its containers exited');
    for (const id of [app, second]) await c.removeContainer({ container_id: id });
    await c.removePodSandbox({ pod_sandbox_id: podId });
    const removed = Date.now() - start;
    t.ok(removed < 20_000, `removed in ${removed} ms`);
    const gone = podId;
    podId = '';
    t.same((await c.listContainers({ filter: { pod_sandbox_id: gone } })).containers, [], 'no container of the pod is listed');
    const rt = d.runtimes[h];
    const listed = run([rt.path, '--root', runtimeRoot(rt), 'list', '-q']);
    t.same([listed.status, listed.stdout], [0, ''], "nothing in the runtime's state");
    t.ok(pids.every((p) => p > 0 && !existsSync(`/proc/${p}`)), 'no process of the pod is left');
    t.same(cgroupsUnder(join(d.cgroupParent, h)), [], 'no cgroup of the pod is left, in any hierarchy');
    const mountinfo = readFileSync('/proc/self/mountinfo', 'utf8');
    t.same([gone, app, second].filter((id) => mountinfo.includes(id)), [], 'no mount of the pod or its containers is left');
  });
  return steps;
}

if (requireRoot(t)) {
  t.test('the CRI (containerd 1.6) runs pods with tsrun as it does with runc', async (t) => {
    if (!need(t, ['containerd', 'ctr', 'containerd-shim-runc-v2', 'runc', 'gcc', 'ip'], 'containerd runc gcc libc6-dev iproute2')) return;
    const cni = ['bridge', 'host-local', 'loopback'].filter((p) => !existsSync(join(CNI_BIN, p)));
    if (cni.length) {
      skipOrFail(t, 'the CRI test', `needs the CNI plugins ${cni.join(', ')} in ${CNI_BIN} (apt-get install containernetworking-plugins)`);
      return;
    }
    const d = await startCriContainerd(t);
    const c = criClient(d.sock);
    t.teardown(() => c.close());
    t.match((await c.version({})).runtime_name, 'containerd');
    const results = new Map<Handler, Map<string, boolean>>();
    for (const h of HANDLERS) {
      await t.test(`handler ${h}`, async (t) => {
        results.set(h, await workflow(t, d, c, h));
      });
    }
    const ranc = results.get('runc') ?? new Map<string, boolean>();
    const ours = results.get('tsrun') ?? new Map<string, boolean>();
    const worse = [...ranc].filter(([step, ok]) => ok && !ours.get(step)).map(([step]) => step);
    t.same(worse, [], 'every step that passes with runc passes with tsrun');
    t.equal(ours.size, ranc.size, 'tsrun went through every step runc did');
    const calls = d.runtimes.tsrun.calls();
    for (const cmd of ['create', 'start', 'exec', 'update', 'kill', 'delete']) t.ok(calls.some((l) => new RegExp(`(^| )${cmd} `).test(l)), `the shim called tsrun ${cmd}`);
  });
}
