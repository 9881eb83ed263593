#!/usr/bin/env node
// Compiles every schemas/<name>.schema.json into standalone validation code
// (dist/validators/<name>.js) at build time, so that tsrun never compiles a
// JSON Schema when it runs: a command pays only for requiring the result.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const Ajv = require('ajv');
const standalone = require('ajv/dist/standalone').default;

const root = path.join(__dirname, '..');
const outDir = path.join(root, 'dist', 'validators');
fs.mkdirSync(outDir, { recursive: true });

const schemas = {};
for (const file of fs.readdirSync(path.join(root, 'schemas'))) {
  const m = /^(.+)\.schema\.json$/.exec(file);
  if (!m) continue;
  const schema = JSON.parse(fs.readFileSync(path.join(root, 'schemas', file), 'utf8'));
  const ajv = new Ajv({ strict: true, allErrors: false, code: { source: true } });
  const validate = ajv.compile(schema);
  fs.writeFileSync(path.join(outDir, `${m[1]}.js`), standalone(ajv, validate));
  schemas[m[1]] = schema;
}

// Parts of config.json that commands take on their own, validated by the
// same definitions (one source): exec --process takes a process object,
// update --resources a linux.resources object.
const parts = { process: 'process', resources: 'resources' };
for (const [name, definition] of Object.entries(parts)) {
  const ajv = new Ajv({ strict: true, allErrors: false, code: { source: true } });
  ajv.addSchema(schemas.config);
  const validate = ajv.compile({ $ref: `${schemas.config.$id}#/definitions/${definition}` });
  fs.writeFileSync(path.join(outDir, `${name}.js`), standalone(ajv, validate));
}
