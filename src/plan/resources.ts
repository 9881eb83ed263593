// Which linux.resources fields tsrun does not apply yet. Each one present is
// named in a warning at create: a limit is never dropped without a word.
import { join } from '../spec/fieldpath';
import type { Resources } from '../spec/types';

const applied = new Set(['linux.resources.memory.limit', 'linux.resources.pids.limit']);

export function unappliedResources(resources: Resources | undefined): string[] {
  const out: string[] = [];
  for (const [key, value] of Object.entries(resources ?? {})) {
    const base = join('linux.resources', key);
    if (value === null || value === undefined) continue;
    if (Array.isArray(value) || typeof value !== 'object') {
      if (!Array.isArray(value) || value.length > 0) out.push(base);
      continue;
    }
    for (const [sub, v] of Object.entries(value as Record<string, unknown>)) {
      const f = join(base, sub);
      if (v !== undefined && v !== null && !applied.has(f)) out.push(f);
    }
  }
  return out;
}
