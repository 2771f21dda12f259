// The IGD device description (UDA 2.0 §2.3): who the gateway is and where its
// WANIPConnection / WANPPPConnection control URLs live. Control URLs are
// resolved against URLBase or the location, and only kept when they stay on
// the host that served the description: a hostile description must not be
// able to send our SOAP calls anywhere else (house rule 4).
import { asArray, child, parseXml, text } from './xml.js';

export interface UpnpService {
  serviceType: string;
  serviceId: string;
  controlUrl: string;
  scpdUrl?: string;
  eventSubUrl?: string;
}

export interface IgdDescription {
  deviceType: string;
  friendlyName?: string;
  manufacturer?: string;
  modelName?: string;
  modelNumber?: string;
  udn?: string;
  /** 1 or 2 from the root device type (InternetGatewayDevice:N). */
  igdVersion?: number;
  services: UpnpService[];
  /** WANIPConnection / WANPPPConnection services, best (highest version, IP before PPP) first. */
  wanConnections: UpnpService[];
  /** Things we skipped and why (off-host control URLs, too many devices...). */
  warnings: string[];
}

export type DescriptionParse = { ok: true; value: IgdDescription } | { ok: false; reason: string };

const MAX_DEVICES = 64;
const MAX_SERVICES = 256;

export function resolveUrl(ref: string, base: string): URL | undefined {
  try {
    return new URL(ref, base);
  } catch {
    return undefined;
  }
}

export function parseDescription(xml: string, location: string): DescriptionParse {
  const base = resolveUrl(location, 'http://invalid/');
  if (!base || base.protocol !== 'http:') return { ok: false, reason: `unsupported location ${location}` };
  const doc = parseXml(xml);
  if (!doc.ok) return doc;
  const root = child(doc.value, 'root');
  if (!root || typeof root !== 'object') return { ok: false, reason: 'no <root> element: not a UPnP device description' };
  const warnings: string[] = [];
  const urlBaseText = text(root, 'URLBase');
  let urlBase = base.href;
  if (urlBaseText) {
    const u = resolveUrl(urlBaseText, base.href);
    if (u && u.protocol === 'http:' && u.host === base.host) urlBase = u.href;
    else warnings.push(`URLBase ${urlBaseText} ignored (not on ${base.host})`);
  }
  const rootDevice = asArray(child(root, 'device'))[0];
  if (!rootDevice || typeof rootDevice !== 'object') return { ok: false, reason: 'no root <device>' };

  const services: UpnpService[] = [];
  const queue: unknown[] = [rootDevice];
  let seen = 0;
  while (queue.length > 0) {
    const dev = queue.shift();
    if (++seen > MAX_DEVICES) {
      warnings.push(`more than ${MAX_DEVICES} embedded devices; the rest were ignored`);
      break;
    }
    for (const svc of asArray(child(child(dev, 'serviceList'), 'service'))) {
      if (services.length >= MAX_SERVICES) break;
      const serviceType = text(svc, 'serviceType', 256);
      const controlRef = text(svc, 'controlURL', 1024);
      if (!serviceType || !controlRef) continue;
      const control = resolveUrl(controlRef, urlBase);
      if (!control || control.protocol !== 'http:' || control.host !== base.host) {
        warnings.push(`control URL ${controlRef} of ${serviceType} ignored (not on ${base.host})`);
        continue;
      }
      const s: UpnpService = { serviceType, serviceId: text(svc, 'serviceId', 256) ?? '', controlUrl: control.href };
      const scpd = text(svc, 'SCPDURL', 1024);
      if (scpd) s.scpdUrl = resolveUrl(scpd, urlBase)?.href;
      const ev = text(svc, 'eventSubURL', 1024);
      if (ev) s.eventSubUrl = resolveUrl(ev, urlBase)?.href;
      services.push(s);
    }
    for (const d of asArray(child(child(dev, 'deviceList'), 'device'))) queue.push(d);
  }

  const deviceType = text(rootDevice, 'deviceType', 256) ?? '';
  const m = /InternetGatewayDevice:(\d+)/.exec(deviceType);
  const value: IgdDescription = {
    deviceType,
    services,
    wanConnections: rankWanServices(services),
    warnings,
  };
  if (m) value.igdVersion = Number(m[1]);
  for (const [k, tag] of [['friendlyName', 'friendlyName'], ['manufacturer', 'manufacturer'], ['modelName', 'modelName'], ['modelNumber', 'modelNumber'], ['udn', 'UDN']] as const) {
    const v = text(rootDevice, tag, 256);
    if (v) value[k] = v;
  }
  return { ok: true, value };
}

export function wanServiceVersion(serviceType: string): number {
  const m = /:(\d+)$/.exec(serviceType);
  return m ? Number(m[1]) : 1;
}

export function rankWanServices(services: UpnpService[]): UpnpService[] {
  return services
    .filter((s) => /:service:WAN(IP|PPP)Connection:\d+$/.test(s.serviceType))
    .sort((a, b) => {
      const ip = (s: UpnpService) => (s.serviceType.includes('WANIPConnection') ? 0 : 1);
      return ip(a) - ip(b) || wanServiceVersion(b.serviceType) - wanServiceVersion(a.serviceType);
    });
}
