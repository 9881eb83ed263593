// The container's cgroups behind one interface (CgroupManager): created
// under every hierarchy of the host, resources applied by the controller
// modules (./controllers), the init in them before it runs anything
// of the user's, frozen and thawed, listed, and removed again on delete.
//
// Two implementations:
// - V1Manager, for v1 and hybrid hosts: each controller's files are in its
//   own hierarchy; on a hybrid host the process is placed in the unified
//   hierarchy too (as runc does), which holds no resources.
// - V2Manager, for unified hosts: one directory, the controllers the
//   resources need enabled in cgroup.subtree_control down the path, and
//   the device allowlist as a BPF program.
import { posix } from 'node:path';
import { getSystemErrorMap } from 'node:util';
import { TsrunError, errnoCode, messageOf } from '../errors';
import type { Resources } from '../spec/types';
import { nowMs, sleepMs } from '../util/sleep';
import type { Controller, Write } from './controllers';
import { type CgroupFs, WriteEachError, realCgroupFs } from './fs';
import type { RuncStats } from './stats';

/** A write to a file (not a device program). */
type FileWrite = Extract<Write, { file: string }>;
const fileOf = (w: Write): string | undefined => ('file' in w ? w.file : undefined);

// The controller modules and the stats reader are loaded by what applies or
// reads resources (create, update, events) only: state, kill and delete
// need neither, and loading them was a tenth of those commands' own time.
const controllerList = () => (require('./controllers') as typeof import('./controllers')).controllers;

export type { CgroupFs } from './fs';

export interface CgroupDirRecord {
  version: 1 | 2;
  /** Where the hierarchy is mounted. */
  mountpoint: string;
  /** v1 controllers of the hierarchy ([] for v2). */
  controllers: string[];
  /** The cgroup path (as in /proc/<pid>/cgroup). */
  path: string;
  /** The directory on the host. */
  dir: string;
}

export interface CgroupRecord {
  dirs: CgroupDirRecord[];
  /** Directories this container created, parents before children. */
  created: string[];
  /**
   * Rootless: the hierarchies left out because this user cannot write them
   * (their controllers, comma-separated, or "unified"). A resource of one
   * of them is an error naming it, except the device allowlist (as runc).
   */
  unwritable?: string[];
  /**
   * Rootless: the device allowlist is not applied, whether or not the
   * devices cgroup (or v2's BPF program) could be written: it needs the
   * host's CAP_SYS_ADMIN, and runc too leaves it out. The container's
   * device nodes are the host's, bound, with the host's permissions.
   */
  rootless?: boolean;
}

/** Cgroup directories to join, by hierarchy version (each joined its own way). */
export interface JoinDirs {
  v1: string[];
  /** At most one: a host has one cgroup v2 hierarchy. */
  v2?: string;
}

export function joinDirs(dirs: { version: 1 | 2; dir: string }[]): JoinDirs {
  return { v1: dirs.filter((d) => d.version === 1).map((d) => d.dir), v2: dirs.find((d) => d.version === 2)?.dir };
}

export type FreezerState = 'thawed' | 'freezing' | 'frozen';

/**
 * What freeze() achieved: false if this host has no freezer; 'frozen'; or
 * 'freezing' when the freezer did not get there in time (runc: "unable to
 * freeze"). A 'freezing' cgroup is left as it is, for the caller to say so
 * and to thaw it: processes in it may still run and fork.
 */
export type FreezeResult = false | 'frozen' | 'freezing';

/** How long freeze() tries (runc 1.1 waits 10 s for cgroup v2, and longer still on v1). */
const FREEZE_TIMEOUT_MS = 10_000;

export interface CgroupManager {
  readonly record: CgroupRecord;
  /** 2 on a unified host; 1 on v1 and hybrid hosts (where the unified hierarchy holds no resources). */
  readonly version: 1 | 2;
  /** The directory holding a v1 controller's files (on v2 the one directory); undefined if not mounted. */
  controllerDir(v1Controller: string): string | undefined;
  /** Creates the directories (on v2 with the controllers these resources need enabled on the way). */
  create(resources: Resources | undefined): void;
  /** Writes every field of linux.resources, and the device allowlist; a field that cannot be applied is an error naming it. */
  apply(resources: Resources | undefined): void;
  /**
   * Writes the fields these resources set, to a running container (tsrun
   * update): all refusals before the first write, and the writes made
   * undone if the kernel refuses a later one. The device allowlist is refused.
   */
  update(resources: Resources): void;
  /** The directories the container's init joins (it puts itself in them: launcher.ts InitCgroups). */
  joins(): JoinDirs;
  /** Freezes the container, retrying for a while: see FreezeResult. */
  freeze(): FreezeResult;
  thaw(): void;
  /** The freezer's state, or undefined if this host has no freezer. */
  freezerState(): FreezerState | undefined;
  /** Every process in the container's cgroups. */
  pids(): number[];
  /** Every number runc reads from the cgroups (hugePageSizes: runc's names, the host's by default). */
  stats(hugePageSizes?: string[]): RuncStats;
  /** Kills what is left in the cgroups and removes the directories create made. */
  destroy(): void;
}

/**
 * The record of the cgroups to create: the directories, and which of them
 * do not exist yet (so will be ours). It is saved before anything is
 * created, so that a create killed half-way can still be cleaned up. With
 * the default path, the shared parent (tsrun/) is listed too: every
 * container tries to remove it, and the last one succeeds.
 *
 * A cgroup that already has processes is refused here (config-linux.md,
 * "Control groups"), before the container could ever claim them: what is
 * in the record is killed on delete.
 */
export function planCgroups(dirs: CgroupDirRecord[], defaultPath: boolean, fs: CgroupFs = realCgroupFs): CgroupRecord {
  const created: string[] = [];
  for (const d of dirs) {
    let exists = fs.exists(d.dir);
    if (exists) {
      const procs = fs.read(posix.join(d.dir, 'cgroup.procs'));
      if (procs && procs.trim() !== '') {
        if (defaultPath) throw new TsrunError(`the default cgroup ${d.dir} already has processes in it`);
        throw new TsrunError(`cgroup ${d.dir} already has processes in it`, 'linux.cgroupsPath');
      }
    }
    // Up from the container's directory to the first that exists: every
    // one above it exists too (one look each: on a cold start a failed
    // read costs several times a stat).
    const mine: string[] = [];
    const shared = defaultPath ? posix.dirname(d.dir) : undefined;
    for (let cur = d.dir; cur.length > d.mountpoint.length; cur = posix.dirname(cur)) {
      if (cur !== d.dir) exists ||= fs.exists(cur);
      if (!exists || cur === shared) mine.unshift(cur);
      // Nothing above is ours, but for the shared parent just above.
      if (exists && (cur !== d.dir || shared === undefined)) break;
    }
    for (const dir of mine) if (!created.includes(dir)) created.push(dir);
  }
  return { dirs, created };
}

/** The manager for a container's recorded cgroups: v2 if all it has is the unified hierarchy. */
export function cgroupManager(record: CgroupRecord, fs: CgroupFs = realCgroupFs, opts: { freezeTimeoutMs?: number } = {}): CgroupManager {
  const timeout = opts.freezeTimeoutMs ?? FREEZE_TIMEOUT_MS;
  // No directory at all (rootless, none writable): the v1 manager, whose every controller is then missing.
  return record.dirs.some((d) => d.version === 1) || !record.dirs.length ? new V1Manager(record, fs, timeout) : new V2Manager(record, fs, timeout);
}

function errnoText(err: unknown): string {
  // libuv's text for EOPNOTSUPP says "on socket", which misleads here.
  if (errnoCode(err) === 'EOPNOTSUPP' || errnoCode(err) === 'ENOTSUP') return 'operation not supported';
  const errno = (err as { errno?: number }).errno;
  const text = errno !== undefined ? getSystemErrorMap().get(errno < 0 ? errno : -errno)?.[1] : undefined;
  return text ?? messageOf(err);
}

/** Whether a controller has something to apply for these resources. */
const wanted = (c: Controller, r: Resources) => c.always || c.fields(r).length > 0;

/** runc's update leaves the allowlist alone; tsrun refuses a change rather than ignore it. */
const devicesNotUpdatable = 'the device allowlist cannot be changed on a running container';

/** Puts back what one write of an update replaced; no `run` if the file cannot be written back. */
interface Undo {
  what: string;
  run?: () => void;
}

/** Undoes the writes made (newest first) and says in the error whether everything was put back. */
function rolledBack(err: unknown, undo: Undo[]): unknown {
  const failed: string[] = [];
  for (const u of [...undo].reverse()) {
    if (!u.run) {
      failed.push(`${u.what}: its previous value cannot be written back`);
      continue;
    }
    try {
      u.run();
    } catch (e) {
      failed.push(`${u.what}: ${errnoText(e)}`);
    }
  }
  if (!(err instanceof TsrunError) || !undo.length) return err;
  const raw = err.field ? err.message.slice(err.field.length + 2) : err.message;
  const note = failed.length
    ? `; what this update had already written could not all be put back (${failed.join('; ')})`
    : '; what this update had already written was put back';
  return new TsrunError(raw + note, err.field);
}

abstract class BaseManager implements CgroupManager {
  abstract readonly version: 1 | 2;

  constructor(
    readonly record: CgroupRecord,
    protected readonly fs: CgroupFs,
    protected readonly freezeTimeoutMs: number,
  ) {}

  /** The directory of a v1 hierarchy's controller (on v2: the one directory). */
  protected abstract dirOf(v1Controller: string): CgroupDirRecord | undefined;
  /** The directory that holds a controller's files, or why there is none. */
  protected abstract dirFor(c: Controller): CgroupDirRecord | string;
  abstract create(resources: Resources | undefined): void;
  abstract freeze(): FreezeResult;
  abstract thaw(): void;
  abstract freezerState(): FreezerState | undefined;

  apply(resources: Resources | undefined): void {
    const planned = this.plan(resources ?? {}, true);
    for (let i = 0; i < planned.length; ) {
      // A run of writes to one file (the v1 device rules): one open.
      const { dir, write } = planned[i];
      let end = i + 1;
      if (this.fs.writeEach && fileOf(write) !== undefined) {
        while (end < planned.length && planned[end].dir === dir && fileOf(planned[end].write) === fileOf(write)) end++;
      }
      if (end - i === 1) this.put(dir, write);
      else this.putEach(dir, planned.slice(i, end).map((p) => p.write as FileWrite));
      i = end;
    }
  }

  /**
   * Every write is planned (so every refusal made) before the first one;
   * a write the kernel refuses half-way undoes the earlier ones, in reverse
   * order, so that the cgroup goes back through the states it went through
   * (memory and memsw keep the kernel's order that way).
   */
  update(resources: Resources): void {
    if (resources.devices?.length) throw new TsrunError(devicesNotUpdatable, 'linux.resources.devices');
    const planned = this.plan(resources, false);
    const undo: Undo[] = [];
    try {
      this.prepareUpdate(resources, undo);
      for (const { dir, write } of planned) {
        const u = this.undoOf(dir, write);
        this.put(dir, write);
        undo.push(u);
      }
    } catch (err) {
      throw rolledBack(err, undo);
    }
  }

  /** v2: what the fields need that create did not (controllers), each with its undo. */
  protected prepareUpdate(_resources: Resources, _undo: Undo[]): void {}

  // `always`: at create, the controllers that confine every container (the
  // device allowlist) are applied even when the config leaves them unset.
  private plan(r: Resources, always: boolean): { dir: string; write: Write }[] {
    const out: { dir: string; write: Write }[] = [];
    for (const c of controllerList()) {
      if (c.name === 'devices' && this.record.rootless) continue;
      if (!(always ? wanted(c, r) : c.fields(r).length > 0)) continue;
      const at = this.dirFor(c);
      const read = (file: string) => (typeof at === 'string' ? undefined : this.fs.read(posix.join(at.dir, file)));
      const writes = c.writes(r, this.version, read);
      if (!writes.length) continue;
      if (typeof at === 'string') {
        // The allowlist of a host without a devices hierarchy: nothing to confine with.
        if (!c.fields(r).length) continue;
        throw new TsrunError(at, writes[0].field);
      }
      for (const w of writes) out.push({ dir: at.dir, write: w });
    }
    return out;
  }

  /** How to put back what a write is about to replace (undefined: nothing that can be put back). */
  private undoOf(dir: string, w: Write): Undo {
    const what = 'deviceProgram' in w ? 'the device program' : w.file;
    if ('deviceProgram' in w) return { what };
    const file = posix.join(dir, w.file);
    const before = this.fs.read(file);
    const { restoreValue } = require('./controllers/restore') as typeof import('./controllers/restore');
    const value = before === undefined ? null : restoreValue(w.file, before, w.value);
    if (value === null) return { what };
    return { what, run: () => this.fs.write(file, value) };
  }

  private put(dir: string, w: Write): void {
    if ('deviceProgram' in w) {
      try {
        this.fs.attachDeviceProgram(dir, w.deviceProgram);
      } catch (err) {
        throw new TsrunError(`cannot attach the device program to ${dir}: ${errnoText(err)}`, w.field);
      }
      return;
    }
    try {
      this.fs.write(posix.join(dir, w.file), w.value);
    } catch (err) {
      throw this.refused(dir, w, err);
    }
  }

  /** Writes to one file, in order, through one open (CgroupFs.writeEach). */
  private putEach(dir: string, writes: FileWrite[]): void {
    try {
      this.fs.writeEach!(posix.join(dir, writes[0].file), writes.map((w) => w.value));
    } catch (err) {
      if (!(err instanceof WriteEachError)) throw err;
      throw this.refused(dir, writes[err.index], err.error);
    }
  }

  /** The error of a write the kernel refused, named by its field. */
  private refused(dir: string, w: FileWrite, err: unknown): TsrunError {
    if (errnoCode(err) === 'ENOENT') return new TsrunError(`this host's cgroup has no ${w.file} (the kernel does not support it)`, w.field);
    // runc's words: the v1 kernel refuses a limit below the usage.
    if (errnoCode(err) === 'EBUSY' && w.file === 'memory.limit_in_bytes') {
      const usage = (f: string) => this.fs.read(posix.join(dir, f))?.trim() ?? '?';
      return new TsrunError(`unable to set memory limit to ${w.value} (current usage: ${usage('memory.usage_in_bytes')}, peak usage: ${usage('memory.max_usage_in_bytes')})`, w.field);
    }
    return new TsrunError(`cannot set ${w.file} to ${JSON.stringify(w.value)}: ${errnoText(err)}`, w.field);
  }

  joins(): JoinDirs {
    return joinDirs(this.record.dirs);
  }

  pids(): number[] {
    const seen = new Set<number>();
    for (const d of this.record.dirs) {
      const text = this.fs.read(posix.join(d.dir, 'cgroup.procs')) ?? '';
      for (const line of text.split('\n')) if (line.trim()) seen.add(Number(line));
    }
    return [...seen];
  }

  controllerDir(v1Controller: string): string | undefined {
    return this.dirOf(v1Controller)?.dir;
  }

  stats(hugePageSizes?: string[]): RuncStats {
    const { hostHugePageSizes, readRuncStats } = require('./stats') as typeof import('./stats');
    return readRuncStats(
      this.version,
      (controller, file) => {
        const dir = this.controllerDir(controller);
        return dir === undefined ? undefined : this.fs.read(posix.join(dir, file));
      },
      hugePageSizes ?? hostHugePageSizes(),
    );
  }

  /**
   * The usual delete, of a container that ended, finds its cgroups empty:
   * removing them is all there is to do, and rmdir says so by succeeding
   * (a cgroup with a process in it is EBUSY, in every hierarchy the process
   * is in). Only if one is busy are the processes looked for and killed.
   */
  destroy(): void {
    if (this.removeDirs(false)) return;
    // Frozen while it is killed, so that nothing can fork away meanwhile
    // (a create that failed early may not have made the freezer's cgroup).
    let frozen: FreezeResult = false;
    try {
      if (this.pids().length > 0) frozen = this.freeze();
    } catch {
      // nothing to freeze
    }
    const killed = new Set<number>();
    const killNew = (): number => {
      let n = 0;
      for (const pid of this.pids()) {
        if (killed.has(pid)) continue;
        killed.add(pid);
        n++;
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      return n;
    };
    killNew();
    try {
      // 'freezing' too: a half-frozen process cannot die
      if (frozen) this.thaw();
    } catch {
      // the processes are killed: rmdir below says whether the cgroup is gone
    }
    // Not frozen: what was listed may have forked before it died. A killed
    // process forks no more (a fork in progress fails on the pending
    // SIGKILL), so a look that finds nothing new finds everything.
    if (frozen !== 'frozen') for (let round = 0; round < 1000 && killNew() > 0; round++);
    this.removeDirs(true);
  }

  /**
   * Removes the directories create made, children first. A shared parent
   * still busy (another container's cgroup in it) is left. The container's
   * own cgroup busy: false, unless `wait`, which retries while its killed
   * processes exit (a cgroup stays busy for a moment after its last process
   * was killed).
   */
  private removeDirs(wait: boolean): boolean {
    const own = new Set(this.record.dirs.map((d) => d.dir));
    for (const dir of [...this.record.created].reverse()) {
      for (let attempt = 0; ; attempt++) {
        try {
          this.fs.rmdir(dir);
          break;
        } catch (err) {
          const code = errnoCode(err);
          if (code === 'ENOENT') break;
          if (code !== 'EBUSY' && code !== 'ENOTEMPTY') throw err;
          if (!own.has(dir)) break;
          if (!wait) return false;
          // Busy with child cgroups made inside the container: left.
          if (this.fs.hasChildren(dir)) break;
          // Busy with processes that were killed but have not exited yet.
          if (attempt >= 500) throw new TsrunError(`cannot remove cgroup ${dir}: ${messageOf(err)}`);
          sleepMs(10);
        }
      }
    }
    return true;
  }

  // mkdir -p. `beforeChild` runs on each parent before its child is made
  // (v2 enables controllers there). `afterMkdir` makes, at each attempt, a
  // function called on the directories of the path from the hierarchy's
  // root down, saying whether each was made here (v1 cpuset fills in cpus
  // and mems). Without beforeChild, one mkdirAll makes the path, and that
  // function sees what it made and the container's own directory, not the
  // parents that were there. A parent removed meanwhile by another
  // container's delete makes us start over: ENOENT, or ENODEV from a file of
  // it that was open as it went (seen with 8 concurrent `run`s sharing the
  // default parent). A failed mkdirAll is taken again directory by
  // directory: Node's mkdir -p reports most errors (EAGAIN past v2's
  // cgroup.max.descendants, ENOMEM) as the ENOENT of a stat after them, and
  // without naming the directory refused.
  protected makeDir(d: CgroupDirRecord, beforeChild?: (parent: string) => void, afterMkdir?: () => (dir: string, made: boolean) => void): void {
    const rel = posix.relative(d.mountpoint, d.dir);
    const segments = rel ? rel.split('/') : [];
    let all = !beforeChild && this.fs.mkdirAll !== undefined;
    for (let attempt = 0; ; attempt++) {
      const after = afterMkdir?.();
      try {
        if (all) {
          let top: string | undefined;
          try {
            top = this.fs.mkdirAll!(d.dir);
          } catch {
            all = false;
            continue;
          }
          if (top !== undefined && !top.startsWith(`${d.mountpoint}/`)) this.madeOutside(d, top);
          if (!after) return;
          let dir = d.mountpoint;
          for (const seg of segments) {
            dir = posix.join(dir, seg);
            const made = top !== undefined && (dir === top || dir.startsWith(`${top}/`));
            if (made || dir === d.dir) after(dir, made);
          }
          return;
        }
        let cur = d.mountpoint;
        for (const seg of segments) {
          beforeChild?.(cur);
          cur = posix.join(cur, seg);
          const made = this.fs.mkdir(cur);
          after?.(cur, made);
        }
        return;
      } catch (err) {
        const code = errnoCode(err);
        if ((code !== 'ENOENT' && code !== 'ENODEV') || attempt >= 10) throw err;
      }
    }
  }

  // mkdir -p made the hierarchy's mountpoint itself: the hierarchy was
  // unmounted since the host was read. What it made is removed.
  private madeOutside(d: CgroupDirRecord, top: string): never {
    for (let dir = d.dir; ; dir = posix.dirname(dir)) {
      try {
        this.fs.rmdir(dir);
      } catch {
        // left: the error below says why
      }
      if (dir === top || dir === posix.dirname(dir)) break;
    }
    throw new TsrunError(`the ${d.controllers.join(',') || 'unified'} cgroup hierarchy is no longer mounted at ${d.mountpoint}`);
  }
}

class V1Manager extends BaseManager {
  readonly version = 1;

  protected dirOf(v1Controller: string): CgroupDirRecord | undefined {
    return this.record.dirs.find((d) => d.version === 1 && d.controllers.includes(v1Controller));
  }

  protected dirFor(c: Controller): CgroupDirRecord | string {
    if (!c.v1) return `cgroup v1 has no ${c.name} controller`;
    const dir = this.dirOf(c.v1);
    if (dir) return dir;
    if (this.record.unwritable?.some((h) => h.split(',').includes(c.v1!))) return `the ${c.v1} cgroup is not writable by this user, so the container has none (rootless)`;
    return `the ${c.v1} cgroup controller is not mounted on this host`;
  }

  create(): void {
    for (const d of this.record.dirs) {
      if (d.version !== 1 || !d.controllers.includes('cpuset')) {
        this.makeDir(d);
        continue;
      }
      // What this attempt wrote, passed down to the next directory without
      // reading it back.
      this.makeDir(d, undefined, () => {
        const given = new Map<string, string>();
        return (dir, made) => this.inheritCpuset(d, dir, made, given);
      });
    }
  }

  /**
   * A new cpuset cgroup starts with no cpus and mems (no process could join
   * it): it gets its parent's. A directory that existed keeps its own, if it
   * has any. A parent without any (made by someone else) gets its own
   * parent's first, up to the hierarchy's root.
   */
  private inheritCpuset(d: CgroupDirRecord, dir: string, made: boolean, given: Map<string, string>): void {
    const parent = posix.dirname(dir);
    for (const file of ['cpuset.cpus', 'cpuset.mems']) {
      const own = posix.join(dir, file);
      if (!made && (this.fs.read(own) ?? '').trim() !== '') continue;
      const from = posix.join(parent, file);
      let value = given.get(from) ?? this.fs.read(from) ?? '';
      if (value.trim() === '' && !given.has(from) && parent.startsWith(`${d.mountpoint}/`)) {
        this.inheritCpuset(d, parent, false, given);
        value = given.get(from) ?? this.fs.read(from) ?? '';
      }
      this.fs.write(own, value);
      given.set(own, value);
    }
  }

  private freezerFile(): string | undefined {
    const d = this.record.dirs.find((x) => x.controllers.includes('freezer'));
    return d && posix.join(d.dir, 'freezer.state');
  }

  /**
   * The v1 freezer can stay FREEZING while processes keep appearing (forks,
   * or writes to cgroup.procs). As runc 1.1 (fs/freezer.go): FROZEN is
   * written again at each look, which freezes the newcomers, and between
   * rounds the cgroup is thawed for a moment, which lets a stuck fork
   * finish; until the time is up.
   */
  freeze(): FreezeResult {
    const file = this.freezerFile();
    if (!file) return false;
    const deadline = nowMs() + this.freezeTimeoutMs;
    for (let round = 0; ; round++) {
      if (round > 0) {
        this.fs.write(file, 'THAWED');
        sleepMs(10);
      }
      for (let look = 0; look < 50; look++) {
        this.fs.write(file, 'FROZEN');
        const state = this.fs.read(file)?.trim();
        if (state === 'FROZEN') return 'frozen';
        if (state !== 'FREEZING') throw new TsrunError(`unexpected state ${state ?? '(none: freezer.state is gone)'} while freezing ${posix.dirname(file)}`);
        if (nowMs() >= deadline) return 'freezing';
        sleepMs(1);
      }
    }
  }

  thaw(): void {
    const file = this.freezerFile();
    if (file) this.fs.write(file, 'THAWED');
  }

  freezerState(): FreezerState | undefined {
    const file = this.freezerFile();
    if (!file) return undefined;
    const state = this.fs.read(file)?.trim();
    // As runc: frozen by an ancestor is not paused (it cannot be resumed from here).
    if (state !== 'THAWED' && this.fs.read(posix.join(posix.dirname(file), 'freezer.self_freezing'))?.trim() === '0') return 'thawed';
    return state === 'FROZEN' ? 'frozen' : state === 'FREEZING' ? 'freezing' : state === 'THAWED' ? 'thawed' : undefined;
  }
}

class V2Manager extends BaseManager {
  readonly version = 2;

  /** Every controller's files are in the one unified directory. */
  protected dirOf(): CgroupDirRecord {
    return this.record.dirs[0];
  }

  protected dirFor(): CgroupDirRecord {
    return this.dirOf();
  }

  private get dir(): string {
    return this.dirOf().dir;
  }

  /**
   * memory.checkBeforeUpdate: v2 would OOM-kill to meet a limit below the
   * usage; v1's kernel refuses it, and so do we when asked (config-linux.md).
   * A second device program would only narrow the first (a device must pass
   * both), so the allowlist of a running container is not changed here yet.
   */
  override update(resources: Resources): void {
    const m = resources.memory;
    if (m?.checkBeforeUpdate && m.limit !== undefined && m.limit > 0) {
      const usage = Number(this.fs.read(posix.join(this.dir, 'memory.current'))?.trim());
      if (usage > m.limit) throw new TsrunError(`the container uses ${usage} bytes, more than the new limit`, 'linux.resources.memory.limit');
    }
    if (resources.devices?.length) throw new TsrunError('cannot be changed on a running container on cgroup v2 yet', 'linux.resources.devices');
    super.update(resources);
  }

  /** A field set for the first time may need a controller that create did not enable. */
  protected override prepareUpdate(resources: Resources, undo: Undo[]): void {
    const needed = this.needed(resources, false);
    if (!needed.size) return;
    const d = this.dirOf();
    let cur = d.mountpoint;
    const rel = posix.relative(d.mountpoint, d.dir);
    for (const seg of rel ? rel.split('/') : []) {
      const parent = cur;
      this.enableControllers(parent, needed, (c) =>
        undo.push({ what: `the ${c} controller of ${parent}`, run: () => this.fs.write(posix.join(parent, 'cgroup.subtree_control'), `-${c}`) }),
      );
      cur = posix.join(cur, seg);
    }
  }

  /** The v2 controllers these resources need, each with the first field that needs it. */
  private needed(r: Resources, always: boolean): Map<string, string> {
    const needed = new Map<string, string>(); // controller -> the field that needs it
    for (const c of controllerList()) {
      if (c.name === 'devices' && this.record.rootless) continue;
      if (!(always ? wanted(c, r) : c.fields(r).length > 0)) continue;
      const needs = c.v2Needs ? c.v2Needs(r) : c.v2 ? [{ controller: c.v2, field: c.fields(r)[0] ?? 'linux.resources' }] : [];
      for (const n of needs) if (!needed.has(n.controller)) needed.set(n.controller, n.field);
    }
    return needed;
  }

  /** Each parent on the path enables, for its children, the controllers the resources need. */
  create(resources: Resources | undefined): void {
    const needed = this.needed(resources ?? {}, true);
    for (const d of this.record.dirs) this.makeDir(d, needed.size ? (parent) => this.enableControllers(parent, needed) : undefined);
  }

  private enableControllers(dir: string, needed: Map<string, string>, enabledNow?: (controller: string) => void): void {
    const available = (this.fs.read(posix.join(dir, 'cgroup.controllers')) ?? '').split(/\s+/);
    const enabled = (this.fs.read(posix.join(dir, 'cgroup.subtree_control')) ?? '').split(/\s+/);
    for (const [c, field] of needed) {
      if (enabled.includes(c)) continue;
      if (!available.includes(c)) throw new TsrunError(`the ${c} controller is not available in ${dir}`, field);
      try {
        this.fs.write(posix.join(dir, 'cgroup.subtree_control'), `+${c}`);
      } catch (err) {
        throw new TsrunError(`cannot enable the ${c} controller in ${dir}: ${errnoText(err)}`, field);
      }
      enabledNow?.(c);
    }
  }

  /** v2 freezes newcomers itself: "frozen 1" in cgroup.events is awaited, until the time is up (runc: 10 s). */
  freeze(): FreezeResult {
    if (this.fs.read(posix.join(this.dir, 'cgroup.freeze')) === undefined) return false;
    this.fs.write(posix.join(this.dir, 'cgroup.freeze'), '1');
    const deadline = nowMs() + this.freezeTimeoutMs;
    for (let look = 1; this.freezerState() !== 'frozen'; look++) {
      if (nowMs() >= deadline) return 'freezing';
      sleepMs(Math.min(look, 10));
    }
    return 'frozen';
  }

  thaw(): void {
    if (this.fs.read(posix.join(this.dir, 'cgroup.freeze')) !== undefined) this.fs.write(posix.join(this.dir, 'cgroup.freeze'), '0');
  }

  freezerState(): FreezerState | undefined {
    const want = this.fs.read(posix.join(this.dir, 'cgroup.freeze'))?.trim();
    if (want === undefined) return undefined;
    const frozen = /^frozen 1$/m.test(this.fs.read(posix.join(this.dir, 'cgroup.events')) ?? '');
    return want === '1' ? (frozen ? 'frozen' : 'freezing') : 'thawed';
  }
}
