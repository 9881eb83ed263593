// The state directory of one container, <root>/<id>: state.json (written
// atomically), the exec fifo, and a lock. The lock is flock(2) on the
// directory itself, so commands on one id serialize, and a crashed tsrun
// never leaves it held.
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, rmSync, rmdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { NoSuchContainer, TsrunError, errnoCode, messageOf } from '../errors';
import { messages } from '../messages';
import { native } from '../native/addon';
import { schemaProblems } from '../spec/schema';
import type { StateRecord } from './record';

// runc's rule for container ids.
const idPattern = /^[\w+\-.]+$/;

export function checkId(id: string): void {
  if (!id) throw new TsrunError(messages.emptyId());
  if (!idPattern.test(id) || id === '.' || id === '..' || id.length > 1024) throw new TsrunError(messages.invalidId(id));
}

export class ContainerDir {
  private constructor(
    readonly root: string,
    readonly id: string,
    private fd: number,
  ) {}

  get path(): string {
    return join(this.root, this.id);
  }
  get statePath(): string {
    return join(this.path, 'state.json');
  }
  get fifoPath(): string {
    return join(this.path, 'exec.fifo');
  }
  /** The init's report on the startContainer hooks (only when there are some). */
  get startReportPath(): string {
    return join(this.path, 'start-report.fifo');
  }

  /** Makes the directory of a new container, locked. Fails if the id is taken. */
  static create(root: string, id: string): ContainerDir {
    checkId(id);
    mkdirSync(root, { recursive: true, mode: 0o711 });
    const dir = join(root, id);
    try {
      mkdirSync(dir, { mode: 0o711 });
    } catch (err) {
      if (errnoCode(err) === 'EEXIST') throw new TsrunError(messages.alreadyExists(id));
      throw new TsrunError(`cannot create state directory ${dir}: ${messageOf(err)}`);
    }
    const fd = openSync(dir, 'r');
    native().flock(fd, true, true);
    return new ContainerDir(root, id, fd);
  }

  /**
   * Opens an existing container and locks it: 'exclusive' to change it,
   * 'shared' to read it (waiting for a change in progress), or 'try' for a
   * shared lock without waiting, which gives `locked: false` while another
   * command (a create in progress) holds the lock.
   */
  static open(root: string, id: string, mode: 'exclusive' | 'shared' | 'try'): { dir: ContainerDir; locked: boolean } {
    checkId(id);
    const dir = join(root, id);
    let fd: number;
    try {
      fd = openSync(dir, 'r');
    } catch (err) {
      if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR') throw new NoSuchContainer(id);
      throw err;
    }
    let locked: boolean;
    try {
      const addon = native();
      locked = addon.flock(fd, mode === 'exclusive', mode !== 'try');
      // A delete that held the lock before us may have removed the directory.
      if (!addon.sameFile(fd, dir)) throw new NoSuchContainer(id);
    } catch (err) {
      closeSync(fd);
      throw err;
    }
    return { dir: new ContainerDir(root, id, fd), locked };
  }

  /**
   * The directory of a container, neither opened nor locked: for reading a
   * record that create has finished (query.ts). Its read() gives undefined
   * when there is no record or no such directory, and throws when the id
   * names something else (ENOTDIR) or the record is damaged.
   */
  static unlocked(root: string, id: string): ContainerDir {
    checkId(id);
    return new ContainerDir(root, id, -1);
  }

  /** The ids under root (whatever their state). */
  static list(root: string): string[] {
    try {
      return readdirSync(root, { withFileTypes: true })
        .filter((e) => e.isDirectory() && idPattern.test(e.name))
        .map((e) => e.name)
        .sort();
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return [];
      throw err;
    }
  }

  /** The record, or undefined if create died before writing one. */
  read(): StateRecord | undefined {
    let text: string;
    try {
      text = readFileSync(this.statePath, 'utf8');
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return undefined;
      throw err;
    }
    let record: unknown;
    try {
      record = JSON.parse(text);
    } catch (err) {
      throw new TsrunError(`${this.statePath} is damaged: ${messageOf(err)}`);
    }
    const [problem] = schemaProblems('state-record', record);
    if (problem) throw new TsrunError(`${this.statePath} is damaged: ${problem.field || 'the record'} ${problem.message}`);
    return record as StateRecord;
  }

  /** Atomically replaces state.json (write to a temporary file, then rename). */
  write(record: StateRecord): void {
    const tmp = join(this.path, '.state.json.tmp');
    // With the encoding named, Node 20's writeFileSync writes a string in
    // C++; with options that leave it out, it makes a Buffer of the record in
    // JavaScript first (some kilobytes of the young generation, four times
    // in every create).
    writeFileSync(tmp, JSON.stringify(record), { mode: 0o600, encoding: 'utf8' });
    renameSync(tmp, this.statePath);
  }

  hasFifo(): boolean {
    // Nothing but tsrun, under the container's lock, makes or removes it, in
    // a directory only its owner (root, or the rootless user) can write:
    // whether the name exists is the answer, its type is not looked at.
    return existsSync(this.fifoPath);
  }

  /** Removes the whole directory (the lock goes with it). */
  remove(): void {
    // It holds files only (state.json, the fifos): removed one by one, a
    // third of the time of fs.rmSync, whose recursive walk loads a module of
    // its own. Anything else in it (a directory) is left to rmSync.
    try {
      for (const name of readdirSync(this.path)) {
        try {
          unlinkSync(join(this.path, name));
        } catch (err) {
          if (errnoCode(err) !== 'ENOENT') throw err;
        }
      }
      rmdirSync(this.path);
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return;
      rmSync(this.path, { recursive: true, force: true });
    }
  }

  unlock(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}

/** Writes a file atomically next to its final place (pid files). */
export function writeFileAtomic(path: string, content: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, content);
  renameSync(tmp, path);
}
