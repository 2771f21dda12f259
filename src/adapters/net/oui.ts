// Vendor names from the IEEE OUI registry, as shipped by the maintained
// `oui-data` package (MA-L assignments). Loaded once, on first use.
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { isLocallyAdministeredMac, normalizeMac } from '../../core/model/net.js';

// The registry is 5 MB of JSON with 50,000+ entries; a discovery needs a
// dozen. So the text is kept as read and each OUI is looked up with one
// indexOf (and cached): far cheaper than parsing the whole object.
let text: string | undefined;
const cache = new Map<string, string | null>();

function registryPath(): string {
  return createRequire(import.meta.url).resolve('oui-data');
}

function load(): string {
  text ??= readFileSync(registryPath(), 'utf8');
  return text;
}

let pending: Promise<void> | undefined;
/** Reads the registry file without blocking: start it early, await it before vendorOf. */
export function preloadOui(): Promise<void> {
  pending ??= (async () => {
    if (text) return;
    try {
      const t = await readFile(registryPath(), 'utf8');
      text ??= t;
    } catch {
      load();
    }
  })();
  return pending;
}

/** The entry for a 6-hex-digit OUI key, read straight from the JSON text. */
function lookup(key: string): string | null {
  const hit = cache.get(key);
  if (hit !== undefined) return hit;
  const t = load();
  const at = t.indexOf(`"${key}":`);
  let value: string | null = null;
  if (at >= 0) {
    const start = t.indexOf('"', at + key.length + 3);
    let end = start + 1;
    while (end < t.length && t[end] !== '"') end += t[end] === '\\' ? 2 : 1;
    try {
      value = JSON.parse(t.slice(start, end + 1)) as string;
    } catch {
      value = null;
    }
  }
  cache.set(key, value);
  return value;
}

export interface VendorInfo {
  vendor: string | null;
  locallyAdministered: boolean;
}

/** The registered organisation for a MAC; null for locally administered (random) MACs and unassigned OUIs. */
export function vendorOf(mac: string): VendorInfo {
  const m = normalizeMac(mac);
  if (!/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/.test(m)) return { vendor: null, locallyAdministered: false };
  if (isLocallyAdministeredMac(m)) return { vendor: null, locallyAdministered: true };
  const entry = lookup(m.replace(/:/g, '').slice(0, 6).toUpperCase());
  // Entries are the organisation on the first line, then its postal address.
  const name = entry?.split('\n')[0]?.trim();
  return { vendor: name && name.toLowerCase() !== 'private' ? name : null, locallyAdministered: false };
}
