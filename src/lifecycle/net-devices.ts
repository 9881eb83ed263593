// config-linux.md "Network Devices": each host interface of
// linux.netDevices moved into the container's network namespace, renamed
// if asked, with its permanent global addresses, and set up. tsrun does it
// from the host's namespace (tsrun-init, in the container's user
// namespace, could not) while the init waits. Nothing is done at delete:
// the kernel returns a physical device to the host when the namespace goes,
// and destroys a virtual one, as the spec says.
import { closeSync, openSync } from 'node:fs';
import { TsrunError, messageOf } from '../errors';
import { native } from '../native/addon';
import { join } from '../spec/fieldpath';
import type { Spec } from '../spec/types';

/** Moves the devices into the network namespace of `pid`, in config order. */
export function moveNetDevices(devices: NonNullable<NonNullable<Spec['linux']>['netDevices']>, pid: number): void {
  const ns = openSync(`/proc/${pid}/ns/net`, 'r');
  try {
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
