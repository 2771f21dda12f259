// The discovery use case as a pure pipeline: sweep the on-link subnets for
// MACs, scan ports, grab banners, browse mDNS and SSDP, read names, then merge
// everything per device and fingerprint its type. Every step that touches the
// network is a component handed in (libp2p-style), so tests drive it with
// fakes and the CLI with the real adapters.
import { compareDevices, type Device, type DeviceService, type OpenPort } from '../model/device.js';
import { cidrContains, cidrHosts, normalizeMac, type Cidr } from '../model/net.js';
import { classify } from '../fingerprint/classify.js';
import { factsFromDevice } from '../fingerprint/facts.js';
import type { RuleSet } from '../fingerprint/rules.js';
import type { Lease } from './leases.js';
import type { MdnsHostInfo } from './mdns.js';
import type { UpnpDeviceDescription } from './ssdp.js';

export interface ScanTarget {
  cidr: Cidr;
  /** Directly attached: hosts are found by the neighbour sweep and have MACs. */
  onLink: boolean;
}

export interface SsdpFound {
  address: string;
  location?: string;
  server?: string;
  targets: string[];
  description?: UpnpDeviceDescription;
}

export type Phase = 'sweep' | 'ports' | 'banners' | 'names';

export interface DiscoveryComponents {
  /**
   * IPv4 → MAC for the hosts of an on-link subnet that answered ARP. May call
   * `onFound` with hosts as they resolve, so their port scan starts early.
   */
  sweep(hosts: string[], onProgress: (done: number) => void, onFound?: (hosts: Map<string, string>) => void): Promise<Map<string, string>>;
  /** IPv6 neighbours (address, MAC) on the interface, if any. */
  neighbours6?(): Promise<Array<{ ip: string; mac: string }>>;
  /** Open TCP ports per host; `alive` when the host answered at all. May report each open port as found (`onOpen`). */
  scan(
    hosts: string[],
    ports: number[],
    onProgress: (done: number, total: number) => void,
    onOpen?: (ip: string, port: number) => void,
  ): Promise<Map<string, { open: number[]; alive: boolean }>>;
  banner(ip: string, port: number, service: string | undefined): Promise<OpenPort>;
  mdns?(): Promise<MdnsHostInfo[]>;
  ssdp?(): Promise<SsdpFound[]>;
  reverseDns?(ips: string[]): Promise<Map<string, string>>;
  vendorOf(mac: string): { vendor: string | null; locallyAdministered: boolean };
  /** The fingerprint rules; a promise lets them load while the network work runs. */
  rules: RuleSet | Promise<RuleSet>;
  /** Awaited before results are merged: finish loading what vendorOf needs. */
  prepare?(): Promise<void>;
  now(): Date;
  progress?(phase: Phase, done: number, total: number): void;
}

export interface DiscoveryInit {
  targets: ScanTarget[];
  ports: number[];
  /** Port → service name (from the port table). */
  portNames: Map<number, string>;
  /** The scanning host's own addresses and MACs (not in its neighbour table). */
  self?: Array<{ ip: string; mac: string }>;
  leases?: Lease[];
  bannerConcurrency?: number;
  /** Skip banner probes (ports only). */
  noBanners?: boolean;
}

export interface DiscoveryResult {
  devices: Device[];
  startedAt: string;
  finishedAt: string;
  stats: { addressesSwept: number; hostsFound: number; portsProbed: number; openPorts: number; seconds: number };
}

export async function runDiscovery(c: DiscoveryComponents, init: DiscoveryInit): Promise<DiscoveryResult> {
  const t0 = c.now();
  const inScope = (ip: string) => init.targets.some((t) => cidrContains(t.cidr, ip));
  // Browsing runs while the sweep and scan do: both mostly wait for answers.
  const mdnsP = c.mdns ? c.mdns().catch(() => [] as MdnsHostInfo[]) : Promise.resolve([] as MdnsHostInfo[]);
  const ssdpP = c.ssdp ? c.ssdp().catch(() => [] as SsdpFound[]) : Promise.resolve([] as SsdpFound[]);

  const macOf = new Map<string, string>();
  const candidates = new Set<string>();
  const offLink = new Set<string>();
  const self = (init.self ?? []).filter((s) => inScope(s.ip));
  // Port scans start per batch of hosts, as soon as the sweep finds them.
  const scanned = new Map<string, { open: number[]; alive: boolean }>();
  const scanning: Array<Promise<void>> = [];
  const started = new Set<string>();
  let portsTotal = 0;
  let portsDone = 0;
  // Banner probes start as soon as the scan finds a port open, bounded like a pool.
  const ports = new Map<string, OpenPort[]>();
  const bannerJobs: Array<Promise<void>> = [];
  const bannerSlots = init.bannerConcurrency ?? 64;
  let bannerActive = 0;
  const bannerQueue: Array<() => void> = [];
  let bannersDone = 0;
  let bannersTotal = 0;
  const startBanner = (ip: string, port: number) => {
    bannersTotal++;
    bannerJobs.push(
      (async () => {
        if (bannerActive >= bannerSlots) await new Promise<void>((r) => bannerQueue.push(r));
        bannerActive++;
        try {
          const name = init.portNames.get(port);
          const got = init.noBanners ? { port, proto: 'tcp' as const, service: name ?? 'unknown', banner: '' } : await c.banner(ip, port, name);
          const list = ports.get(ip) ?? [];
          list.push(got);
          ports.set(ip, list);
        } finally {
          bannerActive--;
          bannerQueue.shift()?.();
        }
        c.progress?.('banners', ++bannersDone, bannersTotal);
      })(),
    );
  };
  const bannered = new Set<string>();
  const onOpen = (ip: string, port: number) => {
    const key = `${ip}:${port}`;
    if (bannered.has(key)) return;
    bannered.add(key);
    // Off-link addresses only count once they answer; their banners wait for the present check below.
    if (!offLink.has(ip)) startBanner(ip, port);
  };
  const startScan = (ips: string[]) => {
    const fresh = ips.filter((ip) => !started.has(ip));
    if (fresh.length === 0) return;
    for (const ip of fresh) started.add(ip);
    portsTotal += fresh.length * init.ports.length;
    let mine = 0;
    scanning.push(
      c
        .scan(
          fresh,
          init.ports,
          (d) => {
            portsDone += d - mine;
            mine = d;
            c.progress?.('ports', portsDone, portsTotal);
          },
          onOpen,
        )
        .then((m) => {
          for (const [ip, r] of m) scanned.set(ip, r);
        }),
    );
  };
  for (const s of self) {
    macOf.set(s.ip, normalizeMac(s.mac));
    candidates.add(s.ip);
  }
  startScan(self.map((s) => s.ip));
  let swept = 0;
  const onLinkHosts = init.targets.filter((t) => t.onLink).flatMap((t) => cidrHosts(t.cidr));
  const total = onLinkHosts.length;
  if (onLinkHosts.length) {
    const selfIps = new Set(self.map((s) => s.ip));
    const addFound = (found: Map<string, string>) => {
      for (const [ip, mac] of found) {
        macOf.set(ip, normalizeMac(mac));
        candidates.add(ip);
      }
      startScan([...found.keys()]);
    };
    const found = await c.sweep(onLinkHosts.filter((ip) => !selfIps.has(ip)), (d) => c.progress?.('sweep', d, total), addFound);
    addFound(found);
    swept += onLinkHosts.length;
  }
  startScan([...candidates]);
  for (const t of init.targets.filter((x) => !x.onLink)) {
    for (const ip of cidrHosts(t.cidr)) {
      if (!candidates.has(ip)) offLink.add(ip);
    }
  }
  startScan([...offLink]);
  const scanList = [...started];
  // A scan batch may be added while earlier ones run: wait until none is left.
  for (let n = 0; n < scanning.length; n = scanning.length) await Promise.all(scanning.slice(n));
  const [mdnsHosts, ssdpHosts] = await Promise.all([mdnsP, ssdpP]);

  // Who exists: every on-link host that answered ARP, plus off-link hosts that answered TCP, mDNS or SSDP.
  const present = new Set<string>(candidates);
  for (const ip of offLink) if (scanned.get(ip)?.alive) present.add(ip);
  for (const h of mdnsHosts) if (inScope(h.address)) present.add(h.address);
  for (const s of ssdpHosts) if (inScope(s.address)) present.add(s.address);

  // Open ports whose banner did not start yet (scanners that do not report early, off-link hosts).
  for (const ip of present) for (const p of scanned.get(ip)?.open ?? []) {
    const key = `${ip}:${p}`;
    if (!bannered.has(key) || offLink.has(ip)) {
      bannered.add(key);
      startBanner(ip, p);
    }
  }
  const ips = [...present];
  const bannersP = (async () => {
    for (let n = 0; n < bannerJobs.length; n = bannerJobs.length) await Promise.all(bannerJobs.slice(n));
  })();
  const rdnsP = c.reverseDns ? c.reverseDns(ips).catch(() => new Map<string, string>()) : Promise.resolve(new Map<string, string>());
  const v6P = c.neighbours6 ? c.neighbours6().catch(() => []) : Promise.resolve([]);
  const rulesP = Promise.resolve(c.rules);
  const prepP = c.prepare ? c.prepare() : Promise.resolve();
  const [, rdns, v6, rules] = await Promise.all([bannersP, rdnsP, v6P, rulesP, prepP]);
  const leaseByMac = new Map((init.leases ?? []).map((l) => [l.mac, l]));
  const leaseByIp = new Map((init.leases ?? []).map((l) => [l.ip, l]));
  const selfIps = new Set(self.map((s) => s.ip));

  const devices: Device[] = ips.map((ip) => {
    const mac = macOf.get(ip) ?? null;
    const v = mac ? c.vendorOf(mac) : { vendor: null, locallyAdministered: false };
    const names: Record<string, string> = {};
    const services: DeviceService[] = [];
    const lease = (mac ? leaseByMac.get(mac) : undefined) ?? leaseByIp.get(ip);
    if (lease && (!mac || lease.mac === mac)) {
      if (lease.hostname) names.dhcp = lease.hostname;
      const s: DeviceService = { via: 'dhcp' };
      if (lease.hostname) s.name = lease.hostname;
      if (lease.vendorClass) s.vendorClass = lease.vendorClass;
      services.push(s);
    }
    const m = mdnsHosts.find((h) => h.address === ip);
    if (m) {
      if (m.hostname) names.mdns = m.hostname;
      for (const s of m.services) {
        const svc: DeviceService = { via: 'mdns', type: s.type, name: s.name };
        if (s.port !== undefined) svc.port = s.port;
        if (s.txt && Object.keys(s.txt).length) svc.txt = s.txt;
        services.push(svc);
      }
    }
    const sd = ssdpHosts.find((h) => h.address === ip);
    if (sd) {
      const d = sd.description;
      const svc: DeviceService = { via: 'ssdp' };
      const t = d?.deviceType ?? sd.targets.find((x) => /:device:/.test(x));
      if (t) svc.type = t;
      if (d?.friendlyName) svc.friendlyName = d.friendlyName;
      if (d?.manufacturer) svc.manufacturer = d.manufacturer;
      if (d?.modelName) svc.model = d.modelName;
      if (d?.modelNumber) svc.modelNumber = d.modelNumber;
      if (d?.firmwareVersion) svc.firmwareVersion = d.firmwareVersion;
      if (d?.embedded.length) svc.embedded = d.embedded;
      if (sd.location) svc.location = sd.location;
      if (sd.server) svc.server = sd.server;
      services.push(svc);
    }
    const r = rdns.get(ip);
    if (r) names.rdns = r;
    const hostname = names.dhcp ?? names.mdns?.replace(/\.local$/, '') ?? r ?? null;
    const dev: Device = {
      ip,
      mac,
      vendor: v.vendor,
      hostname,
      type: 'unknown',
      openPorts: (ports.get(ip) ?? []).sort((a, b) => a.port - b.port),
      services,
    };
    if (v.locallyAdministered) dev.macLocallyAdministered = true;
    if (Object.keys(names).length) dev.names = names;
    const six = mac ? v6.filter((n) => normalizeMac(n.mac) === mac).map((n) => n.ip) : [];
    if (six.length) dev.ipv6 = [...new Set(six)].sort();
    if (selfIps.has(ip)) dev.self = true;
    const guess = classify(factsFromDevice(dev), rules);
    dev.type = guess.type;
    dev.typeConfidence = guess.confidence;
    dev.typeEvidence = guess.evidence.filter((e) => e.type === guess.type);
    return dev;
  });
  devices.sort(compareDevices);
  const t1 = c.now();
  return {
    devices,
    startedAt: t0.toISOString(),
    finishedAt: t1.toISOString(),
    stats: {
      addressesSwept: swept,
      hostsFound: devices.length,
      portsProbed: scanList.length * init.ports.length,
      openPorts: devices.reduce((n, d) => n + d.openPorts.length, 0),
      seconds: Math.round((t1.getTime() - t0.getTime()) / 100) / 10,
    },
  };
}
