// config-linux.md control groups: cgroupsPath and each resource, read from
// the host side while the container is created.
import * as fs from 'fs';
import * as path from 'path';
import { CaseDef } from '../lib/case';
import { CaseContext } from '../lib/context';
import { v1Mount } from '../lib/host';
import { parseCgroupLines } from '../lib/probe';
import { ok } from '../lib/runtime';
import { Cfg } from '../lib/util';
import { containerCgroupDir, createOnly, readTrim } from './helpers';

const S_CG = 'config-linux.md#configLinuxControlGroups';
const S_PATH = 'config-linux.md#configLinuxCgroupsPath';
const S_MEM = 'config-linux.md#configLinuxMemory';
const S_CPU = 'config-linux.md#configLinuxCPU';
const S_BLK = 'config-linux.md#configLinuxBlockIO';
const S_PIDS = 'config-linux.md#configLinuxPIDS';

interface ResCase {
  id: string;
  section: string;
  requirement: string;
  since?: string;
  controller: string;
  file: string | string[];
  set: (r: Cfg, ctx: CaseContext) => void;
  want: (ctx: CaseContext) => string | RegExp;
  /** a cgroupsPath of its own (default: the run's nested one) */
  cgroupsPath?: (ctx: CaseContext) => string;
}

function resourceCase(d: ResCase): CaseDef {
  const files = Array.isArray(d.file) ? d.file : [d.file];
  return {
    id: d.id,
    section: d.section,
    since: d.since,
    requirement: d.requirement,
    requires(ctx) {
      if (ctx.host.cgroupMode === 'v2') return 'the suite checks resource files of cgroup v1; this host is cgroup v2';
      const m = v1Mount(ctx.host, d.controller);
      if (!m) return `the ${d.controller} controller is not mounted on this host`;
      // pids.max and friends exist only below the root cgroup
      if (d.controller !== 'pids' && !files.some((f) => fs.existsSync(path.join(m, f)))) return `this kernel has no ${files.join(' or ')} in the ${d.controller} controller`;
      return null;
    },
    async run(ctx: CaseContext) {
      const cfg = ctx.baseConfig();
      cfg.linux.resources = cfg.linux.resources ?? {};
      d.set(cfg.linux.resources, ctx);
      if (d.cgroupsPath) cfg.linux.cgroupsPath = d.cgroupsPath(ctx);
      const { pid } = await createOnly(ctx, cfg);
      const dir = containerCgroupDir(ctx, pid, d.controller);
      const f = files.find((x) => fs.existsSync(path.join(dir, x))) ?? files[0];
      const got = readTrim(path.join(dir, f));
      const want = d.want(ctx);
      ctx.observe(f, got);
      if (typeof want === 'string') ctx.equal(got, want, `${d.controller}/${f}`);
      else ctx.check(got !== null && want.test(got), `${d.controller}/${f} must match ${want}`, { actual: got });
    },
  };
}

const MiB = 1024 * 1024;

const resourceCases: CaseDef[] = [
  resourceCase({ id: 'config-linux.resources.memory.limit', section: S_MEM, requirement: 'memory.limit sets the memory limit of the container cgroup.', controller: 'memory', file: 'memory.limit_in_bytes', set: (r) => (r.memory = { limit: 64 * MiB }), want: () => String(64 * MiB) }),
  resourceCase({ id: 'config-linux.resources.memory.reservation', section: S_MEM, requirement: 'memory.reservation sets the soft limit of the container cgroup.', controller: 'memory', file: 'memory.soft_limit_in_bytes', set: (r) => (r.memory = { limit: 64 * MiB, reservation: 32 * MiB }), want: () => String(32 * MiB) }),
  resourceCase({ id: 'config-linux.resources.memory.swap', section: S_MEM, requirement: 'memory.swap sets the memory+swap limit of the container cgroup.', controller: 'memory', file: 'memory.memsw.limit_in_bytes', set: (r) => (r.memory = { limit: 64 * MiB, swap: 128 * MiB }), want: () => String(128 * MiB) }),
  resourceCase({ id: 'config-linux.resources.memory.swappiness', section: S_MEM, requirement: 'memory.swappiness sets the swappiness of the container cgroup.', controller: 'memory', file: 'memory.swappiness', set: (r) => (r.memory = { swappiness: 17 }), want: () => '17' }),
  resourceCase({ id: 'config-linux.resources.memory.disableOOMKiller', section: S_MEM, requirement: 'memory.disableOOMKiller true disables the OOM killer for the container cgroup.', controller: 'memory', file: 'memory.oom_control', set: (r) => (r.memory = { limit: 64 * MiB, disableOOMKiller: true }), want: () => /oom_kill_disable 1/ }),
  resourceCase({ id: 'config-linux.resources.memory.kernelTCP', section: S_MEM, requirement: 'memory.kernelTCP sets the kernel TCP buffer limit of the container cgroup.', controller: 'memory', file: 'memory.kmem.tcp.limit_in_bytes', set: (r) => (r.memory = { limit: 64 * MiB, kernelTCP: 16 * MiB }), want: () => String(16 * MiB) }),
  resourceCase({ id: 'config-linux.resources.cpu.shares', section: S_CPU, requirement: 'cpu.shares sets the CPU shares of the container cgroup.', controller: 'cpu', file: 'cpu.shares', set: (r) => (r.cpu = { shares: 512 }), want: () => '512' }),
  resourceCase({ id: 'config-linux.resources.cpu.quota', section: S_CPU, requirement: 'cpu.quota sets the CFS quota of the container cgroup.', controller: 'cpu', file: 'cpu.cfs_quota_us', set: (r) => (r.cpu = { quota: 50000, period: 100000 }), want: () => '50000' }),
  resourceCase({ id: 'config-linux.resources.cpu.period', section: S_CPU, requirement: 'cpu.period sets the CFS period of the container cgroup.', controller: 'cpu', file: 'cpu.cfs_period_us', set: (r) => (r.cpu = { quota: 20000, period: 50000 }), want: () => '50000' }),
  resourceCase({ id: 'config-linux.resources.cpu.realtimePeriod', section: S_CPU, requirement: 'cpu.realtimePeriod sets the realtime period of the container cgroup.', controller: 'cpu', file: 'cpu.rt_period_us', set: (r) => (r.cpu = { realtimePeriod: 900000 }), want: () => '900000' }),
  resourceCase({ id: 'config-linux.resources.cpu.realtimeRuntime', section: S_CPU, requirement: 'cpu.realtimeRuntime sets the realtime runtime of the container cgroup.', controller: 'cpu', file: 'cpu.rt_runtime_us', set: (r) => (r.cpu = { realtimeRuntime: 5000, realtimePeriod: 1000000 }), want: () => '5000',
    // a realtime budget needs one in every ancestor: place the cgroup directly below the root, which has it
    cgroupsPath: (ctx) => `/tsrun-conformance-${ctx.env.runTag}-rt${process.pid}` }),
  resourceCase({ id: 'config-linux.resources.cpu.cpus', section: S_CPU, requirement: 'cpu.cpus sets the CPUs of the container cpuset.', controller: 'cpuset', file: 'cpuset.cpus', set: (r) => (r.cpu = { cpus: '0' }), want: () => '0' }),
  resourceCase({ id: 'config-linux.resources.cpu.mems', section: S_CPU, requirement: 'cpu.mems sets the memory nodes of the container cpuset.', controller: 'cpuset', file: 'cpuset.mems', set: (r) => (r.cpu = { mems: '0' }), want: () => '0' }),
  resourceCase({ id: 'config-linux.resources.cpu.idle', section: S_CPU, since: '1.1.0', requirement: 'cpu.idle 1 makes the container cgroup SCHED_IDLE.', controller: 'cpu', file: 'cpu.idle', set: (r) => (r.cpu = { idle: 1 }), want: () => '1' }),
  resourceCase({ id: 'config-linux.resources.cpu.burst', section: S_CPU, since: '1.1.0', requirement: 'cpu.burst sets the CFS burst of the container cgroup.', controller: 'cpu', file: 'cpu.cfs_burst_us', set: (r) => (r.cpu = { quota: 50000, period: 100000, burst: 10000 }), want: () => '10000' }),
  resourceCase({ id: 'config-linux.resources.pids.limit', section: S_PIDS, requirement: 'pids.limit sets the task limit of the container cgroup.', controller: 'pids', file: 'pids.max', set: (r) => (r.pids = { limit: 42 }), want: () => '42' }),
  resourceCase({ id: 'config-linux.resources.blockIO.weight', section: S_BLK, requirement: 'blockIO.weight sets the block I/O weight of the container cgroup.', controller: 'blkio', file: ['blkio.weight', 'blkio.bfq.weight'], set: (r) => (r.blockIO = { weight: 300 }), want: () => /(^|\s)300$/ }),
  ...(
    [
      ['throttleReadBpsDevice', 'blkio.throttle.read_bps_device', 1048576],
      ['throttleWriteBpsDevice', 'blkio.throttle.write_bps_device', 2097152],
      ['throttleReadIOPSDevice', 'blkio.throttle.read_iops_device', 300],
      ['throttleWriteIOPSDevice', 'blkio.throttle.write_iops_device', 400],
    ] as const
  ).map(([key, file, rate]) =>
    resourceCase({
      id: `config-linux.resources.blockIO.${key}`,
      section: S_BLK,
      requirement: `blockIO.${key} sets the per-device throttle of the container cgroup.`,
      controller: 'blkio',
      file,
      set: (r: Cfg, ctx: CaseContext) => {
        const dev = ctx.host.blockDevice;
        if (!dev) ctx.skip('no block device on this host');
        r.blockIO = { [key]: [{ major: dev.major, minor: dev.minor, rate }] };
      },
      want: (ctx) => `${ctx.host.blockDevice?.major}:${ctx.host.blockDevice?.minor} ${rate}`,
    }),
  ),
];

/** A resource whose controller is absent must make create fail (cannot be applied). */
function absentControllerCase(id: string, section: string, controller: string, requirement: string, set: (r: Cfg) => void, v2File?: string): CaseDef {
  return {
    id,
    section,
    requirement,
    async run(ctx: CaseContext) {
      const present = ctx.host.cgroupMode === 'v2' ? !!v2File : !!v1Mount(ctx.host, controller);
      if (present) ctx.skip(`the ${controller} controller is present on this host; the suite checks only the case where it is not`);
      const cfg = ctx.baseConfig(['/probe', '--marker', '/ran']);
      set(cfg.linux.resources);
      const b = ctx.makeBundle(cfg);
      const i = ctx.newId();
      const c = await ctx.create(i, b);
      ctx.observe('create.ok', ok(c));
      ctx.check(!ok(c), `create must fail: the ${controller} controller is not available, so the setting cannot be applied`);
    },
  };
}

export const cgroupCases: CaseDef[] = [
  {
    id: 'config-linux.cgroupsPath.absolute',
    section: S_PATH,
    requirement: 'An absolute cgroupsPath is taken relative to the cgroup mount point: the process is in exactly that cgroup in every hierarchy.',
    requires: (ctx) => (ctx.host.cgroupMode === 'none' ? 'no cgroups on this host' : null),
    async run(ctx: CaseContext) {
      const cfg = ctx.baseConfig();
      const abs = `/tsrun-conformance-${ctx.env.runTag}/abs-${ctx.ids.length}-${process.pid}`;
      cfg.linux.cgroupsPath = abs;
      const { pid } = await createOnly(ctx, cfg);
      const lines = parseCgroupLines(fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n'));
      const v1 = lines.filter((l) => l.id !== 0 && ctx.host.cgroupMounts.some((m) => !m.v2 && l.controllers.some((c) => m.controllers.includes(c))));
      const relevant = ctx.host.cgroupMode === 'v2' ? lines.filter((l) => l.id === 0) : v1;
      ctx.check(relevant.length > 0, 'the process must be in cgroups', { actual: lines });
      for (const l of relevant) ctx.equal(l.path, abs, `cgroup of ${l.controllers.join(',') || 'unified'}`);
    },
  },
  {
    id: 'config-linux.cgroupsPath.consistent',
    section: S_PATH,
    requirement: 'The same cgroupsPath always leads to the same place in the hierarchy (two containers, one after the other).',
    async run(ctx: CaseContext) {
      const rel = `tsrun-conformance-${ctx.env.runTag}/consistent-${process.pid}`;
      const paths: string[][] = [];
      for (let i = 0; i < 2; i++) {
        const cfg = ctx.baseConfig();
        cfg.linux.cgroupsPath = rel;
        const { id, pid } = await createOnly(ctx, cfg);
        paths.push(fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n').filter((x) => x).sort());
        await ctx.delete(id, true);
      }
      ctx.equal(paths[1], paths[0], 'both containers must be placed in the same cgroups');
    },
  },
  {
    id: 'config-linux.cgroups.process-in-cgroup',
    section: S_CG,
    requirement: 'The container process is a member (cgroup.procs) of the container cgroup of each v1 controller the runtime uses.',
    requires: (ctx) => (ctx.host.cgroupMode === 'v2' || ctx.host.cgroupMode === 'none' ? 'checked on cgroup v1 hosts' : null),
    async run(ctx: CaseContext) {
      const cfg = ctx.baseConfig();
      cfg.linux.resources = { memory: { limit: 64 * MiB }, pids: { limit: 100 }, cpu: { shares: 512 }, devices: cfg.linux.resources.devices };
      const { pid } = await createOnly(ctx, cfg);
      for (const c of ['memory', 'pids', 'cpu', 'devices']) {
        const dir = containerCgroupDir(ctx, pid, c);
        const procs = (readTrim(path.join(dir, 'cgroup.procs')) ?? '').split('\n');
        ctx.check(procs.includes(String(pid)), `pid ${pid} must be in ${c} cgroup.procs`, { actual: procs });
        ctx.check(dir.includes(`tsrun-conformance-${ctx.env.runTag}`), `the ${c} cgroup must be the configured one`, { actual: dir });
      }
    },
  },
  ...resourceCases,
  absentControllerCase('config-linux.resources.hugepageLimits.no-controller', 'config-linux.md#configLinuxHugePageLimits', 'hugetlb', 'Huge page limits need the hugetlb controller; where it is absent they cannot be applied, so create fails.', (r) => (r.hugepageLimits = [{ pageSize: '2MB', limit: 2 * MiB }]), 'hugetlb.2MB.max'),
  absentControllerCase('config-linux.resources.network.no-controller', 'config-linux.md#configLinuxNetwork', 'net_cls', 'network.classID needs the net_cls controller; where it is absent it cannot be applied, so create fails.', (r) => (r.network = { classID: 1048577 })),
  {
    id: 'config-linux.resources.unified.v1-host',
    section: 'config-linux.md#configLinuxUnified',
    requirement: 'unified settings refer to cgroup v2 controllers; where the controller is not present in the unified hierarchy, create fails.',
    async run(ctx: CaseContext) {
      const v2 = ctx.host.cgroupMounts.find((m) => m.v2);
      if (v2 && v2.controllers.includes('pids')) ctx.skip('the pids controller is available in the unified hierarchy here');
      const cfg = ctx.baseConfig();
      cfg.linux.resources.unified = { 'pids.max': '42' };
      const b = ctx.makeBundle(cfg);
      const c = await ctx.create(ctx.newId(), b);
      ctx.observe('create.ok', ok(c));
      ctx.check(!ok(c), 'create must fail: pids is not a controller of the unified hierarchy on this host');
    },
  },
];
