// Being told when the memory controller of a container's cgroup meets an
// OOM, for `tsrun events` (runc's notify_linux.go and notify_v2_linux.go):
// - v1: an eventfd registered through cgroup.event_control on
//   memory.oom_control; the kernel adds 1 to it at every OOM of the
//   cgroup, and once more when the cgroup is removed.
// - v2: memory.events, whose oom_kill count the kernel raises (and whose
//   change it announces to inotify, which fs.watch uses).
import { closeSync, existsSync, openSync, read, watch, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { realCgroupFs } from '../cgroups/fs';
import { keyValuesU64 } from '../cgroups/stats';
import { TsrunError, messageOf } from '../errors';
import { native } from '../native/addon';

export interface OomWatch {
  /** Looks for an OOM now (v2: the count; v1 needs no looking). */
  check(): void;
  /** Ends the watch, after reporting any OOM the kernel had already signalled. */
  close(): Promise<void>;
}

export interface OomHandlers {
  oom(): void;
  /** The cgroup was removed (v1): nothing more will come. */
  gone(): void;
}

// Added to the eventfd by close() to end the read in progress: far above
// any count of OOMs, so that a read can tell it from the kernel's.
const WAKE = 1n << 40n;

/** v1: the eventfd of memory.oom_control, read on a libuv worker thread. */
export function watchOomV1(memoryDir: string, on: OomHandlers): OomWatch {
  const control = join(memoryDir, 'cgroup.event_control');
  const efd = native().eventfd(0);
  try {
    const cfd = openSync(join(memoryDir, 'memory.oom_control'), 'r');
    try {
      // "<eventfd> <fd of memory.oom_control>": the kernel takes both from
      // this process's fd table while handling the write.
      writeFileSync(control, `${efd} ${cfd}`, { flag: 'w' });
    } finally {
      closeSync(cfd);
    }
  } catch (err) {
    closeSync(efd);
    throw new TsrunError(`cannot register for OOM notifications in ${memoryDir}: ${messageOf(err)}`);
  }

  let closing = false;
  let ended!: () => void;
  const done = new Promise<void>((resolve) => (ended = resolve));
  const buf = Buffer.alloc(8);
  const next = (): void => {
    read(efd, buf, 0, 8, null, (err) => {
      if (err) return ended();
      let count = buf.readBigUInt64LE(0);
      const woken = count >= WAKE;
      if (woken) count -= WAKE;
      // As runc: the kernel also signals the removal of the cgroup.
      if (count > 0n && !existsSync(control)) {
        on.gone();
        return ended();
      }
      if (count > 0n) on.oom();
      if (woken) return ended();
      next();
    });
  };
  next();

  return {
    check() {},
    async close() {
      if (!closing) {
        closing = true;
        const wake = Buffer.alloc(8);
        wake.writeBigUInt64LE(WAKE);
        try {
          writeSync(efd, wake);
        } catch {
          // the read already failed and ended
        }
      }
      await done;
      closeSync(efd);
    },
  };
}

/** v2: memory.events' oom_kill, looked at when inotify says it changed and whenever check() is called. */
export function watchOomV2(dir: string, on: OomHandlers, readFile: (file: string) => string | undefined = realCgroupFs.read): OomWatch {
  const eventsFile = join(dir, 'memory.events');
  const oomKills = () => keyValuesU64(readFile(eventsFile)).get('oom_kill') ?? 0n;
  let seen = oomKills();
  const check = () => {
    const now = oomKills();
    if (now > seen) {
      seen = now;
      on.oom();
    }
  };
  let watcher: ReturnType<typeof watch> | undefined;
  try {
    watcher = watch(eventsFile, { persistent: false }, check);
    watcher.on('error', () => watcher?.close());
  } catch {
    // no memory controller in the cgroup, or no inotify: check() polls alone
  }
  return {
    check,
    async close() {
      watcher?.close();
      check();
    },
  };
}
