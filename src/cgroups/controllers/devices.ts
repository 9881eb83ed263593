// linux.resources.devices (config-linux.md "Allowed Device list"), applied
// to every container: without rules of its own a container still gets
// deny-all plus the default devices (see ../devices/rules.ts).
// v1: "a" to devices.deny (or devices.allow), then each exception of the
// effective list, so that devices.list reads as runc's. v2 has no devices
// controller: the same list becomes a BPF program on the cgroup.
import { deviceProgram } from '../devices/bpf';
import { containerAllowlist, ruleLine } from '../devices/rules';
import { type Controller, type Write, write } from './controller';

const F = 'linux.resources.devices';

export const devices: Controller = {
  name: 'devices',
  v1: 'devices',
  v2: null,
  always: true,
  handles: [F],
  fields: (r) => ((r.devices ?? []).length ? [F] : []),
  writes(r, version) {
    const list = containerAllowlist(r);
    if (version === 2) return [{ deviceProgram: deviceProgram(list), field: F }];
    const out: Write[] = [write(list.defaultAllow ? 'devices.allow' : 'devices.deny', 'a', F)];
    for (const e of list.exceptions) out.push(write(e.allow ? 'devices.allow' : 'devices.deny', ruleLine(e), F));
    return out;
  },
};
