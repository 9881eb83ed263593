// The device allowlist (config-linux.md "Allowed Device list"): the config's
// rules in order, then the devices every container gets (runc's list, so
// that a container's devices.list is the one runc gives it), reduced to the
// effective list the kernel's v1 devices cgroup would hold after the same
// writes. v1 writes that list; v2 compiles it into a BPF program.
import type { Resources } from '../../spec/types';
import type { DeviceAllowlist, DeviceRule } from './bpf';

export type { DeviceAllowlist, DeviceRule };

const rwm = (allow: boolean, type: 'b' | 'c', major: number, minor: number, access = 'rwm'): DeviceRule => ({ allow, type, major, minor, access });

/**
 * Always allowed, after the config's rules (as runc 1.1 appends them): mknod
 * of any node (a node without read or write access is harmless), the
 * default devices of config-linux.md, /dev/ptmx and the container's ptys,
 * and /dev/net/tun.
 */
export const defaultDeviceRules: DeviceRule[] = [
  rwm(true, 'c', -1, -1, 'm'),
  rwm(true, 'b', -1, -1, 'm'),
  rwm(true, 'c', 1, 3), // /dev/null
  rwm(true, 'c', 1, 8), // /dev/random
  rwm(true, 'c', 1, 7), // /dev/full
  rwm(true, 'c', 5, 0), // /dev/tty
  rwm(true, 'c', 1, 5), // /dev/zero
  rwm(true, 'c', 1, 9), // /dev/urandom
  rwm(true, 'c', 136, -1), // /dev/pts/*
  rwm(true, 'c', 5, 2), // /dev/ptmx
  rwm(true, 'c', 10, 200), // /dev/net/tun
];

interface SpecDeviceRule {
  allow: boolean;
  type?: string;
  major?: number;
  minor?: number;
  access?: string;
}

/** A config rule as the kernel reads it: unset type is "a", unset numbers "*", unset access "rwm". */
export function normalizeRule(r: SpecDeviceRule): DeviceRule {
  const access = r.access ? ['r', 'w', 'm'].filter((c) => r.access!.includes(c)).join('') : 'rwm';
  return { allow: r.allow, type: (r.type ?? 'a') as DeviceRule['type'], major: r.major ?? -1, minor: r.minor ?? -1, access };
}

const same = (a: DeviceRule, b: DeviceRule) => a.type === b.type && a.major === b.major && a.minor === b.minor;
const minus = (a: string, b: string) => [...a].filter((c) => !b.includes(c)).join('');
const union = (a: string, b: string) => ['r', 'w', 'm'].filter((c) => a.includes(c) || b.includes(c)).join('');

/**
 * The v1 kernel's semantics (security/device_cgroup.c): a rule of type "a"
 * sets the default and clears the exceptions; a rule of the default's
 * polarity takes its access away from the exception with exactly its type
 * and numbers; a rule of the other polarity adds to that exception, or
 * appends one. The result starts from deny-all, as a new container must.
 */
export function effectiveAllowlist(rules: DeviceRule[]): DeviceAllowlist {
  let defaultAllow = false;
  let exceptions: DeviceRule[] = [];
  for (const r of rules) {
    if (r.type === 'a') {
      defaultAllow = r.allow;
      exceptions = [];
      continue;
    }
    const i = exceptions.findIndex((e) => same(e, r));
    if (r.allow === defaultAllow) {
      if (i < 0) continue;
      const left = minus(exceptions[i].access, r.access);
      if (left) exceptions[i] = { ...exceptions[i], access: left };
      else exceptions.splice(i, 1);
    } else if (i >= 0) {
      exceptions[i] = { ...exceptions[i], access: union(exceptions[i].access, r.access) };
    } else {
      exceptions.push({ ...r });
    }
  }
  // runc writes (and so devices.list shows) the exceptions sorted. (Not
  // localeCompare: its first call sets up ICU's collator, 10 ms of create.)
  exceptions.sort((a, b) => (a.type < b.type ? -1 : a.type > b.type ? 1 : 0) || a.major - b.major || a.minor - b.minor);
  return { defaultAllow, exceptions };
}

/** The container's effective allowlist for linux.resources.devices. */
export function containerAllowlist(resources: Resources | undefined): DeviceAllowlist {
  const configured = ((resources?.devices ?? []) as SpecDeviceRule[]).map(normalizeRule);
  return effectiveAllowlist([...configured, ...defaultDeviceRules]);
}

const num = (n: number) => (n < 0 ? '*' : String(n));

/** A rule in the v1 devices.allow / devices.deny / devices.list form, e.g. "c 1:3 rwm". */
export function ruleLine(r: DeviceRule): string {
  return `${r.type} ${num(r.major)}:${num(r.minor)} ${r.access}`;
}
