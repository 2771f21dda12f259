// Where the credential audit may go: only addresses on a subnet directly
// attached to one of this host's interfaces (read from os.networkInterfaces),
// or loopback (for tests). Anything routed - the internet, a VPN's far side,
// another LAN behind a router - is refused before a packet leaves.
import os from 'node:os';
import { cidrContains, ipv4ToInt, parseCidr, type Cidr } from '../../../core/model/net.js';

export interface AttachedNet {
  iface: string;
  address: string;
  cidr: Cidr;
}

export function attachedNets(ifaces: NodeJS.Dict<os.NetworkInterfaceInfo[]> = os.networkInterfaces()): AttachedNet[] {
  const out: AttachedNet[] = [];
  for (const [name, list] of Object.entries(ifaces)) {
    for (const a of list ?? []) {
      if (a.family !== 'IPv4' || !a.cidr) continue;
      out.push({ iface: name, address: a.address, cidr: parseCidr(a.cidr) });
    }
  }
  return out;
}

export type ScopeVerdict = { ok: true; via: string } | { ok: false; why: string };

export function inScope(ip: string, nets: AttachedNet[]): ScopeVerdict {
  if (ipv4ToInt(ip) === undefined) return { ok: false, why: `${ip} is not an IPv4 address` };
  if (cidrContains(parseCidr('127.0.0.0/8'), ip)) return { ok: true, via: 'loopback' };
  const ipN = ipv4ToInt(ip) as number;
  for (const n of nets) {
    if (n.cidr.prefix >= 31 && n.cidr.prefix < 32) {
      if (cidrContains(n.cidr, ip)) return { ok: true, via: n.iface };
      continue;
    }
    if (n.cidr.prefix === 32 || !cidrContains(n.cidr, ip)) continue;
    const host = ipN - n.cidr.network;
    const size = 2 ** (32 - n.cidr.prefix);
    if (host === 0 || host === size - 1) return { ok: false, why: `${ip} is the network or broadcast address of ${n.cidr.text}` };
    return { ok: true, via: n.iface };
  }
  const list = nets.filter((n) => !n.address.startsWith('127.')).map((n) => `${n.cidr.text} (${n.iface})`);
  return { ok: false, why: `${ip} is not on a directly attached subnet${list.length ? ` (attached: ${list.join(', ')})` : ''}` };
}
