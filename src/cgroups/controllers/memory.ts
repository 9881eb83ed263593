// linux.resources.memory (config-linux.md "Memory").
//
// v1 files: memory.limit_in_bytes, memory.soft_limit_in_bytes,
// memory.memsw.limit_in_bytes (memory+swap), memory.kmem.tcp.limit_in_bytes,
// memory.swappiness, memory.oom_control, memory.use_hierarchy.
//
// v2 conversions:
//   limit       -> memory.max        (-1 -> "max")
//   reservation -> memory.low        (-1 -> "max")
//   swap        -> memory.swap.max = swap - limit: v1's swap counts memory
//                  plus swap, v2's swap alone (-1 -> "max"; a swap without
//                  a limit, or below it, is an error, as in runc)
//   useHierarchy true: v2 is always hierarchical (false is refused)
//   kernelTCP, swappiness, disableOOMKiller true: v2 has no such file: refused
// memory.kernel is ignored with a warning, as runc 1.1 does: kernel memory
// limits are gone from the kernel (a write to memory.kmem.limit_in_bytes is
// accepted and does nothing). kernelTCP is applied where v1 still has it.
// checkBeforeUpdate matters to update only: v1's kernel already refuses a
// limit below the usage.
import type { Resources } from '../../spec/types';
import { type Controller, type Reader, type Write, int, refuse, setFields, write } from './controller';

const F = 'linux.resources.memory';
const keys = ['limit', 'reservation', 'swap', 'kernel', 'kernelTCP', 'swappiness', 'disableOOMKiller', 'useHierarchy', 'checkBeforeUpdate'];

const v1Value = (n: number) => (n < 0 ? '-1' : int(n));
const v2Value = (n: number) => (n < 0 ? 'max' : int(n));

/** memory.swap.max from the v1-style memory+swap value (runc's conversion). */
export function v2SwapValue(swap: number, limit: number | undefined): string {
  if (swap < 0) return 'max';
  if (limit === undefined || limit < 0) refuse(`${F}.swap`, 'cannot set a swap limit without a memory limit on cgroup v2 (memory.swap.max is swap alone)');
  if (swap < limit) refuse(`${F}.swap`, `memory+swap limit ${int(swap)} is lower than the memory limit ${int(limit)}`);
  return int(swap - limit);
}

function v1Writes(m: NonNullable<Resources['memory']>, current: Reader): Write[] {
  const out: Write[] = [];
  const limit = m.limit !== undefined && m.limit !== 0 ? m.limit : undefined;
  // An unlimited memory with no swap given means unlimited swap too.
  const swap = m.swap !== undefined && m.swap !== 0 ? m.swap : limit === -1 ? -1 : undefined;
  const setLimit = () => limit !== undefined && out.push(write('memory.limit_in_bytes', v1Value(limit), `${F}.limit`));
  // No swap accounting on the host: "unlimited" has nothing to enforce (runc's rule).
  const setSwap = () => swap !== undefined && !(swap === -1 && current('memory.memsw.limit_in_bytes') === undefined) && out.push(write('memory.memsw.limit_in_bytes', v1Value(swap), `${F}.swap`));
  // The kernel keeps memsw >= limit at every step: raise memsw first when
  // it grows past the current limit, lower the limit first otherwise.
  const currentLimit = Number((current('memory.limit_in_bytes') ?? '').trim());
  if (limit !== undefined && swap !== undefined && (swap === -1 || currentLimit < swap)) {
    setSwap();
    setLimit();
  } else {
    setLimit();
    setSwap();
  }
  if (m.reservation !== undefined && m.reservation !== 0) out.push(write('memory.soft_limit_in_bytes', v1Value(m.reservation), `${F}.reservation`));
  if (m.kernelTCP !== undefined && m.kernelTCP !== 0) out.push(write('memory.kmem.tcp.limit_in_bytes', v1Value(m.kernelTCP), `${F}.kernelTCP`));
  if (m.swappiness !== undefined && m.swappiness !== null) out.push(write('memory.swappiness', int(m.swappiness), `${F}.swappiness`));
  if (m.disableOOMKiller) out.push(write('memory.oom_control', '1', `${F}.disableOOMKiller`));
  if (m.useHierarchy !== undefined) out.push(write('memory.use_hierarchy', m.useHierarchy ? '1' : '0', `${F}.useHierarchy`));
  return out;
}

function v2Writes(m: NonNullable<Resources['memory']>, current: Reader): Write[] {
  const out: Write[] = [];
  if (m.kernelTCP !== undefined && m.kernelTCP !== 0) refuse(`${F}.kernelTCP`, 'cgroup v2 has no kernel TCP memory limit');
  if (m.swappiness !== undefined && m.swappiness !== null) refuse(`${F}.swappiness`, 'cgroup v2 has no per-cgroup swappiness');
  if (m.disableOOMKiller) refuse(`${F}.disableOOMKiller`, 'cgroup v2 cannot disable the OOM killer');
  if (m.useHierarchy === false) refuse(`${F}.useHierarchy`, 'cgroup v2 accounting is always hierarchical');
  const limit = m.limit !== undefined && m.limit !== 0 ? m.limit : undefined;
  // memory.swap.max has no ordering rule against memory.max. An unlimited
  // memory with no swap given means unlimited swap too; "max" on a host
  // without swap accounting has nothing to enforce (runc's rule).
  const swap = m.swap !== undefined && m.swap !== 0 ? v2SwapValue(m.swap, limit) : limit === -1 ? 'max' : undefined;
  if (swap !== undefined && !(swap === 'max' && current('memory.swap.max') === undefined)) out.push(write('memory.swap.max', swap, m.swap ? `${F}.swap` : `${F}.limit`));
  if (limit !== undefined) out.push(write('memory.max', v2Value(limit), `${F}.limit`));
  if (m.reservation !== undefined && m.reservation !== 0) out.push(write('memory.low', v2Value(m.reservation), `${F}.reservation`));
  return out;
}

export const memory: Controller = {
  name: 'memory',
  v1: 'memory',
  v2: 'memory',
  handles: keys.map((k) => `${F}.${k}`),
  fields: (r) => setFields(r.memory, F),
  writes(r, version, current) {
    if (!r.memory) return [];
    return version === 1 ? v1Writes(r.memory, current) : v2Writes(r.memory, current);
  },
  ignored(r) {
    const m = r.memory;
    if (m?.kernel === undefined || m.kernel === null) return [];
    return [`${F}.kernel: kernel memory limits are no longer supported by the kernel; ignored (as runc does)`];
  },
};
