// features.md / features-linux.md: the document is valid, and what it claims works.
import * as fs from 'fs';
import * as path from 'path';
import { CaseDef } from '../lib/case';
import { CaseContext, FeaturesDoc } from '../lib/context';
import { setNamespace } from '../lib/config';
import { CAPABILITIES, capsFromHex, nsInode } from '../lib/probe';
import { describe, ok } from '../lib/runtime';
import { Cfg, compareSemver, parseSemver } from '../lib/util';
import { createOnly, readTrim } from './helpers';
import { HOOK_KINDS, hookEntry, hookOrder, withHookMount } from './hooks';

const S_F = 'features.md#features';
const TOP_KEYS = ['ociVersionMin', 'ociVersionMax', 'hooks', 'mountOptions', 'linux', 'annotations', 'potentiallyUnsafeConfigAnnotations'];
const LINUX_KEYS = ['namespaces', 'capabilities', 'cgroup', 'seccomp', 'apparmor', 'selinux', 'intelRdt', 'mountExtensions', 'netDevices', 'memoryPolicy'];

function need(ctx: CaseContext): FeaturesDoc {
  const f = ctx.features;
  if (!f) ctx.fatal(`the features operation gave no JSON object (${ctx.info.featuresRaw ? describe(ctx.info.featuresRaw) : 'not run'})`);
  return f;
}

function claimed(ctx: CaseContext, get: (f: FeaturesDoc) => unknown): string[] | null {
  const f = ctx.features;
  if (!f) return null;
  const v = get(f);
  return Array.isArray(v) ? (v as string[]) : null;
}

const NS_FILE: Record<string, string> = { pid: 'pid', network: 'net', ipc: 'ipc', uts: 'uts', mount: 'mnt', user: 'user', cgroup: 'cgroup', time: 'time' };

const CGROUP_KEYS = ['v1', 'v2', 'systemd', 'systemdUser', 'rdma'];
const MiB = 1024 * 1024;

/**
 * A claimed cgroup manager at work: the memory, cpu and pids settings of a
 * container reach the files of its own cgroup on this host.
 */
async function cgroupClaimAtWork(ctx: CaseContext, version: 'v1' | 'v2'): Promise<void> {
  const cfg = ctx.baseConfig();
  cfg.linux.resources = { ...cfg.linux.resources, memory: { limit: 64 * MiB }, cpu: { shares: 512 }, pids: { limit: 42 } };
  const { pid } = await createOnly(ctx, cfg);
  const dirs = ctx.cgroupDirsOf(pid);
  const want: [string, string, string][] =
    version === 'v1'
      ? [
          ['memory', 'memory.limit_in_bytes', String(64 * MiB)],
          ['cpu', 'cpu.shares', '512'],
          ['pids', 'pids.max', '42'],
        ]
      : [
          ['unified', 'memory.max', String(64 * MiB)],
          ['unified', 'pids.max', '42'],
        ];
  for (const [ctrl, file, value] of want) {
    const dir = dirs[ctrl];
    if (!dir) {
      ctx.check(false, `cgroup ${version} is claimed, but the container process is in no ${ctrl} cgroup`, { actual: dirs });
      continue;
    }
    ctx.check(dir.includes(`tsrun-conformance-${ctx.env.runTag}`), `the ${ctrl} cgroup must be the container's own`, { actual: dir });
    const got = readTrim(path.join(dir, file));
    ctx.observe(`${version}.${file}`, got);
    ctx.equal(got, value, `cgroup ${version} is claimed: ${file} of the container's cgroup`);
  }
}

export const featureCases: CaseDef[] = [
  {
    id: 'features.document',
    section: S_F,
    requirement: 'The features operation prints a JSON object whose ociVersionMin and ociVersionMax are SemVer strings, max not below min.',
    async run(ctx: CaseContext) {
      const f = need(ctx);
      ctx.check(typeof f.ociVersionMin === 'string' && !!parseSemver(f.ociVersionMin), 'ociVersionMin must be a SemVer string', { actual: f.ociVersionMin });
      ctx.check(typeof f.ociVersionMax === 'string' && !!parseSemver(f.ociVersionMax), 'ociVersionMax must be a SemVer string', { actual: f.ociVersionMax });
      if (parseSemver(String(f.ociVersionMin)) && parseSemver(String(f.ociVersionMax))) {
        ctx.check(compareSemver(String(f.ociVersionMax), String(f.ociVersionMin)) >= 0, 'ociVersionMax must not be less than ociVersionMin');
      }
      ctx.observe('versions', [f.ociVersionMin, f.ociVersionMax]);
    },
  },
  {
    id: 'features.known-properties',
    section: 'features.md#featuresSpecificationVersion',
    requirement: 'The features document contains only properties the spec defines.',
    async run(ctx: CaseContext) {
      const f = need(ctx);
      ctx.equal(Object.keys(f).filter((k) => !TOP_KEYS.includes(k)), [], 'unknown top-level properties');
      if (f.linux && typeof f.linux === 'object') ctx.equal(Object.keys(f.linux).filter((k) => !LINUX_KEYS.includes(k)), [], 'unknown linux properties');
    },
  },
  ...(['ociVersionMin', 'ociVersionMax'] as const).map(
    (k): CaseDef => ({
      id: `features.${k}-accepted`,
      section: 'features.md#featuresSpecificationVersion',
      requirement: `A config whose ociVersion is the features document's ${k} is accepted.`,
      async run(ctx: CaseContext) {
        const f = need(ctx);
        if (typeof f[k] !== 'string') ctx.fatal(`${k} missing`);
        const cfg = ctx.baseConfig();
        cfg.ociVersion = f[k];
        const r = await ctx.probeReport(cfg);
        ctx.equal(r.argv[0], '/probe', 'the container must run');
      },
    }),
  ),
  {
    id: 'features.hooks',
    section: 'features.md#featuresHooks',
    requirement: 'Every hook kind the features document lists is supported: each runs once over a full lifecycle.',
    async run(ctx: CaseContext) {
      const hooks = claimed(ctx, (f) => f.hooks);
      if (!hooks) ctx.skip('the features document lists no hooks');
      const cfg = ctx.baseConfig(['/probe', '--sleep', '1']);
      cfg.hooks = {};
      for (const h of hooks) {
        if (!(HOOK_KINDS as readonly string[]).includes(h)) {
          ctx.check(false, `unknown hook kind claimed: ${h}`);
          continue;
        }
        cfg.hooks[h] = [hookEntry(ctx, h as (typeof HOOK_KINDS)[number], h)];
      }
      withHookMount(ctx, cfg);
      const b = ctx.makeBundle(cfg);
      const id = ctx.newId();
      const c = await ctx.create(id, b);
      if (!ok(c)) ctx.fatal(`create failed: ${describe(c)}`);
      const s = await ctx.start(id);
      if (!ok(s)) ctx.fatal(`start failed: ${describe(s)}`);
      await ctx.waitStopped(id);
      await ctx.delete(id);
      const ran = hookOrder(ctx);
      for (const h of hooks) ctx.check(ran.filter((x) => x === h).length === 1, `claimed hook ${h} must run once`, { actual: ran });
    },
  },
  {
    id: 'features.namespaces',
    section: 'features-linux.md#linuxFeaturesNamespaces',
    requirement: 'Every namespace type the features document lists can be requested: the process gets a new namespace of that type.',
    async run(ctx: CaseContext) {
      const list = claimed(ctx, (f) => f.linux?.namespaces);
      if (!list) ctx.skip('the features document lists no namespaces');
      for (const t of list) {
        if (!NS_FILE[t]) {
          ctx.check(false, `unknown namespace type claimed: ${t}`);
          continue;
        }
        if (t === 'time' && !ctx.host.timeNamespace) continue;
        const cfg = ctx.baseConfig();
        setNamespace(cfg, t);
        if (t === 'user') {
          cfg.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
          cfg.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
          cfg.mounts = cfg.mounts.filter((m: Cfg) => m.destination !== '/sys/fs/cgroup');
        }
        const run = await ctx.probe(cfg, [], { allowCreateFailure: true, allowStartFailure: true });
        if (!run.report) {
          ctx.check(false, `namespace ${t}: no container (${ok(run.create) ? run.extract.error : describe(run.create)})`);
          continue;
        }
        const ino = nsInode(run.report.ns[NS_FILE[t]]);
        ctx.check(ino !== null && ino !== ctx.host.ns[NS_FILE[t]], `namespace ${t} must be new`);
      }
    },
  },
  {
    id: 'features.capabilities',
    section: 'features-linux.md#linuxFeaturesCapabilities',
    requirement: 'Every capability the features document lists (and the kernel knows) can be kept: all of them end up in the bounding set.',
    async run(ctx: CaseContext) {
      const list = claimed(ctx, (f) => f.linux?.capabilities);
      if (!list) ctx.skip('the features document lists no capabilities');
      let last = CAPABILITIES.length - 1;
      try {
        last = Number(fs.readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8').trim());
      } catch {
        /* keep */
      }
      const known = list.filter((c) => {
        const i = CAPABILITIES.indexOf(c);
        return i >= 0 && i <= last && ctx.host.caps.includes(c);
      });
      const cfg = ctx.baseConfig();
      cfg.process.capabilities = { bounding: known, permitted: known, effective: known };
      const r = await ctx.probeReport(cfg);
      const bnd = capsFromHex(r.caps.bounding);
      ctx.equal(known.filter((c) => !bnd.includes(c)), [], 'claimed capabilities missing from the bounding set');
    },
  },
  {
    id: 'features.mountOptions',
    section: 'features.md#featuresMountOptions',
    requirement: 'Every mount option the features document lists is recognized: a bind or tmpfs mount using it can be created.',
    timeout: 240,
    async run(ctx: CaseContext) {
      const list = claimed(ctx, (f) => f.mountOptions);
      if (!list) ctx.skip('the features document lists no mount options');
      const src = ctx.path('mopt-src');
      fs.mkdirSync(src);
      const bindish = /^(r?bind|r?(shared|slave|private|unbindable)|r(ro|rw|suid|nosuid|dev|nodev|exec|noexec|atime|noatime|diratime|nodiratime|relatime|norelatime|strictatime|nostrictatime|symfollow|nosymfollow)|r?idmap)$/;
      const failed: string[] = [];
      for (const o of list) {
        if (o === 'remount' || o === 'idmap' || o === 'ridmap' || o === 'mand') continue;
        const cfg = ctx.baseConfig();
        cfg.mounts.push(
          bindish.test(o)
            ? { destination: '/mnt/o', type: 'bind', source: src, options: o.includes('bind') ? [o] : ['rbind', o] }
            : { destination: '/mnt/o', type: 'tmpfs', source: 'tmpfs', options: [o, 'size=1m'] },
        );
        const b = ctx.makeBundle(cfg);
        const id = ctx.newId();
        const c = await ctx.create(id, b);
        if (!ok(c)) failed.push(`${o}: ${c.stderr.trim().split("\n").pop()?.slice(-220)}`);
        else await ctx.delete(id, true);
        fs.rmSync(b.dir, { recursive: true, force: true });
      }
      ctx.equal(failed, [], 'claimed mount options that could not be used');
    },
  },
  {
    id: 'features.seccomp.actions',
    section: 'features-linux.md#linuxFeaturesSeccomp',
    requirement: 'Every seccomp action the features document lists is accepted in a rule.',
    async run(ctx: CaseContext) {
      const list = claimed(ctx, (f) => f.linux?.seccomp?.actions);
      if (!list) ctx.skip('the features document lists no seccomp actions');
      const failed: string[] = [];
      for (const a of list) {
        if (a === 'SCMP_ACT_NOTIFY') continue; // needs an agent: config-linux.seccomp.notify
        const cfg = ctx.baseConfig();
        cfg.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['acct'], action: a }] };
        const b = ctx.makeBundle(cfg);
        const id = ctx.newId();
        const c = await ctx.create(id, b);
        if (!ok(c)) failed.push(`${a}: ${c.stderr.trim().split("\n").pop()?.slice(-220)}`);
        else await ctx.delete(id, true);
      }
      ctx.equal(failed, [], 'claimed seccomp actions that were refused');
    },
  },
  {
    id: 'features.seccomp.operators',
    section: 'features-linux.md#linuxFeaturesSeccomp',
    requirement: 'Every seccomp argument operator the features document lists is accepted.',
    async run(ctx: CaseContext) {
      const list = claimed(ctx, (f) => f.linux?.seccomp?.operators);
      if (!list) ctx.skip('the features document lists no seccomp operators');
      const cfg = ctx.baseConfig();
      cfg.linux.seccomp = {
        defaultAction: 'SCMP_ACT_ALLOW',
        syscalls: list.map((op, i) => ({ names: ['acct'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: i + 1, valueTwo: op === 'SCMP_CMP_MASKED_EQ' ? i + 1 : 0, op }] })),
      };
      const r = await ctx.probeReport(cfg);
      ctx.equal(r.seccomp, 2, 'the filter must be installed');
    },
  },
  {
    id: 'features.seccomp.archs',
    section: 'features-linux.md#linuxFeaturesSeccomp',
    requirement: 'The seccomp architectures the features document lists for this host\'s family (e.g. x86_64, x86, x32) are accepted together in a filter that works.',
    async run(ctx: CaseContext) {
      const all = claimed(ctx, (f) => f.linux?.seccomp?.archs);
      if (!all) ctx.skip('the features document lists no seccomp architectures');
      // one filter can only hold architectures of the host's family (libseccomp refuses mixing endianness)
      const family: Record<string, string[]> = { x64: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'], arm64: ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM'] };
      const list = all.filter((a) => (family[process.arch] ?? []).includes(a));
      if (list.length === 0) ctx.skip(`no claimed architecture of this host's family (${process.arch})`);
      const cfg = ctx.baseConfig();
      cfg.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', architectures: list, syscalls: [{ names: ['personality'], action: 'SCMP_ACT_ERRNO' }] };
      const r = await ctx.probeReport(cfg, ['--syscall', 'personality-query']);
      ctx.equal(r.checks.find((c) => c.path === 'personality-query')?.errno, 'EPERM', 'the filter must work');
    },
  },
  {
    id: 'features.cgroup',
    section: 'features-linux.md#linuxFeaturesCgroup',
    requirement:
      'The cgroup object holds only the booleans the spec defines, and a claimed manager works: where the host has the claimed cgroup version, a container\'s memory, cpu and pids settings reach the files of its own cgroup.',
    async run(ctx: CaseContext) {
      const f = need(ctx);
      const cg = f.linux && typeof f.linux === 'object' ? (f.linux as Cfg).cgroup : undefined;
      if (cg === undefined || cg === null) ctx.skip('the features document has no linux.cgroup');
      if (typeof cg !== 'object' || Array.isArray(cg)) ctx.fatal('linux.cgroup must be an object', { actual: cg });
      ctx.equal(Object.keys(cg).filter((k) => !CGROUP_KEYS.includes(k)), [], 'unknown linux.cgroup properties');
      for (const [k, v] of Object.entries(cg)) ctx.check(typeof v === 'boolean', `linux.cgroup.${k} must be a boolean`, { actual: v });
      let checked = 0;
      const mode = ctx.host.cgroupMode;
      if (cg.v1 === true && (mode === 'v1' || mode === 'hybrid')) {
        await cgroupClaimAtWork(ctx, 'v1');
        checked++;
      } else if (cg.v2 === true && mode === 'v2') {
        await cgroupClaimAtWork(ctx, 'v2');
        checked++;
      }
      if (cg.v2 === true && mode !== 'v2') ctx.note(`v2 is claimed; not checked here: this host is cgroup ${mode}${mode === 'hybrid' ? ' and its unified hierarchy has no controllers' : ''}`);
      if (cg.v1 === true && mode === 'v2') ctx.note('v1 is claimed; not checked here: this host is cgroup v2');
      for (const k of ['systemd', 'systemdUser']) {
        if (cg[k] === true) ctx.note(`${k} is claimed; not checked: the systemd manager is chosen by a runtime option (runc --systemd-cgroup), not by the config${fs.existsSync('/run/systemd/system') ? '' : ', and this host does not run systemd'}`);
      }
      if (cg.rdma === true) {
        const hasRdma = ctx.host.cgroupMounts.some((m) => m.controllers.includes('rdma'));
        ctx.note(`rdma is claimed; not checked: ${hasRdma ? 'the suite has no RDMA device to limit' : 'this host has no rdma controller'}`);
      }
      if (checked === 0) ctx.skip(`no claimed cgroup manager can be checked on this cgroup ${mode} host (claims: ${JSON.stringify(cg)})`);
    },
  },
];
