import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importMudText } from '../../../src/core/policy/import.js';
import { corpusSkipReason, haveCorpus, listMudFiles, mudDir } from './corpus.js';

if (!haveCorpus) console.warn(`[policy] ${corpusSkipReason}`);

describe.skipIf(!haveCorpus)('policy import: every MUD file in ../shared/data/mud', () => {
  it('imports or rejects each file with a reason naming a JSON path, and prints the table', () => {
    const files = listMudFiles();
    expect(files.length).toBeGreaterThan(40);
    const rows: string[] = [];
    let ok = 0;
    for (const f of files) {
      const r = importMudText(readFileSync(f, 'utf8'));
      const name = relative(mudDir, f);
      if (r.ok) {
        ok++;
        rows.push(`imported  ${name.padEnd(95)} ${r.profile.rules.length} rules, ${r.warnings.length} warnings`);
      } else {
        // the reason starts with the JSON pointer of the offending node
        expect(r.reason).toMatch(/^\/\S*: \S/);
        rows.push(`rejected  ${name.padEnd(95)} ${r.reason}`);
      }
    }
    console.log(`${rows.join('\n')}\n${ok}/${files.length} imported`);
    expect(ok).toBeGreaterThan(0);
  });
});
