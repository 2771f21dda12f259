// Build stamps for the data files the package ships (the port risk table, the
// vulnerability catalog). `npm run build` validates each of them against its
// schema (scripts/stamp-data.mjs) and records the SHA-256 of the bytes that
// passed in dist/data-stamps.json. A loader that reads a shipped file whose
// bytes still hash to its stamp holds the very file that passed, and uses it
// without loading the schema library: zod's ~100 modules cost every command
// that runs the detectors about a tenth of a second. Any other file (edited
// after the build, named by the user, or read with no stamps at all, as when
// running from source) is validated in full.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isAbsolute, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** src/adapters/probe and dist/adapters/probe are both three levels below the package root. */
export const PACKAGE_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
/** Written by the build next to the compiled code (absent when running from source). */
export const STAMPS_PATH = fileURLToPath(new URL('../../data-stamps.json', import.meta.url));

export interface DataStamps {
  version: 1;
  /** Package-relative path (forward slashes) → SHA-256 (hex) of the file's bytes when it passed its schema. */
  files: Record<string, string>;
}

export const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/** The key a file is stamped under: its path relative to the package root, or undefined for a file outside it. */
export function stampKey(path: string, root = PACKAGE_ROOT): string | undefined {
  const r = relative(root, path);
  if (r === '' || r.startsWith('..') || isAbsolute(r)) return undefined;
  return r.split(sep).join('/');
}

const stampsCache = new Map<string, Map<string, string> | null>();

function readStamps(stampsPath: string): Map<string, string> | null {
  let m = stampsCache.get(stampsPath);
  if (m !== undefined) return m;
  m = null;
  try {
    const j = JSON.parse(readFileSync(stampsPath, 'utf8')) as Partial<DataStamps>;
    if (j.version === 1 && j.files && typeof j.files === 'object') {
      m = new Map(Object.entries(j.files).filter((e): e is [string, string] => typeof e[1] === 'string' && /^[0-9a-f]{64}$/.test(e[1])));
    }
  } catch {
    // no stamps (running from source) or unreadable ones: every file is validated
  }
  stampsCache.set(stampsPath, m);
  return m;
}

/** True when `bytes`, read from `path`, are exactly the bytes the build validated for that shipped file. */
export function checkedAtBuild(path: string, bytes: Uint8Array, opts: { stampsPath?: string; root?: string } = {}): boolean {
  const key = stampKey(path, opts.root);
  if (key === undefined) return false;
  const want = readStamps(opts.stampsPath ?? STAMPS_PATH)?.get(key);
  return want !== undefined && want === sha256(bytes);
}
