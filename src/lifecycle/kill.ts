// kill (runtime.md "Kill"): a signal to the init, through a pidfd so that a
// recycled pid can never be hit; with --all, to every process of the
// container's cgroups, frozen meanwhile so none can fork away.
//
// As runc: kill of a stopped container fails with "container not running"
// (containerd takes those words for a process that has already finished),
// while kill --all signals whatever is left in the cgroups of a container
// in any state, which may be nothing, and succeeds. containerd's shim runs
// `kill --all <id> 9` after the init of a container without its own pid
// namespace has exited, to end what the init left behind.
//
// A paused container is signalled too, but a frozen process acts on no
// signal until it is thawed (on cgroup v1 not even on SIGKILL): so after a
// SIGKILL its cgroups are thawed, that it dies (runc 1.1 and 1.2 do so for
// the init). Any other signal waits for resume: the container stays paused
// (runc 1.1's kill --all thaws it whatever the signal; see src/messages.ts).
import { closeSync } from 'node:fs';
import { cgroupManager } from '../cgroups/manager';
import { TsrunError, errnoCode } from '../errors';
import { warn } from '../log';
import { messages } from '../messages';
import { native } from '../native/addon';
import { processState } from '../state/proc';
import type { StateRecord } from '../state/record';
import { isLive, statusOf } from '../state/status';
import { ContainerDir } from '../state/store';

const SIGKILL = 9;

export function kill(root: string, id: string, signal: number, all: boolean): void {
  const { dir } = ContainerDir.open(root, id, 'exclusive');
  try {
    const rec = dir.read();
    if (all) {
      // A record-less container (create died before writing one) has no cgroups to look in.
      if (rec?.cgroup.dirs.length) signalCgroups(rec, signal);
      // Rootless without a cgroup it could write: its init is what can be
      // found (in a pid namespace of its own, SIGKILL to it ends them all).
      else if (rec && isLive(statusOf(dir, rec))) {
        if (!rec.ownPidNamespace || signal !== SIGKILL) warn(`container ${id} has no cgroup (rootless): only its init is signalled, and other processes of it may be left`);
        signalInit(rec, id, signal);
      }
      return;
    }
    const status = statusOf(dir, rec);
    if (!isLive(status)) throw new TsrunError(messages.killNotRunning(id));
    signalInit(rec!, id, signal);
    if (status === 'paused' && signal === SIGKILL) cgroupManager(rec!.cgroup).thaw();
  } finally {
    dir.unlock();
  }
}

/**
 * Every process of the container's cgroups, frozen meanwhile so that none
 * can fork away; thawed afterwards unless it was paused before (and the
 * signal is not SIGKILL, which must be thawed to act).
 */
export function signalCgroups(rec: StateRecord, signal: number): void {
  const cg = cgroupManager(rec.cgroup);
  // Nothing left (a stopped container, or cgroups a failed create never
  // made): nothing to freeze or signal.
  if (cg.pids().length === 0) return;
  const state = cg.freezerState();
  const paused = state === 'frozen' || state === 'freezing';
  const frozen = cg.freeze();
  const thawAfter = frozen && (!paused || signal === SIGKILL);
  try {
    if (frozen === 'frozen') {
      for (const pid of cg.pids()) signalPid(pid, signal);
      return;
    }
    // Not frozen (no freezer, or it did not complete): a process may fork
    // while we signal. Look again until a look finds nothing new, as runc.
    if (frozen) warn('unable to freeze the container; signalling its processes until none is new');
    if (signal === SIGKILL && frozen) cg.thaw(); // half-frozen processes cannot die
    const signalled = new Set<number>();
    for (let round = 0; round < 100; round++) {
      const fresh = cg.pids().filter((p) => !signalled.has(p));
      if (fresh.length === 0) break;
      for (const pid of fresh) {
        signalled.add(pid);
        signalPid(pid, signal);
      }
    }
  } finally {
    if (thawAfter) cg.thaw();
  }
}

function signalPid(pid: number, signal: number): void {
  try {
    process.kill(pid, signal);
  } catch (err) {
    if (errnoCode(err) !== 'ESRCH') throw err;
  }
}

function signalInit(rec: StateRecord, id: string, signal: number): void {
  const init = rec.init!;
  // The init may exit at any moment after the status said it ran: then it
  // is the same answer as for a stopped container.
  let pidfd: number;
  try {
    pidfd = native().pidfdOpen(init.pid);
  } catch (err) {
    if (errnoCode(err) === 'ESRCH') throw new TsrunError(messages.killNotRunning(id));
    throw err;
  }
  try {
    // The pidfd pins the process; its start time says it is still ours.
    if (processState(init.pid, init.startTime) === 'gone') throw new TsrunError(messages.killNotRunning(id));
    try {
      native().pidfdSendSignal(pidfd, signal);
    } catch (err) {
      if (errnoCode(err) === 'ESRCH') throw new TsrunError(messages.killNotRunning(id));
      throw err;
    }
  } finally {
    closeSync(pidfd);
  }
}
