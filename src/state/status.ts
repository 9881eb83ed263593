// The status of a container (runtime.md "State") is derived, never stored:
// from whether create finished, whether the init (with its recorded start
// time) still lives, whether its cgroups are frozen (paused), and whether
// start has consumed the exec fifo.
import { cgroupManager } from '../cgroups/manager';
import { specVersion } from '../spec/version';
import { processState } from './proc';
import type { StateRecord } from './record';
import type { ContainerDir } from './store';

export type Status = 'creating' | 'created' | 'running' | 'paused' | 'stopped';

/** The statuses in which the container's init lives. */
export function isLive(status: Status): boolean {
  return status === 'created' || status === 'running' || status === 'paused';
}

/**
 * Status of a container no create is at work on: one whose lock we hold,
 * or whose record create has finished (query.ts reads it without the lock).
 */
export function statusOf(dir: ContainerDir, rec: StateRecord | undefined): Status {
  // A create that died before finishing left a container that is not running.
  if (!rec || rec.phase === 'creating' || !rec.init) return 'stopped';
  if (processState(rec.init.pid, rec.init.startTime) !== 'alive') return 'stopped';
  // As runc: a frozen container is paused, whether or not start has run.
  const freezer = cgroupManager(rec.cgroup).freezerState();
  if (freezer === 'frozen' || freezer === 'freezing') return 'paused';
  return dir.hasFifo() ? 'created' : 'running';
}

/** The state document of runtime.md, with runc's extra fields. */
export function stateDocument(rec: StateRecord, status: Status, id: string): Record<string, unknown> {
  const live = isLive(status);
  const doc: Record<string, unknown> = {
    ociVersion: specVersion,
    id,
    pid: live && rec.init ? rec.init.pid : 0,
    status,
    bundle: rec.bundle,
    rootfs: rec.rootfs,
    created: rec.created,
    owner: rec.owner,
  };
  if (rec.annotations && Object.keys(rec.annotations).length > 0) doc.annotations = rec.annotations;
  return doc;
}
