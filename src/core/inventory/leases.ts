// DHCP lease files as a name source: dnsmasq (`expiry mac ip hostname
// client-id` per line) and ISC dhcpd (`lease IP { hardware ethernet MAC;
// client-hostname "x"; }`). Pure: text in, leases out; junk lines skipped.
import { normalizeMac } from '../model/net.js';

export interface Lease {
  ip: string;
  mac: string;
  hostname?: string;
  /** Unix seconds; 0 = infinite (dnsmasq). */
  expires?: number;
  vendorClass?: string;
}

const MAC = /^[0-9a-f]{2}([:-][0-9a-f]{2}){5}$/i;
const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

export function parseLeases(text: string): Lease[] {
  const src = text.slice(0, 16 * 1024 * 1024);
  if (/^\s*lease\s+\S+\s*\{/m.test(src)) return parseIsc(src);
  const out: Lease[] = [];
  for (const line of src.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 4 || !/^\d+$/.test(f[0]) || !MAC.test(f[1]) || !IPV4.test(f[2])) continue;
    const l: Lease = { ip: f[2], mac: normalizeMac(f[1]), expires: Number(f[0]) };
    if (f[3] !== '*') l.hostname = f[3];
    out.push(l);
  }
  return out;
}

function parseIsc(text: string): Lease[] {
  const latest = new Map<string, Lease>();
  const re = /lease\s+(\d{1,3}(?:\.\d{1,3}){3})\s*\{([^}]*)\}/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const body = m[2];
    const mac = /hardware\s+ethernet\s+([0-9a-f:]{17})\s*;/i.exec(body)?.[1];
    if (!mac || !MAC.test(mac)) continue;
    const l: Lease = { ip: m[1], mac: normalizeMac(mac) };
    const host = /client-hostname\s+"([^"]{1,253})"\s*;/.exec(body)?.[1];
    if (host) l.hostname = host;
    const vc = /set\s+vendor-class-identifier\s*=\s*"([^"]{1,253})"\s*;/.exec(body)?.[1];
    if (vc) l.vendorClass = vc;
    // later blocks for the same address supersede earlier ones (dhcpd appends)
    latest.set(m[1], l);
  }
  return [...latest.values()];
}
