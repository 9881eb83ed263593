// Runs the selected cases against the runtime under test (and the reference),
// prints TAP, the table by section and the closing line.
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { buildArtifacts } from './artifacts';
import { CaseAbort, CaseDef, CaseRun, CaseSkip } from './case';
import { applyAllowances, diffValues, DiffItem, normalizeReport, NormalizeCtx, replaceAll } from './compare';
import { CaseContext, cleanupAllSync, FeaturesDoc, RuntimeInfo, SuiteEnv, removeCgroupTree, unmountUnder } from './context';
import { readHostFacts, which } from './host';
import { conformanceDir, KnownFile, loadAllowances, loadKnown, matchesKnown, runtimeNameOf } from './known';
import { ProbeReport } from './probe';
import { killAllCommands, ok, Runtime } from './runtime';
import { closingLine, failingSections, ResultRow, sectionTable, TapWriter, totals } from './tap';
import { compareSemver, errMsg, parseSemver, releaseOf } from './util';
import type { Allowance } from './compare';

export interface SuiteOptions {
  runtime: string;
  runtimeName?: string;
  reference?: string;
  referenceName?: string;
  filter?: string;
  cases: CaseDef[];
  write: (s: string) => void;
  keep?: boolean;
  commandTimeoutMs?: number;
  cacheDir?: string;
}

export interface SuiteResult {
  rows: ResultRow[];
  exitCode: number;
}

/** Resolves --runtime: a path, or a name looked up in PATH; crun on a hybrid host gets the wrapper. */
export function resolveRuntime(spec: string, hybrid: boolean): { cmd: string[]; name: string } {
  const name = runtimeNameOf(spec);
  let bin = spec.includes('/') ? path.resolve(spec) : which(spec);
  if (!bin || !fs.existsSync(bin)) throw new Error(`runtime not found: ${spec}`);
  if (name === 'crun' && hybrid && !spec.endsWith('.sh')) {
    const wrapper = path.join(conformanceDir(), 'runtimes', 'crun-hybrid.sh');
    if (fs.existsSync(wrapper)) return { cmd: ['/bin/sh', wrapper, bin], name };
  }
  if (bin.endsWith('.sh')) return { cmd: ['/bin/sh', bin], name };
  return { cmd: [bin], name };
}

async function runtimeInfo(rt: Runtime, role: 'target' | 'reference'): Promise<RuntimeInfo> {
  const r = await rt.features();
  let features: FeaturesDoc | null = null;
  if (ok(r)) {
    try {
      const v = JSON.parse(r.stdout);
      if (v && typeof v === 'object' && !Array.isArray(v)) features = v as FeaturesDoc;
    } catch {
      features = null;
    }
  }
  const max = features && typeof features.ociVersionMax === 'string' && parseSemver(features.ociVersionMax) ? features.ociVersionMax : null;
  return { rt, role, features, featuresRaw: r, ociVersion: max ?? '1.0.2' };
}

function skipForVersion(c: CaseDef, info: RuntimeInfo): string | null {
  if (!c.since) return null;
  const max = info.features?.ociVersionMax;
  if (typeof max !== 'string' || !parseSemver(max)) return null;
  if (compareSemver(releaseOf(max), c.since) < 0) {
    return `the property was added in runtime-spec ${c.since}; the runtime's features document says ociVersionMax ${max}, so to it the property is unknown and must be ignored`;
  }
  return null;
}

async function runOne(c: CaseDef, info: RuntimeInfo, env: SuiteEnv, index: number): Promise<{ run: CaseRun; ctx: CaseContext }> {
  const t0 = Date.now();
  const ctx = new CaseContext(c.id, info, env, index);
  let status: CaseRun['status'] = 'pass';
  let skipReason: string | undefined;
  let unknownProperty: string | undefined;
  try {
    const vskip = skipForVersion(c, info);
    if (vskip && c.runUnknown) unknownProperty = vskip;
    if (vskip && !c.runUnknown) throw new CaseSkip(vskip);
    const r = c.requires?.(ctx);
    if (r) throw new CaseSkip(r);
    if (vskip) ctx.note(`${vskip}: checked only that it is ignored`);
    const limit = (c.timeout ?? 60) * 1000;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      vskip && c.runUnknown ? c.runUnknown(ctx) : c.run(ctx),
      new Promise<void>((_, rej) => {
        timer = setTimeout(() => rej(new CaseAbort(`case timed out after ${limit / 1000}s`)), limit);
      }),
    ]).finally(() => clearTimeout(timer));
  } catch (e) {
    if (e instanceof CaseSkip) {
      status = 'skip';
      skipReason = e.reason;
    } else if (e instanceof CaseAbort) {
      if (!ctx.failures.some((f) => f.message === e.message)) ctx.failures.push({ message: e.message });
    } else {
      ctx.failures.push({ message: `suite error: ${errMsg(e)}`, actual: e instanceof Error ? e.stack?.split('\n').slice(0, 4).join(' | ') : undefined });
    }
  } finally {
    try {
      await ctx.cleanup();
    } catch (e) {
      ctx.notes.push(`cleanup: ${errMsg(e)}`);
    }
  }
  if (status !== 'skip' && ctx.failures.length > 0) status = 'fail';
  return {
    run: { status, failures: ctx.failures, skipReason, notes: ctx.notes, observations: ctx.observations, ms: Date.now() - t0, unknownProperty },
    ctx,
  };
}

/** Normalizes a case's observations for comparison with another runtime's. */
export function normalizeObservations(obs: Record<string, unknown>, n: NormalizeCtx): Record<string, unknown> {
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return replaceAll(v, n.replacements);
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object') {
      const o: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) o[k] = walk(x);
      return o;
    }
    return v;
  };
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obs)) {
    if (k === 'probe' || k.startsWith('probe.')) out[k] = v ? normalizeReport(v as ProbeReport, n) : v;
    else out[k] = walk(v);
  }
  return out;
}

function normCtx(ctx: CaseContext, env: SuiteEnv): NormalizeCtx {
  const reps: [string, string][] = [
    [ctx.dir, '<case>'],
    [env.runDir, '<run>'],
    [ctx.rt.root, '<root>'],
  ];
  ctx.ids.forEach((id, i) => reps.push([id, `<id${i}>`]));
  reps.push([`tsrun-conformance-${env.runTag}`, 'tsrun-conformance-<tag>']);
  return { hostNs: env.host.ns, nsLabels: ctx.nsLabels, replacements: reps };
}

/** Final sweep: containers left in the run's roots, mounts, cgroups, the run dir. */
export function sweep(env: SuiteEnv, runtimes: Runtime[], keep = false): void {
  for (const rt of runtimes) {
    let ids: string[] = [];
    try {
      ids = fs.readdirSync(rt.root).filter((x) => x.startsWith(env.runTag));
    } catch {
      ids = [];
    }
    for (const id of ids) rt.deleteSync(id);
  }
  unmountUnder(env.runDir);
  const name = `tsrun-conformance-${env.runTag}`;
  for (const m of env.host.cgroupMounts) {
    const dirs = new Set<string>([path.join(m.mountPoint, name)]);
    for (const own of Object.values(env.host.ownCgroup)) dirs.add(path.join(m.mountPoint, own, name));
    for (const d of dirs) removeCgroupTree(d);
  }
  if (!keep) {
    try {
      fs.rmSync(env.runDir, { recursive: true, force: true });
    } catch {
      /* ignore */
    }
  }
}

export async function runSuite(o: SuiteOptions): Promise<SuiteResult> {
  const w = o.write;
  const tap = new TapWriter(w);
  let filter: RegExp | undefined;
  try {
    filter = o.filter ? new RegExp(o.filter) : undefined;
  } catch (e) {
    throw new Error(`--filter: ${errMsg(e)}`);
  }
  const cases = o.cases.filter((c) => !filter || filter.test(c.id) || filter.test(c.section));
  const host = readHostFacts();
  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-conf-'));
  fs.chmodSync(runDir, 0o755);
  const runTag = `ct${crypto.randomBytes(3).toString('hex')}`;
  const env: SuiteEnv = { host, art: buildArtifacts(o.cacheDir), runDir, runTag };
  const hybrid = host.cgroupMode === 'hybrid';
  const t = resolveRuntime(o.runtime, hybrid);
  const targetName = o.runtimeName ?? t.name;
  const target = new Runtime(targetName, t.cmd, path.join(runDir, 'root-target'), o.commandTimeoutMs);
  let reference: Runtime | null = null;
  let refName = '';
  if (o.reference) {
    const r = resolveRuntime(o.reference, hybrid);
    refName = o.referenceName ?? r.name;
    reference = new Runtime(refName, r.cmd, path.join(runDir, 'root-reference'), o.commandTimeoutMs);
  }
  const runtimes = reference ? [target, reference] : [target];

  const onSignal = (sig: NodeJS.Signals) => {
    w(`# interrupted by ${sig}: cleaning up\n`);
    killAllCommands();
    cleanupAllSync();
    sweep(env, runtimes, o.keep);
    process.exit(130);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);

  const rows: ResultRow[] = [];
  try {
    const known: KnownFile = loadKnown(targetName);
    const refKnown: KnownFile | null = reference ? loadKnown(refName) : null;
    const allowances: Allowance[] = loadAllowances();
    const tInfo = await runtimeInfo(target, 'target');
    const rInfo = reference ? await runtimeInfo(reference, 'reference') : null;

    tap.header(cases.length);
    const ver = (await target.version()).stdout.split('\n')[0] || 'unknown version';
    tap.comment(`runtime: ${t.cmd.join(' ')} (${ver.trim()}); known-failure list: ${targetName} (${Object.keys(known.failures).length} entries)`);
    if (reference) tap.comment(`reference: ${reference.cmd.join(' ')} (${(await reference.version()).stdout.split('\n')[0]?.trim()})`);
    tap.comment(`host: kernel ${host.kernel}, cgroups ${host.cgroupMode}, features ociVersionMax ${tInfo.features?.ociVersionMax ?? '(no features)'}`);

    let index = 0;
    for (const c of cases) {
      index++;
      const { run: tr, ctx: tctx } = await runOne(c, tInfo, env, index);
      let diag: Record<string, unknown> = {};
      const failures = [...tr.failures];
      const notes = [...tr.notes];
      let diffs: { allowed: (DiffItem & { reason: string })[]; rejected: DiffItem[] } | null = null;
      if (reference && rInfo && tr.status !== 'skip') {
        const { run: rr, ctx: rctx } = await runOne(c, rInfo, env, index);
        if (rr.status === 'skip') {
          notes.push(`reference skipped: ${rr.skipReason}`);
        } else if (tr.unknownProperty || rr.unknownProperty) {
          // one side only checked that it ignores a property it does not know: nothing to compare
          notes.push(`not compared with the reference: ${rr.unknownProperty ? `to the reference, ${rr.unknownProperty}` : `to ${targetName}, ${tr.unknownProperty}`}${rr.status === 'fail' ? `; the reference fails even that: ${rr.failures.map((f) => f.message).join('; ')}` : ''}`);
        } else {
          const a = normalizeObservations(tr.observations, normCtx(tctx, env));
          const b = normalizeObservations(rr.observations, normCtx(rctx, env));
          const all = diffValues(a, b);
          const refKnownEntry = refKnown?.failures[c.id];
          if (rr.status === 'fail' && refKnownEntry) {
            if (all.length) notes.push(`${all.length} difference(s) from the reference not counted: the reference fails this case (known: ${refKnownEntry.reason})`);
          } else {
            if (rr.status === 'fail') notes.push(`the reference fails this case too: ${rr.failures.map((f) => f.message).join('; ')}`);
            diffs = applyAllowances(c.id, targetName, all, allowances);
            for (const d of diffs.rejected.slice(0, 20)) {
              failures.push({ message: `differs from the reference at ${d.path}`, expected: d.reference, actual: d.target });
            }
            if (diffs.rejected.length > 20) failures.push({ message: `${diffs.rejected.length - 20} more differences from the reference` });
          }
        }
      }
      const k = known.failures[c.id];
      // A listed case that passes is a stale entry: an error of the list.
      if (tr.status !== 'skip' && !failures.length && k) failures.push({ message: `stale known ${targetName} failure: the case passes, so its entry must go (${k.reason})` });
      const status: ResultRow['status'] = tr.status === 'skip' ? 'skip' : failures.length ? 'fail' : 'pass';
      // Known only if it fails the way the list says: another failure of the same case is not hidden.
      const isKnown = status === 'fail' && !!k && matchesKnown(k, failures);
      if (status === 'fail' && k && !isKnown && failures.every((f) => !f.message.startsWith('stale'))) {
        notes.push(`listed as a known ${targetName} failure, but none of its failures matches the entry's message /${k.message}/`);
      }
      rows.push({ id: c.id, section: c.section, status, known: isKnown });
      diag = {
        section: c.section,
        requirement: c.requirement,
        ...(failures.length ? { failures } : {}),
        ...(diffs && diffs.allowed.length ? { allowedDifferences: diffs.allowed.map((d) => ({ path: d.path, reason: d.reason })) } : {}),
        ...(notes.length ? { notes } : {}),
        ms: tr.ms,
      };
      if (status === 'skip') {
        tap.point(true, c.id, { kind: 'SKIP', reason: tr.skipReason ?? 'skipped' });
      } else if (isKnown) {
        tap.point(false, c.id, { kind: 'TODO', reason: `known ${targetName} failure: ${k.reason}` }, diag);
      } else {
        tap.point(status === 'pass', c.id, null, status === 'fail' || notes.length ? diag : undefined);
      }
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('SIGHUP', onSignal);
    cleanupAllSync();
    sweep(env, runtimes, o.keep);
  }

  const tt = totals(rows);
  tap.comment('');
  tap.comment(`summary by spec section (${targetName}${reference ? ` vs reference ${refName}` : ''}):`);
  tap.comment(sectionTable(rows));
  const failing = failingSections(rows);
  tap.comment('');
  tap.comment(`failing sections: ${failing.length ? failing.join(', ') : 'none'}`);
  const unexpected = rows.filter((r) => r.status === 'fail' && !r.known).map((r) => r.id);
  tap.comment(`known ${targetName} failures: ${tt.knownFailed}; unexpected failures: ${tt.unexpectedFailed}${unexpected.length ? ` (${unexpected.join(', ')})` : ''}`);
  w(closingLine(tt) + '\n');
  return { rows, exitCode: tt.unexpectedFailed > 0 ? 1 : 0 };
}
