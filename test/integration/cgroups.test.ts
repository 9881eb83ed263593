// config-linux.md "Control groups" on this host's real cgroup v1 (and the
// unified hierarchy of a hybrid layout): placement before the program runs,
// cgroupsPath, memory.limit and pids.limit, warnings for the rest, removal.
// Pure v2 is tested against a fake tree in test/unit/cgroups.test.ts.
import { existsSync, mkdirSync, readFileSync, readdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { cgroupLeftovers, env, requireRoot, uniqueId } from '../helpers/tsrun';

type Config = Record<string, any>;

/** hierarchy controllers ("memory", "name=systemd", "" for v2) -> [mountpoint, own cgroup] */
function hierarchies(): Map<string, [string, string]> {
  const own = new Map<string, string>();
  for (const line of readFileSync('/proc/self/cgroup', 'utf8').trim().split('\n')) {
    const [, c, p] = /^\d+:([^:]*):(.*)$/.exec(line)!;
    own.set(c, p);
  }
  const out = new Map<string, [string, string]>();
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').trim().split('\n')) {
    const m = / - (cgroup2?) \S+ (\S+)$/.exec(line);
    if (!m) continue;
    const c = m[1] === 'cgroup2' ? '' : m[2].split(',').filter((o) => o !== 'rw' && o !== 'xattr').join(',');
    out.set(c, [line.split(' ')[4], own.get(c) ?? '/']);
  }
  return out;
}

function sleepMs(ms: number) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

if (requireRoot(t)) {
  const hs = hierarchies();

  t.test('placed in every hierarchy before the program runs; removed on delete', async (t) => {
    const e = env(t);
    const bundle = e.bundle((c: Config) => (c.process.args = ['sleep', '1000']));
    const id = uniqueId('place');
    t.equal(e.tsrun(['create', '--bundle', bundle, id]).status, 0);
    const pid = JSON.parse(e.tsrun(['state', id]).stdout).pid;
    const seen = new Map<string, string>();
    for (const line of readFileSync(`/proc/${pid}/cgroup`, 'utf8').trim().split('\n')) {
      const [, c, p] = /^\d+:([^:]*):(.*)$/.exec(line)!;
      seen.set(c, p);
    }
    for (const [c, [, own]] of hs) {
      t.equal(seen.get(c), join(own, 'tsrun', id), `${c || 'unified'}: <own cgroup>/tsrun/<id> while still waiting for start`);
    }
    t.equal(cgroupLeftovers(id).length, hs.size, 'one directory per hierarchy');
    t.equal(e.tsrun(['delete', '--force', id]).status, 0);
    t.same(cgroupLeftovers(id), [], 'all removed by delete');
    // Other test files may have containers of their own there meanwhile;
    // what must hold is that the shared parent is never left empty.
    const [memMount, memOwn] = hs.get('memory')!;
    const parent = join(memMount, memOwn, 'tsrun');
    t.ok(!existsSync(parent) || readdirSync(parent, { withFileTypes: true }).some((d) => d.isDirectory()), 'the shared tsrun/ parent is removed with the last container');
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

  t.test('memory.limit and pids.limit', async (t) => {
    const e = env(t);
    const bundle = e.bundle((c: Config) => {
      c.process.args = ['sh', '-c', 'for i in 1 2 3 4 5 6 7 8; do sleep 100 & done; sleep 0.3; ls /proc | grep -c "^[0-9]"'];
      c.linux.resources = { memory: { limit: 32 * 1024 * 1024 }, pids: { limit: 5 } };
    });
    const id = uniqueId('limits');
    t.equal(e.tsrun(['create', '--bundle', bundle, id]).status, 0);
    const [memMount, memOwn] = hs.get('memory')!;
    const [pidsMount, pidsOwn] = hs.get('pids')!;
    t.equal(readFileSync(join(memMount, memOwn, 'tsrun', id, 'memory.limit_in_bytes'), 'utf8').trim(), String(32 * 1024 * 1024), 'memory limit applied at create');
    t.equal(readFileSync(join(pidsMount, pidsOwn, 'tsrun', id, 'pids.max'), 'utf8').trim(), '5', 'pids limit applied at create');
    t.equal(e.tsrun(['start', id]).status, 0);
    for (let i = 0; i < 300 && JSON.parse(e.tsrun(['state', id]).stdout).status !== 'stopped'; i++) sleepMs(10);
    t.equal(e.tsrun(['delete', id]).status, 0);

    const tiny = e.sh('echo ran under 1 MiB', (c: Config) => (c.linux.resources = { memory: { limit: 1024 * 1024 } }));
    t.equal(tiny.status, 0, tiny.stderr);
    t.equal(tiny.stdout, 'ran under 1 MiB\n', 'a container runs under a 1 MiB memory limit');

    const forks = e.sh('n=0; for i in 1 2 3 4 5 6 7 8; do sleep 5 & done 2>/dev/null; ls /proc | grep -c "^[0-9]"', (c: Config) => (c.linux.resources = { pids: { limit: 4 } }));
    t.ok(Number(forks.stdout.trim().split('\n').pop()) <= 4, 'no more processes than pids.limit');
  });

  t.test('resources not applied yet are named in warnings', async (t) => {
    const e = env(t);
    const r = e.sh('true', (c: Config) => {
      c.linux.resources = { devices: [{ allow: false, access: 'rwm' }], memory: { limit: 64 << 20, reservation: 32 << 20, swappiness: 10 }, cpu: { shares: 512, quota: 1000 } };
    });
    t.equal(r.status, 0, r.stderr);
    for (const f of ['linux.resources.devices', 'linux.resources.memory.reservation', 'linux.resources.memory.swappiness', 'linux.resources.cpu.shares', 'linux.resources.cpu.quota']) {
      t.match(r.stderr, new RegExp(`level=warning msg="${f.replace(/\./g, '\\.')}: not applied yet`), `warns about ${f}`);
    }
    t.notMatch(r.stderr, /memory\.limit: not applied/, 'memory.limit is applied');
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
}
