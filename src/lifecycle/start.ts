// start (runtime.md "Start"): the init, waiting in create, is released by
// one byte written into the exec fifo (whose removal marks the container as
// started); it runs the startContainer hooks and reports on them through
// the report fifo, then execs the user's program; then the poststart hooks.
// A failing hook stops the container and fails start.
import { closeSync, constants, openSync, readSync, unlinkSync, writeSync } from 'node:fs';
import { TsrunError, errnoCode } from '../errors';
import { messages } from '../messages';
import { type Spec, startWaitsForProgram } from '../spec/types';
import { statusOf } from '../state/status';
import { ContainerDir } from '../state/store';
import { sleepMs } from '../util/sleep';
import { join } from '../spec/fieldpath';
import { hookState } from '../state/hookstate';
import { killAndWait } from './teardown';

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

// Reads the init's report until its end: "ok" once the startContainer
// hooks are done (or at once without any), then end of file when the
// program's execve closes the fifo (poststart hooks run "after the
// user-specified process is executed", runtime.md, however soon it exits);
// "fail <index> <message>" for a failed hook, "error <message>" for
// anything else on the way to the program. End of file before "ok" means
// the init died before it could say.
function awaitProgram(report: number, id: string): void {
  const buf = Buffer.alloc(4096);
  let text = '';
  for (let pause = 1; ; pause = Math.min(pause * 2, 20)) {
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
  const lines = text.split('\n').filter((l) => l);
  for (const line of lines) {
    const hook = /^fail (\d+) ([^]*)$/.exec(line);
    if (hook) {
      const { HookError } = require('./hooks') as typeof import('./hooks');
      throw new HookError(`startContainer ${hook[2]}`, join('hooks.startContainer', Number(hook[1])));
    }
    if (line.startsWith('error ')) throw new TsrunError(line.slice(6));
  }
  if (!lines.includes('ok')) throw new TsrunError(`container ${id} exited before its program started`);
}

export function start(root: string, id: string): void {
  const { dir } = ContainerDir.open(root, id, 'exclusive');
  try {
    const rec = dir.read();
    const status = statusOf(dir, rec);
    if (status === 'paused') throw new TsrunError(messages.startPaused(id));
    if (status !== 'created') throw new TsrunError(messages.startNotCreated(id, status));
    const init = rec!.init!;
    const spec = rec!.config as unknown as Spec;
    const base = { id, bundle: rec!.bundle, annotations: rec!.annotations };
    try {
      // Opened before the release, so the report outlives the init's end of it.
      const report = startWaitsForProgram(spec) ? openSync(dir.startReportPath, constants.O_RDONLY | constants.O_NONBLOCK) : undefined;
      try {
        release(dir, id);
        if (report !== undefined) awaitProgram(report, id);
      } finally {
        if (report !== undefined) closeSync(report);
      }
      if (spec.hooks?.poststart?.length) {
        // The hooks' module only when there are hooks: it loads the init's protocol.
        const { runHooks } = require('./hooks') as typeof import('./hooks');
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
