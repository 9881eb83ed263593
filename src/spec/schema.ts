// JSON Schema validation with the validators compiled at build time from
// schemas/ (scripts/build-validators.js); nothing is compiled at run time,
// and V8 compiles each validator with its code cache (src/code-cache.ts).
import { join as joinPath } from 'node:path';
import { requireCompiled } from '../code-cache';
import { validatorsDir } from '../paths';
import { fromPointer, join } from './fieldpath';

interface AjvError {
  instancePath: string;
  keyword: string;
  message?: string;
  params: Record<string, unknown>;
}

type Validator = ((data: unknown) => boolean) & { errors?: AjvError[] | null };

/**
 * A schema of schemas/, a part of config.json compiled from its definitions,
 * or tsrun's own state record, compiled from its zod schema (src/state/record.ts)
 * (scripts/build-validators.js).
 */
export type SchemaName = 'config' | 'state' | 'features' | 'process' | 'resources' | 'state-record';

export interface Problem {
  field: string;
  message: string;
}

const cache = new Map<SchemaName, Validator>();

function validator(name: SchemaName): Validator {
  let v = cache.get(name);
  if (!v) {
    // Every command but a few reads a state record: its validator is part of
    // each CLI bundle (esbuild follows package.json's "imports"), and of its
    // code cache, rather than a file of its own to read and compile.
    if (name === 'state-record') v = require('#validators/state-record') as Validator;
    else v = requireCompiled<Validator>(joinPath(validatorsDir, `${name}.js`));
    cache.set(name, v);
  }
  return v;
}

function describe(e: AjvError, base: string): Problem {
  const at = fromPointer(e.instancePath, base);
  switch (e.keyword) {
    case 'required':
      return { field: join(at, String(e.params.missingProperty)), message: 'is required' };
    case 'enum':
      return {
        field: at,
        message: `must be one of ${(e.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`,
      };
    case 'additionalProperties':
      return { field: join(at, String(e.params.additionalProperty)), message: 'is not allowed' };
    default:
      return { field: at, message: e.message ?? `fails ${e.keyword}` };
  }
}

/** Problems found by the schema (empty when valid); `base` is where data sits in config.json ("process"). */
export function schemaProblems(name: SchemaName, data: unknown, base = ''): Problem[] {
  const validate = validator(name);
  if (validate(data)) return [];
  return (validate.errors ?? []).map((e) => describe(e, base));
}
