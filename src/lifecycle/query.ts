// state and list: what a container is, derived under a shared lock.
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
