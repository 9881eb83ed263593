// linux.resources.pids (config-linux.md "PIDs"): pids.max in v1 and v2.
// A negative limit is "max"; 0 is a limit like any other (the spec: "0 is a
// valid limit value for the pids cgroup controller from the kernel's
// perspective and SHOULD be treated as such by runtimes").
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
    if (limit === undefined || limit === null) return [];
    return [write('pids.max', limit < 0 ? 'max' : int(limit), `${F}.limit`)];
  },
};
