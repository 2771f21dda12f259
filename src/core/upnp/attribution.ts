// Attribution: which LAN device a mapping's internal client is. The resolver
// is an interface so the CLI can back it with the kernel neighbour table
// today and the discovery inventory store when it exists; tests hand in a map.

export interface AttributedDevice {
  ip: string;
  mac?: string;
  vendor?: string;
  hostname?: string;
  /** Where the MAC/vendor came from: 'neigh' (ip neigh), 'inventory', 'self' (this host)... */
  source?: string;
}

export interface DeviceResolver {
  /** Look up every address at once (lets an adapter batch its I/O). Unknown addresses are simply absent. */
  resolve(ips: string[]): Promise<Map<string, AttributedDevice>>;
}

const MAC = /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i;

/**
 * `ip -json neigh show` output → ip → mac, keeping only usable entries
 * (REACHABLE/STALE/DELAY/PROBE/PERMANENT; FAILED/INCOMPLETE carry no MAC).
 */
export function parseIpNeighJson(json: string): Map<string, string> {
  const out = new Map<string, string>();
  let rows: unknown;
  try {
    rows = JSON.parse(json);
  } catch {
    return out;
  }
  if (!Array.isArray(rows)) return out;
  for (const r of rows) {
    if (!r || typeof r !== 'object') continue;
    const { dst, lladdr, state } = r as { dst?: unknown; lladdr?: unknown; state?: unknown };
    if (typeof dst !== 'string' || typeof lladdr !== 'string' || !MAC.test(lladdr)) continue;
    const states = Array.isArray(state) ? state.map(String) : [];
    if (states.includes('FAILED') || states.includes('INCOMPLETE')) continue;
    out.set(dst, lladdr.toLowerCase());
  }
  return out;
}

/** Plain `ip neigh show` text (older iproute2 without -json). */
export function parseIpNeighText(textOut: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of textOut.split('\n')) {
    const m = /^(\d+\.\d+\.\d+\.\d+)\s.*\blladdr\s+([0-9a-f:]{17})\b(.*)$/i.exec(line.trim());
    if (!m || /\b(FAILED|INCOMPLETE)\b/.test(m[3])) continue;
    out.set(m[1], m[2].toLowerCase());
  }
  return out;
}

/** OUI key as oui-data stores it: the first three octets, upper-case hex, no separators. */
export function ouiKey(mac: string): string | undefined {
  const hex = mac.replace(/[^0-9a-f]/gi, '').toUpperCase();
  return hex.length === 12 ? hex.slice(0, 6) : undefined;
}

/** First line of an oui-data value ("Vendor\nAddress...") is the organisation name. */
export function vendorFromOuiRecord(record: string | undefined): string | undefined {
  if (!record) return undefined;
  const name = record.split('\n')[0]?.trim();
  return name ? name : undefined;
}
