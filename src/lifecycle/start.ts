// start (runtime.md "Start"): the init, waiting in create, is released by
// one byte written into the exec fifo (whose removal marks the container as
// started); it runs the startContainer hooks and reports on them through
// the report fifo, then execs the user's program; then the poststart hooks.
// A failing hook stops the container and fails start.
import { closeSync, constants, openSync, readSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { TsrunError, errnoCode } from '../errors';
import { messages } from '../messages';
import type { Spec } from '../spec/types';
import { processState } from '../state/proc';
import type { StateRecord } from '../state/record';
import { statusOf } from '../state/status';
import { ContainerDir } from '../state/store';
import { sleepMs } from '../util/sleep';
import { join } from '../spec/fieldpath';
import { HookError, hookState, runHooks } from './hooks';
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
    if (errnoCode(err) === 'ENXIO') throw new TsrunError(messages.startInitGone(id));
    throw err;
  }
  try {
    writeSync(fd, '0');
  } finally {
    closeSync(fd);
  }
  unlinkSync(dir.fifoPath);
}

// Waits for the init's one-line report on the startContainer hooks: "ok",
// or "fail <index> <message>". End of file without one means the init died
// before it could say.
function awaitStartHooks(report: number, id: string): void {
  const buf = Buffer.alloc(4096);
  let text = '';
  for (let pause = 1; !text.includes('\n'); pause = Math.min(pause * 2, 20)) {
    let n: number;
    try {
      n = readSync(report, buf);
    } catch (err) {
      if (errnoCode(err) !== 'EAGAIN') throw err;
      sleepMs(pause);
      continue;
    }
    if (n === 0) break;
    text += buf.toString('utf8', 0, n);
  }
  const line = text.split('\n')[0];
  if (line === 'ok') return;
  const m = /^fail (\d+) ([^]*)$/.exec(line);
  if (m) throw new HookError(`startContainer ${m[2]}`, join('hooks.startContainer', Number(m[1])));
  throw new TsrunError(`container ${id} exited before it reported on its startContainer hooks`);
}

export function start(root: string, id: string): void {
  const { dir } = ContainerDir.open(root, id, 'exclusive');
  try {
    const rec = dir.read();
    const status = statusOf(dir, rec);
    if (status !== 'created') throw new TsrunError(messages.startNotCreated(id, status));
    const init = rec!.init!;
    const spec = rec!.config as unknown as Spec;
    const base = { id, bundle: rec!.bundle, annotations: rec!.annotations };
    try {
      // Opened before the release, so the report outlives the init's end of it.
      const report = spec.hooks?.startContainer?.length ? openSync(dir.startReportPath, constants.O_RDONLY | constants.O_NONBLOCK) : undefined;
      try {
        release(dir, id);
        if (report !== undefined) awaitStartHooks(report, id);
      } finally {
        if (report !== undefined) closeSync(report);
      }
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
