// Undoing create (runtime.md lifecycle step 12): the container's processes
// killed, its cgroups removed, its state directory deleted. Used by delete
// and by a create that fails half-way, so both leave nothing behind.
import { cgroupManager } from '../cgroups/manager';
import { warn } from '../log';
import { processState } from '../state/proc';
import type { StateRecord } from '../state/record';
import type { ContainerDir } from '../state/store';
import { sleepMs } from '../util/sleep';

interface ProcessRef {
  pid: number;
  startTime: string;
}

export function killAndWait(refs: (ProcessRef | undefined)[]): void {
  const live = refs.filter((r): r is ProcessRef => !!r && processState(r.pid, r.startTime) === 'alive');
  for (const r of live) {
    try {
      process.kill(r.pid, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
  for (let i = 0; i < 1000 && live.some((r) => processState(r.pid, r.startTime) === 'alive'); i++) sleepMs(5);
}

export function teardown(dir: ContainerDir, rec: StateRecord | undefined): void {
  if (rec) {
    killAndWait([rec.init, rec.helper]);
    cgroupManager(rec.cgroup).destroy();
    if (rec.intelRdt) {
      // Loaded only for a container with a resctrl group: delete stays lean.
      const { removeIntelRdt } = require('../cgroups/resctrl') as typeof import('../cgroups/resctrl');
      removeIntelRdt(rec.intelRdt, warn, undefined, rec.phase === 'creating');
    }
  }
  dir.remove();
}
