// delete (runtime.md "Delete"): only a stopped container, unless --force,
// which kills it first. A container whose create died half-way is stopped.
// A paused container is killed while still frozen, then thawed: a frozen
// process dies of SIGKILL only once thawed, and by then it can run nothing.
import { NoSuchContainer, TsrunError } from '../errors';
import { messages } from '../messages';
import { statusOf } from '../state/status';
import { ContainerDir } from '../state/store';
import type { Spec } from '../spec/types';
import { hookState } from '../state/hookstate';
import { signalCgroups } from './kill';
import { teardown } from './teardown';

/** With --force, a container that does not exist is not an error (as for runc). */
export function deleteContainer(root: string, id: string, force: boolean): void {
  let opened;
  try {
    opened = ContainerDir.open(root, id, 'exclusive');
  } catch (err) {
    if (force && err instanceof NoSuchContainer) return;
    throw err;
  }
  const { dir } = opened;
  try {
    const rec = dir.read();
    const status = statusOf(dir, rec);
    if (status !== 'stopped' && !force) throw new TsrunError(messages.deleteNotStopped(id, status));
    if (status === 'paused') signalCgroups(rec!, 9);
    teardown(dir, rec);
    // After the container is gone, before delete returns (config.md). The
    // hooks' module only when there are hooks: it loads the init's protocol.
    const spec = rec?.config as unknown as Spec | undefined;
    if (rec && spec?.hooks?.poststop?.length) {
      const { runPoststop } = require('./hooks') as typeof import('./hooks');
      runPoststop(spec, hookState(rec, 'stopped', 0));
    }
  } finally {
    dir.unlock();
  }
}
