// Known failures (per runtime) and differential allowances, read from
// conformance/known-failures/<runtime>.json and conformance/differential/.
import * as fs from 'fs';
import * as path from 'path';
import { z } from 'zod';
import type { Allowance } from './compare';

const knownEntry = z.object({
  /** what is wrong, with the bug in the runtime's code when known */
  reason: z.string().min(20),
  /** the spec clause (or runc man page section) that shows it: file#anchor */
  spec: z.string().regex(/^[a-z0-9.-]+\.md#[A-Za-z0-9_-]+$/),
  /**
   * A regular expression one of the case's failures must match (see
   * failureText): the failure is known only if it is this one, so that the
   * case failing for another reason is not hidden.
   */
  message: z.string().min(3).refine((s) => {
    try {
      new RegExp(s);
      return true;
    } catch {
      return false;
    }
  }, 'must be a regular expression'),
});

/** A failure as a known entry's message is matched against: its message, then what was expected and seen. */
export function failureText(f: { message: string; expected?: unknown; actual?: unknown }): string {
  const parts = [f.message];
  if (f.expected !== undefined) parts.push(`expected ${JSON.stringify(f.expected)}`);
  if (f.actual !== undefined) parts.push(`actual ${JSON.stringify(f.actual)}`);
  return parts.join('; ');
}

/** Whether the failures are the ones the entry knows. */
export function matchesKnown(entry: KnownEntry, failures: { message: string; expected?: unknown; actual?: unknown }[]): boolean {
  const re = new RegExp(entry.message);
  return failures.some((f) => re.test(failureText(f)));
}

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
