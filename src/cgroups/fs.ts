// File operations on a cgroup filesystem. Everything the managers do to a
// cgroup tree goes through this interface, so that the unit tests can run
// them on a fake cgroup2 tree that keeps the kernel's rules.
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, rmdirSync, writeFileSync, writeSync } from 'node:fs';
import { errnoCode, messageOf } from '../errors';
import { native } from '../native/addon';

export interface CgroupFs {
  /** Creates dir; false if it already existed. */
  mkdir(dir: string): boolean;
  /**
   * Creates dir and its missing parents (mkdir -p); the topmost directory
   * it made, undefined if dir existed. One call a hierarchy, none of whose
   * existing directories is an error to catch: a dozen mkdirs one by one
   * cost about 0.6 ms of a create. Without it, mkdir is called on each
   * directory from the hierarchy's root down.
   */
  mkdirAll?(dir: string): string | undefined;
  rmdir(dir: string): void;
  /** File contents, or undefined if there is no such file (or its cgroup went as it was read). */
  read(file: string): string | undefined;
  write(file: string, value: string): void;
  /**
   * Writes each value to file with a write(2) of its own, through one open
   * (the v1 device lists take one rule a write: a dozen opens of one file
   * cost about 0.6 ms of a create). A failure carries the index of its
   * value (WriteEachError). Without it, write is called for each value.
   */
  writeEach?(file: string, values: readonly string[]): void;
  /** Whether the cgroup directory exists (cheaper than a failed read: no error is made). */
  exists(dir: string): boolean;
  /** Whether dir has child cgroups. */
  hasChildren(dir: string): boolean;
  /** Attaches a BPF_PROG_TYPE_CGROUP_DEVICE program (cgroup v2's device allowlist) to dir. */
  attachDeviceProgram(dir: string, program: Buffer): void;
}

/** A failed writeEach: which value (index) failed, and the system error it failed with. */
export class WriteEachError extends Error {
  constructor(
    readonly index: number,
    readonly error: unknown,
  ) {
    super(messageOf(error));
  }
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
  // Node's own mkdir -p: in C++, from the deepest directory up until one
  // exists, then down; an existing one is no error.
  mkdirAll: (dir) => mkdirSync(dir, { recursive: true }),
  rmdir: (dir) => rmdirSync(dir),
  read(file) {
    try {
      return readFileSync(file, 'utf8');
    } catch (err) {
      // ENODEV: the cgroup was removed after the file was opened (another
      // container's delete removing a shared parent): gone, as ENOENT.
      if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENODEV') return undefined;
      throw err;
    }
  },
  // r+: a file the kernel does not have is ENOENT, never an attempt to create it.
  // The encoding named, Node 20 writes the string in C++ (as the state
  // record's write, src/state/store.ts) rather than through a Buffer made in
  // JavaScript; its errors are the same.
  write: (file, value) => writeFileSync(file, value, { flag: 'r+', encoding: 'utf8' }),
  writeEach(file, values) {
    let fd: number;
    try {
      fd = openSync(file, 'r+');
    } catch (err) {
      throw new WriteEachError(0, err);
    }
    for (let at = 0; at < values.length; at++) {
      try {
        const bytes = Buffer.from(values[at]);
        // A write is one value to the kernel: the rest of a short one
        // would be read as another value, so it is an error, not a retry.
        const n = writeSync(fd, bytes);
        if (n !== bytes.length) throw new Error(`the kernel took ${n} of its ${bytes.length} bytes`);
      } catch (err) {
        try {
          closeSync(fd);
        } catch {
          // the write's error is the one to report
        }
        throw new WriteEachError(at, err);
      }
    }
    try {
      closeSync(fd);
    } catch (err) {
      throw new WriteEachError(values.length - 1, err);
    }
  },
  exists: (dir) => existsSync(dir),
  hasChildren(dir) {
    try {
      return readdirSync(dir, { withFileTypes: true }).some((e) => e.isDirectory());
    } catch {
      return false;
    }
  },
  attachDeviceProgram: (dir, program) => native().attachDeviceProgram(dir, program),
};
