// dns-bypass: a device that ignores the LAN's resolver — plain DNS straight
// to an outside resolver while the LAN has its own, DNS over TLS (TCP 853),
// or DNS over HTTPS to a known resolver endpoint (by SNI). Such a device
// escapes the router's DNS filtering and the allowlists built on DNS names.
import type { DetectorConfig } from './config.js';
import type { Detector, DeviceRef, EngineEvent, Subscription } from '../engine/events.js';
import type { Finding } from '../model/finding.js';
import { Capped, deviceKey, deviceOf, endpointText } from './util.js';

// DoH and DoT are judged from closed flows (the server name is the DNS name the device looked up, else the
// TLS SNI), which spares the engine building a ClientHello event (JA3/JA4) for every TLS connection
const WANTS: readonly Subscription[] = ['dns-query', 'flow-close'];

/** Public resolvers by address (for the finding's text). */
export const PUBLIC_RESOLVERS: Record<string, string> = {
  '8.8.8.8': 'Google Public DNS',
  '8.8.4.4': 'Google Public DNS',
  '2001:4860:4860::8888': 'Google Public DNS',
  '2001:4860:4860::8844': 'Google Public DNS',
  '1.1.1.1': 'Cloudflare',
  '1.0.0.1': 'Cloudflare',
  '2606:4700:4700::1111': 'Cloudflare',
  '2606:4700:4700::1001': 'Cloudflare',
  '9.9.9.9': 'Quad9',
  '149.112.112.112': 'Quad9',
  '208.67.222.222': 'OpenDNS',
  '208.67.220.220': 'OpenDNS',
  '94.140.14.14': 'AdGuard DNS',
  '94.140.15.15': 'AdGuard DNS',
  '185.228.168.9': 'CleanBrowsing',
  '76.76.2.0': 'Control D',
  '76.76.19.19': 'Alternate DNS',
  '114.114.114.114': '114DNS',
  '223.5.5.5': 'AliDNS',
  '180.76.76.76': 'Baidu DNS',
};

/** DNS-over-HTTPS endpoints (exact names, or suffixes starting with a dot). */
const DOH_HOSTS = [
  'dns.google',
  'dns.google.com',
  'dns64.dns.google',
  '8888.google',
  'cloudflare-dns.com',
  '.cloudflare-dns.com',
  'one.one.one.one',
  'dns.quad9.net',
  'dns9.quad9.net',
  'dns10.quad9.net',
  'dns11.quad9.net',
  'doh.opendns.com',
  'doh.familyshield.opendns.com',
  'dns.adguard.com',
  'dns.adguard-dns.com',
  '.adguard-dns.com',
  'doh.cleanbrowsing.org',
  'dns.nextdns.io',
  '.nextdns.io',
  'doh.dns.sb',
  'dns.alidns.com',
  'doh.pub',
  'dns.controld.com',
  'freedns.controld.com',
  'doh.mullvad.net',
  'dns.mullvad.net',
  'dns.twnic.tw',
  'doh.libredns.gr',
];

const DOH_EXACT = new Set(DOH_HOSTS.filter((h) => !h.startsWith('.')));
const DOH_SUFFIX = new Set(DOH_HOSTS.filter((h) => h.startsWith('.')).map((h) => h.slice(1)));

/** Outside resolvers remembered across devices; past this, new ones are not (memory stays bounded). */
const MAX_RESOLVERS = 4096;

export function isDohHost(sni: string): boolean {
  let s = sni.toLowerCase();
  if (s.endsWith('.')) s = s.slice(0, -1);
  if (DOH_EXACT.has(s)) return true;
  // a name under one of the suffix zones: check each parent (there are few labels)
  for (let i = s.indexOf('.'); i >= 0; i = s.indexOf('.', i + 1)) if (DOH_SUFFIX.has(s.slice(i + 1))) return true;
  return false;
}

interface Per {
  device: DeviceRef;
  outside: Map<string, number>;
  doh: Set<string>;
  dot: Set<string>;
  frames: Capped<number>;
  file: string;
}

export function dnsBypassDetector(cfg: DetectorConfig): Detector {
  const per = new Map<string, Per>();
  /** Local resolvers somebody on the LAN used (the LAN has its own DNS). */
  const localResolvers = new Set<string>();
  /** Resolver used by each device (outside ones), to tell an ISP resolver everyone uses from a device's own choice. */
  /** Outside resolvers → the devices that used them (at most MAX_RESOLVERS, and the public ones). */
  const outsideUsers = new Map<string, Set<string>>();

  const get = (device: DeviceRef, file: string): Per => {
    const k = deviceKey(device);
    let p = per.get(k);
    if (!p) {
      p = { device, outside: new Map(), doh: new Set(), dot: new Set(), frames: new Capped(cfg.maxEvidence), file };
      per.set(k, p);
    }
    return p;
  };

  return {
    name: 'dns-bypass',
    wants: WANTS,
    onEvent(e: EngineEvent): void {
      if (e.kind === 'dns') {
        if (e.response || e.server.port !== 53) return;
        if (e.server.local) {
          if (e.client.local && e.server.ip !== e.client.ip && localResolvers.size < 64) localResolvers.add(e.server.ip);
          return;
        }
        if (!e.client.local) return;
        const p = get(deviceOf(e, e.client, e.server), e.file);
        const n = (p.outside.get(e.server.ip) ?? 0) + 1;
        if (p.outside.size < 32 || p.outside.has(e.server.ip)) p.outside.set(e.server.ip, n);
        if (n <= 3) p.frames.push(e.frame);
        let users = outsideUsers.get(e.server.ip);
        // a device asking thousands of outside addresses on port 53 is hostile: the first ones are the evidence
        // (the well-known public resolvers always: whether one is shared decides the finding)
        if (!users && (outsideUsers.size < MAX_RESOLVERS || PUBLIC_RESOLVERS[e.server.ip] !== undefined)) {
          users = new Set();
          outsideUsers.set(e.server.ip, users);
        }
        users?.add(deviceKey(p.device));
      } else if (e.kind === 'flow-close') {
        const f = e.flow;
        if (f.proto !== 'tcp' || f.server.local || !f.client.local || f.packetsToClient === 0) return;
        if (f.server.port === 853) {
          const p = get(deviceOf(e, f.client, f.server), e.file);
          if (p.dot.size < cfg.maxEvidence) p.dot.add(`${f.serverName ? `${f.serverName} ` : ''}(${endpointText(f.server)})`);
          p.frames.push(f.firstFrame);
        } else if (f.serverName !== undefined && isDohHost(f.serverName)) {
          const p = get(deviceOf(e, f.client, f.server), e.file);
          if (p.doh.size < cfg.maxEvidence) p.doh.add(`${f.serverName} (${endpointText(f.server)})`);
          p.frames.push(f.firstFrame);
        }
      }
    },
    finish(): Finding[] {
      const out: Finding[] = [];
      const devicesUsingDns = new Set<string>();
      for (const [k, p] of per) if (p.outside.size > 0) devicesUsingDns.add(k);
      for (const p of per.values()) {
        const ways: string[] = [];
        const resolvers: Array<{ ip: string; name?: string; queries: number }> = [];
        for (const [ip, n] of p.outside) {
          if (n < cfg.dnsBypass.minQueries) continue;
          // an outside resolver is this device's own choice when the LAN has a resolver, or when
          // the other devices that query outside use something else (an ISP resolver handed out by DHCP is shared by all)
          const users = outsideUsers.get(ip)?.size ?? 0;
          const own = localResolvers.size > 0 || (PUBLIC_RESOLVERS[ip] !== undefined && devicesUsingDns.size > users);
          if (own) resolvers.push({ ip, ...(PUBLIC_RESOLVERS[ip] ? { name: PUBLIC_RESOLVERS[ip] } : {}), queries: n });
        }
        if (resolvers.length > 0) ways.push('plain DNS to an outside resolver');
        if (p.dot.size > 0) ways.push('DNS over TLS');
        if (p.doh.size > 0) ways.push('DNS over HTTPS');
        if (ways.length === 0) continue;
        const who = p.device.ip ?? p.device.mac ?? 'a device';
        const what = [
          ...resolvers.map((r) => (r.name ? `${r.name} ${r.ip}` : r.ip)),
          ...[...p.dot].map((d) => `DoT ${d}`),
          ...[...p.doh].map((d) => `DoH ${d}`),
        ];
        out.push({
          id: 'dns-bypass',
          severity: p.doh.size > 0 || p.dot.size > 0 ? 'medium' : 'low',
          title: `${who} bypasses the LAN's DNS resolver: ${ways.join(', ')} (${what.slice(0, 3).join(', ')}${what.length > 3 ? ', …' : ''})`,
          device: p.device,
          evidence: {
            ways,
            ...(resolvers.length > 0 ? { resolvers } : {}),
            ...(p.dot.size > 0 ? { dot: [...p.dot] } : {}),
            ...(p.doh.size > 0 ? { doh: [...p.doh] } : {}),
            ...(localResolvers.size > 0 ? { lanResolvers: [...localResolvers] } : {}),
            file: p.file,
            frames: p.frames.items,
          },
          advice: 'This device ignores your router\'s DNS, so DNS filtering and name-based rules do not apply to it: block outgoing DNS (port 53 and 853) except from the router, or accept it if it is a trusted browser setting.',
        });
      }
      return out;
    },
  };
}
