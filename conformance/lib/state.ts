// The container state as runtime.md#state describes it, checked field by field.
import * as path from 'path';
import { parseSemver } from './util';

export const STATUSES = ['creating', 'created', 'running', 'stopped'];

/** Problems with a state document (empty when it conforms). */
export function stateProblems(st: unknown, expect: { id?: string; bundle?: string; status?: string[] } = {}): string[] {
  const p: string[] = [];
  if (!st || typeof st !== 'object' || Array.isArray(st)) return ['state is not a JSON object'];
  const s = st as Record<string, unknown>;
  if (typeof s.ociVersion !== 'string') p.push('ociVersion is missing or not a string');
  else if (!parseSemver(s.ociVersion)) p.push(`ociVersion ${JSON.stringify(s.ociVersion)} is not SemVer`);
  if (typeof s.id !== 'string') p.push('id is missing or not a string');
  else if (expect.id !== undefined && s.id !== expect.id) p.push(`id is ${JSON.stringify(s.id)}, expected ${JSON.stringify(expect.id)}`);
  if (typeof s.status !== 'string') p.push('status is missing or not a string');
  else if (expect.status && !expect.status.includes(s.status)) p.push(`status is ${JSON.stringify(s.status)}, expected ${expect.status.join(' or ')}`);
  if (s.status === 'created' || s.status === 'running') {
    if (typeof s.pid !== 'number' || !Number.isInteger(s.pid) || s.pid <= 0) p.push(`pid must be a positive integer while ${s.status} (got ${JSON.stringify(s.pid)})`);
  } else if (s.pid !== undefined && (typeof s.pid !== 'number' || !Number.isInteger(s.pid))) {
    p.push('pid, when present, must be an integer');
  }
  if (typeof s.bundle !== 'string') p.push('bundle is missing or not a string');
  else {
    if (!path.isAbsolute(s.bundle)) p.push(`bundle ${JSON.stringify(s.bundle)} is not an absolute path`);
    if (expect.bundle !== undefined && path.resolve(s.bundle) !== path.resolve(expect.bundle)) p.push(`bundle is ${s.bundle}, expected ${expect.bundle}`);
  }
  if (s.annotations !== undefined) {
    if (!s.annotations || typeof s.annotations !== 'object' || Array.isArray(s.annotations)) p.push('annotations must be a map');
    else for (const [k, v] of Object.entries(s.annotations)) if (typeof v !== 'string') p.push(`annotation ${k} is not a string`);
  }
  return p;
}
