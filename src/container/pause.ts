// pause: every process of the container frozen through its cgroups' freezer
// (v1 freezer.state FROZEN; v2 cgroup.freeze, done when cgroup.events says
// "frozen 1"). As runc 1.1: allowed on a created or a running container;
// the status then derives as paused (src/state/status.ts) until resume.
import { TsrunError } from '../errors';
import { messages } from '../messages';
import { withContainer } from './container';

export function pause(root: string, id: string): void {
  withContainer(root, id, 'exclusive', (c) => {
    const status = c.status();
    // runc says "container not running" for a paused container too.
    if (status !== 'created' && status !== 'running') throw new TsrunError(messages.pauseNotRunning(id, status));
    const cg = c.cgroups;
    const frozen = cg.freeze();
    if (!frozen && c.rec.cgroup.rootless && !cg.controllerDir('freezer')) throw new TsrunError(messages.noCgroup(id, 'pause it'));
    if (!frozen) throw new TsrunError(messages.noFreezer(id));
    // A v1 cgroup whose processes keep forking can stay FREEZING: a half-frozen
    // container is worse than a running one, so it is thawed again (as runc).
    if (frozen !== 'frozen') {
      try {
        cg.thaw();
      } catch {
        // the error below says what matters
      }
      throw new TsrunError(messages.unableToFreeze(id, frozen));
    }
  });
}
