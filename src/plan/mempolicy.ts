// linux.memoryPolicy (config-linux.md "Memory policy") as the numbers
// set_mempolicy(2) takes: the mode with its flags, and the nodemask as
// 64-bit words. The plain mistakes the man page names (nodes for a mode
// that takes none, none for one that needs some, no node online) are
// refused here, naming the field; the rest, and what depends on the
// container's cpuset, is the kernel's to refuse, and its error names
// linux.memoryPolicy too.
import { readFileSync } from 'node:fs';
import { TsrunError } from '../errors';
import { type PlanRecord, record } from '../init/protocol';
import type { Spec } from '../spec/types';

export const memoryPolicyModes: Record<string, number> = {
  MPOL_DEFAULT: 0,
  MPOL_PREFERRED: 1,
  MPOL_BIND: 2,
  MPOL_INTERLEAVE: 3,
  MPOL_LOCAL: 4,
  MPOL_PREFERRED_MANY: 5,
  MPOL_WEIGHTED_INTERLEAVE: 6,
};

export const memoryPolicyFlags: Record<string, number> = {
  MPOL_F_NUMA_BALANCING: 1 << 13,
  MPOL_F_RELATIVE_NODES: 1 << 14,
  MPOL_F_STATIC_NODES: 1 << 15,
};

/** Modes that take no nodes, and modes that need at least one. */
const noNodes = new Set(['MPOL_DEFAULT', 'MPOL_LOCAL']);
const someNodes = new Set(['MPOL_BIND', 'MPOL_INTERLEAVE', 'MPOL_WEIGHTED_INTERLEAVE', 'MPOL_PREFERRED_MANY']);

/** The kernel's MAX_NUMNODES is at most 1024 (CONFIG_NODES_SHIFT 10). */
const MAX_NODE = 1023;

/** "0-3,7" -> [0, 1, 2, 3, 7]; undefined if it is not such a list. */
export function parseNodeList(list: string): number[] | undefined {
  if (!/^\d+(-\d+)?(,\d+(-\d+)?)*$/.test(list)) return undefined;
  const nodes = new Set<number>();
  for (const part of list.split(',')) {
    const [lo, hi = lo] = part.split('-').map(Number);
    if (hi < lo || hi > MAX_NODE) return undefined;
    for (let n = lo; n <= hi; n++) nodes.add(n);
  }
  return [...nodes].sort((a, b) => a - b);
}

function onlineNodes(): number[] | undefined {
  try {
    return parseNodeList(readFileSync('/sys/devices/system/node/online', 'utf8').trim());
  } catch {
    return undefined; // a kernel without NUMA
  }
}

export function memoryPolicyRecords(spec: Spec): PlanRecord[] {
  const policy = spec.linux?.memoryPolicy as { mode: string; nodes?: string; flags?: string[] } | undefined;
  if (!policy) return [];
  const online = onlineNodes();
  if (!online) throw new TsrunError('this kernel has no NUMA memory policies (no /sys/devices/system/node)', 'linux.memoryPolicy');
  const flags = policy.flags ?? [];
  const nodes = policy.nodes ? parseNodeList(policy.nodes) : [];
  if (!nodes) throw new TsrunError(`"${policy.nodes}" is not a list of node numbers up to ${MAX_NODE} such as "0-3,7"`, 'linux.memoryPolicy.nodes');
  if (noNodes.has(policy.mode) && nodes.length) throw new TsrunError(`${policy.mode} takes no nodes`, 'linux.memoryPolicy.nodes');
  if (someNodes.has(policy.mode) && !nodes.length) throw new TsrunError(`${policy.mode} needs at least one node`, 'linux.memoryPolicy.nodes');
  if (flags.includes('MPOL_F_STATIC_NODES') && flags.includes('MPOL_F_RELATIVE_NODES')) {
    throw new TsrunError('MPOL_F_STATIC_NODES and MPOL_F_RELATIVE_NODES cannot go together', 'linux.memoryPolicy.flags');
  }
  // The kernel takes the nodes that are online and allowed, and refuses a
  // list without any (unless they are static, kept for later, or relative:
  // positions in the allowed set, not node numbers).
  const asIs = !flags.includes('MPOL_F_RELATIVE_NODES') && !flags.includes('MPOL_F_STATIC_NODES');
  if (asIs && nodes.length && !nodes.some((n) => online.includes(n))) {
    throw new TsrunError(`none of these nodes is online on this host (online: ${online.join(',')})`, 'linux.memoryPolicy.nodes');
  }
  const words = nodes.length ? Math.floor(nodes[nodes.length - 1] / 64) + 1 : 0;
  const mask = Array.from({ length: words }, () => 0n);
  for (const n of nodes) mask[Math.floor(n / 64)] |= 1n << BigInt(n % 64);
  const mode = flags.reduce((m, f) => m | memoryPolicyFlags[f], memoryPolicyModes[policy.mode]);
  // set_mempolicy reads maxnode - 1 bits of the mask.
  return [record('MEMPOLICY', 'linux.memoryPolicy', { mode, maxnode: words ? words * 64 + 1 : 0, mask })];
}
