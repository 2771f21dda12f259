// The passive known-vulnerability detector for the traffic engine: it gathers,
// per LAN device, what the device itself said on the wire (HTTP Server
// headers and titles it served, SSDP SERVER strings it announced, TLS
// certificates it presented, TCP ports that accepted connections) and at the
// end matches that evidence against the KEV catalog. Every matched fact keeps
// the file and frame number that showed it.
import type { DetectorContext, Detector, EngineEvent, Endpoint, EventKind } from '../engine/events.js';
import type { Finding } from '../model/finding.js';
import { htmlTitle, type DeviceEvidence, type EvidencePort } from './evidence.js';
import { findingFor, matchDevice } from './match.js';
import type { KevCatalog } from './catalog.js';
import { isGroupAddress } from '../flows/local.js';

interface Seen {
  file: string;
  frame: number;
}

interface Collected {
  ev: DeviceEvidence;
  /** `${field}\0${value}` -> first packet that showed it */
  where: Map<string, Seen>;
  /** ev.openPorts by TCP port (a server with thousands of open ports is searched in O(1)). */
  ports: Map<number, EvidencePort>;
  /** What ev.ssdpServer and ev.tls already hold. */
  ssdp: Set<string>;
  tls: Set<string>;
}

/**
 * Distinct SSDP SERVER strings and TLS subjects kept per device: a real
 * device announces a handful; one that sends thousands of different ones is
 * hostile, and the first ones are the evidence.
 */
const MAX_STRINGS = 64;

// open ports come from closed flows (`acceptedFrame`): every detector asks for those, while a flow-state event per TCP transition would be built for this one alone
const WANTS: readonly EventKind[] = ['http-response', 'ssdp', 'tls-certificate', 'flow-close'];

const latin1 = new TextDecoder('latin1');

/** Whether the bytes hold `<title` in any case (the test before decoding a body prefix as text). */
export function hasTitleTag(b: Uint8Array): boolean {
  const n = b.length - 5;
  for (let i = 0; i < n; i++) {
    if (b[i] === 0x3c && (b[i + 1] | 0x20) === 0x74 && (b[i + 2] | 0x20) === 0x69 && (b[i + 3] | 0x20) === 0x74 && (b[i + 4] | 0x20) === 0x6c && (b[i + 5] | 0x20) === 0x65) return true;
  }
  return false;
}

export interface KevDetector extends Detector {
  /** The evidence gathered so far, one entry per device (for reports and tests). */
  evidence(): DeviceEvidence[];
}

export function kevDetector(catalog: KevCatalog): KevDetector {
  /** Devices by MAC, and by address when the MAC is unknown; `all` in the order they were first seen. */
  const byMac = new Map<string, Collected>();
  const byIp = new Map<string, Collected>();
  const all: Collected[] = [];

  const deviceOf = (ep: Endpoint): Collected | undefined => {
    const ip = ep.ip;
    // Multicast / broadcast destinations are never a device.
    if (!ep.local || !ip || isGroupAddress(ip)) return undefined;
    let c = ep.mac !== undefined ? byMac.get(ep.mac) : byIp.get(ip);
    if (c === undefined) {
      c = { ev: { ip, mac: ep.mac ?? null, openPorts: [] }, where: new Map(), ports: new Map(), ssdp: new Set(), tls: new Set() };
      if (ep.mac !== undefined) byMac.set(ep.mac, c);
      else byIp.set(ip, c);
      all.push(c);
    }
    c.ev.ip = ip;
    return c;
  };

  const note = (c: Collected, field: string, value: string, e: Seen) => {
    const k = `${field}\0${value}`;
    if (!c.where.has(k)) c.where.set(k, { file: e.file, frame: e.frame });
  };

  const port = (c: Collected, n: number): EvidencePort => {
    let p = c.ports.get(n);
    if (!p) {
      p = { port: n, proto: 'tcp' };
      c.ev.openPorts.push(p);
      c.ports.set(n, p);
    }
    return p;
  };

  return {
    name: 'known-vulnerability',
    wants: WANTS,
    onEvent(e: EngineEvent, _ctx: DetectorContext): void {
      switch (e.kind) {
        case 'flow-close': {
          const f = e.flow;
          if (f.acceptedFrame === undefined || f.proto !== 'tcp' || f.server.port === undefined || !f.server.local) return;
          const c = deviceOf(f.server);
          const n = f.server.port;
          // a port already listed was noted when first seen
          if (!c || c.ports.has(n)) return;
          port(c, n);
          note(c, 'openPort', `${n}/tcp`, { file: e.file, frame: f.acceptedFrame });
          return;
        }
        case 'http-response': {
          const c = deviceOf(e.server);
          if (!c || e.server.port === undefined) return;
          const p = port(c, e.server.port);
          p.service ??= 'http';
          p.http ??= {};
          if (e.serverHeader && !p.http.server) {
            p.http.server = e.serverHeader.slice(0, 512);
            note(c, 'httpServer', p.http.server, e);
          }
          // the first title a port serves is the one kept: later pages are not decoded
          // (bodies without a `<title` are not decoded: most responses of a port are JSON, images or firmware)
          const title = !p.http.title && hasTitleTag(e.bodyPrefix) ? htmlTitle(latin1.decode(e.bodyPrefix)) : undefined;
          if (title) {
            p.http.title = title;
            note(c, 'httpTitle', title, e);
          }
          return;
        }
        case 'ssdp': {
          const sender = e.method === 'NOTIFY' ? e.client : e.method === 'RESPONSE' ? e.server : undefined;
          if (!sender || !e.serverHeader) return;
          const c = deviceOf(sender);
          if (!c) return;
          const s = e.serverHeader.length > 512 ? e.serverHeader.slice(0, 512) : e.serverHeader;
          if (c.ssdp.has(s) || c.ssdp.size >= MAX_STRINGS) return;
          c.ssdp.add(s);
          (c.ev.ssdpServer ??= []).push(s);
          note(c, 'ssdpServer', s, e);
          return;
        }
        case 'tls-certificate': {
          const leaf = e.chain[0];
          const c = leaf ? deviceOf(e.server) : undefined;
          if (!c || !leaf) return;
          const k = `${e.server.port ?? ''}\0${leaf.subject}`;
          if (!c.tls.has(k) && c.tls.size < MAX_STRINGS) {
            c.tls.add(k);
            (c.ev.tls ??= []).push({ subject: leaf.subject, issuer: leaf.issuer, port: e.server.port });
            note(c, 'tlsSubject', leaf.subject, e);
            note(c, 'tlsIssuer', leaf.issuer, e);
          }
          return;
        }
        default:
          return;
      }
    },
    finish(_ctx: DetectorContext): Finding[] {
      const out: Finding[] = [];
      for (const c of all) {
        for (const m of matchDevice(c.ev, catalog).matches) {
          const f = findingFor(c.ev.mac ? { mac: c.ev.mac, ip: c.ev.ip } : { ip: c.ev.ip }, m);
          f.evidence.packets = m.facts
            .map((fact) => {
              const w = c.where.get(`${fact.field}\0${fact.value}`);
              return w ? { field: fact.field, value: fact.value, file: w.file, frame: w.frame } : undefined;
            })
            .filter((x) => x !== undefined);
          out.push(f);
        }
      }
      return out;
    },
    evidence(): DeviceEvidence[] {
      return all.map((c) => c.ev);
    },
  };
}
