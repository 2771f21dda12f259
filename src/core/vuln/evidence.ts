// Device evidence: everything passive discovery, banners, SSDP/UPnP and TLS
// told us about one device, in the flat shape the vulnerability matcher reads.
// `evidenceFromDevice` fills it from the discover/audit Device (CONTRACT.md);
// `parseHttpHead` and `parseUpnpDescription` turn raw bytes into it.
import { XMLParser } from '../upnp/fxp.js';
import type { Device, DeviceService } from '../model/device.js';

export interface EvidenceHttp {
  server?: string;
  title?: string;
  /** realm of a WWW-Authenticate challenge */
  realm?: string;
}

export interface EvidencePort {
  port: number;
  proto?: 'tcp' | 'udp';
  service?: string;
  banner?: string;
  http?: EvidenceHttp;
}

export interface UpnpEvidence {
  manufacturer?: string;
  modelName?: string;
  modelNumber?: string;
  modelDescription?: string;
  friendlyName?: string;
  /** firmware / software version, when the description carries one */
  firmware?: string;
  /** Server header of the description's HTTP answer, or of the SSDP answer */
  server?: string;
  deviceType?: string;
  location?: string;
}

export interface TlsEvidence {
  subject: string;
  issuer?: string;
  port?: number;
}

/** A page fetched by an opt-in safe check (a plain GET). */
export interface HttpProbeEvidence {
  port: number;
  path: string;
  status: number;
  server?: string;
  title?: string;
  /** first bytes of the body, decoded as latin1 so binary never throws */
  body: string;
}

export interface DeviceEvidence {
  ip: string;
  mac?: string | null;
  /** IEEE OUI organisation of the MAC */
  vendor?: string | null;
  /** classifier's device type */
  type?: string;
  openPorts: EvidencePort[];
  upnp?: UpnpEvidence[];
  ssdpServer?: string[];
  tls?: TlsEvidence[];
  httpProbes?: HttpProbeEvidence[];
}

const MAX_TEXT = 4096;

function str(v: unknown): string | undefined {
  if (typeof v === 'number') return String(v);
  if (typeof v !== 'string') return undefined;
  const s = v.trim();
  return s ? s.slice(0, MAX_TEXT) : undefined;
}

function decodeEntities(s: string): string {
  return s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;|&apos;/g, "'")
    .replace(/&#(\d{1,5});/g, (_, d: string) => String.fromCharCode(Number(d)))
    .replace(/&amp;/g, '&');
}

/** <title> of an HTML document (first one), whitespace collapsed. */
export function htmlTitle(html: string): string | undefined {
  const m = /<title[^>]*>([\s\S]{0,512}?)<\/title>/i.exec(html.slice(0, 65536));
  if (!m) return undefined;
  const t = decodeEntities(m[1]).replace(/\s+/g, ' ').trim();
  return t || undefined;
}

/**
 * Server header, WWW-Authenticate realm and <title> from an HTTP response
 * head (and whatever of the body came with it). Never throws.
 */
export function parseHttpHead(text: string): EvidenceHttp {
  const out: EvidenceHttp = {};
  const head = text.slice(0, 16384);
  // Raw heads have one header per line; discovery's one-line summaries
  // ("401 Unauthorized | Server: x | auth: Basic realm=\"y\"") use " | ".
  const server = /(?:^|\|[ \t]*)server:[ \t]*([^\r\n|]*)/im.exec(head);
  if (server && server[1].trim()) out.server = server[1].trim();
  const realm = /realm="([^"\r\n]*)"/i.exec(head);
  if (realm) out.realm = realm[1];
  const title = htmlTitle(text);
  if (title) out.title = title;
  return out;
}

const xml = new XMLParser({ ignoreAttributes: true, removeNSPrefix: true, parseTagValue: false, processEntities: true });

function firstDevice(doc: unknown): Record<string, unknown> | undefined {
  if (!doc || typeof doc !== 'object') return undefined;
  const root = (doc as Record<string, unknown>).root;
  if (!root || typeof root !== 'object') return undefined;
  const dev = (root as Record<string, unknown>).device;
  if (Array.isArray(dev)) return dev[0] as Record<string, unknown>;
  return dev && typeof dev === 'object' ? (dev as Record<string, unknown>) : undefined;
}

/**
 * The identity fields of a UPnP device description (UPnP Device Architecture
 * 1.1 §2.3: root/device/manufacturer, modelName, modelNumber...). Vendors put
 * the firmware version in non-standard tags; the common ones are read too.
 * Returns undefined when the text is not a device description. Never throws.
 */
export function parseUpnpDescription(text: string, server?: string): UpnpEvidence | undefined {
  if (text.length > 256 * 1024) return undefined;
  let doc: unknown;
  try {
    doc = xml.parse(text);
  } catch {
    return undefined;
  }
  const d = firstDevice(doc);
  if (!d) return undefined;
  const u: UpnpEvidence = {
    manufacturer: str(d.manufacturer),
    modelName: str(d.modelName),
    modelNumber: str(d.modelNumber),
    modelDescription: str(d.modelDescription),
    friendlyName: str(d.friendlyName),
    deviceType: str(d.deviceType),
    firmware: str(d.firmwareVersion) ?? str(d.softwareVersion) ?? str(d.firmware) ?? str(d.swVersion),
    server: str(server),
  };
  for (const k of Object.keys(u) as (keyof UpnpEvidence)[]) if (u[k] === undefined) delete u[k];
  return Object.keys(u).length ? u : undefined;
}

function upnpFromService(s: DeviceService): UpnpEvidence {
  const u: UpnpEvidence = {
    manufacturer: str(s.manufacturer),
    modelName: str(s.model) ?? str(s.modelName),
    modelNumber: str(s.modelNumber),
    modelDescription: str(s.modelDescription),
    friendlyName: str(s.friendlyName),
    firmware: str(s.firmwareVersion) ?? str(s.softwareVersion),
    server: str(s.server),
    deviceType: str(s.type),
    location: str(s.location),
  };
  for (const k of Object.keys(u) as (keyof UpnpEvidence)[]) if (u[k] === undefined) delete u[k];
  return u;
}

/** Evidence from a discover/audit Device (CONTRACT.md `devices[]`). */
export function evidenceFromDevice(d: Device): DeviceEvidence {
  const openPorts: EvidencePort[] = d.openPorts.map((p) => {
    const det = p.details ?? {};
    const fromBanner = p.banner ? parseHttpHead(p.banner) : {};
    const http: EvidenceHttp = {
      server: str(det.server) ?? fromBanner.server,
      title: str(det.title) ?? fromBanner.title,
      realm: str(det.realm) ?? fromBanner.realm,
    };
    for (const k of Object.keys(http) as (keyof EvidenceHttp)[]) if (http[k] === undefined) delete http[k];
    const ep: EvidencePort = { port: p.port, proto: p.proto, service: p.service, banner: p.banner || undefined };
    if (Object.keys(http).length) ep.http = http;
    return ep;
  });
  const upnp: UpnpEvidence[] = [];
  const ssdpServer: string[] = [];
  const tls: TlsEvidence[] = [];
  for (const s of d.services) {
    if (s.via === 'ssdp') {
      const u = upnpFromService(s);
      if (Object.keys(u).length) upnp.push(u);
      const srv = str(s.server);
      if (srv && !ssdpServer.includes(srv)) ssdpServer.push(srv);
    }
    const subject = str(s.tlsSubject) ?? str((s.tls as { subject?: unknown } | undefined)?.subject);
    if (subject) tls.push({ subject, issuer: str(s.tlsIssuer) ?? str((s.tls as { issuer?: unknown } | undefined)?.issuer), port: s.port });
  }
  const ev: DeviceEvidence = { ip: d.ip, mac: d.mac, vendor: d.vendor, type: d.type, openPorts };
  if (upnp.length) ev.upnp = upnp;
  if (ssdpServer.length) ev.ssdpServer = ssdpServer;
  if (tls.length) ev.tls = tls;
  return ev;
}
