// state and list: what a container is, from its record, /proc and its
// cgroups; the lock only to tell a create at work from one that died.
import type { StateRecord } from '../state/record';
import { specVersion } from '../spec/version';
import { type Status, stateDocument, statusOf } from '../state/status';
import { ContainerDir } from '../state/store';

export interface Snapshot {
  record: StateRecord | undefined;
  status: Status;
}

/** The container's record and status. A create still holding the lock shows as creating. */
export function snapshot(root: string, id: string): Snapshot {
  // A record past create is read without the lock, as runc reads its
  // state: the record is replaced whole (store.ts), and the status comes
  // from /proc, the freezer and the exec fifo, whoever holds the lock (the
  // lock below is never waited for either). Only whether a create is still
  // at work needs the lock, and taking it loads the addon for flock: about
  // 0.6 ms of every state and list.
  // Anything else (no record, no such container, a damaged one) is left to
  // the locked path, whose errors are the commands' own.
  const unlocked = ContainerDir.unlocked(root, id);
  let settled: StateRecord | undefined;
  try {
    settled = unlocked.read();
  } catch {
    settled = undefined;
  }
  if (settled && settled.phase !== 'creating') return { record: settled, status: statusOf(unlocked, settled) };
  const { dir, locked } = ContainerDir.open(root, id, 'try');
  try {
    const record = dir.read();
    if (!locked && (!record || record.phase === 'creating')) return { record, status: 'creating' };
    return { record, status: statusOf(dir, record) };
  } finally {
    dir.unlock();
  }
}

export function stateOf(root: string, id: string): Record<string, unknown> {
  const { record, status } = snapshot(root, id);
  if (!record) {
    // A create that died before writing anything: only the id is known.
    return { ociVersion: specVersion, id, pid: 0, status, bundle: '', rootfs: '', created: '', owner: '' };
  }
  return stateDocument(record, status, id);
}

export function listStates(root: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const id of ContainerDir.list(root)) {
    try {
      out.push(stateOf(root, id));
    } catch {
      // deleted while we were listing
    }
  }
  return out;
}
