// Loads and validates the shipped wordlists and service table from
// data/credentials/ (package root), and a user's wordlist file.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ErrorCodes, IotguardError } from '../../../core/model/errors.js';
import { parseMiraiCsv, parseServicesJson, parseUserWordlist, parseVendorCsv, type ShippedLists } from '../../../core/creds/wordlist.js';
import type { Credential } from '../../../core/creds/types.js';

export function dataDir(): string {
  // dist/adapters/probe/creds -> package root (also src/... under vitest)
  return fileURLToPath(new URL('../../../../data/credentials/', import.meta.url));
}

let cached: ShippedLists | undefined;

export function loadShippedLists(dir = dataDir()): ShippedLists {
  if (cached && dir === dataDir()) return cached;
  const read = (f: string) => {
    const p = `${dir}${f}`;
    if (!existsSync(p)) throw new IotguardError(ErrorCodes.FILE_NOT_FOUND, `iotguard data file missing: ${p}`);
    return readFileSync(p, 'utf8');
  };
  const lists: ShippedLists = {
    mirai: parseMiraiCsv(read('mirai.csv')),
    vendor: parseVendorCsv(read('vendor-defaults.csv')),
    services: parseServicesJson(read('services.json')),
  };
  if (dir === dataDir()) cached = lists;
  return lists;
}

/** A user's wordlist file. Its contents are private: errors name the file and line only. */
export function loadUserWordlist(path: string): Credential[] {
  if (!existsSync(path)) throw new IotguardError(ErrorCodes.FILE_NOT_FOUND, `wordlist not found: ${path}`);
  const st = statSync(path);
  if (!st.isFile()) throw new IotguardError(ErrorCodes.FILE_NOT_FOUND, `wordlist is not a file: ${path}`);
  if (st.size > 8 * 1024 * 1024) throw new IotguardError(ErrorCodes.DATA_INVALID, `wordlist ${path} is larger than 8 MiB`);
  return parseUserWordlist(readFileSync(path, 'utf8'), `wordlist ${path}`);
}

/** MAC of a neighbour from the kernel's ARP table (Linux), for findings; undefined elsewhere. */
export function arpTable(): Map<string, string> {
  const out = new Map<string, string>();
  try {
    const text = readFileSync('/proc/net/arp', 'utf8');
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length >= 4 && /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i.test(f[3]) && f[3] !== '00:00:00:00:00:00') out.set(f[0], f[3].toLowerCase());
    }
  } catch {
    // not Linux, or no permission: findings just carry the IP
  }
  return out;
}
