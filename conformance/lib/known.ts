// Known failures (per runtime) and differential allowances, read from
// conformance/known-failures/<runtime>.json and conformance/differential/.
import * as fs from 'fs';
import * as path from 'path';
import { z } from 'zod';
import type { Allowance } from './compare';

const knownEntry = z.object({
  /** what is wrong, with the bug in the runtime's code when known */
  reason: z.string().min(20),
  /** the spec clause that shows it: file#anchor */
  spec: z.string().regex(/^[a-z-]+\.md#[A-Za-z0-9_-]+$/),
});

export const knownFileSchema = z.object({
  runtime: z.string(),
  /** versions the list was made against (informational) */
  versions: z.array(z.string()).optional(),
  failures: z.record(knownEntry),
});

export type KnownFile = z.infer<typeof knownFileSchema>;
export type KnownEntry = z.infer<typeof knownEntry>;

const allowanceSchema = z.object({
  case: z.string(),
  field: z.string(),
  runtimes: z.array(z.string()).optional(),
  reason: z.string().min(20),
});

export const allowancesFileSchema = z.object({ allowances: z.array(allowanceSchema) });

export function conformanceDir(): string {
  const candidates = [path.resolve(__dirname, '..'), path.resolve(__dirname, '..', '..', '..', 'conformance')];
  for (const c of candidates) if (fs.existsSync(path.join(c, 'known-failures'))) return c;
  return candidates[0];
}

export function loadKnown(runtimeName: string, dir = conformanceDir()): KnownFile {
  const p = path.join(dir, 'known-failures', `${runtimeName}.json`);
  if (!fs.existsSync(p)) return { runtime: runtimeName, failures: {} };
  const parsed = knownFileSchema.safeParse(JSON.parse(fs.readFileSync(p, 'utf8')));
  if (!parsed.success) throw new Error(`${p}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data;
}

export function loadAllowances(dir = conformanceDir()): Allowance[] {
  const p = path.join(dir, 'differential', 'allowances.json');
  if (!fs.existsSync(p)) return [];
  const parsed = allowancesFileSchema.safeParse(JSON.parse(fs.readFileSync(p, 'utf8')));
  if (!parsed.success) throw new Error(`${p}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data.allowances;
}

/** Runtime name used to pick the known-failure list: basename, minus a wrapper suffix. */
export function runtimeNameOf(binary: string): string {
  const b = path.basename(binary).replace(/\.(sh|js)$/, '');
  return b.replace(/-wrapper$/, '');
}
