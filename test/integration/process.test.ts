// What the container process sees of itself and its isolation
// (config.md "Process", "Hostname", "Domainname"; config-linux.md
// "Namespaces", "Sysctl", "Personality", "Offset for Time Namespace").
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { env, requireRoot } from '../helpers/tsrun';

type Config = Record<string, any>;
const withoutNs = (type: string) => (c: Config) => {
  c.linux.namespaces = c.linux.namespaces.filter((n: { type: string }) => n.type !== type);
};

function statusField(text: string, name: string): string {
  return new RegExp(`^${name}:\\s*(.*)$`, 'm').exec(text)?.[1] ?? '';
}

if (requireRoot(t)) {
  t.test('isolation seen from inside', async (t) => {
    const e = env(t);
    const r = e.sh('echo pid=$$; hostname; cat /proc/net/dev | tail -n +3 | cut -d: -f1 | tr -d " "; echo --; cat /proc/self/mountinfo');
    t.equal(r.status, 0, r.stderr);
    const [head, mountinfo] = r.stdout.split('--\n');
    const lines = head.trim().split('\n');
    t.equal(lines[0], 'pid=1', 'the process is pid 1 of its own pid namespace');
    t.equal(lines[1], 'tsrun', 'own hostname (from the config)');
    t.same(lines.slice(2), ['lo'], 'own network namespace with only lo');
    const mounts = mountinfo.trim().split('\n').map((l) => l.split(' ')[4]);
    t.equal(mounts[0], '/', 'the first mount is the container root');
    for (const m of mounts) t.notMatch(m, /^\/(work|home|usr|var|run\/tsrun|tmp\/tsrun)/, `no host mount visible: ${m}`);
    const hostMounts = readFileSync('/proc/self/mountinfo', 'utf8').trim().split('\n').length;
    t.ok(mounts.length < hostMounts + 20, 'an own mount table');
    const lo = e.sh('cat /sys/class/net/lo/flags');
    t.equal(lo.status, 0, lo.stderr);
    t.match(lo.stdout, /^0x(9|49)\n$/, 'lo is up (IFF_UP|IFF_LOOPBACK)');
  });

  t.test('hostname and domainname', async (t) => {
    const e = env(t);
    const r = e.sh('hostname; cat /proc/sys/kernel/domainname', (c) => {
      c.hostname = 'box';
      c.domainname = 'example.test';
    });
    t.equal(r.stdout, 'box\nexample.test\n');
    const refused = e.sh('true', (c) => {
      withoutNs('uts')(c);
      c.hostname = 'box';
    });
    t.equal(refused.status, 1, 'a hostname without a uts namespace is refused');
    t.match(refused.stderr, /hostname: needs a uts namespace/);
  });

  t.test('args, env, cwd, HOME', async (t) => {
    const e = env(t);
    const r = e.sh('echo "$0|$1|$FOO|$HOME|$(pwd)"', (c) => {
      c.process.args = ['sh', '-c', 'echo "$0|$1|$FOO|$HOME|$(pwd)"', 'zero', 'one'];
      c.process.env = ['PATH=/bin', 'FOO=bar baz'];
      c.process.cwd = '/work/dir';
    });
    t.equal(r.stdout, 'zero|one|bar baz|/root|/work/dir\n', 'args as given, env, a created cwd, HOME from /etc/passwd');
    const own = e.sh('echo $HOME', (c) => (c.process.env = ['PATH=/bin', 'HOME=/custom']));
    t.equal(own.stdout, '/custom\n', 'HOME from the config wins');
    const abs = e.sh('', (c) => (c.process.args = ['/bin/echo', 'absolute']));
    t.equal(abs.stdout, 'absolute\n');
    const missing = e.sh('', (c) => (c.process.args = ['no-such-program']));
    t.equal(missing.status, 1, 'a missing program fails create');
    t.match(missing.stderr, /process\.args: exec: "no-such-program": executable file not found in \$PATH/);
  });

  t.test('user, groups, umask (config.md "User")', async (t) => {
    const e = env(t);
    const r = e.sh('id -u; id -g; id -G; umask; touch /tmp/f; stat -c %a /tmp/f; echo $HOME', (c) => {
      c.process.user = { uid: 1000, gid: 1000, additionalGids: [5, 27], umask: 0o077 };
      c.mounts.push({ destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['mode=1777'] });
    });
    t.equal(r.status, 0, r.stderr);
    t.same(r.stdout.trim().split('\n'), ['1000', '1000', '1000 5 27', '0077', '600', '/home/user']);
    const plain = e.sh('id -G', (c) => (c.process.user = { uid: 0, gid: 0 }));
    t.equal(plain.stdout, '0\n', 'no supplementary groups unless asked (none of the host)');
  });

  t.test('capabilities (config.md "Linux Process")', async (t) => {
    const e = env(t);
    const def = e.sh('cat /proc/self/status');
    t.equal(statusField(def.stdout, 'CapBnd'), '0000000020000420', 'bounding: AUDIT_WRITE, KILL, NET_BIND_SERVICE');
    t.equal(statusField(def.stdout, 'CapEff'), '0000000020000420');
    t.equal(statusField(def.stdout, 'CapPrm'), '0000000020000420');
    // CVE-2022-29162: nothing inheritable unless the config asks for it.
    t.equal(statusField(def.stdout, 'CapInh'), '0000000000000000', 'inheritable stays empty');
    t.equal(statusField(def.stdout, 'CapAmb'), '0000000000000000');
    const amb = e.sh('cat /proc/self/status', (c) => {
      c.process.user = { uid: 1000, gid: 1000 };
      c.process.capabilities = {
        bounding: ['CAP_NET_BIND_SERVICE', 'CAP_CHOWN'],
        effective: ['CAP_NET_BIND_SERVICE'],
        permitted: ['CAP_NET_BIND_SERVICE'],
        inheritable: ['CAP_NET_BIND_SERVICE'],
        ambient: ['CAP_NET_BIND_SERVICE'],
      };
    });
    t.equal(statusField(amb.stdout, 'CapAmb'), '0000000000000400', 'an ambient capability survives exec as a non-root user');
    t.equal(statusField(amb.stdout, 'CapEff'), '0000000000000400');
    t.equal(statusField(amb.stdout, 'CapBnd'), '0000000000000401');
    // `runc spec`'s capabilities: ambient without inheritable. Nothing the
    // user must act on, so nothing is printed (runc prints nothing either).
    const runcSpec = ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'];
    const plain = e.sh('grep CapAmb /proc/self/status', (c) => (c.process.capabilities = { bounding: runcSpec, effective: runcSpec, permitted: runcSpec, ambient: runcSpec }));
    t.equal(plain.status, 0, plain.stderr);
    t.equal(plain.stdout, 'CapAmb:\t0000000000000000\n', 'not inheritable, so not ambient');
    t.equal(plain.stderr, '', 'and no warning on the most common config');
    const unknown = e.sh('true', (c) => (c.process.capabilities.bounding = ['CAP_NOT_A_THING', 'CAP_KILL']));
    t.equal(unknown.status, 0, 'an unknown capability is not fatal');
    t.match(unknown.stderr, /process\.capabilities\.bounding\[0\]: unknown capability CAP_NOT_A_THING/, 'but logged as a warning');
  });

  t.test('noNewPrivileges, oomScoreAdj', async (t) => {
    const e = env(t);
    const on = e.sh('cat /proc/self/status; cat /proc/self/oom_score_adj', (c) => (c.process.oomScoreAdj = 500));
    t.equal(statusField(on.stdout, 'NoNewPrivs'), '1');
    t.match(on.stdout, /\n500\n$/, 'oom_score_adj as configured');
    const off = e.sh('cat /proc/self/status', (c) => (c.process.noNewPrivileges = false));
    t.equal(statusField(off.stdout, 'NoNewPrivs'), '0');
  });

  t.test('scheduler and ioPriority; LSM settings that cannot be applied', async (t) => {
    const e = env(t);
    const r = e.sh('cut -d" " -f19,41 /proc/self/stat; ionice -p $$', (c) => {
      c.process.scheduler = { policy: 'SCHED_BATCH', nice: 7 };
      c.process.ioPriority = { class: 'IOPRIO_CLASS_IDLE', priority: 4 };
    });
    t.equal(r.status, 0, r.stderr);
    t.equal(r.stdout, '7 3\nidle\n', 'nice 7, policy SCHED_BATCH (3), I/O class idle');
    const rr = e.sh('cut -d" " -f18,41 /proc/self/stat', (c) => (c.process.scheduler = { policy: 'SCHED_RR', priority: 5 }));
    if (existsSync('/sys/fs/cgroup/cpu/cpu.rt_runtime_us')) {
      // With RT group scheduling a new cpu cgroup has no real-time budget
      // (cpu.rt_runtime_us 0) until linux.resources.cpu.realtimeRuntime.
      t.equal(rr.status, 1, 'real-time without a budget in the cgroup fails create');
      t.match(rr.stderr, /process\.scheduler: sched_setattr: operation not permitted/);
    } else {
      t.equal(rr.stdout, '-6 2\n', 'real-time: SCHED_RR (2) at priority 5');
    }
    // This host has no AppArmor: tsrun-init's write of the profile, as runc's,
    // finds no AppArmor directory in /proc, then fails on the shared file,
    // and the create with it (config.md "Linux Process"; on an AppArmor host
    // the same write confines the program).
    const aa = e.sh('true', (c) => (c.process.apparmorProfile = 'tsrun-test'));
    t.equal(aa.status, 1, 'an AppArmor profile that cannot be applied fails create');
    t.match(aa.stderr, /process\.apparmorProfile: AppArmor is not enabled on this host/, 'the reason first');
    t.match(aa.stderr, /process\.apparmorProfile: write \/proc\/thread-self\/attr\/exec: invalid argument/, "tsrun-init's write, refused by the kernel");
    t.equal(e.tsrun(['list', '--quiet']).stdout, '', 'no container left behind');
  });

  // config-linux.md "Memory policy": the policy of the program, as
  // /proc/self/numa_maps shows it for each mapping without one of its own.
  t.test('memoryPolicy, seen in numa_maps', async (t) => {
    const e = env(t);
    // Each line: the mapping's address, then its policy (whose name may have a space).
    const policies = (memoryPolicy?: Config) => {
      const r = e.sh('cat /proc/self/numa_maps', (c) => (c.linux.memoryPolicy = memoryPolicy));
      t.equal(r.status, 0, r.stderr);
      return r.stdout.trim().split('\n').map((l) => l.replace(/^[0-9a-f]+ /, ''));
    };
    const everyLine = (memoryPolicy: Config | undefined, policy: string) => {
      const lines = policies(memoryPolicy);
      t.same(lines.filter((l) => l !== policy && !l.startsWith(`${policy} `)), [], `${JSON.stringify(memoryPolicy)}: every mapping "${policy}"`);
    };
    everyLine(undefined, 'default');
    everyLine({ mode: 'MPOL_DEFAULT' }, 'default');
    everyLine({ mode: 'MPOL_BIND', nodes: '0' }, 'bind:0');
    everyLine({ mode: 'MPOL_INTERLEAVE', nodes: '0' }, 'interleave:0');
    everyLine({ mode: 'MPOL_WEIGHTED_INTERLEAVE', nodes: '0' }, 'weighted interleave:0');
    everyLine({ mode: 'MPOL_PREFERRED', nodes: '0' }, 'prefer:0');
    everyLine({ mode: 'MPOL_PREFERRED_MANY', nodes: '0' }, 'prefer (many):0');
    everyLine({ mode: 'MPOL_LOCAL' }, 'local');
    everyLine({ mode: 'MPOL_BIND', nodes: '0', flags: ['MPOL_F_STATIC_NODES'] }, 'bind=static:0');
    everyLine({ mode: 'MPOL_BIND', nodes: '0', flags: ['MPOL_F_RELATIVE_NODES'] }, 'bind=relative:0');
    everyLine({ mode: 'MPOL_BIND', nodes: '0', flags: ['MPOL_F_NUMA_BALANCING'] }, 'bind=balancing:0');

    const bad = e.sh('true', (c) => (c.linux.memoryPolicy = { mode: 'MPOL_BIND', nodes: '1000' }));
    t.equal(bad.status, 1);
    t.match(bad.stderr, /linux\.memoryPolicy\.nodes: none of these nodes is online on this host \(online: [\d,]+\)/);
    // Refused by the kernel in tsrun-init (balancing goes with MPOL_BIND only).
    const kernel = e.sh('true', (c) => (c.linux.memoryPolicy = { mode: 'MPOL_INTERLEAVE', nodes: '0', flags: ['MPOL_F_NUMA_BALANCING'] }));
    t.equal(kernel.status, 1);
    t.match(kernel.stderr, /linux\.memoryPolicy: set_mempolicy: invalid argument/);
    t.equal(e.tsrun(['list', '--quiet']).stdout, '', 'no container left behind');
  });

  t.test('rlimits (config.md "POSIX process")', async (t) => {
    const e = env(t);
    const r = e.sh('ulimit -n; ulimit -Hn; ulimit -c; ulimit -Hc', (c) => {
      c.process.rlimits = [
        { type: 'RLIMIT_NOFILE', soft: 512, hard: 1024 },
        { type: 'RLIMIT_CORE', soft: 0, hard: 4096 },
      ];
    });
    t.same(r.stdout.trim().split('\n'), ['512', '1024', '0', '8'], 'soft and hard as configured (core in 512-byte blocks)');
    // RLIM_INFINITY as docker writes it (--ulimit x=-1), digit for digit:
    // JSON.stringify of that number would print 18446744073709552000.
    const inf = e.bundle((c) => {
      c.process.args = ['sh', '-c', 'ulimit -Hc; ulimit -c'];
      c.process.rlimits = [{ type: 'RLIMIT_CORE', soft: 4242424241, hard: 4242424242 }];
    });
    const config = join(inf, 'config.json');
    writeFileSync(config, readFileSync(config, 'utf8').replace(/424242424[12]/g, '18446744073709551615'));
    const unlimited = e.tsrun(['run', '--bundle', inf, 'rlimit-infinity']);
    t.equal(unlimited.status, 0, unlimited.stderr);
    t.same(unlimited.stdout.trim().split('\n'), ['unlimited', 'unlimited'], 'RLIM_INFINITY (18446744073709551615) is unlimited');
    writeFileSync(config, readFileSync(config, 'utf8').replace(/18446744073709551615/g, '18446744073709551616'));
    const over = e.tsrun(['run', '--bundle', inf, 'rlimit-over']);
    t.equal(over.status, 1);
    t.match(over.stderr, /process\.rlimits\[0\]\.soft: 18446744073709551616 does not fit in 64 bits/, 'one more than 2^64-1 is refused, naming the field');
    const dup = e.sh('true', (c) => (c.process.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 1, hard: 1 }, { type: 'RLIMIT_NOFILE', soft: 2, hard: 2 }]));
    t.equal(dup.status, 1, 'duplicated rlimit types are refused');
    t.match(dup.stderr, /process\.rlimits\[1\]\.type: duplicates process\.rlimits\[0\]/);
    const bad = e.sh('true', (c) => (c.process.rlimits = [{ type: 'RLIMIT_BOGUS', soft: 1, hard: 1 }]));
    t.equal(bad.status, 1);
    t.match(bad.stderr, /process\.rlimits\[0\]\.type/);
  });

  t.test('sysctl', async (t) => {
    const e = env(t);
    const hostShmmni = readFileSync('/proc/sys/kernel/shmmni', 'utf8').trim();
    t.not(hostShmmni, '1234', 'the host has another value than the one asked for');
    const r = e.sh('cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmni', (c) => {
      c.linux.readonlyPaths = [];
      c.linux.sysctl = { 'net.ipv4.ip_forward': '1', 'kernel.shmmni': '1234' };
    });
    t.equal(r.stdout, '1\n1234\n');
    t.equal(readFileSync('/proc/sys/kernel/shmmni', 'utf8').trim(), hostShmmni, 'the host keeps its value');
    const host = e.sh('true', (c) => (c.linux.sysctl = { 'kernel.panic': '1' }));
    t.equal(host.status, 1, 'a sysctl outside any namespace is refused');
    t.match(host.stderr, /linux\.sysctl\["kernel\.panic"\]: is not in a separate kernel namespace/);
    const nonet = e.sh('true', (c) => {
      withoutNs('network')(c);
      c.linux.sysctl = { 'net.ipv4.ip_forward': '1' };
    });
    t.equal(nonet.status, 1, 'a net sysctl without a network namespace is refused');
  });

  t.test('personality, time namespace, no-pivot', async (t) => {
    const e = env(t);
    t.equal(e.sh('uname -m', (c) => (c.linux.personality = { domain: 'LINUX32' })).stdout, 'i686\n');
    const uptime = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
    const r = e.sh('cut -d" " -f1 /proc/uptime', (c) => {
      c.linux.namespaces.push({ type: 'time' });
      c.linux.timeOffsets = { boottime: { secs: 86400 * 365, nanosecs: 0 } };
    });
    t.equal(r.status, 0, r.stderr);
    t.ok(Number(r.stdout) > uptime + 86400 * 364, 'boottime shifted by a year in the time namespace');
    const bundle = e.bundle((c) => (c.process.args = ['sh', '-c', 'ls /; cat /proc/self/mountinfo | head -1']));
    const np = e.tsrun(['run', '--no-pivot', '--bundle', bundle, 'nopivot']);
    t.equal(np.status, 0, np.stderr);
    t.match(np.stdout, /bin\n/, 'the rootfs is / with --no-pivot');
  });
}
