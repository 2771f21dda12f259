// Runs `nft -c` (kernel check, nothing committed) inside a throwaway network
// namespace (unshare -n), so a check never touches the host's ruleset.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function why(): string | undefined {
  if (process.getuid?.() !== 0) return 'nft -c needs root';
  const v = spawnSync('nft', ['--version'], { encoding: 'utf8' });
  if (v.status !== 0) return 'nft is not installed';
  const u = spawnSync('unshare', ['-n', 'true'], { encoding: 'utf8' });
  if (u.status !== 0) return `unshare -n does not work here: ${u.stderr.trim()}`;
  return undefined;
}

export const nftSkipReason = why();
export const haveNft = nftSkipReason === undefined;

const dir = mkdtempSync(join(tmpdir(), 'iotguard-nft-'));
let n = 0;

export function nftCheck(ruleset: string): { ok: boolean; stderr: string } {
  const f = join(dir, `r${n++}.nft`);
  writeFileSync(f, ruleset);
  const r = spawnSync('unshare', ['-n', 'nft', '-c', '-f', f], { encoding: 'utf8' });
  return { ok: r.status === 0, stderr: r.stderr };
}
