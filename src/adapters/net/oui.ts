// Vendor names from the IEEE OUI registry, as shipped by the maintained
// `oui-data` package (MA-L assignments). Loaded once, on first use.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { isLocallyAdministeredMac, normalizeMac } from '../../core/model/net.js';

let table: Record<string, string> | undefined;

function load(): Record<string, string> {
  if (!table) table = createRequire(import.meta.url)('oui-data') as Record<string, string>;
  return table;
}

let pending: Promise<void> | undefined;
/** Reads the registry without blocking on the file (5 MB of JSON): start it early, await it before vendorOf. */
export function preloadOui(): Promise<void> {
  pending ??= (async () => {
    if (table) return;
    try {
      const path = createRequire(import.meta.url).resolve('oui-data');
      const parsed = JSON.parse(await readFile(path, 'utf8')) as Record<string, string>;
      table ??= parsed;
    } catch {
      load();
    }
  })();
  return pending;
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
  const entry = load()[m.replace(/:/g, '').slice(0, 6).toUpperCase()];
  // Entries are the organisation on the first line, then its postal address.
  const name = entry?.split('\n')[0]?.trim();
  return { vendor: name && name.toLowerCase() !== 'private' ? name : null, locallyAdministered: false };
}
