// A container as the commands that operate a live one see it (exec, ps,
// pause, resume, update, events): its state directory held under a lock,
// the record tsrun wrote at create, the status derived from them, and the
// cgroup manager of its cgroups. One file per operation sits beside this.
import { type CgroupManager, cgroupManager } from '../cgroups/manager';
import { TsrunError } from '../errors';
import type { Spec } from '../spec/types';
import type { StateRecord } from '../state/record';
import { type Status, statusOf } from '../state/status';
import { ContainerDir } from '../state/store';

export class Container {
  private manager?: CgroupManager;

  private constructor(
    readonly dir: ContainerDir,
    /** Undefined only for a create that died before writing anything. */
    readonly record: StateRecord | undefined,
  ) {}

  /**
   * Opens and locks a container: 'exclusive' for an operation that changes
   * it, 'shared' for one that only reads. Throws NoSuchContainer.
   */
  static open(root: string, id: string, mode: 'exclusive' | 'shared'): Container {
    const { dir } = ContainerDir.open(root, id, mode);
    try {
      return new Container(dir, dir.read());
    } catch (err) {
      dir.unlock();
      throw err;
    }
  }

  get id(): string {
    return this.dir.id;
  }

  status(): Status {
    return statusOf(this.dir, this.record);
  }

  /** The record of a container whose create finished (any other is refused by the caller's status check). */
  get rec(): StateRecord {
    if (!this.record) throw new TsrunError(`container ${this.id} has no state: its create did not finish`);
    return this.record;
  }

  /** The config as it was at create. */
  get spec(): Spec {
    return this.rec.config as unknown as Spec;
  }

  get cgroups(): CgroupManager {
    this.manager ??= cgroupManager(this.rec.cgroup);
    return this.manager;
  }

  /** The init's pid (only meaningful while the status is created, running or paused). */
  get initPid(): number {
    const init = this.rec.init;
    if (!init) throw new TsrunError(`container ${this.id} has no init process`);
    return init.pid;
  }

  save(): void {
    this.dir.write(this.rec);
  }

  unlock(): void {
    this.dir.unlock();
  }
}

/** Runs `fn` on the container under its lock, and unlocks whatever happens. */
export function withContainer<T>(root: string, id: string, mode: 'exclusive' | 'shared', fn: (c: Container) => T): T {
  const c = Container.open(root, id, mode);
  try {
    return fn(c);
  } finally {
    c.unlock();
  }
}
