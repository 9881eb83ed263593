// config-linux.md "Namespaces" and "User namespace mappings": new
// namespaces of each type, joining existing ones by path, a user namespace
// container, and the cgroup namespace's view.
import { existsSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import t from 'tap';
import { env, requireRoot, uniqueId } from '../helpers/tsrun';

type Config = Record<string, any>;
const nsTypes: Record<string, string> = { pid: 'pid', network: 'net', ipc: 'ipc', uts: 'uts', mount: 'mnt', cgroup: 'cgroup', user: 'user', time: 'time' };

const userns = (c: Config) => {
  c.linux.namespaces.push({ type: 'user' });
  c.linux.uidMappings = [{ containerID: 0, hostID: 200000, size: 65536 }];
  c.linux.gidMappings = [{ containerID: 0, hostID: 200000, size: 65536 }];
};

if (requireRoot(t)) {
  t.test('each namespace type is new when asked for, the host one otherwise', async (t) => {
    const e = env(t);
    const script = Object.values(nsTypes).map((n) => `readlink /proc/self/ns/${n}`).join('; ');
    const all = e.sh(script, (c: Config) => {
      c.linux.namespaces.push({ type: 'cgroup' }, { type: 'time' });
    });
    t.equal(all.status, 0, all.stderr);
    const inside = all.stdout.trim().split('\n');
    // One link per type, in order: a missing one would shift the others
    // onto the wrong type, and an empty one differs from any host link.
    t.same(inside.map((l) => l.replace(/\[\d+\]$/, '[N]')), Object.values(nsTypes).map((n) => `${n}:[N]`), 'a namespace link of each type');
    Object.values(nsTypes).forEach((n, i) => {
      const host = readlinkSync(`/proc/self/ns/${n}`);
      if (n === 'user') t.equal(inside[i], host, 'no user namespace asked for: the host one');
      else t.not(inside[i], host, `a new ${n} namespace`);
    });
    const none = e.sh(script, (c: Config) => {
      c.linux.namespaces = [{ type: 'mount' }];
      delete c.hostname;
    });
    t.equal(none.status, 0, none.stderr);
    const shared = none.stdout.trim().split('\n');
    t.equal(shared.length, Object.keys(nsTypes).length, 'a namespace link of each type');
    t.not(shared[Object.values(nsTypes).indexOf('mnt')], readlinkSync('/proc/self/ns/mnt'), 'the mount namespace it asked for');
    Object.values(nsTypes).forEach((n, i) => {
      if (n !== 'mnt') t.equal(shared[i], readlinkSync(`/proc/self/ns/${n}`), `${n}: the runtime namespace when not listed`);
    });
  });

  t.test('a user namespace container', async (t) => {
    const e = env(t);
    const r = e.sh('id -u; cat /proc/self/uid_map /proc/self/gid_map; ls -ln /dev/null; cat /proc/self/status | grep CapEff; echo $$', userns);
    t.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    t.equal(lines[0], '0', 'root inside');
    t.match(lines[1], /^\s*0\s+200000\s+65536$/, 'uid_map as configured');
    t.match(lines[2], /^\s*0\s+200000\s+65536$/, 'gid_map as configured');
    t.match(lines[3], /^crw-rw-rw-\s+1 65534\s+65534\s+1,\s+3 /, '/dev/null bound from the host (mknod is not allowed in a user namespace)');
    t.equal(lines[5], '1', 'pid 1');

    // Files the container creates belong to the mapped host ids.
    const bundle = e.bundle((c: Config) => {
      userns(c);
      c.root.readonly = false;
      c.process.args = ['sh', '-c', 'mkdir /made && echo ok'];
    });
    require('node:fs').chownSync(`${bundle}/rootfs`, 200000, 200000);
    const made = e.tsrun(['run', '--bundle', bundle, uniqueId('userns')]);
    t.equal(made.status, 0, made.stderr);
    t.equal(statSync(`${bundle}/rootfs/made`).uid, 200000, 'owned by the mapped host uid');
    const nomap = e.sh('true', (c: Config) => {
      c.linux.namespaces.push({ type: 'user' });
    });
    t.equal(nomap.status, 1, 'a new user namespace without mappings is refused');
    t.match(nomap.stderr, /linux\.uidMappings: is required with a new user namespace/);
  });

  t.test('joining namespaces by path', async (t) => {
    const e = env(t);
    const first = uniqueId('owner');
    const bundle = e.bundle((c: Config) => {
      c.process.args = ['sleep', '1000'];
      c.hostname = 'owner';
    });
    t.equal(e.tsrun(['run', '--detach', '--bundle', bundle, first]).status, 0);
    const pid = JSON.parse(e.tsrun(['state', first]).stdout).pid;
    const ns = (n: string) => readlinkSync(`/proc/${pid}/ns/${n}`);
    const r = e.sh('hostname; readlink /proc/self/ns/net; readlink /proc/self/ns/uts; readlink /proc/self/ns/ipc', (c: Config) => {
      delete c.hostname;
      c.linux.namespaces = c.linux.namespaces.map((n: { type: string }) =>
        ['network', 'uts', 'ipc'].includes(n.type) ? { type: n.type, path: `/proc/${pid}/ns/${nsTypes[n.type]}` } : n,
      );
    });
    t.equal(r.status, 0, r.stderr);
    t.same(r.stdout.trim().split('\n'), ['owner', ns('net'), ns('uts'), ns('ipc')], 'the network, uts and ipc namespaces of the first container');

    const wrong = e.sh('true', (c: Config) => {
      c.linux.namespaces = c.linux.namespaces.map((n: { type: string }) => (n.type === 'network' ? { type: 'network', path: `/proc/${pid}/ns/uts` } : n));
    });
    t.equal(wrong.status, 1, 'a path to a namespace of another type is refused');
    t.match(wrong.stderr, /linux\.namespaces\[1\]: .* is a namespace of another type/);
    const missing = e.sh('true', (c: Config) => {
      c.linux.namespaces = c.linux.namespaces.map((n: { type: string }) => (n.type === 'ipc' ? { type: 'ipc', path: '/no/such/ns' } : n));
    });
    t.equal(missing.status, 1);
    t.match(missing.stderr, /linux\.namespaces\[2\]: open namespace \/no\/such\/ns/);

    // A user namespace and a pid namespace joined by path.
    const uowner = uniqueId('uowner');
    const ub = e.bundle((c: Config) => {
      userns(c);
      c.process.args = ['sleep', '1000'];
    });
    t.equal(e.tsrun(['run', '--detach', '--bundle', ub, uowner]).status, 0);
    const upid = JSON.parse(e.tsrun(['state', uowner]).stdout).pid;
    const joined = e.sh('cat /proc/self/uid_map; readlink /proc/self/ns/user; readlink /proc/self/ns/pid', (c: Config) => {
      c.linux.namespaces = [
        { type: 'user', path: `/proc/${upid}/ns/user` },
        { type: 'pid', path: `/proc/${upid}/ns/pid` },
        { type: 'mount' },
      ];
      delete c.hostname;
      // sysfs and mqueue need network and ipc namespaces owned by that user namespace.
      c.mounts = c.mounts.filter((m: { type: string }) => !['sysfs', 'cgroup', 'mqueue'].includes(m.type));
    });
    t.equal(joined.status, 0, joined.stderr);
    const jl = joined.stdout.trim().split('\n');
    t.match(jl[0], /^\s*0\s+200000\s+65536$/, 'the mapping of the joined user namespace');
    t.equal(jl[1], readlinkSync(`/proc/${upid}/ns/user`));
    t.equal(jl[2], readlinkSync(`/proc/${upid}/ns/pid`));
  });

  t.test('cgroup namespace: the container sees its cgroup as the root', async (t) => {
    const e = env(t);
    // The memory controller's files in the container's cgroup mount: in its
    // v1 hierarchy, or in the unified one.
    const v1 = existsSync('/sys/fs/cgroup/memory/memory.limit_in_bytes');
    const file = v1 ? '/sys/fs/cgroup/memory/memory.limit_in_bytes' : '/sys/fs/cgroup/memory.max';
    const r = e.sh(`cat /proc/self/cgroup; echo "== limit"; cat ${file}`, (c: Config) => {
      c.linux.namespaces.push({ type: 'cgroup' });
      c.linux.resources = { memory: { limit: 64 * 1024 * 1024 } };
    });
    t.equal(r.status, 0, r.stderr);
    const [cgroups, limit] = r.stdout.split('== limit\n');
    const lines = cgroups.trim().split('\n');
    const host = readFileSync('/proc/self/cgroup', 'utf8').trim().split('\n');
    t.equal(lines.length, host.length, `a line per hierarchy, as on the host (${host.length})`);
    for (const line of lines) t.match(line, /^\d+:[^:]*:\/$/, `${line}: the container's own cgroup is its root`);
    t.equal(limit, `${64 * 1024 * 1024}\n`, `${file} at the root of its cgroup mount is the container's own (its limit)`);
  });
}
