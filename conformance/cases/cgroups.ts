// config-linux.md control groups: cgroupsPath and each resource, read from
// the host side while the container is created.
import * as fs from 'fs';
import * as path from 'path';
import { CaseDef } from '../lib/case';
import { CaseContext } from '../lib/context';
import { v1Mount } from '../lib/host';
import { parseCgroupLines } from '../lib/probe';
import { describe, ok } from '../lib/runtime';
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
  /** the file(s) that hold the setting; the first one the container's cgroup has is read */
  file: string | string[];
  /** may skip (ctx.skip) when this host leaves no value to choose that a new cgroup would not have anyway */
  set: (r: Cfg, ctx: CaseContext) => void;
  want: (ctx: CaseContext) => string | RegExp;
  /** a cgroupsPath of its own (default: the run's nested one) */
  cgroupsPath?: (ctx: CaseContext) => string;
}

function rmdirQuiet(dir: string): void {
  try {
    fs.rmdirSync(dir);
  } catch {
    /* gone, or the run's sweep removes it */
  }
}

let scratchCount = 0;

/**
 * What a cgroup made next to the container's starts with in `file`: the
 * value the container's cgroup would have had if the runtime had written
 * nothing. A new v1 cpuset starts empty and runtimes copy cpus and mems from
 * the parent into it, so for cpuset files that is the parent's value.
 */
function inheritedValue(ctx: CaseContext, containerDir: string, controller: string, file: string): string | null {
  const parent = path.dirname(containerDir);
  if (controller === 'cpuset') return readTrim(path.join(parent, file));
  const dir = path.join(parent, `tsrun-conformance-${ctx.env.runTag}-new${process.pid}-${++scratchCount}`);
  try {
    fs.mkdirSync(dir);
  } catch {
    return null;
  }
  ctx.onCleanup(() => rmdirQuiet(dir));
  try {
    return readTrim(path.join(dir, file));
  } finally {
    rmdirQuiet(dir);
  }
}

/** Which of files a new cgroup of this controller has on this kernel (made and removed by the suite). */
function filesOfNewCgroup(ctx: CaseContext, controller: string, files: string[]): string[] {
  const m = v1Mount(ctx.host, controller);
  if (!m) return [];
  const dir = path.join(m, ctx.host.ownCgroup[controller] ?? '/', `tsrun-conformance-${ctx.env.runTag}-new${process.pid}-${++scratchCount}`);
  try {
    fs.mkdirSync(dir);
  } catch {
    return [];
  }
  ctx.onCleanup(() => rmdirQuiet(dir));
  try {
    return files.filter((f) => fs.existsSync(path.join(dir, f)));
  } finally {
    rmdirQuiet(dir);
  }
}

function lastLine(s: string): string {
  const l = s.trim().split('\n').pop() ?? '';
  return l.length > 240 ? `…${l.slice(-240)}` : l;
}

function wantMatches(got: string | null, want: string | RegExp): boolean {
  return got !== null && (typeof want === 'string' ? got === want : want.test(got));
}

/**
 * A resource reaches the container's own cgroup: the case creates the
 * container and reads the file in the cgroup the container process is in,
 * and the value it asks for is one that a new cgroup would not have anyway.
 * Whether the kernel has the file at all is decided in that cgroup (many
 * files, blkio.bfq.weight among them, exist only below the root): when it
 * lacks every candidate the case is skipped with that reason.
 */
function resourceCase(d: ResCase): CaseDef {
  const files = Array.isArray(d.file) ? d.file : [d.file];
  const where = `${files.join(' or ')} of the ${d.controller} controller`;
  const makeConfig = (ctx: CaseContext): Cfg => {
    const cfg = ctx.baseConfig();
    cfg.linux.resources = cfg.linux.resources ?? {};
    d.set(cfg.linux.resources, ctx);
    if (d.cgroupsPath) cfg.linux.cgroupsPath = d.cgroupsPath(ctx);
    return cfg;
  };
  /** create; on failure, skip when a new cgroup here lacks every candidate file (the setting cannot be applied on this kernel) */
  const createOrSkip = async (ctx: CaseContext, cfg: Cfg) => {
    const b = ctx.makeBundle(cfg);
    const id = ctx.newId();
    const c = await ctx.create(id, b);
    ctx.observe('create.ok', ok(c));
    if (!ok(c)) {
      if (filesOfNewCgroup(ctx, d.controller, files).length === 0) {
        ctx.skip(`a new cgroup on this kernel has no ${where}, so the setting cannot be applied here (create failed: ${lastLine(c.stderr) || describe(c)})`);
      }
      ctx.fatal(`create failed: ${describe(c)}`);
    }
    const st = await ctx.stateOf(id);
    const pid = st && typeof st.pid === 'number' ? st.pid : 0;
    const dir = containerCgroupDir(ctx, pid, d.controller);
    return { dir, file: files.find((x) => fs.existsSync(path.join(dir, x))) ?? null };
  };
  return {
    id: d.id,
    section: d.section,
    since: d.since,
    requirement: d.requirement,
    requires(ctx) {
      if (ctx.host.cgroupMode === 'v2') return 'the suite checks resource files of cgroup v1; this host is cgroup v2';
      if (!v1Mount(ctx.host, d.controller)) return `the ${d.controller} controller is not mounted on this host`;
      return null;
    },
    async run(ctx: CaseContext) {
      const cfg = makeConfig(ctx);
      const want = d.want(ctx);
      const { dir, file } = await createOrSkip(ctx, cfg);
      if (!file) ctx.skip(`the container's cgroup (${dir}) has no ${where} on this kernel`);
      const inherited = inheritedValue(ctx, dir, d.controller, file);
      if (wantMatches(inherited, want)) ctx.skip(`a new cgroup here already has ${file} = ${JSON.stringify(inherited)}: the case cannot tell whether the setting was applied`);
      ctx.note(`${file} of a new cgroup here: ${JSON.stringify(inherited)}`);
      const got = readTrim(path.join(dir, file));
      ctx.observe(file, got);
      if (typeof want === 'string') ctx.equal(got, want, `${d.controller}/${file} of the container's cgroup`);
      else ctx.check(wantMatches(got, want), `${d.controller}/${file} of the container's cgroup must match ${want}`, { actual: got });
    },
    // a runtime the property is unknown to must ignore it: create succeeds
    runUnknown: d.since
      ? async (ctx: CaseContext) => {
          const cfg = makeConfig(ctx);
          const b = ctx.makeBundle(cfg);
          const c = await ctx.create(ctx.newId(), b);
          ctx.observe('create.ok', ok(c));
          ctx.check(ok(c), 'create must succeed: an unknown property is ignored, not an error', { actual: describe(c).slice(0, 300) });
          if (!ok(c)) return;
          const st = await ctx.stateOf(ctx.ids[ctx.ids.length - 1]);
          const dir = containerCgroupDir(ctx, st && typeof st.pid === 'number' ? st.pid : 0, d.controller);
          const file = files.find((x) => fs.existsSync(path.join(dir, x)));
          if (file) ctx.observe(file, readTrim(path.join(dir, file)));
        }
      : undefined,
  };
}

/** The CPUs or memory nodes (a cpuset list) a new cpuset of the runtime inherits: the suite's own cpuset's. */
function inheritedCpuset(ctx: CaseContext, what: 'cpus' | 'mems'): number[] {
  const m = v1Mount(ctx.host, 'cpuset');
  if (!m) ctx.skip('the cpuset controller is not mounted on this host');
  const dir = path.join(m, ctx.host.ownCgroup['cpuset'] ?? '/');
  const v = readTrim(path.join(dir, `cpuset.effective_${what}`)) || readTrim(path.join(dir, `cpuset.${what}`)) || '';
  const out: number[] = [];
  for (const part of v.split(',').filter((x) => x)) {
    const [a, b] = part.split('-').map(Number);
    for (let i = a; i <= (b ?? a); i++) out.push(i);
  }
  return out;
}

/** One CPU (or node) alone: the last of the inherited set, so that it differs from what a new cpuset gets anyway. */
function differingCpuset(ctx: CaseContext, what: 'cpus' | 'mems'): string {
  const all = inheritedCpuset(ctx, what);
  const name = what === 'cpus' ? 'CPU' : 'memory node';
  if (all.length < 2) {
    ctx.skip(`this host has one ${name} (cpuset.${what} ${JSON.stringify(all.join(','))}) and a new cpuset inherits it: no value differing from the inherited one can be chosen, so the case cannot tell whether cpu.${what} was applied`);
  }
  return String(all[all.length - 1]);
}

/** A block device whose I/O scheduler is BFQ (per-device weights need it on a kernel without CFQ). */
function bfqDevice(): { name: string; major: number; minor: number } | null {
  let names: string[] = [];
  try {
    names = fs.readdirSync('/sys/block');
  } catch {
    return null;
  }
  for (const n of names.sort()) {
    const sched = readTrim(`/sys/block/${n}/queue/scheduler`) ?? '';
    const dev = /^(\d+):(\d+)$/.exec(readTrim(`/sys/block/${n}/dev`) ?? '');
    if (dev && /\[bfq\]/.test(sched)) return { name: n, major: Number(dev[1]), minor: Number(dev[2]) };
  }
  return null;
}

/** The device for a weightDevice entry: one on BFQ, or the host's first disk where the kernel has CFQ's blkio.weight_device. */
function weightDevice(ctx: CaseContext): { major: number; minor: number } {
  const bfq = bfqDevice();
  if (bfq) return bfq;
  const m = v1Mount(ctx.host, 'blkio');
  if (m && ctx.host.blockDevice && fs.existsSync(path.join(m, 'blkio.weight_device'))) return ctx.host.blockDevice;
  const scheds = (() => {
    try {
      return fs
        .readdirSync('/sys/block')
        .filter((n) => !/^(loop|ram)/.test(n))
        .map((n) => `${n}: ${readTrim(`/sys/block/${n}/queue/scheduler`) ?? 'no scheduler'}`)
        .join('; ');
    } catch {
      return 'none';
    }
  })();
  ctx.skip(`no block device uses the BFQ scheduler (${scheds}) and this kernel has no CFQ blkio.weight_device: a per-device weight cannot be applied on this host`);
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
  resourceCase({ id: 'config-linux.resources.cpu.cpus', section: S_CPU, requirement: 'cpu.cpus sets the CPUs of the container cpuset (one CPU alone, not the set a new cpuset inherits).', controller: 'cpuset', file: 'cpuset.cpus', set: (r, ctx) => (r.cpu = { cpus: differingCpuset(ctx, 'cpus') }), want: (ctx) => differingCpuset(ctx, 'cpus') }),
  resourceCase({ id: 'config-linux.resources.cpu.mems', section: S_CPU, requirement: 'cpu.mems sets the memory nodes of the container cpuset (one node alone, not the set a new cpuset inherits).', controller: 'cpuset', file: 'cpuset.mems', set: (r, ctx) => (r.cpu = { mems: differingCpuset(ctx, 'mems') }), want: (ctx) => differingCpuset(ctx, 'mems') }),
  resourceCase({ id: 'config-linux.resources.cpu.idle', section: S_CPU, since: '1.1.0', requirement: 'cpu.idle 1 makes the container cgroup SCHED_IDLE.', controller: 'cpu', file: 'cpu.idle', set: (r) => (r.cpu = { idle: 1 }), want: () => '1' }),
  resourceCase({ id: 'config-linux.resources.cpu.burst', section: S_CPU, since: '1.1.0', requirement: 'cpu.burst sets the CFS burst of the container cgroup.', controller: 'cpu', file: 'cpu.cfs_burst_us', set: (r) => (r.cpu = { quota: 50000, period: 100000, burst: 10000 }), want: () => '10000' }),
  resourceCase({ id: 'config-linux.resources.pids.limit', section: S_PIDS, requirement: 'pids.limit sets the task limit of the container cgroup.', controller: 'pids', file: 'pids.max', set: (r) => (r.pids = { limit: 42 }), want: () => '42' }),
  resourceCase({ id: 'config-linux.resources.blockIO.weight', section: S_BLK, requirement: 'blockIO.weight sets the block I/O weight of the container cgroup (blkio.weight, or blkio.bfq.weight where the kernel has only BFQ).', controller: 'blkio', file: ['blkio.weight', 'blkio.bfq.weight'], set: (r) => (r.blockIO = { weight: 300 }), want: () => /(^|\s)300$/ }),
  resourceCase({ id: 'config-linux.resources.blockIO.leafWeight', section: S_BLK, requirement: 'blockIO.leafWeight sets the leaf weight of the container cgroup (blkio.leaf_weight, a file of the CFQ scheduler only).', controller: 'blkio', file: 'blkio.leaf_weight', set: (r) => (r.blockIO = { leafWeight: 300 }), want: () => '300' }),
  resourceCase({
    id: 'config-linux.resources.blockIO.weightDevice',
    section: S_BLK,
    requirement: 'blockIO.weightDevice sets the weight of one device in the container cgroup (blkio.weight_device, or blkio.bfq.weight_device for a device on BFQ).',
    controller: 'blkio',
    file: ['blkio.weight_device', 'blkio.bfq.weight_device'],
    set: (r, ctx) => {
      const dev = weightDevice(ctx);
      r.blockIO = { weightDevice: [{ major: dev.major, minor: dev.minor, weight: 300 }] };
    },
    want: (ctx) => {
      const dev = weightDevice(ctx);
      return new RegExp(`^${dev.major}:${dev.minor} 300$`, 'm');
    },
  }),
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
