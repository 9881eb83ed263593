// Checks a schema cannot express: version range, uniqueness, relations
// between fields, and what must hold on this host (the rootfs exists). Each
// problem names its field; the config is refused if there is any.
import { existsSync, statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { rlimitResources } from '../plan/rlimits';
import { join } from './fieldpath';
import type { Problem } from './schema';
import type { Namespace, NamespaceType, Process, Spec } from './types';

export const supportedVersions = { min: '1.0.0', max: '1.3.x' };

function checkVersion(v: string, out: Problem[]): void {
  const m = /^(\d+)\.(\d+)\.(\d+)/.exec(v);
  if (!m || Number(m[1]) !== 1 || Number(m[2]) > 3) {
    out.push({
      field: 'ociVersion',
      message: `${JSON.stringify(v)} is not supported (tsrun supports ${supportedVersions.min} to ${supportedVersions.max})`,
    });
  }
}

function checkAbsolute(path: string, field: string, out: Problem[]): void {
  if (!path.startsWith('/')) out.push({ field, message: `${JSON.stringify(path)} must be an absolute path` });
}

const ipcSysctls = new Set([
  'kernel.msgmax', 'kernel.msgmnb', 'kernel.msgmni', 'kernel.sem',
  'kernel.shmall', 'kernel.shmmax', 'kernel.shmmni', 'kernel.shm_rmid_forced',
]);

// Whether a namespace joined by path is the one tsrun itself runs in: a
// sysctl written there would change the host, as with no namespace at all.
function isOwnNamespace(ns: Namespace): boolean {
  if (!ns.path) return false;
  const file = { network: 'net', ipc: 'ipc', uts: 'uts' }[ns.type as string];
  if (!file) return false;
  try {
    const theirs = statSync(ns.path);
    const ours = statSync(`/proc/self/ns/${file}`);
    return theirs.dev === ours.dev && theirs.ino === ours.ino;
  } catch {
    return false; // a missing path is reported where the namespace is joined
  }
}

function checkSysctl(spec: Spec, has: (t: NamespaceType) => Namespace | undefined, out: Problem[]): void {
  // runc's rule: a namespaced sysctl needs its namespace, and not the host's.
  const need = (field: string, type: NamespaceType, name: string) => {
    const ns = has(type);
    if (!ns) out.push({ field, message: `needs ${type === 'ipc' ? 'an' : 'a'} ${name} namespace (it would change the host)` });
    else if (isOwnNamespace(ns)) out.push({ field, message: `needs ${type === 'ipc' ? 'an' : 'a'} ${name} namespace other than the host's: ${ns.path} is the runtime's own` });
    return !!ns;
  };
  for (const key of Object.keys(spec.linux?.sysctl ?? {})) {
    const field = join('linux.sysctl', key);
    const name = key.replace(/\//g, '.');
    if (!/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_*:@+-]+)*$/.test(name)) {
      out.push({ field, message: 'is not a valid sysctl name' });
    } else if (ipcSysctls.has(name) || name.startsWith('fs.mqueue.')) {
      need(field, 'ipc', 'ipc');
    } else if (name.startsWith('net.')) {
      need(field, 'network', 'network');
    } else if (name === 'kernel.domainname' || name === 'kernel.hostname') {
      if (need(field, 'uts', 'uts') && name === 'kernel.hostname') out.push({ field, message: 'conflicts with the hostname field; set hostname instead' });
    } else {
      out.push({ field, message: 'is not in a separate kernel namespace: it would change the host' });
    }
  }
}

// config.md "Mounts": an idmapped mount (uidMappings and gidMappings, the
// idmap and ridmap options) is a bind mount (as runc; mount_setattr idmaps
// a clone of a tree); without mappings of its own it takes the container's
// user namespace's, and without one there is nothing to map with.
function checkIdmappedMounts(spec: Spec, has: (t: NamespaceType) => Namespace | undefined, out: Problem[]): void {
  spec.mounts?.forEach((m, i) => {
    const field = join('mounts', i);
    const options = m.options ?? [];
    const option = options.findIndex((o) => o === 'idmap' || o === 'ridmap');
    const mapped = m.uidMappings !== undefined || m.gidMappings !== undefined;
    if (option < 0 && !mapped) return;
    const where = option >= 0 ? join(join(field, 'options'), option) : join(field, m.uidMappings ? 'uidMappings' : 'gidMappings');
    if (m.type !== 'bind' && !options.includes('bind') && !options.includes('rbind')) out.push({ field: where, message: 'an idmapped mount must be a bind mount' });
    if (mapped && !(m.uidMappings?.length && m.gidMappings?.length)) {
      out.push({ field: join(field, m.uidMappings?.length ? 'gidMappings' : 'uidMappings'), message: 'an idmapped mount needs both uidMappings and gidMappings' });
    }
    if (!mapped && !has('user')) out.push({ field: where, message: 'needs uidMappings and gidMappings on the mount, or a user namespace to take the mappings of' });
  });
}

// The kernel's rule for an interface name (dev_valid_name): checked before
// anything moves, since the kernel moves a device before it refuses its
// new name. "%d" (once) lets the kernel number it.
function netDeviceNameProblem(name: string, template: boolean): string | undefined {
  if (name === '' || Buffer.byteLength(name) > 15) return 'must be 1 to 15 bytes long';
  if (name === '.' || name === '..') return `${JSON.stringify(name)} is not a valid interface name`;
  if (/[/:\s]/.test(name)) return 'must not contain "/", ":" or white space';
  const percents = name.split('%').length - 1;
  if (percents > (template ? 1 : 0) || (percents === 1 && !name.includes('%d'))) return template ? 'may contain "%" only once, as "%d"' : 'must not contain "%"';
  return undefined;
}

// config-linux.md "Network Devices": into the container's network
// namespace (runc's rule: it must have one, and not the runtime's own).
function checkNetDevices(spec: Spec, has: (t: NamespaceType) => Namespace | undefined, out: Problem[]): void {
  const devices = spec.linux?.netDevices ?? {};
  if (!Object.keys(devices).length) return;
  const ns = has('network');
  if (!ns) out.push({ field: 'linux.netDevices', message: 'needs a network namespace to move the devices into' });
  else if (isOwnNamespace(ns)) out.push({ field: 'linux.netDevices', message: `needs a network namespace other than the host's: ${ns.path} is the runtime's own` });
  const names = new Map<string, string>();
  for (const [host, dev] of Object.entries(devices)) {
    const field = join('linux.netDevices', host);
    const hostProblem = netDeviceNameProblem(host, false);
    if (hostProblem) out.push({ field, message: `the host interface name ${hostProblem}` });
    const name = dev.name ?? host;
    const problem = dev.name === undefined ? undefined : netDeviceNameProblem(name, true);
    if (problem) out.push({ field: join(field, 'name'), message: problem });
    if (!name.includes('%d')) {
      const other = names.get(name);
      if (other !== undefined) out.push({ field, message: `is named ${name} in the container, as ${other} is` });
      names.set(name, host);
    }
  }
}

/** Problems beyond the schema. `bundle` is the absolute bundle directory. */
// A NUL byte cannot reach the kernel (paths, arguments, values are C
// strings): anywhere in the config it is refused at its path, before any
// other check could trip over it or echo it back.
// Every value of the config is visited, once per create, in V8's
// interpreter: the walk keeps the keys on a stack and makes a field's path
// only for a NUL byte found, rather than a path string (and Object.entries'
// pairs) for every value.
function checkNulBytes(value: unknown, keys: (string | number)[], out: Problem[]): void {
  if (typeof value === 'string') {
    if (value.includes('\0')) out.push({ field: pathOf(keys), message: 'must not contain a NUL byte' });
  } else if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      keys.push(i);
      checkNulBytes(value[i], keys, out);
      keys.pop();
    }
  } else if (value && typeof value === 'object') {
    const names = Object.keys(value);
    for (let i = 0; i < names.length; i++) {
      const k = names[i];
      if (k.includes('\0')) {
        out.push({ field: pathOf(keys) || '(top level)', message: `must not have a key with a NUL byte: ${JSON.stringify(k)}` });
        continue;
      }
      keys.push(k);
      checkNulBytes((value as Record<string, unknown>)[k], keys, out);
      keys.pop();
    }
  }
}

function pathOf(keys: (string | number)[]): string {
  return keys.reduce<string>((path, k) => join(path, k), '');
}

/** The rules of a process object beyond its schema: the init's, and an exec's (process.json or flags). */
export function processProblems(proc: Process): Problem[] {
  const out: Problem[] = [];
  checkAbsolute(proc.cwd, 'process.cwd', out);
  const seen = new Map<string, number>();
  proc.rlimits?.forEach((rl, i) => {
    const field = join(join('process.rlimits', i), 'type');
    if (!(rl.type in rlimitResources)) out.push({ field, message: `${rl.type} is not a Linux resource limit` });
    const first = seen.get(rl.type);
    if (first !== undefined) out.push({ field, message: `duplicates process.rlimits[${first}]` });
    else seen.set(rl.type, i);
    if (rl.soft > rl.hard) out.push({ field: join(join('process.rlimits', i), 'soft'), message: 'exceeds hard' });
  });
  return out;
}

export function semanticProblems(spec: Spec, bundle: string): Problem[] {
  const out: Problem[] = [];
  checkNulBytes(spec, [], out);
  if (out.length) return out;
  checkVersion(spec.ociVersion, out);

  if (!spec.root) {
    out.push({ field: 'root', message: 'is required on Linux' });
  } else {
    const rootfs = resolve(bundle, spec.root.path);
    // A path with a trailing slash resolves only to a directory (or a link
    // to one): checked without a stat, whose first call in a process costs
    // about 0.3 ms (Node sets up its Stats).
    if (!existsSync(`${rootfs}/`)) out.push({ field: 'root.path', message: `${rootfs} is not a directory` });
  }

  if (!spec.process) out.push({ field: 'process', message: 'is required to create a container' });
  else out.push(...processProblems(spec.process));

  const linux = spec.linux ?? {};
  const namespaces = linux.namespaces ?? [];
  const byType = new Map<NamespaceType, Namespace>();
  namespaces.forEach((ns, i) => {
    const field = join('linux.namespaces', i);
    if (byType.has(ns.type)) out.push({ field: join(field, 'type'), message: `${ns.type} namespace is listed twice` });
    byType.set(ns.type, ns);
    if (ns.path !== undefined) checkAbsolute(ns.path, join(field, 'path'), out);
  });
  const has = (t: NamespaceType) => byType.get(t);
  // The spec lets a container share the runtime's mount namespace, but the
  // rootfs setup (rslave of /, mounts, pivot_root) would then be done to the
  // host itself: pivot_root moves the root of every process sharing it.
  if (!has('mount')) out.push({ field: 'linux.namespaces', message: 'needs a mount namespace (tsrun sets up the rootfs in it; in the runtime\'s own it would change the host)' });
  // With a joined user namespace the mappings may be given (they describe
  // it); a new one cannot do without them; without one they mean nothing.
  const newUserNs = has('user') && !has('user')?.path;
  const mapped = (linux.uidMappings?.length ?? 0) > 0 || (linux.gidMappings?.length ?? 0) > 0;
  if (newUserNs) {
    if (!linux.uidMappings?.length) out.push({ field: 'linux.uidMappings', message: 'is required with a new user namespace' });
    if (!linux.gidMappings?.length) out.push({ field: 'linux.gidMappings', message: 'is required with a new user namespace' });
  } else if (mapped && !has('user')) {
    out.push({
      field: linux.uidMappings?.length ? 'linux.uidMappings' : 'linux.gidMappings',
      message: 'needs a user namespace in linux.namespaces',
    });
  }
  // As runc: the uts namespace may be new or joined, never the runtime's own.
  if (spec.hostname !== undefined && !has('uts')) out.push({ field: 'hostname', message: 'needs a uts namespace' });
  if (spec.domainname !== undefined && !has('uts')) out.push({ field: 'domainname', message: 'needs a uts namespace' });

  if (linux.timeOffsets && Object.keys(linux.timeOffsets).length > 0) {
    if (!has('time') || has('time')?.path) out.push({ field: 'linux.timeOffsets', message: 'needs a new time namespace' });
    for (const clock of Object.keys(linux.timeOffsets)) {
      if (clock !== 'monotonic' && clock !== 'boottime')
        out.push({ field: join('linux.timeOffsets', clock), message: 'is not a clock of a time namespace (monotonic, boottime)' });
    }
  }

  linux.maskedPaths?.forEach((p, i) => checkAbsolute(p, join('linux.maskedPaths', i), out));
  linux.readonlyPaths?.forEach((p, i) => checkAbsolute(p, join('linux.readonlyPaths', i), out));
  linux.devices?.forEach((d, i) => {
    checkAbsolute(d.path, join(join('linux.devices', i), 'path'), out);
    if (d.type !== 'p' && (d.major === undefined || d.minor === undefined))
      out.push({ field: join('linux.devices', i), message: 'major and minor are required for this device type' });
  });
  if (linux.cgroupsPath !== undefined) {
    if (linux.cgroupsPath.split('/').some((seg) => seg === '..'))
      out.push({ field: 'linux.cgroupsPath', message: 'must not contain ".."' });
    if (linux.cgroupsPath.includes(':') && !linux.cgroupsPath.startsWith('/'))
      out.push({ field: 'linux.cgroupsPath', message: 'is in systemd form (slice:prefix:name), which needs --systemd-cgroup' });
  }
  checkSysctl(spec, has, out);
  checkNetDevices(spec, has, out);
  checkIdmappedMounts(spec, has, out);

  for (const [stage, hooks] of Object.entries(spec.hooks ?? {})) {
    hooks?.forEach((h, i) => {
      if (!isAbsolute(h.path)) out.push({ field: join(join(join('hooks', stage), i), 'path'), message: 'must be an absolute path' });
    });
  }
  return out;
}
