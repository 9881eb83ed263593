// start (runtime.md "Start"): startContainer hooks in the container, then
// the init, waiting in create, is released by one byte written into the
// exec fifo (whose removal marks the container as started), then the
// poststart hooks once the user's program runs. A failing hook stops the
// container and fails start.
import { closeSync, constants, openSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { TsrunError, errnoCode } from '../errors';
import type { Spec } from '../spec/types';
import { processState } from '../state/proc';
import type { StateRecord } from '../state/record';
import { statusOf } from '../state/status';
import { ContainerDir } from '../state/store';
import { sleepMs } from '../util/sleep';
import { containerNamespaces, hookState, pidInContainer, runHooks } from './hooks';
import { killAndWait } from './teardown';

function exeId(pid: number): string | undefined {
  try {
    const st = statSync(`/proc/${pid}/exe`);
    return `${st.dev}:${st.ino}`;
  } catch {
    return undefined;
  }
}

/** The exe of the waiting init, to tell when it has exec'd the user's program. */
export function initExeId(pid: number): string {
  return exeId(pid) ?? '';
}

// poststart hooks run "after the user-specified process is executed": wait
// until the init's executable is no longer tsrun-init.
function waitForExec(rec: StateRecord): void {
  const init = rec.init!;
  for (let i = 0; i < 5000; i++) {
    if (processState(init.pid, init.startTime) !== 'alive') throw new TsrunError(`container ${rec.id} exited before its program started`);
    const now = exeId(init.pid);
    if (now !== undefined && now !== rec.initExe) return;
    sleepMs(1);
  }
  throw new TsrunError(`container ${rec.id} did not start its program`);
}

function release(dir: ContainerDir, id: string): void {
  let fd: number;
  try {
    fd = openSync(dir.fifoPath, constants.O_WRONLY | constants.O_NONBLOCK);
  } catch (err) {
    if (errnoCode(err) === 'ENXIO') throw new TsrunError(`cannot start container ${id}: its init is gone`);
    throw err;
  }
  try {
    writeSync(fd, '0');
  } finally {
    closeSync(fd);
  }
  unlinkSync(dir.fifoPath);
}

export function start(root: string, id: string): void {
  const { dir } = ContainerDir.open(root, id, 'exclusive');
  try {
    const rec = dir.read();
    const status = statusOf(dir, rec);
    if (status !== 'created') throw new TsrunError(`cannot start container ${id}: it is ${status}, not created`);
    const init = rec!.init!;
    const spec = rec!.config as unknown as Spec;
    const base = { id, bundle: rec!.bundle, annotations: rec!.annotations };
    try {
      runHooks(spec, 'startContainer', hookState(base, 'created', pidInContainer(init.pid)), {
        pid: init.pid,
        namespaces: containerNamespaces(spec),
        chroot: true,
      });
      release(dir, id);
      if (spec.hooks?.poststart?.length) {
        waitForExec(rec!);
        runHooks(spec, 'poststart', hookState(base, 'running', init.pid));
      }
    } catch (err) {
      // Stopped, not destroyed: delete undoes the rest (and runs poststop).
      killAndWait([init]);
      throw err;
    }
  } finally {
    dir.unlock();
  }
}
