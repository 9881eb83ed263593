// config.json mounts (config.md "Mounts", "Linux mount options") turned into
// tsrun-init records: a new filesystem is mounted with mount(2) flags and
// data; a bind mount is cloned with open_tree and given mount_setattr
// attributes, so that only the options the config names change anything.
import { posix, resolve } from 'node:path';
import { TsrunError } from '../errors';
import { join as field } from '../spec/fieldpath';
import type { Mount } from '../spec/types';
import { type PlanRecord, record } from '../init/protocol';
import { type HostLsm, withContext, xattrLabel } from './lsm';

export const MS = {
  RDONLY: 1,
  NOSUID: 2,
  NODEV: 4,
  NOEXEC: 8,
  SYNCHRONOUS: 16,
  REMOUNT: 32,
  MANDLOCK: 64,
  DIRSYNC: 128,
  NOSYMFOLLOW: 256,
  NOATIME: 1024,
  NODIRATIME: 2048,
  BIND: 4096,
  REC: 16384,
  SILENT: 32768,
  UNBINDABLE: 1 << 17,
  PRIVATE: 1 << 18,
  SLAVE: 1 << 19,
  SHARED: 1 << 20,
  RELATIME: 1 << 21,
  I_VERSION: 1 << 23,
  STRICTATIME: 1 << 24,
  LAZYTIME: 1 << 25,
} as const;

export const ATTR = {
  RDONLY: 0x1,
  NOSUID: 0x2,
  NODEV: 0x4,
  NOEXEC: 0x8,
  ATIME_MASK: 0x70,
  RELATIME: 0x0,
  NOATIME: 0x10,
  STRICTATIME: 0x20,
  NODIRATIME: 0x80,
  NOSYMFOLLOW: 0x200000,
} as const;

/** Options that set (true) or clear (false) a mount(2) flag. */
const flagOptions: Record<string, [number, boolean]> = {
  async: [MS.SYNCHRONOUS, false],
  atime: [MS.NOATIME, false],
  defaults: [0, false],
  dev: [MS.NODEV, false],
  diratime: [MS.NODIRATIME, false],
  dirsync: [MS.DIRSYNC, true],
  exec: [MS.NOEXEC, false],
  iversion: [MS.I_VERSION, true],
  lazytime: [MS.LAZYTIME, true],
  loud: [MS.SILENT, false],
  mand: [MS.MANDLOCK, true],
  noatime: [MS.NOATIME, true],
  nodev: [MS.NODEV, true],
  nodiratime: [MS.NODIRATIME, true],
  noexec: [MS.NOEXEC, true],
  noiversion: [MS.I_VERSION, false],
  nolazytime: [MS.LAZYTIME, false],
  nomand: [MS.MANDLOCK, false],
  norelatime: [MS.RELATIME, false],
  nostrictatime: [MS.STRICTATIME, false],
  nosuid: [MS.NOSUID, true],
  nosymfollow: [MS.NOSYMFOLLOW, true],
  relatime: [MS.RELATIME, true],
  remount: [MS.REMOUNT, true],
  ro: [MS.RDONLY, true],
  rw: [MS.RDONLY, false],
  silent: [MS.SILENT, true],
  strictatime: [MS.STRICTATIME, true],
  suid: [MS.NOSUID, false],
  symfollow: [MS.NOSYMFOLLOW, false],
  sync: [MS.SYNCHRONOUS, true],
};

/** Flags of the filesystem (the superblock), which a bind mount cannot change. */
export const superblockOptions = new Set(['sync', 'async', 'dirsync', 'mand', 'nomand', 'lazytime', 'nolazytime', 'iversion', 'noiversion']);

const propagationOptions: Record<string, number> = {
  private: MS.PRIVATE,
  rprivate: MS.PRIVATE | MS.REC,
  shared: MS.SHARED,
  rshared: MS.SHARED | MS.REC,
  slave: MS.SLAVE,
  rslave: MS.SLAVE | MS.REC,
  unbindable: MS.UNBINDABLE,
  runbindable: MS.UNBINDABLE | MS.REC,
};

/** Recursive (AT_RECURSIVE) attributes: [set, clear]. */
const recursiveOptions: Record<string, [number, number]> = {
  rro: [ATTR.RDONLY, 0],
  rrw: [0, ATTR.RDONLY],
  rnosuid: [ATTR.NOSUID, 0],
  rsuid: [0, ATTR.NOSUID],
  rnodev: [ATTR.NODEV, 0],
  rdev: [0, ATTR.NODEV],
  rnoexec: [ATTR.NOEXEC, 0],
  rexec: [0, ATTR.NOEXEC],
  rnosymfollow: [ATTR.NOSYMFOLLOW, 0],
  rsymfollow: [0, ATTR.NOSYMFOLLOW],
  rnodiratime: [ATTR.NODIRATIME, 0],
  rdiratime: [0, ATTR.NODIRATIME],
  rnoatime: [ATTR.NOATIME, ATTR.ATIME_MASK],
  rstrictatime: [ATTR.STRICTATIME, ATTR.ATIME_MASK],
  rrelatime: [ATTR.RELATIME, ATTR.ATIME_MASK],
  ratime: [ATTR.RELATIME, ATTR.ATIME_MASK],
  rnostrictatime: [ATTR.RELATIME, ATTR.ATIME_MASK],
  rnorelatime: [ATTR.STRICTATIME, ATTR.ATIME_MASK],
};

/** Every mount option tsrun recognizes (for the features document). */
export function recognizedMountOptions(): string[] {
  return ['bind', 'rbind', 'tmpcopyup', 'idmap', 'ridmap', ...Object.keys(flagOptions), ...Object.keys(propagationOptions), ...Object.keys(recursiveOptions)].sort();
}

export interface ParsedOptions {
  bind: 'none' | 'bind' | 'rbind';
  /** mount(2) flags set and cleared by the options, in order. */
  set: number;
  clear: number;
  propagation: number;
  rset: number;
  rclear: number;
  data: string[];
  /** tmpcopyup: what a tmpfs covers is copied into it (as crun does). */
  copyUp: boolean;
  /** idmap: the mount idmapped; ridmap: its submounts too. */
  idmap: 'none' | 'idmap' | 'ridmap';
}

export function parseOptions(options: string[] = []): ParsedOptions {
  const p: ParsedOptions = { bind: 'none', set: 0, clear: 0, propagation: 0, rset: 0, rclear: 0, data: [], copyUp: false, idmap: 'none' };
  for (const o of options) {
    if (o === 'bind' || o === 'rbind') {
      if (p.bind !== 'rbind') p.bind = o;
    } else if (o in flagOptions) {
      const [flag, on] = flagOptions[o];
      if (on) {
        p.set |= flag;
        p.clear &= ~flag;
      } else {
        p.clear |= flag;
        p.set &= ~flag;
      }
    } else if (o in propagationOptions) {
      p.propagation = propagationOptions[o];
    } else if (o in recursiveOptions) {
      const [s, c] = recursiveOptions[o];
      p.rset = (p.rset & ~c) | s;
      p.rclear = (p.rclear & ~s) | c;
    } else if (o === 'tmpcopyup') {
      p.copyUp = true;
    } else if (o === 'idmap' || o === 'ridmap') {
      if (p.idmap !== 'ridmap') p.idmap = o;
    } else {
      p.data.push(o);
    }
  }
  return p;
}

/**
 * mount_setattr attributes for a bind mount: what the options name, and
 * nothing else, so the clone keeps the source's other flags.
 */
export function bindAttributes(p: ParsedOptions): { set: number; clear: number } {
  let set = 0;
  let clear = 0;
  const pairs: [number, number][] = [
    [MS.RDONLY, ATTR.RDONLY],
    [MS.NOSUID, ATTR.NOSUID],
    [MS.NODEV, ATTR.NODEV],
    [MS.NOEXEC, ATTR.NOEXEC],
    [MS.NOSYMFOLLOW, ATTR.NOSYMFOLLOW],
    [MS.NODIRATIME, ATTR.NODIRATIME],
  ];
  for (const [ms, attr] of pairs) {
    if (p.set & ms) set |= attr;
    if (p.clear & ms) clear |= attr;
  }
  // atime is one mode among three; changing it needs the whole mask cleared.
  const atime = p.set & MS.NOATIME ? ATTR.NOATIME : p.set & MS.STRICTATIME ? ATTR.STRICTATIME : p.set & MS.RELATIME || p.clear & (MS.NOATIME | MS.STRICTATIME) ? ATTR.RELATIME : -1;
  if (atime >= 0) {
    set |= atime;
    clear |= ATTR.ATIME_MASK;
  }
  return { set, clear };
}

export interface IdmapContext {
  /** The IDMAP_TREE records, to which each idmapped mount adds its own. */
  trees: PlanRecord[];
  /** The container's user namespace (joined by path, or the maps of a new one), for a mount without mappings of its own. */
  userNs?: { path?: string; uidMap: string; gidMap: string };
  /** The propagation the rootfs's copies of the host's mounts get (MS_*). */
  propagation: number;
}

export interface MountContext {
  bundle: string;
  /** Warnings for options that are accepted but not applied. */
  warn(message: string): void;
  /** Where idmapped mounts' trees are planned (stage 0); none: refused. */
  idmap?: IdmapContext;
  /** linux.mountLabel, and whether SELinux applies it. */
  mountLabel?: string;
  lsm?: HostLsm;
}

/** The destination in the container: relative ones (deprecated) from "/". */
export function mountDestination(m: Mount): string {
  return posix.normalize(`/${m.destination}`);
}

const idMapText = (m: { containerID: number; hostID: number; size: number }[]) => m.map((e) => `${e.containerID} ${e.hostID} ${e.size}\n`).join('');

// The IDMAP_TREE record of an idmapped bind mount, added to ctx.idmapTrees;
// its number (from 1), or 0 for a mount that is not idmapped. Mappings
// without an option mean idmap (as runc).
function idmapTreeRecord(m: Mount, f: string, p: ParsedOptions, source: string, ctx: MountContext): number {
  if (p.idmap === 'none' && !m.uidMappings && !m.gidMappings) return 0;
  const idmap = ctx.idmap;
  if (!idmap) throw new TsrunError('an idmapped mount is not possible here', f);
  const own = m.uidMappings?.length && m.gidMappings?.length ? { uidMap: idMapText(m.uidMappings), gidMap: idMapText(m.gidMappings) } : undefined;
  const from: IdmapContext['userNs'] = own ?? idmap.userNs;
  if (!from) throw new TsrunError('needs uidMappings and gidMappings, or a user namespace to take the mappings of', f);
  idmap.trees.push(
    record('IDMAP_TREE', f, {
      source,
      recursive: p.bind === 'rbind',
      recursiveIdmap: p.idmap === 'ridmap',
      uidMap: from.path ? '' : from.uidMap,
      gidMap: from.path ? '' : from.gidMap,
      usernsPath: from.path ?? '',
      propagation: idmap.propagation,
    }),
  );
  return idmap.trees.length;
}

/** The record for config mount i. cgroup mounts are expanded elsewhere. */
export function mountRecord(m: Mount, i: number, ctx: MountContext): PlanRecord {
  const f = field('mounts', i);
  const p = parseOptions(m.options);
  if (p.copyUp && (p.bind !== 'none' || m.type !== 'tmpfs' || (p.set & MS.REMOUNT) !== 0)) {
    throw new TsrunError('tmpcopyup applies to a new tmpfs mount only', field(field(f, 'options'), m.options!.indexOf('tmpcopyup')));
  }
  if (!m.destination.startsWith('/')) ctx.warn(`${f}.destination: a relative destination is deprecated; it is taken relative to /`);
  const dest = mountDestination(m);
  if (p.bind !== 'none' || m.type === 'bind') {
    if (!m.source) throw new TsrunError('a bind mount needs a source', field(f, 'source'));
    // A bind mount shares its source's superblock: these would be dropped.
    m.options?.forEach((o, j) => {
      if (superblockOptions.has(o)) throw new TsrunError(`${o} applies to a filesystem, not to a bind mount of one`, field(field(f, 'options'), j));
    });
    const source = resolve(ctx.bundle, m.source);
    const attrs = bindAttributes(p);
    const idmapTree = idmapTreeRecord(m, f, p, source, ctx);
    return record('BIND', f, {
      source,
      dest,
      recursive: p.bind === 'rbind',
      attrSet: attrs.set,
      attrClear: attrs.clear,
      rattrSet: p.rset,
      rattrClear: p.rclear,
      propagation: p.propagation,
      idmapTree,
    });
  }
  if (!m.type) throw new TsrunError('is required for a mount that is not a bind mount', field(f, 'type'));
  // A read-only tmpfs is mounted writable and then made read-only as a
  // mount, as runc does: the same for the container, the same mount table.
  const roTmpfs = m.type === 'tmpfs' && (p.set & MS.RDONLY) !== 0;
  return record('MOUNT', f, {
    source: m.source ?? m.type,
    dest,
    fstype: m.type,
    flags: roTmpfs ? p.set & ~MS.RDONLY : p.set,
    data: ctx.lsm ? withContext(p.data.join(','), m.type, ctx.mountLabel, ctx.lsm, (p.set & MS.REMOUNT) !== 0) : p.data.join(','),
    rattrSet: p.rset,
    rattrClear: p.rclear,
    propagation: p.propagation,
    attrSet: roTmpfs ? ATTR.RDONLY : 0,
    copyUp: p.copyUp,
    xattrLabel: ctx.lsm ? xattrLabel(m.type, ctx.mountLabel, ctx.lsm) : '',
  });
}
