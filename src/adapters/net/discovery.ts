// Wires the real network adapters into the pure discovery pipeline
// (src/core/inventory/discover.ts) and resolves what to scan from the user's
// --cidr / --iface, refusing ranges that are too large or public.
import { readFileSync } from 'node:fs';
import type { DiscoveryComponents, Phase, ScanTarget } from '../../core/inventory/discover.js';
import { parseLeases, type Lease } from '../../core/inventory/leases.js';
import { ErrorCodes, IotguardError } from '../../core/model/errors.js';
import { cidrContains, intToIpv4, isPrivateIpv4, parseCidr, type Cidr } from '../../core/model/net.js';
import { grabBanner } from '../probe/banner.js';
import { scanPorts } from '../probe/portscan.js';
import { sweep } from '../probe/sweep.js';
import { addressesOf, ipv4Addresses, type InterfaceAddress } from './interfaces.js';
import { isResolved, readNeighbours } from './neighbours.js';
import { preloadOui, vendorOf } from './oui.js';
import { reverseLookup } from './rdns.js';

export const MIN_PREFIX = 16;

export interface ResolvedTargets {
  targets: ScanTarget[];
  /** The interface used for on-link sweeps (and its address to send from). */
  iface?: InterfaceAddress;
  self: Array<{ ip: string; mac: string }>;
}

function isPublicRange(c: Cidr): boolean {
  const last = intToIpv4((c.network + 2 ** (32 - c.prefix) - 1) >>> 0);
  return !(isPrivateIpv4(intToIpv4(c.network)) && isPrivateIpv4(last));
}

/** Checks one CIDR the user typed: syntax, size, private unless allowed. */
export function checkCidr(text: string, allowPublic: boolean): Cidr {
  const c = parseCidr(text);
  if (c.prefix < MIN_PREFIX) {
    throw new IotguardError(ErrorCodes.NET_RANGE_TOO_LARGE, `${c.text} is larger than /${MIN_PREFIX} (${(2 ** (32 - c.prefix)).toLocaleString('en')} addresses); scan a /${MIN_PREFIX} or smaller`);
  }
  if (!allowPublic && isPublicRange(c)) {
    throw new IotguardError(ErrorCodes.NET_PUBLIC_RANGE, `${c.text} is not a private range; scanning public addresses needs --allow-public (and permission from their owner)`);
  }
  return c;
}

/** What to scan: the --cidr list (each on-link when inside an interface's subnet), else the interface's own subnets. */
export function resolveTargets(opts: { cidrs?: string[]; iface?: string; allowPublic?: boolean }): ResolvedTargets {
  const all = opts.iface ? addressesOf(opts.iface) : ipv4Addresses();
  const self = all.map((a) => ({ ip: a.address, mac: a.mac }));
  if (opts.cidrs && opts.cidrs.length) {
    const cidrs = opts.cidrs.map((t) => checkCidr(t, opts.allowPublic ?? false));
    let iface: InterfaceAddress | undefined;
    const targets = cidrs.map((c): ScanTarget => {
      const home = all.find((a) => a.prefix <= c.prefix && cidrContains(a.cidr, intToIpv4(c.network)));
      if (home && (!iface || iface.iface === home.iface)) {
        iface ??= home;
        return { cidr: c, onLink: true };
      }
      return { cidr: c, onLink: false };
    });
    return { targets, iface, self };
  }
  if (all.length === 0) {
    throw new IotguardError(ErrorCodes.NET_UNKNOWN_INTERFACE, 'no interface with an IPv4 address to scan from; give --iface or --cidr');
  }
  // Without --iface: the interface that holds the default route's subnet, else the first addressed one.
  const iface = all[0];
  const mine = opts.iface ? all : all.filter((a) => a.iface === iface.iface);
  const targets = mine.map((a) => {
    if (a.prefix < MIN_PREFIX) {
      throw new IotguardError(ErrorCodes.NET_RANGE_TOO_LARGE, `${a.iface}'s subnet ${a.cidr.text} is larger than /${MIN_PREFIX}; give a smaller --cidr`);
    }
    if (!opts.allowPublic && isPublicRange(a.cidr)) {
      throw new IotguardError(ErrorCodes.NET_PUBLIC_RANGE, `${a.iface}'s subnet ${a.cidr.text} is not private; add --allow-public to scan it`);
    }
    return { cidr: a.cidr, onLink: true };
  });
  return { targets, iface, self };
}

export function readLeaseFile(path: string): Lease[] {
  try {
    return parseLeases(readFileSync(path, 'utf8'));
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'EACCES' || err.code === 'EPERM') throw new IotguardError(ErrorCodes.NOT_ROOT, `permission denied reading the lease file ${path}`, { cause: e });
    throw new IotguardError(ErrorCodes.FILE_NOT_FOUND, `cannot read the lease file ${path}: ${err.code ?? err.message}`, { cause: e });
  }
}

export interface ComponentOptions {
  resolved: ResolvedTargets;
  concurrency?: number;
  timeoutMs?: number;
  sweepWaitMs?: number;
  bannerTimeoutMs?: number;
  mdns?: boolean;
  ssdp?: boolean;
  /** Reverse-DNS server; undefined = no reverse DNS. */
  dnsServer?: string;
  progress?: (phase: Phase, done: number, total: number) => void;
}

export function createDiscoveryComponents(o: ComponentOptions): DiscoveryComponents {
  const { resolved } = o;
  const inScope = (ip: string) => resolved.targets.some((t) => cidrContains(t.cidr, ip));
  const bindAddress = resolved.iface?.address;
  const dev = resolved.iface?.iface;
  const hasOnLink = resolved.targets.some((t) => t.onLink);
  // Heavy data loads in the background while the network work runs; errors surface when awaited.
  const rules = import('./fingerprint-data.js').then((m) => m.loadFingerprints());
  rules.catch(() => {});
  const oui = preloadOui();
  return {
    async sweep(hosts, onProgress, onFound) {
      const r = await sweep(hosts, { dev, bindAddress, waitMs: o.sweepWaitMs, onProgress, onFound });
      return r.hosts;
    },
    async neighbours6() {
      if (!dev) return [];
      return (await readNeighbours({ dev, family: 6 })).filter(isResolved).map((n) => ({ ip: n.ip, mac: n.mac! }));
    },
    async scan(hosts, ports, onProgress, onOpen) {
      return scanPorts(hosts, ports, { concurrency: o.concurrency, timeoutMs: o.timeoutMs, onProgress, onOpen });
    },
    banner: (ip, port, service) => grabBanner(ip, port, service, { timeoutMs: o.bannerTimeoutMs }),
    // Loaded on first use, so their parsers (dns-packet, fast-xml-parser) load while the sweep runs.
    ...(o.mdns !== false && hasOnLink ? { mdns: async () => (await import('../probe/mdns.js')).mdnsBrowse({ bindAddress, accept: inScope }) } : {}),
    ...(o.ssdp !== false && hasOnLink ? { ssdp: async () => (await import('../probe/ssdp-discover.js')).ssdpDiscover({ bindAddress, accept: inScope }) } : {}),
    ...(o.dnsServer ? { reverseDns: (ips: string[]) => reverseLookup(ips, o.dnsServer!) } : {}),
    vendorOf,
    rules,
    prepare: () => oui,
    now: () => new Date(),
    progress: o.progress,
  };
}
