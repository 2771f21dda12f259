#!/usr/bin/env node
// Part of `npm run build`: validate the data files the package ships against
// their schemas (the same validators the loaders use) and record the SHA-256
// of each in dist/data-stamps.json. The loaders then use a shipped file whose
// bytes still match without loading the schema library; see
// src/adapters/probe/data-stamps.ts. A file that fails its schema fails the build.
import { readFileSync, writeFileSync } from 'node:fs';
import { STAMPS_PATH, sha256, stampKey } from '../dist/adapters/probe/data-stamps.js';
import { DEFAULT_PORT_RISK_PATH } from '../dist/adapters/probe/upnp-risk-table.js';
import { KEV_CATALOG_PATH } from '../dist/adapters/probe/kev-catalog.js';
import { validatePortRiskTable } from '../dist/core/upnp/risk-schema.js';
import { compileKevCatalog } from '../dist/core/vuln/schema.js';

const shipped = [
  { path: DEFAULT_PORT_RISK_PATH, check: (json, path) => validatePortRiskTable(json, path) },
  { path: KEV_CATALOG_PATH, check: (json, path) => compileKevCatalog(json, path) },
];

const files = {};
for (const { path, check } of shipped) {
  const bytes = readFileSync(path);
  try {
    check(JSON.parse(bytes.toString('utf8')), path);
  } catch (e) {
    process.stderr.write(`stamp-data: ${path} fails its schema: ${e.message}\n`);
    process.exit(1);
  }
  files[stampKey(path)] = sha256(bytes);
}
writeFileSync(STAMPS_PATH, `${JSON.stringify({ version: 1, files }, null, 2)}\n`);
process.stdout.write(`stamp-data: ${Object.keys(files).length} data files validated → ${STAMPS_PATH}\n`);
