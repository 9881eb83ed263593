// Bundle loading: config.json parsed, checked against the JSON Schema, then
// against the semantic rules. A refused config names each field at fault.
import { readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { TsrunError, messageOf } from '../errors';
import { parseJson } from './json';
import { schemaProblems, type Problem } from './schema';
import { semanticProblems } from './semantic';
import type { Spec } from './types';

export interface Bundle {
  /** Absolute, symlink-free bundle directory. */
  dir: string;
  spec: Spec;
}

export function formatProblems(problems: Problem[]): string {
  return problems.map((p) => (p.field ? `${p.field}: ${p.message}` : p.message)).join('\n  ');
}

/** Parses and validates a config object; throws a TsrunError naming the fields at fault. */
export function validateSpec(data: unknown, bundleDir: string): Spec {
  let problems = schemaProblems('config', data);
  if (problems.length === 0) problems = semanticProblems(data as Spec, bundleDir);
  if (problems.length > 0) throw new TsrunError(`invalid config.json:\n  ${formatProblems(problems)}`);
  return data as Spec;
}

export function loadBundle(bundlePath: string): Bundle {
  let dir: string;
  try {
    dir = realpathSync(bundlePath);
  } catch (err) {
    throw new TsrunError(`bundle ${bundlePath}: ${messageOf(err)}`);
  }
  const file = join(dir, 'config.json');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new TsrunError(`cannot read ${file}: ${messageOf(err)}`);
  }
  let data: unknown;
  try {
    data = parseJson(text);
  } catch (err) {
    throw new TsrunError(`${file} is not valid JSON: ${messageOf(err)}`);
  }
  return { dir, spec: validateSpec(data, dir) };
}
