// tsrun exec on real containers, as runc's: the process joins every
// namespace, the root and the cgroups of the container's init, gets the
// container's process settings (or process.json's, or the flags'), and
// tsrun exits with its status, or returns at once with -d. The security
// classes runc suffered for exec (CVE-2016-9962, CVE-2019-5736,
// CVE-2024-21626, leaked fds) are each attacked here.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, readlinkSync, rmSync, rmdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { consoleSocket, readAll } from '../helpers/console';
import { type Env, env, requireRoot, scratch, tsrunCmd, uniqueId } from '../helpers/tsrun';
import { sleepMs, waitFor } from '../helpers/wait';

type Config = Record<string, any>;

const namespaces = ['pid', 'net', 'mnt', 'ipc', 'uts', 'cgroup'];

/** A running container (sleep as pid 1); returns its id and init pid. */
function running(t: Test, e: Env, mutate?: (c: Config) => void, flags: string[] = []): { id: string; pid: number; bundle: string } {
  const bundle = e.bundle((c) => {
    c.process.args = ['sleep', '1000'];
    c.hostname = 'exec-box';
    mutate?.(c);
  });
  const id = uniqueId('exec');
  const r = e.tsrun(['run', '-d', ...flags, '--bundle', bundle, id]);
  t.equal(r.status, 0, `container runs: ${r.stderr}`);
  return { id, pid: JSON.parse(e.tsrun(['state', id]).stdout).pid, bundle };
}

function statusField(status: string, name: string): string {
  return new RegExp(`^${name}:\\s*(.*)$`, 'm').exec(status)?.[1] ?? '';
}

/** Host pids of the processes in exactly the cgroups of pid. */
function processesIn(cgroupOf: number): number[] {
  const want = readFileSync(`/proc/${cgroupOf}/cgroup`, 'utf8');
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .map(Number)
    .filter((p) => {
      try {
        return readFileSync(`/proc/${p}/cgroup`, 'utf8') === want;
      } catch {
        return false;
      }
    });
}

if (requireRoot(t)) {
  t.test('the process joins the container: pid 1, hostname, namespaces, root, cgroups', async (t) => {
    const e = env(t);
    const { id, pid } = running(t, e);
    writeFileSync(join(e.root, '..', 'marker-host'), 'host');
    const r = e.tsrun(['exec', id, 'sh', '-c', `cat /proc/1/cmdline; echo; hostname; for n in ${namespaces.join(' ')}; do readlink /proc/self/ns/$n; done; ls /; echo ---; cat /proc/self/cgroup`]);
    t.equal(r.status, 0, r.stderr);
    const lines = r.stdout.split('\n');
    t.equal(lines[0], 'sleep\u00001000\u0000', "pid 1 is the container's init");
    t.equal(lines[1], 'exec-box', "the container's hostname (uts namespace)");
    namespaces.forEach((n, i) => t.equal(lines[2 + i], readlinkSync(`/proc/${pid}/ns/${n}`), `the init's ${n} namespace`));
    t.match(r.stdout, /^bin$/m, "the container's root");
    t.notMatch(r.stdout, /marker-host/, 'not the host root');
    t.equal(r.stdout.split('---\n')[1], readFileSync(`/proc/${pid}/cgroup`, 'utf8'), "in every cgroup of the init (seen from its cgroup namespace)");

    // From the host: a detached one, in exactly the init's cgroups.
    const pidFile = join(e.root, '..', 'exec.pid');
    const d = e.tsrun(['exec', '-d', '--pid-file', pidFile, id, 'sleep', '1000']);
    t.equal(d.status, 0, d.stderr);
    const execPid = Number(readFileSync(pidFile, 'utf8'));
    t.ok(execPid > 0 && execPid !== pid, `--pid-file holds the new process (${execPid})`);
    t.equal(readFileSync(`/proc/${execPid}/cmdline`, 'utf8'), 'sleep\u00001000\u0000', 'the program runs when exec -d returns');
    t.equal(readFileSync(`/proc/${execPid}/cgroup`, 'utf8'), readFileSync(`/proc/${pid}/cgroup`, 'utf8'), "every cgroup is the init's");
    t.match(readFileSync(`/proc/${execPid}/status`, 'utf8'), /^NSpid:\s+\d+\s+\d+$/m, "it has a pid in the container's pid namespace");
    t.ok(processesIn(pid).includes(execPid), 'kill --all and delete --force find it');
    t.equal(e.tsrun(['delete', '--force', id]).status, 0);
    t.ok(waitFor(() => !existsSync(`/proc/${execPid}`) || /^State:\s+Z/m.test(readFileSync(`/proc/${execPid}/status`, 'utf8'))), 'delete --force ended the exec process');
  });

  t.test('exit status: the process\'s, 128+n when killed by signal n; a missing program is an error', async (t) => {
    const e = env(t);
    const { id } = running(t, e);
    t.equal(e.tsrun(['exec', id, 'sh', '-c', 'exit 3']).status, 3);
    t.equal(e.tsrun(['exec', id, 'true']).status, 0);
    t.equal(e.tsrun(['exec', id, 'sh', '-c', 'kill -9 $$']).status, 137);
    t.equal(e.tsrun(['exec', id, 'sh', '-c', 'kill -15 $$']).status, 143);
    const missing = e.tsrun(['exec', id, '/nonexistent']);
    // runc's convention: a failed exec is status 255 and "exec failed: ...",
    // never a status the process itself could have given.
    t.equal(missing.status, 255);
    t.match(missing.stderr, /^tsrun: exec failed: process\.args: exec: "\/nonexistent": .*no such file or directory/);
    const notFound = e.tsrun(['exec', id, 'no-such-program']);
    t.equal(notFound.status, 255);
    t.match(notFound.stderr, /executable file not found in \$PATH/);
    const nothing = e.tsrun(['exec', id]);
    t.equal(nothing.status, 255);
    t.match(nothing.stderr, /exec needs a command, or --process/);
    t.equal(e.tsrun(['exec', 'no-such-container', 'true']).status, 255);
    // Arguments after the id are the command's, even when they look like exec's flags.
    const flagsLike = e.tsrun(['exec', id, 'sh', '-c', 'echo "$0" "$1"', '-t', '-e']);
    t.equal(flagsLike.stdout, '-t -e\n', 'sh -c ... -t -e: the -c, -t and -e are sh\'s');
  });

  t.test('flags: -u, -g, --cwd, -e, --cap, --no-new-privs, from /proc/self/status', async (t) => {
    const e = env(t);
    const { id } = running(t, e, (c) => c.process.env.push('KEEP=1', 'FOO=config'));
    const r = e.tsrun(['exec', '-u', '1000:1000', '-g', '5', '-g', '6', '--cwd', '/tmp', '-e', 'FOO=bar', '-e', 'NEW=x', '--cap', 'CAP_SYS_ADMIN', '--no-new-privs', id, 'sh', '-c', 'cat /proc/self/status; pwd; env']);
    t.equal(r.status, 0, r.stderr);
    t.match(statusField(r.stdout, 'Uid'), /^1000\s+1000\s+1000\s+1000$/, 'uid from -u');
    t.match(statusField(r.stdout, 'Gid'), /^1000\s+1000\s+1000\s+1000$/, 'gid from -u');
    t.equal(statusField(r.stdout, 'Groups').trim(), '5 6', 'additional groups from -g');
    t.equal(statusField(r.stdout, 'NoNewPrivs'), '1');
    // CAP_SYS_ADMIN is 21: the config's default set (AUDIT_WRITE, KILL,
    // NET_BIND_SERVICE) plus it in the bounding set; never inheritable
    // (CVE-2022-29162), so neither ambient: a non-root user keeps nothing
    // across execve.
    t.equal(statusField(r.stdout, 'CapBnd'), '0000000020200420');
    t.equal(statusField(r.stdout, 'CapInh'), '0000000000000000', '--cap is not inheritable (CVE-2022-29162)');
    t.equal(statusField(r.stdout, 'CapAmb'), '0000000000000000');
    t.equal(statusField(r.stdout, 'CapEff'), '0000000000000000');
    const rootCap = e.tsrun(['exec', '--cap', 'CAP_SYS_ADMIN', id, 'cat', '/proc/self/status']);
    t.equal(statusField(rootCap.stdout, 'CapEff'), '0000000020200420', 'root gets --cap in its effective set');
    t.equal(statusField(rootCap.stdout, 'CapInh'), '0000000000000000');
    t.match(r.stdout, /^\/tmp$/m, 'cwd from --cwd');
    t.match(r.stdout, /^FOO=bar$/m, '-e replaces a config variable');
    t.notMatch(r.stdout, /^FOO=config$/m, 'only once');
    t.match(r.stdout, /^KEEP=1$/m, 'the config environment stays');
    t.match(r.stdout, /^NEW=x$/m);
    t.match(r.stdout, /^HOME=\/home\/user$/m, "HOME from the container's /etc/passwd");

    const plain = e.tsrun(['exec', id, 'cat', '/proc/self/status']);
    t.equal(statusField(plain.stdout, 'Uid').split(/\s+/)[0], '0', "without flags, the config's user");
    t.equal(statusField(plain.stdout, 'CapEff'), '0000000020000420', "the config's capabilities");

    const bad = [
      [['-u', 'nobody'], /--user: "nobody" is not a numeric id/],
      [['-g', 'x'], /--additional-gids: "x" is not a numeric id/],
      [['--cap', 'CAP_NOPE'], /--cap: unknown capability "CAP_NOPE"/],
      [['--cwd', 'relative'], /process\.cwd: must match pattern/],
      [['--apparmor', 'p'], /exec failed: process\.apparmorProfile: write \/proc\/thread-self\/attr\/exec: invalid argument/],
      [['--process-label', 'l'], /process\.selinuxLabel: SELinux is not enabled on this host/],
    ] as const;
    for (const [flags, message] of bad) {
      const r = e.tsrun(['exec', ...flags, id, 'true']);
      t.equal(r.status, 255, `${flags.join(' ')} refused`);
      t.match(r.stderr, message);
    }
  });

  t.test('--process: a process.json with its own user, cwd, env and capabilities, validated', async (t) => {
    const e = env(t);
    const { id } = running(t, e);
    const dir = scratch(t);
    const file = join(dir, 'process.json');
    writeFileSync(
      file,
      JSON.stringify({
        args: ['sh', '-c', 'cat /proc/self/status; pwd; env'],
        cwd: '/etc',
        env: ['ONLY=this', 'PATH=/bin'],
        user: { uid: 1000, gid: 1000, additionalGids: [7], umask: 63 },
        capabilities: { bounding: ['CAP_CHOWN', 'CAP_KILL'], effective: ['CAP_CHOWN'], permitted: ['CAP_CHOWN', 'CAP_KILL'] },
        noNewPrivileges: true,
      }),
    );
    const r = e.tsrun(['exec', '--process', file, id]);
    t.equal(r.status, 0, r.stderr);
    t.match(statusField(r.stdout, 'Uid'), /^1000\s/);
    t.equal(statusField(r.stdout, 'Groups').trim(), '7');
    t.equal(statusField(r.stdout, 'Umask'), '0077', 'umask 63 (0o77)');
    t.equal(statusField(r.stdout, 'CapBnd'), '0000000000000021', 'CHOWN and KILL only');
    t.equal(statusField(r.stdout, 'CapPrm'), '0000000000000000', 'a non-root user without ambient keeps none');
    t.match(r.stdout, /^\/etc$/m);
    t.match(r.stdout, /^ONLY=this$/m);
    t.notMatch(r.stdout, /^TERM=/m, "not the config's environment");

    writeFileSync(file, JSON.stringify({ args: ['true'], cwd: '/', user: { uid: 'root', gid: 0 } }));
    const bad = e.tsrun(['exec', '--process', file, id]);
    t.equal(bad.status, 255);
    t.match(bad.stderr, /process\.user\.uid: must be integer/, 'named by its JSON path');
    writeFileSync(file, JSON.stringify({ args: ['true'], cwd: '/', rlimits: [{ type: 'RLIMIT_NOFILE', soft: 20, hard: 10 }, { type: 'RLIMIT_NOFILE', soft: 1, hard: 1 }] }));
    const rl = e.tsrun(['exec', '--process', file, id]);
    t.equal(rl.status, 255);
    t.match(rl.stderr, /process\.rlimits\[0\]\.soft: exceeds hard/, "the config's rules for a process apply too");
    t.match(rl.stderr, /process\.rlimits\[1\]\.type: duplicates process\.rlimits\[0\]/);
    writeFileSync(file, JSON.stringify({ args: [], cwd: '/' }));
    t.match(e.tsrun(['exec', '--process', file, id]).stderr, /process\.args/);
    writeFileSync(file, '{"args": [');
    t.match(e.tsrun(['exec', '--process', file, id]).stderr, /--process: cannot read .*process\.json/);
    t.match(e.tsrun(['exec', '--process', file, id, 'true']).stderr, /a command and --process cannot both be given/);
  });

  t.test('a terminal: -t with --console-socket, and tsrun\'s own', async (t) => {
    const e = env(t);
    const { id } = running(t, e);
    const sock = join(scratch(t, 'tsrun-console'), 'console.sock');
    const master = consoleSocket(sock);
    const r = e.tsrun(['exec', '-t', '--console-socket', sock, id, 'sh', '-c', 'tty; ls -l /proc/self/fd/0; echo done']);
    t.equal(r.status, 0, r.stderr);
    const fd = await master;
    const out = readAll(fd, /done/);
    closeSync(fd);
    t.match(out, /^\/dev\/pts\/\d+\r\n/, "stdio is a pty of the container's devpts");
    t.match(out, /-> \/dev\/pts\/\d+/);
    // Attached without a socket: tsrun relays the terminal itself (script gives it one).
    const script = spawnSync('script', ['-qec', `${tsrunCmd.join(' ')} --root ${e.root} exec -t ${id} sh -c 'tty; exit 4'`, '/dev/null'], { encoding: 'utf8', timeout: 30_000 });
    t.match(script.stdout, /\/dev\/pts\/\d+/, 'the output came through the relay');
    t.equal(script.status, 4, "tsrun exits with the process's status");
    const detached = e.tsrun(['exec', '-t', '-d', id, 'true']);
    t.equal(detached.status, 255);
    t.match(detached.stderr, /--tty: cannot allocate a terminal for a detached process without --console-socket/);
    const stray = e.tsrun(['exec', '--console-socket', sock, id, 'true']);
    t.match(stray.stderr, /--console-socket: --console-socket needs a terminal/);
  });

  t.test('a user-namespace container: the process is in its user namespace, as its root', async (t) => {
    const e = env(t);
    const { id, pid, bundle } = running(t, e, (c) => {
      c.linux.namespaces.push({ type: 'user' });
      c.linux.uidMappings = [{ containerID: 0, hostID: 200000, size: 65536 }];
      c.linux.gidMappings = [{ containerID: 0, hostID: 200000, size: 65536 }];
    }, []);
    t.ok(bundle);
    const r = e.tsrun(['exec', id, 'sh', '-c', 'readlink /proc/self/ns/user; cat /proc/self/uid_map; id -u']);
    t.equal(r.status, 0, r.stderr);
    const [ns, map, uid] = r.stdout.split('\n');
    t.equal(ns, readlinkSync(`/proc/${pid}/ns/user`), "the init's user namespace");
    t.match(map, /^\s*0\s+200000\s+65536$/);
    t.equal(uid, '0');
    const d = e.tsrun(['exec', '-d', '--pid-file', join(e.root, '..', 'u.pid'), id, 'sleep', '100']);
    t.equal(d.status, 0, d.stderr);
    const execPid = Number(readFileSync(join(e.root, '..', 'u.pid'), 'utf8'));
    t.match(statusField(readFileSync(`/proc/${execPid}/status`, 'utf8'), 'Uid'), /^200000\s/, 'mapped to the host uid of container root');
  });

  t.test('refused: created, stopped and (without --ignore-paused) paused containers', async (t) => {
    const e = env(t);
    const bundle = e.bundle((c) => (c.process.args = ['sleep', '1000']));
    const id = uniqueId('exec');
    t.equal(e.tsrun(['create', '--bundle', bundle, id]).status, 0);
    const created = e.tsrun(['exec', id, 'true']);
    t.equal(created.status, 255);
    t.match(created.stderr, /cannot exec in a created container/);
    t.equal(e.tsrun(['start', id]).status, 0);
    t.equal(e.tsrun(['pause', id]).status, 0, 'pause');
    const paused = e.tsrun(['exec', id, 'true']);
    t.equal(paused.status, 255);
    t.match(paused.stderr, /cannot exec in a paused container \(use --ignore-paused to override\)/, "runc's words");
    // With --ignore-paused the process joins the frozen cgroup: it runs once resumed.
    const out = join(e.root, '..', 'ignored.out');
    const child = spawn(tsrunCmd[0], [...tsrunCmd.slice(1), '--root', e.root, 'exec', '--ignore-paused', id, 'sh', '-c', 'echo ran'], { stdio: ['ignore', openSync(out, 'w'), 'ignore'] });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    sleepMs(500);
    t.equal(readFileSync(out, 'utf8'), '', 'nothing runs while the container is paused');
    t.equal(e.tsrun(['resume', id]).status, 0, 'resume');
    t.equal(await exited, 0, 'the exec finished after resume');
    t.equal(readFileSync(out, 'utf8'), 'ran\n');
    t.equal(e.tsrun(['kill', id, 'KILL']).status, 0);
    waitFor(() => JSON.parse(e.tsrun(['state', id]).stdout).status === 'stopped');
    const stopped = e.tsrun(['exec', id, 'true']);
    t.equal(stopped.status, 255);
    t.match(stopped.stderr, /cannot exec in a stopped container/, "runc's words");
  });

  t.test('--cgroup: a sub-cgroup of the container\'s, which must exist and stay below it', async (t) => {
    const e = env(t);
    const { id, pid } = running(t, e);
    const memory = /^\d+:memory:(.*)$/m.exec(readFileSync(`/proc/${pid}/cgroup`, 'utf8'))![1];
    const sub = join('/sys/fs/cgroup/memory', memory, 'sub');
    mkdirSync(sub);
    t.teardown(() => {
      if (existsSync(sub)) rmdirSync(sub);
    });
    const pidFile = join(e.root, '..', 'sub.pid');
    const r = e.tsrun(['exec', '-d', '--pid-file', pidFile, '--cgroup', 'memory:sub', id, 'sleep', '100']);
    t.equal(r.status, 0, r.stderr);
    const execPid = Number(readFileSync(pidFile, 'utf8'));
    const cg = readFileSync(`/proc/${execPid}/cgroup`, 'utf8');
    t.match(cg, new RegExp(`^\\d+:memory:${memory}/sub$`, 'm'), 'in the memory sub-cgroup');
    t.match(cg, new RegExp(`^\\d+:pids:${/^\d+:pids:(.*)$/m.exec(readFileSync(`/proc/${pid}/cgroup`, 'utf8'))![1]}$`, 'm'), "the container's own pids cgroup");
    process.kill(execPid, 'SIGKILL');
    waitFor(() => !readFileSync(join(sub, 'cgroup.procs'), 'utf8').trim());
    rmdirSync(sub);
    // A sub-cgroup the kernel lets no process join (a new cpuset cgroup has
    // no cpus): the exec'd process puts itself in its cgroups, and says which failed.
    const cpuset = /^\d+:cpuset:(.*)$/m.exec(readFileSync(`/proc/${pid}/cgroup`, 'utf8'))![1];
    const nocpus = join('/sys/fs/cgroup/cpuset', cpuset, 'nocpus');
    mkdirSync(nocpus);
    t.teardown(() => {
      if (existsSync(nocpus)) rmdirSync(nocpus);
    });
    // The cpu hierarchy comes before cpuset in the host's order: joined before the refusal.
    const cpuProcs = join('/sys/fs/cgroup/cpu', /^\d+:cpu:(.*)$/m.exec(readFileSync(`/proc/${pid}/cgroup`, 'utf8'))![1], 'cgroup.procs');
    const before = readFileSync(cpuProcs, 'utf8');
    const refused = e.tsrun(['exec', '--cgroup', 'cpuset:nocpus', id, 'sh', '-c', 'echo ran']);
    t.equal(refused.status, 255, 'a sub-cgroup without cpus: refused');
    t.match(refused.stderr, new RegExp(`--cgroup: cannot join the cgroup ${nocpus}: no space left on device`), 'naming the flag, the directory and the reason');
    t.notMatch(refused.stdout, /ran/, 'the program never ran');
    t.equal(readFileSync(cpuProcs, 'utf8'), before, "no process left in the container's cgroups");
    for (const [spec, message] of [
      ['memory:../../escape', /--cgroup: .* must be a path below the container's cgroup/],
      ['missing', /--cgroup: sub-cgroup .*missing does not exist/],
      ['nosuch:sub', /--cgroup: .*no cgroup v1 hierarchy has the nosuch controller/],
    ] as const) {
      const bad = e.tsrun(['exec', '--cgroup', spec, id, 'true']);
      t.equal(bad.status, 255, `${spec} refused`);
      t.match(bad.stderr, message);
    }
  });

  t.test('the container\'s seccomp filter applies', async (t) => {
    const e = env(t);
    const { id } = running(t, e, (c) => {
      c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdirat', 'mkdir'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }] };
    });
    const r = e.tsrun(['exec', id, 'sh', '-c', 'grep Seccomp: /proc/self/status; mkdir /tmp/x']);
    t.match(r.stdout, /Seccomp:\s+2/, 'in filter mode');
    t.match(r.stderr, /Operation not permitted/, 'mkdir refused by the filter');
    t.equal(r.status, 1);
  });

  t.test("the container's memory policy applies", async (t) => {
    const e = env(t);
    const { id } = running(t, e, (c) => {
      c.linux.memoryPolicy = { mode: 'MPOL_BIND', nodes: '0' };
    });
    const r = e.tsrun(['exec', id, 'head', '-n', '1', '/proc/self/numa_maps']);
    t.equal(r.status, 0, r.stderr);
    t.match(r.stdout, /^[0-9a-f]+ bind:0 /, 'MPOL_BIND on node 0, as the init');
  });

  // runtime-linux.md "File descriptors"; runc's CVE-2016-9962 came from an fd of the runtime.
  t.test('no fd of tsrun reaches the process; --preserve-fds passes exactly those', async (t) => {
    const e = env(t);
    const { id } = running(t, e);
    // "; true": so that sh forks ls rather than exec it, and $$ is sh's.
    const r = e.tsrun(['exec', id, 'sh', '-c', 'ls /proc/$$/fd; true']);
    t.equal(r.stdout.split('\n').filter(Boolean).sort().join(' '), '0 1 2', 'stdio only');
    // More fds asked for than were passed: those numbers are tsrun's own.
    const unpassed = e.tsrun(['exec', '--preserve-fds', '2', id, 'true']);
    t.equal(unpassed.status, 255);
    t.match(unpassed.stderr, /--preserve-fds: fd 3 is (tsrun's own \(anon_inode:|not open)/, 'refused, not handed to the container');
    const dir = scratch(t);
    const extra = openSync(join(dir, 'passed'), 'w');
    try {
      const p = spawnSync(tsrunCmd[0], [...tsrunCmd.slice(1), '--root', e.root, 'exec', '--preserve-fds', '1', id, 'sh', '-c', 'ls /proc/$$/fd; echo via-fd3 >&3'], { stdio: ['ignore', 'pipe', 'pipe', extra], encoding: 'utf8' });
      t.equal(p.status, 0, p.stderr);
      t.equal(p.stdout.split('\n').filter(Boolean).sort().join(' '), '0 1 2 3', 'fd 3 passed');
      t.equal(readFileSync(join(dir, 'passed'), 'utf8'), 'via-fd3\n');
    } finally {
      closeSync(extra);
    }
  });

  // CVE-2024-21626: a cwd through an fd of the runtime that points at a
  // host directory. Here the host directory really is at fd 3, passed with
  // --preserve-fds: the cwd check must refuse it, and nothing may be
  // written there.
  t.test('CVE-2024-21626: --cwd /proc/self/fd/3 to a host directory is refused', async (t) => {
    const e = env(t);
    const { id } = running(t, e);
    const host = scratch(t, 'tsrun-hostdir');
    const dirFd = openSync(host, 'r');
    try {
      for (const args of [
        ['--cwd', '/proc/self/fd/3'],
        ['--cwd', '/proc/self/fd/3/..'],
      ]) {
        const r = spawnSync(tsrunCmd[0], [...tsrunCmd.slice(1), '--root', e.root, 'exec', '--preserve-fds', '1', ...args, id, 'sh', '-c', 'touch escaped; touch ../escaped-up'], { stdio: ['ignore', 'pipe', 'pipe', dirFd], encoding: 'utf8' });
        t.equal(r.status, 255, `${args.join(' ')} refused`);
        t.match(r.stderr, /process\.cwd: .*(outside the container|chdir)/, 'for the cwd');
      }
      // The same through process.json.
      const file = join(scratch(t), 'p.json');
      writeFileSync(file, JSON.stringify({ args: ['sh', '-c', 'touch escaped'], cwd: '/proc/self/fd/3' }));
      const p = spawnSync(tsrunCmd[0], [...tsrunCmd.slice(1), '--root', e.root, 'exec', '--preserve-fds', '1', '--process', file, id], { stdio: ['ignore', 'pipe', 'pipe', dirFd], encoding: 'utf8' });
      t.equal(p.status, 255);
      t.match(p.stderr, /process\.cwd: .*outside the container/);
    } finally {
      closeSync(dirFd);
    }
    t.same(readdirSync(host), [], 'nothing was written in the host directory');
    t.notOk(existsSync(join(host, '..', 'escaped-up')), 'nor next to it');
  });

  t.test('CVE-2024-21626: a cwd through a symlink out of the root stays in the container', async (t) => {
    const e = env(t);
    const host = scratch(t, 'tsrun-hostdir');
    const { id, bundle } = running(t, e, (c) => (c.root.readonly = false));
    const rootfs = join(bundle, 'rootfs');
    symlinkSync(`../../../../../../../../..${host}`, join(rootfs, 'evil'));
    mkdirSync(join(rootfs, host), { recursive: true });
    const r = e.tsrun(['exec', '--cwd', '/evil', id, 'sh', '-c', 'touch written; pwd']);
    t.equal(r.status, 0, r.stderr);
    t.same(readdirSync(host), [], 'nothing in the host directory');
    t.ok(existsSync(join(rootfs, host, 'written')), "the file is in the container's copy of that path");
  });

  t.test('a --no-pivot container: the process is in its root, not the mount namespace\'s', async (t) => {
    const e = env(t);
    const { id } = running(t, e, undefined, ['--no-pivot']);
    const r = e.tsrun(['exec', id, 'sh', '-c', 'ls /; cat /etc/passwd']);
    t.equal(r.status, 0, r.stderr);
    t.match(r.stdout, /^user:x:1000:1000:user:\/home\/user:\/bin\/sh$/m, "the container's /etc/passwd");
    t.notMatch(r.stdout, /^(usr|lib|var)$/m, "none of the host's top directories");
  });

  // CVE-2016-9962 and CVE-2019-5736 need the process caught while tsrun-init
  // is still in the container: here it blocks reading the container's
  // /etc/passwd (for HOME), which is a fifo, until the test writes to it.
  t.test('while it sets up in the container, the process cannot be reached (CVE-2016-9962, CVE-2019-5736)', async (t) => {
    const e = env(t);
    const helper = join(__dirname, '..', '..', 'build', 'Release', 'tsrun-init');
    const before = readFileSync(helper);
    // A user namespace, and every capability in it: ptrace of a process of
    // the same user is then allowed unless that process is non-dumpable.
    const { id, bundle } = running(t, e, (c) => {
      c.linux.namespaces.push({ type: 'user' });
      c.linux.uidMappings = [{ containerID: 0, hostID: 300000, size: 65536 }];
      c.linux.gidMappings = [{ containerID: 0, hostID: 300000, size: 65536 }];
      const all = ['CAP_SYS_PTRACE', 'CAP_SYS_ADMIN', 'CAP_DAC_OVERRIDE', 'CAP_KILL', 'CAP_SETUID', 'CAP_SETGID'];
      c.process.capabilities = { bounding: all, effective: all, permitted: all };
    });
    // With fs.suid_dumpable 1, every change of credentials (becoming root of
    // the user namespace, say) makes a process dumpable again: tsrun-init
    // must stay non-dumpable whatever this host setting is.
    const suidDumpable = '/proc/sys/fs/suid_dumpable';
    const saved = readFileSync(suidDumpable, 'utf8');
    writeFileSync(suidDumpable, '1');
    t.teardown(() => writeFileSync(suidDumpable, saved));
    const passwd = join(bundle, 'rootfs', 'etc', 'passwd');
    rmSync(passwd);
    spawnSync('mkfifo', ['-m', '644', passwd]);
    const out = join(e.root, '..', 'joined.out');
    const child = spawn(tsrunCmd[0], [...tsrunCmd.slice(1), '--root', e.root, 'exec', id, 'sh', '-c', 'echo joined'], { stdio: ['ignore', openSync(out, 'w'), 'ignore'] });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    // The joined process, seen from the container: a tsrun-init that is not pid 1.
    let nspid = '';
    waitFor(() => {
      const r = e.tsrun(['exec', '-e', 'HOME=/', id, 'sh', '-c', 'for p in /proc/[0-9]*; do tr "\\0" " " < $p/cmdline | grep -q "^tsrun-init --join" && echo ${p#/proc/}; done']);
      nspid = r.stdout.trim().split('\n')[0] ?? '';
      return nspid !== '';
    });
    t.ok(nspid, `the joined tsrun-init is visible in the container as pid ${nspid}`);
    const attack = e.tsrun(['exec', '-e', 'HOME=/', id, 'sh', '-c', `readlink /proc/${nspid}/exe || echo exe-denied; cat /proc/${nspid}/environ >/dev/null 2>&1 || echo environ-denied; ls /proc/${nspid}/fd >/dev/null 2>&1 || echo fd-denied; echo x >> /proc/${nspid}/exe 2>/dev/null || echo write-denied; grep TracerPid /proc/self/status`]);
    t.match(attack.stdout, /exe-denied/, 'its exe link cannot be followed (non-dumpable)');
    t.match(attack.stdout, /environ-denied/, 'its environment cannot be read');
    t.match(attack.stdout, /fd-denied/, 'its fds cannot be listed');
    t.match(attack.stdout, /write-denied/, 'its executable cannot be written');
    // Release it.
    const w = openSync(passwd, 'w');
    writeFileSync(w, 'root:x:0:0:root:/root:/bin/sh\n');
    closeSync(w);
    t.equal(await exited, 0, 'the exec then finishes');
    t.equal(readFileSync(out, 'utf8'), 'joined\n');
    t.ok(before.equals(readFileSync(helper)), 'the tsrun-init binary is unchanged');
  });
}
