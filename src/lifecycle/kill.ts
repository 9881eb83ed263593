// kill (runtime.md "Kill"): a signal to the init, through a pidfd so that a
// recycled pid can never be hit; with --all, to every process of the
// container's cgroups, frozen meanwhile so none can fork away.
import { closeSync } from 'node:fs';
import { cgroupManager } from '../cgroups/manager';
import { TsrunError, errnoCode } from '../errors';
import { native } from '../native/addon';
import { processState } from '../state/proc';
import { statusOf } from '../state/status';
import { ContainerDir } from '../state/store';

export function kill(root: string, id: string, signal: number, all: boolean): void {
  const { dir } = ContainerDir.open(root, id, 'exclusive');
  try {
    const rec = dir.read();
    const status = statusOf(dir, rec);
    if (status !== 'created' && status !== 'running') throw new TsrunError(`cannot kill container ${id}: it is ${status}`);
    const init = rec!.init!;
    if (all) {
      const cg = cgroupManager(rec!.cgroup);
      const frozen = cg.freeze();
      try {
        for (const pid of cg.pids()) {
          try {
            process.kill(pid, signal);
          } catch (err) {
            if (errnoCode(err) !== 'ESRCH') throw err;
          }
        }
      } finally {
        if (frozen) cg.thaw();
      }
      return;
    }
    const pidfd = native().pidfdOpen(init.pid);
    try {
      // The pidfd pins the process; its start time says it is still ours.
      if (processState(init.pid, init.startTime) === 'gone') throw new TsrunError(`cannot kill container ${id}: it is stopped`);
      native().pidfdSendSignal(pidfd, signal);
    } finally {
      closeSync(pidfd);
    }
  } finally {
    dir.unlock();
  }
}
