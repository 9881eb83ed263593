// linux.resources.pids (config-linux.md "PIDs"): pids.max in v1 and v2.
// A negative limit is "max"; 0 leaves the inherited "max", as runc 1.1 does.
import { type Controller, int, setFields, write } from './controller';

const F = 'linux.resources.pids';

export const pids: Controller = {
  name: 'pids',
  v1: 'pids',
  v2: 'pids',
  handles: [`${F}.limit`],
  fields: (r) => setFields(r.pids, F),
  writes(r) {
    const limit = r.pids?.limit;
    if (limit === undefined || limit === null || limit === 0) return [];
    return [write('pids.max', limit < 0 ? 'max' : int(limit), `${F}.limit`)];
  },
};
