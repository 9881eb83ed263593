// Shapes shared by many cases: "run the probe under a mutated config and
// check what it saw", and "this config must make create fail, leaving nothing".
import * as fs from 'fs';
import * as path from 'path';
import { CaseDef } from '../lib/case';
import { Bundle, CaseContext, ProbeOpts, ProbeRun } from '../lib/context';
import { v1Mount } from '../lib/host';
import { findCheck, parseMountinfo, ProbeCheck, ProbeReport, mountAt, MountEntry } from '../lib/probe';
import { describe, ok } from '../lib/runtime';
import { Cfg, pidAlive } from '../lib/util';

type Meta = Omit<CaseDef, 'run'>;

export interface ProbeCaseDef extends Meta {
  mutate?: (cfg: Cfg, ctx: CaseContext) => void | Promise<void>;
  args?: string[] | ((ctx: CaseContext) => string[]);
  opts?: ProbeOpts | ((ctx: CaseContext) => ProbeOpts);
  expect: (r: ProbeReport, ctx: CaseContext) => void | Promise<void>;
}

/** Run the probe under a mutated base config and check its report. */
export function probeCase(d: ProbeCaseDef): CaseDef {
  const { mutate, args, opts, expect, ...meta } = d;
  return {
    ...meta,
    async run(ctx: CaseContext) {
      const cfg = ctx.baseConfig();
      if (mutate) await mutate(cfg, ctx);
      const a = typeof args === 'function' ? args(ctx) : args ?? [];
      const o = typeof opts === 'function' ? opts(ctx) : opts ?? {};
      const r = await ctx.probeReport(cfg, a, o);
      await expect(r, ctx);
    },
  };
}

export interface FailCaseDef extends Meta {
  mutate: (cfg: Cfg, ctx: CaseContext, bundle: () => Bundle) => void | Promise<void>;
  /** prepare the bundle on disk after it was written (files in rootfs etc.) */
  prepare?: (b: Bundle, ctx: CaseContext) => void | Promise<void>;
}

/** Expected cgroup directories of a container id made by this suite (relative default path). */
export function cgroupCandidates(ctx: CaseContext, id: string): string[] {
  const out: string[] = [];
  const rel = ctx.cgroupsPathFor(id);
  for (const m of ctx.host.cgroupMounts) {
    out.push(path.join(m.mountPoint, rel));
    for (const own of new Set(Object.values(ctx.host.ownCgroup))) out.push(path.join(m.mountPoint, own, rel));
  }
  return [...new Set(out)];
}

/** After a failed operation: the container must not exist and nothing of it may remain. */
export async function expectNoContainer(ctx: CaseContext, id: string, b: Bundle | null, what: string): Promise<void> {
  const st = await ctx.state(id);
  ctx.check(!ok(st), `${what}: \`state ${id}\` must fail because no container may have been created`, { actual: st.stdout.trim().slice(0, 300) });
  if (ok(st)) {
    try {
      const pid = JSON.parse(st.stdout).pid;
      if (typeof pid === 'number' && pid > 0) ctx.check(!pidAlive(pid), `${what}: a container process (pid ${pid}) was left running`);
    } catch {
      /* not JSON */
    }
  }
  const left = cgroupCandidates(ctx, id).filter((d) => fs.existsSync(d));
  ctx.check(left.length === 0, `${what}: cgroups of the failed container were left behind`, { actual: left });
  if (b) {
    const mounts = parseMountinfo(fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')).filter(
      (m) => m.mountPoint === b.dir || m.mountPoint.startsWith(b.dir + '/'),
    );
    ctx.check(mounts.length === 0, `${what}: mounts were left in the runtime namespace`, { actual: mounts.map((m) => m.mountPoint) });
  }
}

/** This config must make create fail, and leave no container, process, cgroup or mount. */
export function createFailsCase(d: FailCaseDef): CaseDef {
  const { mutate, prepare, ...meta } = d;
  return {
    ...meta,
    async run(ctx: CaseContext) {
      const cfg = ctx.baseConfig(['/probe', '--marker', '/ran']);
      let bundleRef: Bundle | null = null;
      await mutate(cfg, ctx, () => {
        if (!bundleRef) throw new Error('bundle not made yet');
        return bundleRef;
      });
      const b = ctx.makeBundle(cfg);
      bundleRef = b;
      if (prepare) await prepare(b, ctx);
      const id = ctx.newId();
      const r = await ctx.create(id, b);
      ctx.observe('create.ok', ok(r));
      if (ok(r)) {
        ctx.check(false, 'create must fail for this config, but it succeeded');
        // see whether the program even runs, for the report
        const s = await ctx.start(id);
        if (ok(s)) ctx.note('the container also started');
        await ctx.delete(id, true);
        return;
      }
      await expectNoContainer(ctx, id, b, 'after the failed create');
      ctx.check(!fs.existsSync(path.join(b.rootfs, 'ran')), 'the user program ran although create failed');
    },
  };
}

export function checkOf(ctx: CaseContext, r: ProbeReport, op: string, p: string): ProbeCheck {
  const c = findCheck(r, op, p);
  if (!c) ctx.fatal(`probe did not report ${op} ${p}`);
  return c;
}

export function mountOf(ctx: CaseContext, r: ProbeReport, mp: string): MountEntry {
  const m = mountAt(parseMountinfo(r.mountinfo), mp);
  if (!m) ctx.fatal(`no mount at ${mp} inside the container`, { actual: parseMountinfo(r.mountinfo).map((x) => x.mountPoint) });
  return m;
}

/** Runs a container that keeps running (probe --sleep), returns after start. */
export async function startSleeper(
  ctx: CaseContext,
  cfg: Cfg,
  seconds = 60,
  extraArgs: string[] = [],
): Promise<{ id: string; bundle: Bundle; pid: number }> {
  cfg.process.args = ['/probe', '--sleep', String(seconds), ...extraArgs];
  const b = ctx.makeBundle(cfg);
  const id = ctx.newId();
  const c = await ctx.create(id, b);
  if (!ok(c)) ctx.fatal(`create failed: ${describe(c)}`);
  const st = await ctx.stateOf(id);
  const pid = st?.pid ?? 0;
  const s = await ctx.start(id);
  if (!ok(s)) ctx.fatal(`start failed: ${describe(s)}`);
  return { id, bundle: b, pid };
}

/** Creates (not starts) a container; aborts on failure. */
export async function createOnly(ctx: CaseContext, cfg: Cfg, o: ProbeOpts['create'] = {}): Promise<{ id: string; bundle: Bundle; pid: number; state: Cfg | null }> {
  const b = ctx.makeBundle(cfg);
  const id = ctx.newId();
  const c = await ctx.create(id, b, o);
  if (!ok(c)) ctx.fatal(`create failed: ${describe(c)}`);
  const st = await ctx.stateOf(id);
  return { id, bundle: b, pid: st && typeof st.pid === 'number' ? st.pid : 0, state: st };
}

/** The host directory of the container's cgroup for a v1 controller (or unified). */
export function containerCgroupDir(ctx: CaseContext, pid: number, controller: string): string {
  const dirs = ctx.cgroupDirsOf(pid);
  const d = dirs[controller];
  if (!d) {
    if (!v1Mount(ctx.host, controller)) ctx.skip(`the ${controller} cgroup controller is not mounted on this host`);
    ctx.fatal(`the container process is in no ${controller} cgroup`, { actual: dirs });
  }
  return d;
}

export function readTrim(p: string): string | null {
  try {
    return fs.readFileSync(p, 'utf8').trim();
  } catch {
    return null;
  }
}

export function requireV1(controller: string, file?: string) {
  return (ctx: CaseContext): string | null => {
    const m = v1Mount(ctx.host, controller);
    if (!m) return `the ${controller} controller is not mounted as cgroup v1 on this host`;
    if (file && !fs.existsSync(path.join(m, file))) return `this kernel has no ${controller} file ${file}`;
    return null;
  };
}

export function requireCap(cap: string) {
  return (ctx: CaseContext): string | null => (ctx.host.caps.includes(cap) ? null : `the suite runs without ${cap} on this host`);
}

export type { ProbeRun };
