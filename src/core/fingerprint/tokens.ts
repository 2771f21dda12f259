// A device's identity as a bag of tokens (vendor, model-ish host name, DHCP
// vendor class and parameter list, mDNS/SSDP types, User-Agents, cloud
// domains), with per-unit values (MAC suffixes, serials) removed, so two
// devices of the same model share most tokens. Used to compare a device
// against labelled reference fingerprints (IoT Sentinel-style identification).
import type { Device } from '../model/device.js';

/** Drops what identifies one unit rather than a model: hex runs with digits, long numbers. */
function modelWords(s: string): string[] {
  return s
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .map((w) => w.replace(/[0-9a-f]{6,}$/, (m) => (/\d/.test(m) ? '' : m)))
    .filter((w) => w.length > 1 && !/^\d{5,}$/.test(w) && !(/^[0-9a-f]{4,}$/.test(w) && /\d/.test(w) && /[a-f]/.test(w)));
}

/** The registered domain (last two labels, three for co.uk-style) of a host name. */
function domainOf(name: string): string {
  const labels = name.toLowerCase().replace(/\.$/, '').split('.');
  const n = labels.length >= 3 && labels[labels.length - 2].length <= 3 && labels[labels.length - 1].length === 2 ? 3 : 2;
  return labels.slice(-n).join('.');
}

export function identityTokens(d: Device): Set<string> {
  const t = new Set<string>();
  const add = (k: string, v: string | undefined | null) => {
    if (v) t.add(`${k}:${v.toLowerCase().slice(0, 120)}`);
  };
  add('vendor', d.vendor);
  for (const n of [d.hostname, ...Object.values(d.names ?? {})]) if (n) for (const w of modelWords(n)) add('host', w);
  for (const s of d.services) {
    if (s.via === 'dhcp') {
      add('dhcp-vc', s.vendorClass as string | undefined);
      if (Array.isArray(s.paramRequestList)) add('dhcp-prl', (s.paramRequestList as number[]).join(','));
    } else if (s.via === 'mdns') {
      add('mdns', s.type);
      if (s.name) for (const w of modelWords(s.name)) add('mdns-name', w);
    } else if (s.via === 'ssdp') {
      add('ssdp', s.type);
      add('ssdp-search', s.searched as string | undefined);
      if (s.server) for (const w of modelWords(s.server)) add('ssdp-server', w);
    } else if (s.via === 'http') {
      add('ua', s.userAgent as string | undefined);
    } else if (s.via === 'dns' && s.name) {
      add('domain', domainOf(s.name));
    }
  }
  for (const p of d.openPorts) add('port', String(p.port));
  return t;
}

export function jaccard(a: Set<string>, b: Set<string>): number {
  if (a.size === 0 && b.size === 0) return 0;
  let inter = 0;
  for (const x of a) if (b.has(x)) inter++;
  return inter / (a.size + b.size - inter);
}
