#!/usr/bin/env node
// Writes dist/features.json, the text `tsrun features` prints. The document
// is fixed by tsrun's code (src/features.ts), not by the host, so it is made
// once here: building it at run time loaded the plan modules it reads their
// tables from, several milliseconds of every call.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const dist = path.join(__dirname, '..', 'dist');
const { featuresDocument } = require(path.join(dist, 'src', 'features.js'));
fs.writeFileSync(path.join(dist, 'features.json'), JSON.stringify(featuresDocument(), null, 2) + '\n');
