#!/usr/bin/env node
// Compiles every schemas/<name>.schema.json into standalone validation code
// (dist/validators/<name>.js) at build time, so that tsrun never compiles a
// JSON Schema when it runs: a command pays only for requiring the result.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const Ajv = require('ajv');
const standalone = require('ajv/dist/standalone').default;
const esbuild = require('esbuild');

const root = path.join(__dirname, '..');
const outDir = path.join(root, 'dist', 'validators');
fs.mkdirSync(outDir, { recursive: true });

// Minified: create reads and compiles config.js on every call, and ajv's
// code is half indentation and long generated names. Bundled: the few ajv
// runtime helpers the code requires (ucs2length) are written in, as
// resolving and loading them from node_modules cost about 1 ms of a create.
function write(name, code) {
  const out = esbuild.buildSync({
    stdin: { contents: code, resolveDir: root, loader: 'js' },
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    minify: true,
    write: false,
    logLevel: 'warning',
  });
  // Its .bin holds the source it was made from (src/code-cache.ts).
  fs.rmSync(path.join(outDir, `${name}.js.bin`), { force: true });
  fs.writeFileSync(path.join(outDir, `${name}.js`), out.outputFiles[0].text);
}

// The validators carry what checking needs, not the schemas' documentation:
// ajv writes the schema objects into the code, and create reads, decodes
// and compiles config.js on every call (about a third less with both).
//  - titles, descriptions and comments are left out;
//  - inlineRefs: false, each definition is one function called where it is
//    used, not a copy of its checks at every use.
function withoutDocs(schema) {
  if (Array.isArray(schema)) return schema.map(withoutDocs);
  if (!schema || typeof schema !== 'object') return schema;
  const out = {};
  for (const [key, value] of Object.entries(schema)) {
    if (['title', 'description', '$comment'].includes(key) && typeof value === 'string') continue;
    // Maps of names to schemas: their keys are names, never keywords.
    if (['properties', 'patternProperties', 'definitions'].includes(key)) {
      out[key] = Object.fromEntries(Object.entries(value).map(([name, sub]) => [name, withoutDocs(sub)]));
    } else {
      out[key] = withoutDocs(value);
    }
  }
  return out;
}
const options = { strict: true, allErrors: false, inlineRefs: false, code: { source: true } };

const schemas = {};
for (const file of fs.readdirSync(path.join(root, 'schemas'))) {
  const m = /^(.+)\.schema\.json$/.exec(file);
  if (!m) continue;
  const schema = withoutDocs(JSON.parse(fs.readFileSync(path.join(root, 'schemas', file), 'utf8')));
  const ajv = new Ajv(options);
  const validate = ajv.compile(schema);
  write(m[1], standalone(ajv, validate));
  schemas[m[1]] = schema;
}

// Parts of config.json that commands take on their own, validated by the
// same definitions (one source): exec --process takes a process object,
// update --resources a linux.resources object.
const parts = { process: 'process', resources: 'resources' };
for (const [name, definition] of Object.entries(parts)) {
  const ajv = new Ajv(options);
  ajv.addSchema(schemas.config);
  const validate = ajv.compile({ $ref: `${schemas.config.$id}#/definitions/${definition}` });
  write(name, standalone(ajv, validate));
}

// tsrun's own state record: its schema is written in zod (src/state/record.ts,
// compiled by tsc before this runs) and checked on every command that reads
// a container. Loading zod cost more than those commands' own work, so it is
// compiled here like the others. Unknown keys are removed, as zod's default
// (strip) removes them; the config and resources maps are kept whole.
const { zodToJsonSchema } = require('zod-to-json-schema');
const { stateRecord } = require(path.join(root, 'dist', 'src', 'state', 'record.js'));
{
  const schema = zodToJsonSchema(stateRecord, { target: 'jsonSchema7', $refStrategy: 'none' });
  delete schema.$schema;
  const ajv = new Ajv({ ...options, removeAdditional: true });
  write('state-record', standalone(ajv, ajv.compile(schema)));
}
