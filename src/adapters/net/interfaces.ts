// The host's network interfaces and the IPv4 subnets directly attached to
// them: what `discover` scans when no --cidr is given.
import { existsSync } from 'node:fs';
import os from 'node:os';
import { ErrorCodes, IotguardError } from '../../core/model/errors.js';
import { parseCidr, type Cidr } from '../../core/model/net.js';

export interface InterfaceAddress {
  iface: string;
  address: string;
  prefix: number;
  mac: string;
  cidr: Cidr;
}

/** IPv4 addresses of every non-loopback interface that is up and addressed. */
export function ipv4Addresses(ifaces = os.networkInterfaces()): InterfaceAddress[] {
  const out: InterfaceAddress[] = [];
  for (const [name, list] of Object.entries(ifaces)) {
    for (const a of list ?? []) {
      if (a.family !== 'IPv4' || a.internal || !a.cidr) continue;
      const prefix = Number(a.cidr.split('/')[1]);
      out.push({ iface: name, address: a.address, prefix, mac: a.mac.toLowerCase(), cidr: parseCidr(a.cidr) });
    }
  }
  return out;
}

export function interfaceExists(name: string): boolean {
  if (!/^[A-Za-z0-9_.:@-]{1,15}$/.test(name)) return false;
  return existsSync(`/sys/class/net/${name}`) || os.networkInterfaces()[name] !== undefined;
}

/** The addresses of one interface; throws a clear error for an unknown or unaddressed interface. */
export function addressesOf(name: string): InterfaceAddress[] {
  if (!interfaceExists(name)) {
    throw new IotguardError(ErrorCodes.NET_UNKNOWN_INTERFACE, `unknown interface '${name}' (see 'ip link' for the list)`);
  }
  const all = ipv4Addresses().filter((a) => a.iface === name);
  if (all.length === 0) {
    throw new IotguardError(ErrorCodes.NET_UNKNOWN_INTERFACE, `interface '${name}' has no IPv4 address to scan from`);
  }
  return all;
}

/** The interface whose subnet holds `ip` (the one the kernel would use on-link), if any. */
export function interfaceFor(ip: string, addrs = ipv4Addresses()): InterfaceAddress | undefined {
  return addrs.find((a) => {
    const n = ip.split('.').map(Number);
    if (n.length !== 4) return false;
    const v = (((n[0] * 256 + n[1]) * 256 + n[2]) * 256 + n[3]) >>> 0;
    const mask = a.prefix === 0 ? 0 : (0xffffffff << (32 - a.prefix)) >>> 0;
    return ((v & mask) >>> 0) === a.cidr.network;
  });
}
