// What a cgroup controller module provides: the linux.resources fields it
// applies, and for each cgroup version the writes (file, value, and the
// field they come from) that apply them. Controllers are pure: they read
// the cgroup's current values through `current` and never touch the host,
// so each conversion is unit-tested; the manager does the writes.
import { TsrunError } from '../../errors';
import { join } from '../../spec/fieldpath';
import type { Resources } from '../../spec/types';

export type Write =
  /** A value written to a file of the container's cgroup. */
  | { file: string; value: string; field: string }
  /** A cgroup v2 device program attached to the container's cgroup. */
  | { deviceProgram: Buffer; field: string };

/** Reads a file of the container's cgroup in this controller's hierarchy; undefined if it does not exist. */
export type Reader = (file: string) => string | undefined;

export interface Controller {
  /** The controller's name, as in the README's table. */
  name: string;
  /** The v1 hierarchy it lives in ("memory", "net_cls"...), or undefined if cgroup v1 has none. */
  v1?: string;
  /** The v2 controller enabled for it in cgroup.subtree_control; null if none is needed; undefined if v2 cannot apply it. */
  v2?: string | null;
  /** Every linux.resources field it applies (JSON paths), for the README, features and the check for unknown fields. */
  handles: string[];
  /** The fields set in these resources that belong to it. */
  fields(r: Resources): string[];
  /** The writes, in order, for a cgroup of this version; throws a TsrunError naming a field this version cannot apply. */
  writes(r: Resources, version: 1 | 2, current: Reader): Write[];
  /** Fields accepted and ignored, with the reason (as runc ignores them). */
  ignored?(r: Resources): string[];
  /** Applied to every container, even when the config sets none of its fields (the device allowlist). */
  always?: boolean;
  /** The v2 controllers its writes need, each with the field that needs it, when they depend on the fields (default: [v2], for its first field). */
  v2Needs?(r: Resources): { controller: string; field: string }[];
}

const isSet = (v: unknown) => v !== undefined && v !== null;

/** JSON paths of the members of obj that are set (arrays: only non-empty ones). */
export function setFields(obj: object | undefined, base: string): string[] {
  if (!obj) return [];
  return Object.entries(obj)
    .filter(([, v]) => isSet(v) && !(Array.isArray(v) && v.length === 0))
    .map(([k]) => join(base, k));
}

/** An integer as the kernel reads it (JSON numbers past 2^53 are already rounded; print them whole). */
export function int(n: number): string {
  return Number.isSafeInteger(n) ? String(n) : BigInt(Math.trunc(n)).toString();
}

export function refuse(field: string, reason: string): never {
  throw new TsrunError(reason, field);
}

export const write = (file: string, value: string, field: string): Write => ({ file, value, field });
