// Linux security modules: AppArmor's profile and SELinux's labels, planned
// as what tsrun-init writes. The host's LSMs are read once per command and
// can be passed in, so that what is written for SELinux is planned (and
// tested) on hosts without it.
import { existsSync, readFileSync } from 'node:fs';
import { TsrunError } from '../errors';
import { type PlanRecord, record } from '../init/protocol';
import type { Spec } from '../spec/types';

export interface HostLsm {
  apparmor: boolean;
  selinux: boolean;
}

let cached: HostLsm | undefined;

/** The LSMs enabled on this host. */
export function hostLsm(): HostLsm {
  if (cached) return cached;
  let apparmor = false;
  try {
    apparmor = readFileSync('/sys/module/apparmor/parameters/enabled', 'utf8').trim() === 'Y';
  } catch {
    // no AppArmor module
  }
  // selinuxfs is mounted where SELinux is enabled (disabled at boot, it is not).
  cached = { apparmor, selinux: existsSync('/sys/fs/selinux/enforce') };
  return cached;
}

type Process = NonNullable<Spec['process']>;

/**
 * An SELinux label without SELinux is refused, as runc does ("selinux label
 * is specified in config, but selinux is disabled or not supported"): the
 * write would fail anyway, after the container's setup.
 */
export function refuseProcessLabels(proc: Process, lsm: HostLsm): void {
  if (proc.selinuxLabel && !lsm.selinux) throw new TsrunError('SELinux is not enabled on this host', 'process.selinuxLabel');
}

/**
 * The labels of the program, applied by the kernel at its execve:
 * AppArmor's "exec <profile>" (AppArmor's own directory of the attribute
 * first; older kernels have only the shared one), SELinux's label as it is.
 * Without AppArmor the profile's write fails, and the container with it, as
 * with runc; a warning says why first.
 */
export function lsmRecords(proc: Process, lsm: HostLsm, warn: (m: string) => void): PlanRecord[] {
  const records: PlanRecord[] = [];
  if (proc.apparmorProfile) {
    if (!lsm.apparmor) warn('process.apparmorProfile: AppArmor is not enabled on this host');
    records.push(
      record('LSM_ATTR', 'process.apparmorProfile', {
        value: `exec ${proc.apparmorProfile}`,
        paths: ['/proc/thread-self/attr/apparmor/exec', '/proc/thread-self/attr/exec'],
      }),
    );
  }
  if (proc.selinuxLabel) {
    refuseProcessLabels(proc, lsm);
    records.push(record('LSM_ATTR', 'process.selinuxLabel', { value: proc.selinuxLabel, paths: ['/proc/thread-self/attr/exec'] }));
  }
  return records;
}

/** The label a new session keyring is created with: the process's, under SELinux. */
export function keyringLabel(proc: Process, lsm: HostLsm): string {
  return lsm.selinux ? (proc.selinuxLabel ?? '') : '';
}

// Filesystems that take no context= option: proc and sysfs keep their own
// labels, cgroupfs too; mqueue is labelled by its root's xattr instead.
const unlabelled = new Set(['proc', 'sysfs', 'cgroup', 'cgroup2', 'mqueue', 'bind']);

/**
 * The mount label as a new filesystem's mount data (runc's and crun's
 * rule): context="<label>", quoted because an MCS label holds commas.
 * Binds keep their source's labels. Empty without a label or SELinux.
 */
export function contextOption(fstype: string, mountLabel: string | undefined, lsm: HostLsm): string {
  if (!mountLabel || !lsm.selinux || unlabelled.has(fstype)) return '';
  // The label is quoted in the mount data: a quote would end it there.
  if (/["\n]/.test(mountLabel)) throw new TsrunError('must not contain a double quote or a newline', 'linux.mountLabel');
  return `context="${mountLabel}"`;
}

// SELinux takes one context option of these per mount, and none on a remount.
const contextOptions = /^(context|fscontext|defcontext|rootcontext)=/;

/** Mount data with the label's context= appended (unless the mount's options give one, or it is a remount). */
export function withContext(data: string, fstype: string, mountLabel: string | undefined, lsm: HostLsm, remount = false): string {
  if (remount || data.split(',').some((o) => contextOptions.test(o))) return data;
  const ctx = contextOption(fstype, mountLabel, lsm);
  return ctx ? (data ? `${data},${ctx}` : ctx) : data;
}

/** mqueue's label, set as its root's security.selinux. */
export function xattrLabel(fstype: string, mountLabel: string | undefined, lsm: HostLsm): string {
  return fstype === 'mqueue' && mountLabel && lsm.selinux ? mountLabel : '';
}
