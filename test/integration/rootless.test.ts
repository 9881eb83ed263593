// Rootless: tsrun run by an unprivileged user (tsrun-rootless, see
// test/helpers/rootless.ts), as runc runs rootless: a user namespace of the
// user's own, its ids (or what newuidmap grants), state under
// $XDG_RUNTIME_DIR, no cgroups it cannot write.
import { chmodSync, existsSync, lchownSync, mkdirSync, readFileSync, readdirSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { chownTree, rootlessUser } from '../helpers/rootless';
import { need, run, tsrunWrapper, used } from '../helpers/clients';
import { makeRootfs, requireRoot, scratch, uniqueId } from '../helpers/tsrun';

type Config = Record<string, any>;

if (requireRoot(t) && need(t, ['useradd', 'usermod', 'setpriv', 'newuidmap', 'newgidmap'], 'passwd util-linux uidmap')) {
  const user = rootlessUser();

  /** A bundle of the user's: `tsrun spec --rootless` as the user, then `mutate`. */
  const bundle = (t: Test, mutate: (c: Config) => void = () => undefined): string => {
    const dir = scratch(t, 'tsrun-rootless');
    makeRootfs(join(dir, 'rootfs'));
    chownTree(dir, user.uid, user.gid);
    const spec = user.tsrun(['spec', '--rootless'], dir);
    t.equal(spec.status, 0, `tsrun spec --rootless: ${spec.stderr}`);
    const file = join(dir, 'config.json');
    const config = JSON.parse(readFileSync(file, 'utf8'));
    config.process.terminal = false;
    mutate(config);
    writeFileSync(file, JSON.stringify(config, null, 2));
    lchownSync(file, user.uid, user.gid);
    return dir;
  };
  const cleanup = (t: Test, id: string) => t.teardown(() => user.tsrun(['delete', '--force', id]));
  const stateDir = (id: string) => join(user.runtimeDir, 'tsrun', id);

  t.test("spec --rootless and run: root in a user namespace of the user's own id", async (t) => {
    const dir = bundle(t, (c) => (c.process.args = ['sh', '-c', 'id -u; cat /proc/self/uid_map /proc/self/gid_map; cat /proc/self/setgroups; ls /sys/kernel >/dev/null && echo sys']));
    const id = uniqueId('rootless');
    cleanup(t, id);
    const r = user.tsrun(['run', id], dir);
    t.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trim().split('\n').map((l) => l.trim().replace(/\s+/g, ' '));
    t.same(lines, ['0', `0 ${user.uid} 1`, `0 ${user.gid} 1`, 'deny', 'sys'], "root inside, the user's uid and gid outside; setgroups denied; /sys bound");
    t.notOk(existsSync(stateDir(id)), 'run removed its state');
  });

  t.test('create, state, start, exec, kill, delete; the state under $XDG_RUNTIME_DIR', async (t) => {
    const dir = bundle(t, (c) => (c.process.args = ['sleep', '60']));
    const id = uniqueId('rootless');
    cleanup(t, id);
    t.equal(user.tsrun(['create', id], dir).status, 0);
    t.ok(existsSync(join(stateDir(id), 'state.json')), 'state in $XDG_RUNTIME_DIR/tsrun');
    t.equal(JSON.parse(user.tsrun(['state', id]).stdout).status, 'created');
    t.equal(user.tsrun(['start', id]).status, 0);
    t.equal(JSON.parse(user.tsrun(['state', id]).stdout).status, 'running');
    const x = user.tsrun(['exec', id, 'sh', '-c', 'echo in; id -u']);
    t.equal(x.status, 0, x.stderr);
    t.equal(x.stdout, 'in\n0\n', 'exec runs in the container');
    // No cgroup this user can write: ps and pause say so.
    const ps = user.tsrun(['ps', id]);
    t.equal(ps.status, 1);
    t.match(ps.stderr, new RegExp(`cannot list its processes: container ${id} has no cgroup of its own \\(rootless`));
    t.match(user.tsrun(['pause', id]).stderr, /cannot pause it: container \S+ has no cgroup of its own/);
    // kill --all signals the init; SIGKILL in a pid namespace of its own ends them all.
    const all = user.tsrun(['kill', '--all', id, 'KILL']);
    t.equal(all.status, 0, all.stderr);
    t.equal(all.stderr, '', 'no warning: the init of its own pid namespace takes the rest with it');
    let status = '';
    for (let i = 0; i < 100 && status !== 'stopped'; i++) status = JSON.parse(user.tsrun(['state', id]).stdout).status;
    t.equal(status, 'stopped');
    t.equal(user.tsrun(['delete', id]).status, 0);
    t.notOk(existsSync(stateDir(id)), 'delete removed the state');
  });

  // newuidmap and newgidmap map what /etc/subuid and /etc/subgid grant.
  t.test('several mapped ids (newuidmap): files owned by them appear with the right owners', async (t) => {
    const dir = bundle(t, (c) => {
      c.linux.uidMappings = [{ containerID: 0, hostID: user.uid, size: 1 }, { containerID: 1, hostID: user.subuid.start, size: user.subuid.count }];
      c.linux.gidMappings = [{ containerID: 0, hostID: user.gid, size: 1 }, { containerID: 1, hostID: user.subgid.start, size: user.subgid.count }];
      c.process.args = ['sh', '-c', 'stat -c "%u:%g %n" /owned /etc/passwd; cat /proc/self/uid_map'];
    });
    // On the host: owned by the subordinate ids that are 1000:1000 inside.
    writeFileSync(join(dir, 'rootfs', 'owned'), 'x');
    lchownSync(join(dir, 'rootfs', 'owned'), user.subuid.start + 999, user.subgid.start + 999);
    const id = uniqueId('rootless');
    cleanup(t, id);
    const r = user.tsrun(['run', id], dir);
    t.equal(r.status, 0, r.stderr);
    t.match(r.stdout, /^1000:1000 \/owned$/m, 'a file of the 1000th subordinate id is 1000 inside');
    t.match(r.stdout, /^0:0 \/etc\/passwd$/m, "the user's own files are root's inside");
    t.match(r.stdout.replace(/[ \t]+/g, ' '), new RegExp(`^ ?1 ${user.subuid.start} ${user.subuid.count}$`, 'm'), 'the second range mapped');
    // More than /etc/subuid grants: newuidmap refuses, named.
    const over = bundle(t, (c) => (c.linux.uidMappings = [{ containerID: 0, hostID: user.uid, size: 1 }, { containerID: 1, hostID: user.subuid.start + user.subuid.count, size: 10 }]));
    const bad = user.tsrun(['run', uniqueId('rootless')], over);
    t.equal(bad.status, 1);
    t.match(bad.stderr, /^tsrun: linux\.uidMappings: newuidmap refused the mapping: .+ \(see \/etc\/subuid\)\n$/);
  });

  t.test("what the user cannot reach stays out of reach, and refusals are clear", async (t) => {
    // Under a directory only root may enter: the kernel refuses the bind,
    // and the error names the mount.
    const secret = scratch(t, 'tsrun-rootless-secret');
    mkdirSync(join(secret, 'closed', 'deeper'), { recursive: true });
    chmodSync(join(secret, 'closed'), 0o700);
    writeFileSync(join(secret, 'closed', 'file'), 'secret');
    const withMount = (source: string, args: string[]) =>
      bundle(t, (c) => {
        c.mounts.push({ destination: '/mnt', type: 'bind', source, options: ['rbind'] });
        c.process.args = args;
      });
    const refused = withMount(join(secret, 'closed', 'deeper'), ['true']);
    mkdirSync(join(refused, 'rootfs', 'mnt'));
    lchownSync(join(refused, 'rootfs', 'mnt'), user.uid, user.gid);
    const r = user.tsrun(['run', uniqueId('rootless')], refused);
    t.equal(r.status, 1);
    t.match(r.stderr, /^tsrun: mounts\[\d+\]: bind source \S+\/closed\/deeper: permission denied\n$/, 'the kernel refuses; the mount is named');
    // The closed directory itself can be bound (no search through it is
    // needed), but what is in it stays the host root's.
    const bound = withMount(join(secret, 'closed'), ['sh', '-c', 'cat /mnt/file 2>&1; touch /mnt/new 2>&1; true']);
    mkdirSync(join(bound, 'rootfs', 'mnt'));
    lchownSync(join(bound, 'rootfs', 'mnt'), user.uid, user.gid);
    const inside = user.tsrun(['run', uniqueId('rootless')], bound);
    t.equal(inside.status, 0, inside.stderr);
    t.match(inside.stdout, /cat: can't open '\/mnt\/file': Permission denied\ntouch: \/mnt\/new: Permission denied\n/, 'neither read nor written');
    t.notOk(existsSync(join(secret, 'closed', 'new')), 'nothing written on the host');
    // Without a user namespace an unprivileged user can set up nothing.
    const noUserns = bundle(t, (c) => {
      c.linux.namespaces = c.linux.namespaces.filter((n: Config) => n.type !== 'user');
      delete c.linux.uidMappings;
      delete c.linux.gidMappings;
    });
    const nouser = user.tsrun(['run', uniqueId('rootless')], noUserns);
    t.equal(nouser.status, 1);
    t.match(nouser.stderr, /^tsrun: linux\.namespaces: needs a user namespace: tsrun runs as an unprivileged user \(rootless\)\n$/);
    // A limit with no cgroup to apply it in (this host delegates none).
    const limited = bundle(t, (c) => (c.linux.resources = { pids: { limit: 10 } }));
    const lim = user.tsrun(['run', uniqueId('rootless')], limited);
    t.equal(lim.status, 1);
    t.match(lim.stderr, /^tsrun: linux\.resources\.pids\.limit: the pids cgroup is not writable by this user, so the container has none \(rootless\)\n$/);
    const list = user.tsrun(['list', '-q']);
    t.same([list.status, list.stdout], [0, ''], 'nothing left');
  });

  // tsrun-init writes its own oom_score_adj before it makes itself
  // undumpable (as runc's nsexec): an unprivileged user may raise it, and
  // the kernel refuses to lower it, which is named.
  t.test('oomScoreAdj: raised for an unprivileged user, a lowering refused and named', async (t) => {
    const raised = bundle(t, (c) => {
      c.process.oomScoreAdj = 700;
      c.process.args = ['cat', '/proc/self/oom_score_adj'];
    });
    const r = user.tsrun(['run', uniqueId('rootless')], raised);
    t.equal(r.status, 0, r.stderr);
    t.equal(r.stdout, '700\n');
    const lowered = bundle(t, (c) => (c.process.oomScoreAdj = -500));
    const l = user.tsrun(['run', uniqueId('rootless')], lowered);
    t.equal(l.status, 1);
    t.equal(l.stderr, 'tsrun: process.oomScoreAdj: cannot set it to -500: write /proc/self/oom_score_adj: permission denied\n');
  });

  // A v1 cgroup delegated to the user (its directory and files given to
  // it by root) is used, and a limit in it applied; the hierarchies it
  // cannot write are left out.
  t.test('a delegated v1 cgroup is used: the limit applied there', async (t) => {
    const pidsRoot = '/sys/fs/cgroup/pids';
    if (!existsSync(join(pidsRoot, 'cgroup.procs'))) return t.skip('no v1 pids hierarchy here');
    const name = uniqueId('tsrun-rootless-delegated');
    const delegated = join(pidsRoot, name);
    mkdirSync(delegated);
    t.teardown(() => {
      for (const d of existsSync(delegated) ? readdirSync(delegated, { withFileTypes: true }).filter((e) => e.isDirectory()) : []) rmdirSync(join(delegated, d.name));
      if (existsSync(delegated)) rmdirSync(delegated);
    });
    for (const f of ['', 'cgroup.procs', 'tasks']) lchownSync(join(delegated, f), user.uid, user.gid);
    const dir = bundle(t, (c) => {
      c.linux.cgroupsPath = `/${name}/c1`;
      c.linux.resources = { pids: { limit: 17 } };
      c.process.args = ['sleep', '60'];
    });
    const id = uniqueId('rootless');
    cleanup(t, id);
    const r = user.tsrun(['run', '-d', id], dir);
    t.equal(r.status, 0, r.stderr);
    const pid = JSON.parse(user.tsrun(['state', id]).stdout).pid;
    t.match(readFileSync(`/proc/${pid}/cgroup`, 'utf8'), new RegExp(`:pids:/${name}/c1\n`), 'in the delegated cgroup');
    t.equal(readFileSync(join(delegated, 'c1', 'pids.max'), 'utf8').trim(), '17', 'the limit applied');
    t.notMatch(readFileSync(`/proc/${pid}/cgroup`, 'utf8'), new RegExp(`:memory:/${name}`), 'no memory cgroup of its own (not writable)');
    t.equal(user.tsrun(['delete', '--force', id]).status, 0);
    t.notOk(existsSync(join(delegated, 'c1')), 'delete removed the cgroup it made');
  });

  // Rootless podman runs its runtime as root of a user namespace of the
  // user's (not the host's root): tsrun takes it as rootless, keeps its
  // state under $XDG_RUNTIME_DIR and leaves the cgroups alone.
  t.test('rootless podman with tsrun as its runtime: run, run -d, exec, stop, rm', async (t) => {
    if (!need(t, ['podman'], 'podman')) return;
    const w = scratch(t, 'tsrun-rootless-podman');
    const rootfs = makeRootfs(join(w, 'rootfs'));
    t.equal(run(['tar', '-C', rootfs, '-cf', join(w, 'rootfs.tar'), '.']).status, 0, 'rootfs tarball');
    const rt = tsrunWrapper(w);
    chownTree(w, user.uid, user.gid);
    const podman = ['podman', '--root', join(w, 'storage'), '--runroot', join(w, 'run'), '--storage-driver', 'vfs', '--cgroup-manager', 'cgroupfs', '--events-backend', 'file', '--runtime', rt.path];
    t.teardown(() => {
      user.run([...podman, 'rm', '--all', '--force', '--time', '0']);
      user.run([...podman, 'system', 'reset', '--force']);
      // podman's pause process, which holds its user namespace.
      run(['pkill', '-KILL', '-u', String(user.uid)]);
    });
    const image = 'localhost/tsrun-rootless:latest';
    const imported = user.run([...podman, 'import', join(w, 'rootfs.tar'), image]);
    t.equal(imported.status, 0, `import: ${imported.stderr}`);
    const once = user.run([...podman, 'run', '--rm', '--network', 'none', image, 'sh', '-c', 'id -u; exit 3']);
    t.equal(once.status, 3, `the exit status comes through: ${once.stderr}`);
    t.equal(once.stdout, '0\n', 'root in the container');
    const name = uniqueId('rootless-podman');
    const detached = user.run([...podman, 'run', '-d', '--network', 'none', '--name', name, image, 'sleep', '100']);
    t.equal(detached.status, 0, detached.stderr);
    const x = user.run([...podman, 'exec', name, 'sh', '-c', 'echo in-exec']);
    t.equal(x.stdout, 'in-exec\n', x.stderr);
    t.equal(user.run([...podman, 'stop', '--time', '1', name]).status, 0);
    t.match(user.run([...podman, 'ps', '-a', '--format', '{{.Names}} {{.Status}}']).stdout, new RegExp(`^${name} Exited`, 'm'));
    t.equal(user.run([...podman, 'rm', name]).status, 0);
    const calls = rt.calls();
    for (const cmd of ['create', 'start', 'exec', 'kill', 'delete']) t.ok(used(calls, cmd), `podman ran tsrun ${cmd}`);
    // podman passes its default seccomp profile: the compiled filter is
    // kept for the next container (src/plan/seccomp-cache.ts), the user's own.
    const cache = statSync(join(user.runtimeDir, 'tsrun', '@seccomp-cache'));
    t.same([cache.uid, cache.mode & 0o777], [user.uid, 0o700], "the filter cache is the user's, for the user only");
    t.same(readdirSync(join(user.runtimeDir, 'tsrun')).filter((n) => n !== '@seccomp-cache'), [], 'nothing else left in the state root');
  });
}
