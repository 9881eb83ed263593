// tsrun update on real containers and this host's cgroup v1 files: each
// flag changes its file, --resources from stdin, memory and memory+swap in
// the order the kernel accepts (raised and lowered), a quota and period
// lowered under a parent's limit, refusals (schema, a bad flag, the
// kernel) that leave every file as it was, the merged resources kept for
// the next update, and a stopped container refused.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { type Env, env, hostHierarchies, requireRoot, skipOrFail, tsrunCmd, uniqueId } from '../helpers/tsrun';

type Config = Record<string, any>;
const MiB = 1024 * 1024;

/** The directory of a process's cgroup in the v1 hierarchy that has `controller`. */
function cgroupDirOf(pid: number, controller: string): string {
  const h = hostHierarchies().find((x) => x.controllers.split(',').includes(controller));
  if (!h) throw new Error(`no ${controller} hierarchy`);
  const line = readFileSync(`/proc/${pid}/cgroup`, 'utf8')
    .split('\n')
    .find((l) => l.split(':')[1]?.split(',').includes(controller));
  return join(h.mountpoint, line!.split(':').slice(2).join(':'));
}

/** A container that sleeps, with these resources at create; its init's pid and a reader of its cgroup files. */
function container(t: Test, e: Env, resources: Config, mutate?: (c: Config) => void) {
  const bundle = e.bundle((c: Config) => {
    c.process.args = ['sleep', '1000'];
    c.linux.resources = { ...c.linux.resources, ...resources };
    mutate?.(c);
  });
  const id = uniqueId('upd');
  const r = e.tsrun(['create', '--bundle', bundle, id]);
  t.equal(r.status, 0, `create: ${r.stderr}`);
  const pid = JSON.parse(e.tsrun(['state', id]).stdout).pid as number;
  const file = (controller: string, name: string) => readFileSync(join(cgroupDirOf(pid, controller), name), 'utf8').trim();
  const has = (controller: string, name: string) => existsSync(join(cgroupDirOf(pid, controller), name));
  return { id, pid, file, has };
}

/** tsrun update with this standard input (`-r -`; go-runc writes `--resources -`, checked on its own below). */
function updateWithInput(e: Env, id: string, input: string, flag = '-r') {
  const r = spawnSync(tsrunCmd[0], [...tsrunCmd.slice(1), '--root', e.root, 'update', flag, '-', id], { input, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const watched: [string, string][] = [
  ['memory', 'memory.limit_in_bytes'],
  ['memory', 'memory.soft_limit_in_bytes'],
  ['memory', 'memory.memsw.limit_in_bytes'],
  ['cpu', 'cpu.shares'],
  ['cpu', 'cpu.cfs_period_us'],
  ['cpu', 'cpu.cfs_quota_us'],
  ['cpuset', 'cpuset.cpus'],
  ['cpuset', 'cpuset.mems'],
  ['pids', 'pids.max'],
];

if (requireRoot(t)) {
  t.test('each flag changes its cgroup file; memory+swap raised and lowered in the order the kernel accepts', async (t) => {
    const e = env(t);
    const c = container(t, e, { memory: { limit: 64 * MiB, swap: 128 * MiB }, cpu: { shares: 512, period: 100000, quota: 50000 }, pids: { limit: 50 } });
    const weightFile = c.has('blkio', 'blkio.weight') ? 'blkio.weight' : 'blkio.bfq.weight';
    t.not(c.file('cpuset', 'cpuset.cpus'), '0', 'cpuset.cpus starts as the parent\'s, not 0');
    // 256m > the memsw of 128m: memsw must be raised first.
    const r = e.tsrun(['update', '--memory', '256m', '--memory-swap', '512m', '--memory-reservation', '32m', '--cpu-share', '300', '--cpu-period', '200000', '--cpu-quota', '100000',
      '--cpuset-cpus', '0', '--cpuset-mems', '0', '--pids-limit', '33', '--blkio-weight', '200', c.id]);
    t.equal(r.status, 0, r.stderr);
    const want: [string, string, string | RegExp][] = [
      ['memory', 'memory.limit_in_bytes', String(256 * MiB)],
      ['memory', 'memory.memsw.limit_in_bytes', String(512 * MiB)],
      ['memory', 'memory.soft_limit_in_bytes', String(32 * MiB)],
      ['cpu', 'cpu.shares', '300'],
      ['cpu', 'cpu.cfs_period_us', '200000'],
      ['cpu', 'cpu.cfs_quota_us', '100000'],
      ['cpuset', 'cpuset.cpus', '0'],
      ['cpuset', 'cpuset.mems', '0'],
      ['pids', 'pids.max', '33'],
      ['blkio', weightFile, /(^|\s)200$/m],
    ];
    for (const [controller, name, value] of want) {
      if (typeof value === 'string') t.equal(c.file(controller, name), value, name);
      else t.match(c.file(controller, name), value, name);
    }
    // 16m < the limit of 256m: the limit must be lowered first.
    const down = e.tsrun(['update', '--memory', '16m', '--memory-swap', '32m', c.id]);
    t.equal(down.status, 0, down.stderr);
    t.equal(c.file('memory', 'memory.limit_in_bytes'), String(16 * MiB), 'limit lowered');
    t.equal(c.file('memory', 'memory.memsw.limit_in_bytes'), String(32 * MiB), 'memsw lowered');
    const unlimited = e.tsrun(['update', '--memory', '-1', '--pids-limit', '-1', c.id]);
    t.equal(unlimited.status, 0, unlimited.stderr);
    t.equal(c.file('memory', 'memory.limit_in_bytes'), c.file('memory', 'memory.memsw.limit_in_bytes'), '-1: memory and swap unlimited (runc\'s rule)');
    t.ok(Number(c.file('memory', 'memory.limit_in_bytes')) > 2 ** 60, 'unlimited');
    t.equal(c.file('pids', 'pids.max'), 'max');
  });

  t.test('the realtime budget (where this host gives one to a cgroup below the root)', async (t) => {
    const cpu = hostHierarchies().find((h) => h.controllers.split(',').includes('cpu'))!;
    if (Number(readFileSync(join(cpu.mountpoint, 'cpu.rt_runtime_us'), 'utf8')) <= 0) {
      skipOrFail(t, 'needs a realtime budget at the cpu hierarchy root', 'this host gives none');
      return;
    }
    const e = env(t);
    const c = container(t, e, {}, (cfg) => (cfg.linux.cgroupsPath = `/tsrun-upd-rt-${process.pid}`));
    const r = e.tsrun(['update', '--cpu-rt-period', '900000', '--cpu-rt-runtime', '5000', c.id]);
    t.equal(r.status, 0, r.stderr);
    t.equal(c.file('cpu', 'cpu.rt_period_us'), '900000');
    t.equal(c.file('cpu', 'cpu.rt_runtime_us'), '5000');
  });

  t.test('a quota and period lowered together under a parent\'s limit', async (t) => {
    const e = env(t);
    const cpu = hostHierarchies().find((h) => h.controllers.split(',').includes('cpu'))!;
    const parentPath = `/tsrun-upd-q-${process.pid}`;
    const parent = join(cpu.mountpoint, parentPath);
    mkdirSync(parent);
    t.teardown(() => {
      for (let i = 0; i < 100 && existsSync(parent); i++) {
        try {
          rmdirSync(parent);
        } catch {
          Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
        }
      }
    });
    writeFileSync(join(parent, 'cpu.cfs_quota_us'), '50000'); // half a CPU
    const c = container(t, e, { cpu: { period: 100000, quota: 50000 } }, (cfg) => (cfg.linux.cgroupsPath = `${parentPath}/c`));
    // Period first would ask for 50000/50000, a whole CPU, on the way.
    const r = e.tsrun(['update', '--cpu-period', '50000', '--cpu-quota', '25000', c.id]);
    t.equal(r.status, 0, r.stderr);
    t.equal(c.file('cpu', 'cpu.cfs_period_us'), '50000');
    t.equal(c.file('cpu', 'cpu.cfs_quota_us'), '25000');
    const d = e.tsrun(['delete', '--force', c.id]);
    t.equal(d.status, 0, d.stderr);
  });

  t.test('--resources - reads linux.resources from the standard input', async (t) => {
    const e = env(t);
    const c = container(t, e, {});
    const r = updateWithInput(e, c.id, JSON.stringify({ memory: { limit: 96 * MiB, reservation: 48 * MiB }, cpu: { shares: 700 }, pids: { limit: 21 } }));
    t.equal(r.status, 0, r.stderr);
    t.equal(c.file('memory', 'memory.limit_in_bytes'), String(96 * MiB));
    t.equal(c.file('memory', 'memory.soft_limit_in_bytes'), String(48 * MiB));
    t.equal(c.file('cpu', 'cpu.shares'), '700');
    t.equal(c.file('pids', 'pids.max'), '21');
    const same = updateWithInput(e, c.id, JSON.stringify({ devices: JSON.parse(readFileSync(join(e.root, c.id, 'state.json'), 'utf8')).config.linux.resources.devices, pids: { limit: 22 } }));
    t.equal(same.status, 0, `the allowlist the container has is accepted (clients send it back): ${same.stderr}`);
    t.equal(c.file('pids', 'pids.max'), '22');
    const other = updateWithInput(e, c.id, JSON.stringify({ devices: [{ allow: true, access: 'rwm' }] }));
    t.equal(other.status, 1);
    t.match(other.stderr, /linux\.resources\.devices: cannot be changed by update/);
    // containerd's go-runc: `update --resources - <id>` (the "-" is the
    // option's value, not a positional: src/cli/argv.ts).
    const long = updateWithInput(e, c.id, JSON.stringify({ pids: { limit: 23 } }), '--resources');
    t.equal(long.status, 0, `--resources -: ${long.stderr}`);
  });

  t.test('an invalid value is refused, naming its path or flag, and every file is left as it was', async (t) => {
    const e = env(t);
    const c = container(t, e, { memory: { limit: 64 * MiB, swap: 128 * MiB }, cpu: { shares: 512 }, pids: { limit: 50 } });
    const snapshot = () => watched.map(([controller, name]) => `${name}=${c.file(controller, name)}`);
    const before = snapshot();
    const stateBefore = JSON.parse(readFileSync(join(e.root, c.id, 'state.json'), 'utf8')).resources;
    const cases: [string, () => { status: number | null; stderr: string }, RegExp][] = [
      ['a schema error', () => updateWithInput(e, c.id, '{"memory":{"limit":"x"}}'), /linux\.resources\.memory\.limit: must be integer/],
      ['not JSON', () => updateWithInput(e, c.id, '{"memory":'), /--resources: the standard input is not valid JSON/],
      ['a bad size', () => e.tsrun(['update', '--cpu-share', '900', '--memory', 'abc', c.id]), /--memory: invalid size: 'abc'/],
      ['a cpu this host does not have', () => e.tsrun(['update', '--cpuset-cpus', '99', '--cpu-share', '900', c.id]), /--cpuset-cpus: cannot set cpuset\.cpus to "99": /],
      ['a memory node it does not have, after the cpus were written', () => e.tsrun(['update', '--cpuset-cpus', '0', '--cpuset-mems', '5', c.id]), /--cpuset-mems: cannot set cpuset\.mems to "5": .*; what this update had already written was put back/],
      ['a limit below the usage, after cpu and cpuset were written', () => e.tsrun(['update', '--cpuset-cpus', '0', '--cpu-share', '900', '--pids-limit', '7', '--memory', '4096', '--memory-swap', '8192', c.id]), /--memory: unable to set memory limit to 4096 \(current usage: \d+, peak usage: \d+\); what this update had already written was put back/],
      ['Intel RDT without a resctrl group', () => e.tsrun(['update', '--l3-cache-schema', 'L3:0=f', '--pids-limit', '9', c.id]), /^tsrun: --l3-cache-schema: the container has no resctrl group \(it was created without linux\.intelRdt\)\n$/],
    ];
    for (const [what, run, re] of cases) {
      const r = run();
      t.equal(r.status, 1, `${what}: exit status 1`);
      t.match(r.stderr, re, `${what}: named`);
      t.same(snapshot(), before, `${what}: every file as it was`);
    }
    t.same(JSON.parse(readFileSync(join(e.root, c.id, 'state.json'), 'utf8')).resources, stateBefore, 'nothing kept in the state');
  });

  t.test('a second update keeps what the first set (the merged resources are kept in the state)', async (t) => {
    const e = env(t);
    const c = container(t, e, { memory: { limit: 64 * MiB, swap: 128 * MiB } });
    const first = e.tsrun(['update', '--memory-swap', '1g', '--cpu-share', '333', c.id]);
    t.equal(first.status, 0, first.stderr);
    // Only with the first update's swap (1g, not create's 128m) is a 512m limit allowed.
    const second = e.tsrun(['update', '--memory', '512m', c.id]);
    t.equal(second.status, 0, second.stderr);
    t.equal(c.file('memory', 'memory.limit_in_bytes'), String(512 * MiB));
    t.equal(c.file('memory', 'memory.memsw.limit_in_bytes'), String(1024 * MiB));
    t.equal(c.file('cpu', 'cpu.shares'), '333', 'the first update\'s shares are still there');
    const kept = JSON.parse(readFileSync(join(e.root, c.id, 'state.json'), 'utf8')).resources;
    t.match(kept, { memory: { limit: 512 * MiB, swap: 1024 * MiB }, cpu: { shares: 333 } }, 'in state.json');
  });

  t.test('a stopped container is refused with runc\'s words', async (t) => {
    const e = env(t);
    const c = container(t, e, {});
    t.equal(e.tsrun(['kill', c.id, 'KILL']).status, 0);
    for (let i = 0; i < 200 && JSON.parse(e.tsrun(['state', c.id]).stdout).status !== 'stopped'; i++) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
    const r = e.tsrun(['update', '--memory', '1g', c.id]);
    t.equal(r.status, 1);
    t.match(r.stderr, /cannot update container \S+: container not running \(it is stopped\)/);
    const none = e.tsrun(['update', '--memory', '1g', 'no-such-container']);
    t.equal(none.status, 1);
    t.match(none.stderr, /container does not exist/);
  });
}
