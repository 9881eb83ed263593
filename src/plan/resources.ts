// linux.resources before anything is created: a field no controller
// applies is refused (a limit is never dropped without a word), and the
// fields accepted but ignored, as runc ignores them, are named in warnings.
// Whether the host can apply the rest is found out by the cgroup manager.
import { appliedFields, controllers } from '../cgroups/controllers';
import { TsrunError } from '../errors';
import { join } from '../spec/fieldpath';
import type { Resources } from '../spec/types';

// Members whose own fields are applied one by one; the others (devices,
// hugepageLimits, rdma, unified) are lists or maps applied as a whole.
const grouped = new Set(['memory', 'cpu', 'blockIO', 'network', 'pids']);

function setLeaves(resources: Resources): string[] {
  const out: string[] = [];
  for (const [key, value] of Object.entries(resources)) {
    if (value === undefined || value === null) continue;
    const base = join('linux.resources', key);
    if (!grouped.has(key) || typeof value !== 'object') {
      out.push(base);
      continue;
    }
    for (const [sub, v] of Object.entries(value as Record<string, unknown>)) if (v !== undefined && v !== null) out.push(join(base, sub));
  }
  return out;
}

/** The warnings for ignored fields; throws for a field tsrun does not know how to apply. */
export function resourceWarnings(resources: Resources | undefined): string[] {
  if (!resources) return [];
  const applied = new Set(appliedFields);
  for (const f of setLeaves(resources)) if (!applied.has(f)) throw new TsrunError('is not supported by tsrun', f);
  return controllers.flatMap((c) => c.ignored?.(resources) ?? []);
}
