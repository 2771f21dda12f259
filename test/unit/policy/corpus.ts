// Locates the shared third-party corpus (../shared/data from the repo root).
// Tests that need it skip with a message when it is absent.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
export const sharedData = join(repoRoot, '..', 'shared', 'data');
export const mudDir = join(sharedData, 'mud');
export const haveCorpus = existsSync(mudDir);
export const corpusSkipReason = `shared corpus not found at ${sharedData} (tests that read it are skipped)`;

export function listMudFiles(): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const f of readdirSync(d).sort()) {
      const p = join(d, f);
      if (statSync(p).isDirectory()) walk(p);
      else if (f.endsWith('.json')) out.push(p);
    }
  };
  if (haveCorpus) walk(mudDir);
  return out;
}
