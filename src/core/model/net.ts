// Small, pure helpers for IPv4 addresses, CIDRs and MACs shared by every layer.
import { ErrorCodes, IotguardError } from './errors.js';

export function ipv4ToInt(ip: string): number | undefined {
  const parts = ip.split('.');
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p)) return undefined;
    const v = Number(p);
    if (v > 255) return undefined;
    n = n * 256 + v;
  }
  return n >>> 0;
}

export function intToIpv4(n: number): string {
  return `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

export interface Cidr {
  network: number;
  prefix: number;
  /** The canonical text form, e.g. 192.168.1.0/24. */
  text: string;
}

export function parseCidr(text: string): Cidr {
  const m = /^(\d+\.\d+\.\d+\.\d+)\/(\d{1,2})$/.exec(text.trim());
  const base = m ? ipv4ToInt(m[1]) : undefined;
  const prefix = m ? Number(m[2]) : NaN;
  if (!m || base === undefined || prefix > 32) {
    throw new IotguardError(ErrorCodes.NET_BAD_CIDR, `not an IPv4 CIDR: ${text} (expected e.g. 192.168.1.0/24)`);
  }
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  const network = (base & mask) >>> 0;
  return { network, prefix, text: `${intToIpv4(network)}/${prefix}` };
}

export function cidrContains(c: Cidr, ip: string): boolean {
  const n = ipv4ToInt(ip);
  if (n === undefined) return false;
  const mask = c.prefix === 0 ? 0 : (0xffffffff << (32 - c.prefix)) >>> 0;
  return ((n & mask) >>> 0) === c.network;
}

/** Host addresses of a CIDR (network and broadcast excluded for prefixes < 31). */
export function cidrHosts(c: Cidr): string[] {
  const size = 2 ** (32 - c.prefix);
  const out: string[] = [];
  const first = c.prefix >= 31 ? 0 : 1;
  const last = c.prefix >= 31 ? size : size - 1;
  for (let i = first; i < last; i++) out.push(intToIpv4((c.network + i) >>> 0));
  return out;
}

const PRIVATE_V4: Array<[string, number]> = [
  ['10.0.0.0', 8],
  ['172.16.0.0', 12],
  ['192.168.0.0', 16],
  ['169.254.0.0', 16],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
];

/** True when the address is in a private, link-local, CGNAT or loopback range. */
export function isPrivateIpv4(ip: string): boolean {
  return PRIVATE_V4.some(([net, p]) => cidrContains(parseCidr(`${net}/${p}`), ip));
}

export function normalizeMac(mac: string): string {
  return mac.trim().toLowerCase().replace(/-/g, ':');
}

/** Locally administered (often randomised) MACs carry no vendor in their OUI. */
export function isLocallyAdministeredMac(mac: string): boolean {
  const first = parseInt(normalizeMac(mac).slice(0, 2), 16);
  return Number.isFinite(first) && (first & 0x02) !== 0;
}
