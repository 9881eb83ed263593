// config-linux.md "Network Devices": each host interface of
// linux.netDevices moved into the container's network namespace, renamed
// if asked, with its permanent global addresses, and set up. tsrun does it
// from the host's namespace (tsrun-init, in the container's user
// namespace, could not) while the init waits. Nothing is done at delete:
// the kernel returns a physical device to the host when the namespace goes,
// and destroys a virtual one, as the spec says.
import { closeSync, existsSync, openSync } from 'node:fs';
import { TsrunError, messageOf } from '../errors';
import { native } from '../native/addon';
import { join } from '../spec/fieldpath';
import type { Spec } from '../spec/types';
import { startTimeOf } from '../state/proc';

/**
 * Moves the devices into the network namespace of the init (`pid`, started
 * at `startTime`), in config order. Every device is looked for first: a
 * missing one fails the create before any has moved.
 */
export function moveNetDevices(devices: NonNullable<NonNullable<Spec['linux']>['netDevices']>, pid: number, startTime: string): void {
  for (const host of Object.keys(devices)) {
    if (!existsSync(`/sys/class/net/${host}`)) throw new TsrunError(`network device ${host} not found`, join('linux.netDevices', host));
  }
  const ns = openSync(`/proc/${pid}/ns/net`, 'r');
  try {
    // The namespace opened is the init's, not a process that took its pid.
    if (startTimeOf(pid) !== startTime) throw new TsrunError('the container init exited before its network devices were moved', 'linux.netDevices');
    for (const [host, dev] of Object.entries(devices)) {
      try {
        native().moveNetDevice(ns, host, dev.name ?? host);
      } catch (err) {
        throw new TsrunError(messageOf(err), join('linux.netDevices', host));
      }
    }
  } finally {
    closeSync(ns);
  }
}
