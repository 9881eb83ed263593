// resume: the frozen cgroups of a paused container thawed; a container
// paused while created is created again, one paused while running runs.
// As runc 1.1, anything but a paused container is refused.
import { TsrunError } from '../errors';
import { messages } from '../messages';
import { withContainer } from './container';

export function resume(root: string, id: string): void {
  withContainer(root, id, 'exclusive', (c) => {
    const status = c.status();
    if (status !== 'paused') throw new TsrunError(messages.resumeNotPaused(id, status));
    c.cgroups.thaw();
  });
}
