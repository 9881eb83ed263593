// The container's cgroups: created under every hierarchy of the host (each
// v1 hierarchy and, on a hybrid host, the unified one too), the init placed
// in them before it runs anything of the user's, limits written, and the
// directories removed again on delete.
import { mkdirSync, readFileSync, readdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { posix } from 'node:path';
import { TsrunError, errnoCode, messageOf } from '../errors';
import { sleepMs } from '../util/sleep';

/** File operations on a cgroup filesystem; tests substitute a fake tree. */
export interface CgroupFs {
  /** Creates dir; false if it already existed. */
  mkdir(dir: string): boolean;
  rmdir(dir: string): void;
  /** File contents, or undefined if there is no such file. */
  read(file: string): string | undefined;
  write(file: string, value: string): void;
  /** Whether dir has child cgroups. */
  hasChildren(dir: string): boolean;
}

export const realCgroupFs: CgroupFs = {
  mkdir(dir) {
    try {
      mkdirSync(dir);
      return true;
    } catch (err) {
      if (errnoCode(err) === 'EEXIST') return false;
      throw err;
    }
  },
  rmdir: (dir) => rmdirSync(dir),
  read(file) {
    try {
      return readFileSync(file, 'utf8');
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return undefined;
      throw err;
    }
  },
  write: (file, value) => writeFileSync(file, value),
  hasChildren(dir) {
    try {
      return readdirSync(dir, { withFileTypes: true }).some((e) => e.isDirectory());
    } catch {
      return false;
    }
  },
};

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
}

/** Controllers a container needs enabled on v2 for the resources it sets. */
export type V2Controller = 'memory' | 'pids';

export class Cgroups {
  constructor(
    readonly record: CgroupRecord,
    private readonly fs: CgroupFs = realCgroupFs,
  ) {}

  /**
   * The record of the cgroups to create: the directories, and which of them
   * do not exist yet (so will be ours). It is saved before anything is
   * created, so that a create killed half-way can still be cleaned up.
   * With the default path, the shared parent (tsrun/) is listed too: every
   * container tries to remove it, and the last one succeeds.
   *
   * A cgroup that already has processes is refused here (config-linux.md,
   * "Control groups"), before the container could ever claim them: what is
   * in the record is killed on delete.
   */
  static plan(dirs: CgroupDirRecord[], defaultPath: boolean, fs: CgroupFs = realCgroupFs): CgroupRecord {
    const created: string[] = [];
    for (const d of dirs) {
      const procs = fs.read(posix.join(d.dir, 'cgroup.procs'));
      if (procs && procs.trim() !== '') throw new TsrunError(`cgroup ${d.dir} already has processes in it`, 'linux.cgroupsPath');
      const rel = posix.relative(d.mountpoint, d.dir);
      let cur = d.mountpoint;
      for (const seg of rel ? rel.split('/') : []) {
        cur = posix.join(cur, seg);
        const mine = fs.read(posix.join(cur, 'cgroup.procs')) === undefined || (defaultPath && cur === posix.dirname(d.dir));
        if (mine && !created.includes(cur)) created.push(cur);
      }
    }
    return { dirs, created };
  }

  /** Creates the directories. */
  create(v2Controllers: V2Controller[]): void {
    for (const d of this.record.dirs) {
      this.makeDir(d.mountpoint, d.dir, d.version === 1 && d.controllers.includes('cpuset'), d.version === 2 ? v2Controllers : []);
    }
  }

  // mkdir -p from the hierarchy root, remembering what was created. A new
  // v1 cpuset cgroup starts with no cpus and mems (a process cannot join
  // it) and inherits its parent's; on v2 each parent enables the controllers
  // its children need. A parent removed meanwhile by another container's
  // delete (ENOENT) makes us start over.
  private makeDir(mountpoint: string, dir: string, cpuset: boolean, controllers: V2Controller[]): void {
    for (let attempt = 0; ; attempt++) {
      try {
        this.makeDirOnce(mountpoint, dir, cpuset, controllers);
        return;
      } catch (err) {
        if (errnoCode(err) !== 'ENOENT' || attempt >= 10) throw err;
      }
    }
  }

  private makeDirOnce(mountpoint: string, dir: string, cpuset: boolean, controllers: V2Controller[]): void {
    const rel = posix.relative(mountpoint, dir);
    let cur = mountpoint;
    for (const seg of rel ? rel.split('/') : []) {
      const parent = cur;
      if (controllers.length) this.enableControllers(parent, controllers);
      cur = posix.join(cur, seg);
      this.fs.mkdir(cur);
      if (cpuset) {
        for (const file of ['cpuset.cpus', 'cpuset.mems']) {
          if ((this.fs.read(posix.join(cur, file)) ?? '').trim() === '') {
            this.fs.write(posix.join(cur, file), this.fs.read(posix.join(parent, file)) ?? '');
          }
        }
      }
    }
  }

  private enableControllers(dir: string, wanted: V2Controller[]): void {
    const available = (this.fs.read(posix.join(dir, 'cgroup.controllers')) ?? '').split(/\s+/);
    const enabled = (this.fs.read(posix.join(dir, 'cgroup.subtree_control')) ?? '').split(/\s+/);
    for (const c of wanted) {
      if (enabled.includes(c)) continue;
      if (!available.includes(c)) throw new TsrunError(`the ${c} controller is not available in ${dir}`, 'linux.resources');
      this.fs.write(posix.join(dir, 'cgroup.subtree_control'), `+${c}`);
    }
  }

  /** Moves pid (and so everything it forks later) into the container's cgroups. */
  enter(pid: number): void {
    for (const d of this.record.dirs) this.fs.write(posix.join(d.dir, 'cgroup.procs'), String(pid));
  }

  private dirWith(controller: string): CgroupDirRecord | undefined {
    return this.record.dirs.find((d) => d.controllers.includes(controller)) ?? this.record.dirs.find((d) => d.version === 2);
  }

  private writeLimit(controller: string, v1File: string, v2File: string, value: string, field: string): void {
    const d = this.dirWith(controller);
    if (!d) throw new TsrunError(`no ${controller} cgroup controller on this host`, field);
    try {
      this.fs.write(posix.join(d.dir, d.version === 1 ? v1File : v2File), value);
    } catch (err) {
      throw new TsrunError(`cannot set ${controller} limit: ${messageOf(err)}`, field);
    }
  }

  /** memory.limit in bytes; -1 means no limit. */
  setMemoryLimit(limit: number): void {
    const d = this.dirWith('memory');
    const value = limit < 0 ? (d?.version === 1 ? '-1' : 'max') : String(limit);
    this.writeLimit('memory', 'memory.limit_in_bytes', 'memory.max', value, 'linux.resources.memory.limit');
  }

  /** pids.limit; zero or less means no limit. */
  setPidsLimit(limit: number): void {
    this.writeLimit('pids', 'pids.max', 'pids.max', limit > 0 ? String(limit) : 'max', 'linux.resources.pids.limit');
  }

  /** Every process in the container's cgroups. */
  pids(): number[] {
    const seen = new Set<number>();
    for (const d of this.record.dirs) {
      const text = this.fs.read(posix.join(d.dir, 'cgroup.procs')) ?? '';
      for (const line of text.split('\n')) if (line.trim()) seen.add(Number(line));
    }
    return [...seen];
  }

  /** Freezes the container (v1 freezer, or v2 cgroup.freeze); false if the host cannot. */
  freeze(frozen: boolean): boolean {
    const v1 = this.record.dirs.find((d) => d.controllers.includes('freezer'));
    if (v1) {
      const file = posix.join(v1.dir, 'freezer.state');
      this.fs.write(file, frozen ? 'FROZEN' : 'THAWED');
      for (let i = 0; frozen && i < 1000 && this.fs.read(file)?.trim() !== 'FROZEN'; i++) sleepMs(1);
      return true;
    }
    const v2 = this.record.dirs.find((d) => d.version === 2);
    if (v2 && this.fs.read(posix.join(v2.dir, 'cgroup.freeze')) !== undefined) {
      this.fs.write(posix.join(v2.dir, 'cgroup.freeze'), frozen ? '1' : '0');
      const events = posix.join(v2.dir, 'cgroup.events');
      for (let i = 0; frozen && i < 1000 && !/frozen 1/.test(this.fs.read(events) ?? 'frozen 1'); i++) sleepMs(1);
      return true;
    }
    return false;
  }

  /**
   * Kills what is left in the cgroups and removes the directories create
   * made, children first. A cgroup stays busy for a moment after its last
   * process was killed, hence the retries.
   */
  destroy(): void {
    for (const pid of this.pids()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    this.removeCreated();
  }

  private removeCreated(): void {
    for (const dir of [...this.record.created].reverse()) {
      for (let attempt = 0; ; attempt++) {
        try {
          this.fs.rmdir(dir);
          break;
        } catch (err) {
          const code = errnoCode(err);
          if (code === 'ENOENT') break;
          if (code !== 'EBUSY' && code !== 'ENOTEMPTY') throw err;
          // Busy with child cgroups: a parent shared with other containers.
          if (this.fs.hasChildren(dir)) break;
          // Busy with processes that were killed but have not exited yet.
          if (attempt >= 500) throw new TsrunError(`cannot remove cgroup ${dir}: ${messageOf(err)}`);
          sleepMs(10);
        }
      }
    }
  }
}
