// Passive identity: what devices say about themselves on the wire, gathered
// from the traffic engine's events (DHCP host name and vendor class, mDNS
// services and names, SSDP announcements, HTTP User-Agents, the names they
// look up, TLS SNI) into per-MAC facts, then the same fingerprint rules as
// active discovery. A Detector that reports no findings, only identities.
import type { Detector, DetectorContext, EngineEvent, EventKind } from '../engine/events.js';
import { classify } from '../fingerprint/classify.js';
import { factsFromDevice } from '../fingerprint/facts.js';
import type { RuleSet } from '../fingerprint/rules.js';
import { compareDevices, type Device, type DeviceService } from '../model/device.js';
import { normalizeMac } from '../model/net.js';
import { splitInstance } from './mdns.js';

interface Seen {
  mac: string;
  ips: Set<string>;
  hostnames: Set<string>;
  vendorClasses: Set<string>;
  dhcpParams?: number[];
  mdnsServices: Map<string, { type: string; name: string }>;
  mdnsHostnames: Set<string>;
  ssdp: Map<string, DeviceService>;
  userAgents: Set<string>;
  dnsQueries: Set<string>;
  sni: Set<string>;
  packets: number;
}

/** Bounds per device so a hostile capture cannot grow a set without limit. */
const CAP = 64;
const add = (s: Set<string>, v: string | undefined) => {
  if (v && s.size < CAP) s.add(v.slice(0, 256));
};

/** DNS presentation escapes (RFC 1035 §5.1: \\DDD and \\X) back to text. */
function unescapeDns(s: string): string {
  return s.replace(/\\(\d{3}|.)/g, (_, x: string) => (x.length === 3 ? String.fromCharCode(Number(x) & 0xff) : x));
}

const WANTS: readonly EventKind[] = ['dhcp', 'mdns', 'ssdp', 'http-request', 'dns', 'tls-client-hello'];

export interface IdentityObserver extends Detector {
  /** Devices seen so far, typed with the rules; `vendorOf` gives the OUI organisation. */
  devices(rules: RuleSet, vendorOf: (mac: string) => { vendor: string | null; locallyAdministered: boolean }): Device[];
}

export function createIdentityObserver(): IdentityObserver {
  const byMac = new Map<string, Seen>();
  let engineDevices: ReturnType<DetectorContext['devices']> = [];
  const get = (mac: string | undefined): Seen | undefined => {
    if (!mac || !/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i.test(mac)) return undefined;
    const m = normalizeMac(mac);
    if (m === 'ff:ff:ff:ff:ff:ff' || m === '00:00:00:00:00:00' || (parseInt(m.slice(0, 2), 16) & 1) === 1) return undefined;
    let s = byMac.get(m);
    if (!s && byMac.size < 65536) {
      s = { mac: m, ips: new Set(), hostnames: new Set(), vendorClasses: new Set(), mdnsServices: new Map(), mdnsHostnames: new Set(), ssdp: new Map(), userAgents: new Set(), dnsQueries: new Set(), sni: new Set(), packets: 0 };
      byMac.set(m, s);
    }
    return s;
  };

  return {
    name: 'device-identity',
    wants: WANTS,
    onEvent(e: EngineEvent): void {
      switch (e.kind) {
        case 'dhcp': {
          if (e.op !== 1) return; // what the client says, not what the server offers
          const s = get(e.clientMac);
          if (!s) return;
          add(s.hostnames, e.hostname);
          add(s.hostnames, e.fqdn);
          add(s.vendorClasses, e.vendorClass);
          if (e.paramRequestList) s.dhcpParams = e.paramRequestList.slice(0, 64);
          if (e.ciaddr && e.ciaddr !== '0.0.0.0') add(s.ips, e.ciaddr);
          if (e.requestedIp) add(s.ips, e.requestedIp);
          return;
        }
        case 'mdns': {
          // Only what a device announces about itself: responses it sent.
          if (!e.response) return;
          const s = get(e.device?.mac);
          if (!s) return;
          for (const inst of e.services) {
            const si = splitInstance(unescapeDns(inst));
            if (si && s.mdnsServices.size < CAP) s.mdnsServices.set(`${si.type}|${si.name}`, si);
          }
          for (const rr of [...e.answers, ...e.additional]) {
            if (rr.type === 12 && /^_services\._dns-sd\._udp\.local$/i.test(rr.name)) continue;
            if (rr.type === 12) {
              const si = splitInstance(unescapeDns(rr.data));
              if (si && s.mdnsServices.size < CAP) s.mdnsServices.set(`${si.type}|${si.name}`, si);
            }
          }
          for (const h of e.hostnames) if (!/\.arpa$/i.test(h)) add(s.mdnsHostnames, h.replace(/\.$/, ''));
          return;
        }
        case 'ssdp': {
          // client = the sender of this message (see the engine's SSDP analyzer)
          const s = get(e.client.mac);
          if (!s) return;
          if (e.method === 'M-SEARCH') {
            add(s.userAgents, e.userAgent);
            if (e.target && s.ssdp.size < CAP) {
              const key = `search|${e.target}`;
              if (!s.ssdp.has(key)) s.ssdp.set(key, { via: 'ssdp', searched: e.target, igdSearch: e.igd });
            }
            return;
          }
          // One entry per device type announced (services and rootdevice only add the server header).
          const devType = e.target && /:device:/i.test(e.target) ? e.target : undefined;
          const key = devType ? `type|${devType}` : 'server';
          const cur = s.ssdp.get(key) ?? (s.ssdp.size < CAP ? ({ via: 'ssdp' } as DeviceService) : undefined);
          if (!cur) return;
          if (devType) cur.type = devType;
          if (e.serverHeader) cur.server ??= e.serverHeader.replace(/\s+/g, ' ').slice(0, 200);
          if (e.location) cur.location ??= e.location.slice(0, 300);
          s.ssdp.set(key, cur);
          return;
        }
        case 'http-request': {
          const s = get(e.client.mac ?? e.device?.mac);
          if (!s) return;
          add(s.userAgents, e.userAgent);
          if (e.host && !/^\d+\.\d+\.\d+\.\d+(:\d+)?$/.test(e.host)) add(s.dnsQueries, e.host.replace(/:\d+$/, '').toLowerCase());
          return;
        }
        case 'dns': {
          if (e.response) return;
          const s = get(e.client.mac ?? e.device?.mac);
          if (!s) return;
          for (const q of e.questions) if (!/\.arpa$/i.test(q.name)) add(s.dnsQueries, q.name.toLowerCase().replace(/\.$/, ''));
          return;
        }
        case 'tls-client-hello': {
          const s = get(e.client.mac ?? e.device?.mac);
          if (s) add(s.sni, e.sni?.toLowerCase());
          return;
        }
        default:
      }
    },
    finish(ctx: DetectorContext) {
      engineDevices = ctx.devices();
      return [];
    },
    devices(rules, vendorOf) {
      // The engine's own device table adds addresses, DHCP names and traffic volume.
      for (const d of engineDevices) {
        const s = get(d.mac);
        if (!s) continue;
        for (const ip of d.ips) add(s.ips, ip);
        add(s.hostnames, d.hostname);
        add(s.vendorClasses, d.vendorClass);
        s.packets = d.packets;
      }
      const out: Device[] = [];
      for (const s of byMac.values()) {
        const ipv4 = [...s.ips].filter((ip) => !ip.includes(':') && !ip.startsWith('0.'));
        const services: DeviceService[] = [];
        if (s.hostnames.size || s.vendorClasses.size) {
          const d: DeviceService = { via: 'dhcp' };
          const name = [...s.hostnames][0];
          if (name) d.name = name;
          const vc = [...s.vendorClasses][0];
          if (vc) d.vendorClass = vc;
          if (s.dhcpParams) d.paramRequestList = s.dhcpParams;
          services.push(d);
        }
        for (const m of s.mdnsServices.values()) services.push({ via: 'mdns', type: m.type, name: m.name });
        // The bare server entry only when no device type said more.
        const typed = [...s.ssdp.entries()].filter(([k]) => k.startsWith('type|'));
        for (const [k, x] of s.ssdp) {
          if (k === 'server' && typed.length) {
            for (const [, t] of typed) if (x.server) t.server ??= x.server;
            continue;
          }
          services.push(x);
        }
        for (const ua of s.userAgents) services.push({ via: 'http', userAgent: ua });
        for (const q of [...s.dnsQueries, ...s.sni]) services.push({ via: 'dns', name: q });
        const v = vendorOf(s.mac);
        const names: Record<string, string> = {};
        const dh = [...s.hostnames][0];
        if (dh) names.dhcp = dh;
        const mh = [...s.mdnsHostnames][0];
        if (mh) names.mdns = mh;
        const dev: Device = {
          ip: ipv4[ipv4.length - 1] ?? [...s.ips][0] ?? '',
          mac: s.mac,
          vendor: v.vendor,
          hostname: dh ?? mh?.replace(/\.local$/i, '') ?? null,
          type: 'unknown',
          openPorts: [],
          services,
        };
        if (Object.keys(names).length) dev.names = names;
        if (v.locallyAdministered) dev.macLocallyAdministered = true;
        const six = [...s.ips].filter((ip) => ip.includes(':'));
        if (six.length) dev.ipv6 = six;
        const g = classify(factsFromDevice(dev), rules);
        dev.type = g.type;
        dev.typeConfidence = g.confidence;
        dev.typeEvidence = g.evidence.filter((e) => e.type === g.type);
        out.push(dev);
      }
      return out.sort(compareDevices);
    },
  };
}
