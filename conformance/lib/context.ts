// The per-case, per-runtime context: bundles, container operations with
// guaranteed cleanup, probe runs, assertions and observations.
import { spawn, spawnSync, ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { Artifacts, copyRootfs } from './artifacts';
import { CaseAbort, CaseSkip, Failure } from './case';
import { baseConfig } from './config';
import { HostFacts, v1Mount } from './host';
import { extractProbeReport, ExtractResult, parseCgroupLines, parseMountinfo, ProbeReport } from './probe';
import { CmdResult, cleanEnv, CreateOpts, describe, ok, Runtime } from './runtime';
import { Cfg, deepEqual, pidAlive, sleep, stableStringify } from './util';

export interface FeaturesDoc {
  ociVersionMin?: string;
  ociVersionMax?: string;
  hooks?: string[] | null;
  mountOptions?: string[] | null;
  linux?: Cfg | null;
  annotations?: Record<string, string> | null;
  [k: string]: unknown;
}

export interface RuntimeInfo {
  rt: Runtime;
  /** "target" or "reference" */
  role: 'target' | 'reference';
  features: FeaturesDoc | null;
  featuresRaw: CmdResult | null;
  /** ociVersion written into base configs */
  ociVersion: string;
}

export interface SuiteEnv {
  host: HostFacts;
  art: Artifacts;
  runDir: string;
  /** short random tag naming this run's ids and cgroups */
  runTag: string;
}

export interface Bundle {
  dir: string;
  rootfs: string;
  configPath: string;
  stdout: string;
  stderr: string;
  config: Cfg;
}

export interface ProbeRun {
  id: string;
  bundle: Bundle;
  create: CmdResult;
  start?: CmdResult;
  /** state right after create */
  state?: Cfg | null;
  report: ProbeReport | null;
  extract: ExtractResult;
  stdout: string;
  /** host-side view of the container process while created */
  hostView?: HostView;
}

export interface HostView {
  pid: number;
  cgroupLines: string[];
  ns: Record<string, number | null>;
  oomScoreAdj?: string;
  /** /proc/<pid>/mountinfo */
  mountinfo?: string[];
  /** v1 controller -> host cgroup dir */
  cgroupDirs: Record<string, string>;
}

export interface ProbeOpts {
  /** extra create options */
  create?: Partial<CreateOpts>;
  /** called after create succeeded, before start */
  afterCreate?: (id: string, bundle: Bundle, pid: number) => Promise<void> | void;
  /** seconds to wait for the probe to stop; default 20 */
  waitSeconds?: number;
  /** do not abort the case when create fails; the caller checks run.create */
  allowCreateFailure?: boolean;
  allowStartFailure?: boolean;
  /** keep the container (do not delete it at the end) */
  keep?: boolean;
  bundleName?: string;
  /** called with the bundle once written, before create */
  prepare?: (b: Bundle) => void;
}

let counter = 0;
const activeContexts = new Set<CaseContext>();

/** Cleans up every case still active (interrupt path). */
export function cleanupAllSync(): void {
  for (const c of [...activeContexts]) c.cleanupSync();
}

export class CaseContext {
  readonly failures: Failure[] = [];
  readonly notes: string[] = [];
  readonly observations: Record<string, unknown> = {};
  /** ids created in this case, in order (placeholders in diffs) */
  readonly ids: string[] = [];
  /** ns inode -> label, for namespaces made by helpers */
  readonly nsLabels = new Map<number, string>();
  private helpers: ChildProcess[] = [];
  private pids = new Set<number>();
  private cgroupDirs = new Set<string>();
  private cleanups: (() => void)[] = [];
  private bundleCount = 0;
  readonly dir: string;

  constructor(
    readonly caseId: string,
    readonly info: RuntimeInfo,
    readonly env: SuiteEnv,
    caseIndex: number,
  ) {
    this.dir = path.join(env.runDir, 'cases', info.role, `${caseIndex}`);
    fs.mkdirSync(this.dir, { recursive: true, mode: 0o755 });
    activeContexts.add(this);
  }

  get rt(): Runtime {
    return this.info.rt;
  }
  get host(): HostFacts {
    return this.env.host;
  }
  get features(): FeaturesDoc | null {
    return this.info.features;
  }

  // ---------- assertions ----------

  check(cond: unknown, message: string, detail?: { expected?: unknown; actual?: unknown }): boolean {
    if (!cond) this.failures.push({ message, ...detail });
    return !!cond;
  }

  equal(actual: unknown, expected: unknown, message: string): boolean {
    return this.check(deepEqual(actual, expected), message, { expected, actual });
  }

  fatal(message: string, detail?: { expected?: unknown; actual?: unknown }): never {
    this.failures.push({ message, ...detail });
    throw new CaseAbort(message);
  }

  skip(reason: string): never {
    throw new CaseSkip(reason);
  }

  note(msg: string): void {
    this.notes.push(msg);
  }

  observe(key: string, value: unknown): void {
    this.observations[key] = value;
  }

  // ---------- bundles ----------

  newId(): string {
    const id = `${this.env.runTag}-${++counter}`;
    this.ids.push(id);
    return id;
  }

  /** A path for a helper file inside this case's directory. */
  path(name: string): string {
    return path.join(this.dir, name);
  }

  /** Short socket path (sun_path is limited to 108 bytes). */
  socketPath(): string {
    const d = path.join(this.env.runDir, 's');
    fs.mkdirSync(d, { recursive: true });
    return path.join(d, `${++counter}.sock`);
  }

  cgroupsPathFor(id: string): string {
    return `tsrun-conformance-${this.env.runTag}/${id}`;
  }

  baseConfig(args: string[] = ['/probe']): Cfg {
    return baseConfig(this.info.ociVersion, '', args);
  }

  /** Writes a bundle: a private rootfs copy and config.json (given as object or raw text). */
  makeBundle(config: Cfg | string, opts: { name?: string; noRootfs?: boolean; noConfig?: boolean } = {}): Bundle {
    const dir = path.join(this.dir, opts.name ?? `bundle${++this.bundleCount}`);
    fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
    const rootfs = path.join(dir, 'rootfs');
    if (!opts.noRootfs) copyRootfs(this.env.art.rootfsTemplate, rootfs);
    const configPath = path.join(dir, 'config.json');
    if (!opts.noConfig) fs.writeFileSync(configPath, typeof config === 'string' ? config : JSON.stringify(config, null, 2));
    return {
      dir,
      rootfs,
      configPath,
      stdout: path.join(dir, 'stdout.log'),
      stderr: path.join(dir, 'stderr.log'),
      config: typeof config === 'string' ? {} : config,
    };
  }

  /** Fills a config's cgroupsPath (when empty) with this run's unique one. */
  private fillCgroupsPath(b: Bundle, id: string): void {
    const c = b.config;
    if (c && c.linux && c.linux.cgroupsPath === '') {
      c.linux.cgroupsPath = this.cgroupsPathFor(id);
      fs.writeFileSync(b.configPath, JSON.stringify(c, null, 2));
    }
  }

  // ---------- operations ----------

  async create(id: string, b: Bundle, o: Partial<CreateOpts> = {}): Promise<CmdResult> {
    this.fillCgroupsPath(b, id);
    const r = await this.rt.create(id, b.dir, { stdoutFile: b.stdout, stderrFile: b.stderr, ...o });
    if (ok(r)) await this.track(id);
    return r;
  }

  /** Remembers the container's pid and cgroups so that cleanup can remove them. */
  async track(id: string): Promise<void> {
    const st = await this.stateOf(id);
    const pid = st && typeof st.pid === 'number' ? st.pid : 0;
    if (pid > 0) {
      this.pids.add(pid);
      for (const dir of Object.values(this.cgroupDirsOf(pid))) this.cgroupDirs.add(dir);
    }
  }

  cgroupDirsOf(pid: number): Record<string, string> {
    const out: Record<string, string> = {};
    let lines: string[] = [];
    try {
      lines = fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n');
    } catch {
      return out;
    }
    for (const l of parseCgroupLines(lines)) {
      if (l.id === 0) {
        const m = this.host.cgroupMounts.find((c) => c.v2);
        if (m) out['unified'] = path.join(m.mountPoint, l.path);
        continue;
      }
      for (const c of l.controllers) {
        const mnt = v1Mount(this.host, c);
        if (mnt) out[c.replace(/^name=/, '')] = path.join(mnt, l.path);
      }
    }
    return out;
  }

  start(id: string): Promise<CmdResult> {
    return this.rt.start(id);
  }
  kill(id: string, sig?: string): Promise<CmdResult> {
    return this.rt.kill(id, sig);
  }
  delete(id: string, force = false): Promise<CmdResult> {
    return this.rt.delete(id, force);
  }
  state(id: string): Promise<CmdResult> {
    return this.rt.state(id);
  }

  /** Parsed state, or null when the state operation fails or prints no JSON object. */
  async stateOf(id: string): Promise<Cfg | null> {
    const r = await this.rt.state(id);
    if (!ok(r)) return null;
    try {
      const v = JSON.parse(r.stdout);
      return v && typeof v === 'object' && !Array.isArray(v) ? v : null;
    } catch {
      return null;
    }
  }

  /** Polls until the container is stopped; returns the last state (null if state failed). */
  async waitStopped(id: string, seconds = 20): Promise<Cfg | null> {
    const end = Date.now() + seconds * 1000;
    let st: Cfg | null = null;
    for (let i = 0; ; i++) {
      st = await this.stateOf(id);
      if (!st || st.status === 'stopped') return st;
      if (Date.now() > end) return st;
      await sleep(i < 20 ? 20 : 100);
    }
  }

  /** Waits for a host pid to exit (or become a zombie). */
  async waitPidGone(pid: number, seconds = 10): Promise<boolean> {
    const end = Date.now() + seconds * 1000;
    while (Date.now() < end) {
      if (!pidAlive(pid)) return true;
      await sleep(20);
    }
    return !pidAlive(pid);
  }

  readOut(b: Bundle): string {
    try {
      return fs.readFileSync(b.stdout, 'utf8');
    } catch {
      return '';
    }
  }

  hostView(pid: number): HostView {
    const ns: Record<string, number | null> = {};
    for (const t of ['cgroup', 'ipc', 'mnt', 'net', 'pid', 'time', 'user', 'uts']) {
      try {
        const l = fs.readlinkSync(`/proc/${pid}/ns/${t}`);
        ns[t] = Number(/\[(\d+)\]/.exec(l)?.[1] ?? NaN);
      } catch {
        ns[t] = null;
      }
    }
    const rd = (p: string) => {
      try {
        return fs.readFileSync(p, 'utf8');
      } catch {
        return undefined;
      }
    };
    return {
      pid,
      cgroupLines: (rd(`/proc/${pid}/cgroup`) ?? '').split('\n').filter((x) => x),
      ns,
      oomScoreAdj: rd(`/proc/${pid}/oom_score_adj`)?.trim(),
      mountinfo: rd(`/proc/${pid}/mountinfo`)?.split('\n').filter((x) => x),
      cgroupDirs: this.cgroupDirsOf(pid),
    };
  }

  /**
   * The common case shape: create a container from cfg running the probe with
   * args, capture the host view while it is created, start it, wait until it
   * stops, parse the report, delete it.
   */
  async probe(cfg: Cfg, args: string[] = [], o: ProbeOpts = {}): Promise<ProbeRun> {
    if (cfg.process) cfg.process.args = ['/probe', ...args];
    const b = this.makeBundle(cfg, { name: o.bundleName });
    if (o.prepare) o.prepare(b);
    const id = this.newId();
    const create = await this.create(id, b, o.create);
    const run: ProbeRun = { id, bundle: b, create, report: null, extract: { report: null }, stdout: '' };
    this.observe('create.ok', ok(create));
    if (!ok(create)) {
      if (o.allowCreateFailure) return run;
      this.fatal(`create failed: ${describe(create)}`);
    }
    run.state = await this.stateOf(id);
    const pid = run.state && typeof run.state.pid === 'number' ? run.state.pid : 0;
    if (pid > 0) run.hostView = this.hostView(pid);
    if (o.afterCreate) await o.afterCreate(id, b, pid);
    run.start = await this.start(id);
    this.observe('start.ok', ok(run.start));
    if (!ok(run.start)) {
      if (o.allowStartFailure) return run;
      this.fatal(`start failed: ${describe(run.start)}`);
    }
    const st = await this.waitStopped(id, o.waitSeconds ?? 20);
    if (st && st.status !== 'stopped') {
      this.failures.push({ message: `container did not stop within ${o.waitSeconds ?? 20}s (status ${st.status})` });
    }
    run.stdout = this.readOut(b);
    run.extract = extractProbeReport(run.stdout);
    run.report = run.extract.report;
    if (!o.keep) await this.delete(id, true);
    return run;
  }

  /** probe() that aborts the case when no report came back. */
  async probeReport(cfg: Cfg, args: string[] = [], o: ProbeOpts = {}): Promise<ProbeReport> {
    const run = await this.probe(cfg, args, o);
    if (!run.report) {
      let err = '';
      try {
        err = fs.readFileSync(run.bundle.stderr, 'utf8').trim().slice(-400);
      } catch {
        /* none */
      }
      this.fatal(`no probe report: ${run.extract.error}${err ? ` (container stderr: ${err})` : ''}`);
    }
    this.observe('probe', run.report);
    return run.report;
  }

  /** A long-running helper process (namespace holder, console receiver). */
  spawnHelper(argv: string[], opts: { stdoutFile?: string; stderrFile?: string } = {}): ChildProcess {
    const out = opts.stdoutFile ? fs.openSync(opts.stdoutFile, 'a') : 'ignore';
    const err = opts.stderrFile ? fs.openSync(opts.stderrFile, 'a') : 'ignore';
    const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', out, err], detached: true, env: cleanEnv() });
    if (typeof out === 'number') fs.closeSync(out);
    if (typeof err === 'number') fs.closeSync(err);
    child.on('error', () => undefined);
    this.helpers.push(child);
    return child;
  }

  /** Registers a cleanup action run at the end of the case (sync). */
  onCleanup(fn: () => void): void {
    this.cleanups.push(fn);
  }

  // ---------- cleanup ----------

  async cleanup(): Promise<void> {
    this.cleanupSync();
  }

  cleanupSync(): void {
    for (const id of this.ids) this.rt.deleteSync(id);
    for (const pid of this.pids) {
      if (pidAlive(pid)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
    }
    for (const h of this.helpers) {
      if (h.pid && h.exitCode === null) {
        try {
          process.kill(-h.pid, 'SIGKILL');
        } catch {
          try {
            h.kill('SIGKILL');
          } catch {
            /* gone */
          }
        }
      }
    }
    for (const fn of this.cleanups.splice(0)) {
      try {
        fn();
      } catch {
        /* best effort */
      }
    }
    unmountUnder(this.dir);
    for (const dir of [...this.cgroupDirs].sort((a, b) => b.length - a.length)) {
      if (dir.includes(`tsrun-conformance-${this.env.runTag}`)) removeCgroupTree(dir);
    }
    try {
      fs.rmSync(this.dir, { recursive: true, force: true });
    } catch {
      /* a busy mount: the run-level sweep retries */
    }
    activeContexts.delete(this);
  }
}

/** Lazily unmounts everything mounted at or below dir (deepest first). */
export function unmountUnder(dir: string): void {
  for (let pass = 0; pass < 3; pass++) {
    let mounts;
    try {
      mounts = parseMountinfo(fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n'));
    } catch {
      return;
    }
    const under = mounts
      .map((m) => m.mountPoint)
      .filter((p) => p === dir || p.startsWith(dir + '/'))
      .sort((a, b) => b.length - a.length);
    if (under.length === 0) return;
    for (const p of under) spawnSync('umount', ['-l', p], { stdio: 'ignore', timeout: 10000 });
  }
}

/** Removes a cgroup directory and its children (rmdir only: cgroupfs dirs). */
export function removeCgroupTree(dir: string): void {
  let entries: fs.Dirent[] = [];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) if (e.isDirectory()) removeCgroupTree(path.join(dir, e.name));
  for (let i = 0; i < 20; i++) {
    try {
      fs.rmdirSync(dir);
      return;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      if (code === 'EBUSY') {
        // processes still inside: kill them (they are this run's)
        try {
          for (const p of fs.readFileSync(path.join(dir, 'cgroup.procs'), 'utf8').split('\n').filter((x) => x)) {
            try {
              process.kill(Number(p), 'SIGKILL');
            } catch {
              /* gone */
            }
          }
        } catch {
          /* no procs file */
        }
        spawnSync('sleep', ['0.05']);
        continue;
      }
      return;
    }
  }
}

export function summarizeValue(v: unknown): string {
  const s = stableStringify(v);
  return s.length > 300 ? s.slice(0, 300) + '…' : s;
}
