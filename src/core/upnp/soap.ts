// SOAP for the IGD control URL (UDA 2.0 §3.2, IGD WANIPConnection v1/v2):
// request envelopes, response and fault parsing, and the port mapping record
// built from GetGenericPortMappingEntry or the IGDv2 GetListOfPortMappings
// listing. Pure; every value from the gateway is validated and capped.
import { asArray, child, escapeXml, parseXml, text } from './xml.js';

export interface SoapRequest {
  body: string;
  /** Value of the SOAPACTION header, quotes included (UDA §3.2.1). */
  soapAction: string;
}

export function buildSoapRequest(serviceType: string, action: string, args: Array<[string, string | number]> = []): SoapRequest {
  const argXml = args.map(([k, v]) => `<${k}>${escapeXml(String(v))}</${k}>`).join('');
  const body =
    '<?xml version="1.0"?>\r\n' +
    '<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" s:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/">' +
    `<s:Body><u:${action} xmlns:u="${escapeXml(serviceType)}">${argXml}</u:${action}></s:Body></s:Envelope>\r\n`;
  return { body, soapAction: `"${serviceType}#${action}"` };
}

/** UPnP error codes we act on (IGD WANIPConnection:2 §2.5). */
export const UPNP_ERRORS = {
  INVALID_ARGS: 402,
  ACTION_FAILED: 501,
  NOT_AUTHORIZED: 606,
  ARRAY_INDEX_INVALID: 713,
  NO_SUCH_ENTRY: 714,
  CONFLICT: 718,
  ONLY_PERMANENT_LEASES: 725,
  CONFLICT_WITH_OTHER: 729,
  PORT_MAPPING_NOT_FOUND: 730,
  INCONSISTENT_PARAMETERS: 733,
} as const;

export interface SoapFault {
  code: number | undefined;
  description: string;
}

export type SoapParse =
  | { ok: true; values: Record<string, string> }
  | { ok: false; fault: SoapFault }
  | { ok: false; reason: string; fault?: undefined };

/** Parse a SOAP response body: the action's out arguments, or the UPnPError in a fault. */
export function parseSoapResponse(xml: string, action: string): SoapParse {
  const doc = parseXml(xml);
  if (!doc.ok) return { ok: false, reason: doc.reason };
  const body = child(child(doc.value, 'Envelope'), 'Body');
  if (!body || typeof body !== 'object') return { ok: false, reason: 'no SOAP Envelope/Body' };
  const fault = child(body, 'Fault');
  if (fault !== undefined) {
    const err = child(child(fault, 'detail'), 'UPnPError');
    const codeText = text(err, 'errorCode', 16);
    const code = codeText && /^\d{1,4}$/.test(codeText.trim()) ? Number(codeText.trim()) : undefined;
    const description = text(err, 'errorDescription', 256) ?? text(fault, 'faultstring', 256) ?? 'SOAP fault';
    return { ok: false, fault: { code, description } };
  }
  const resp = child(body, `${action}Response`);
  if (resp === undefined) return { ok: false, reason: `no ${action}Response in the SOAP body` };
  const values: Record<string, string> = Object.create(null) as Record<string, string>;
  if (resp && typeof resp === 'object') {
    let n = 0;
    for (const key of Object.keys(resp)) {
      if (++n > 64) break;
      const v = text(resp, key, 1 << 20);
      if (v !== undefined) values[key] = v;
    }
  }
  return { ok: true, values };
}

export interface PortMapping {
  protocol: 'TCP' | 'UDP';
  externalPort: number;
  internalClient: string;
  internalPort: number;
  description: string;
  leaseSeconds: number;
  enabled: boolean;
  /** '' = any remote host (the usual case). */
  remoteHost: string;
}

function port(v: string | undefined, allowZero: boolean): number | undefined {
  if (v === undefined || !/^\s*\d{1,5}\s*$/.test(v)) return undefined;
  const n = Number(v);
  return n <= 65535 && (allowZero || n > 0) ? n : undefined;
}

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
const HOSTNAME = /^[A-Za-z0-9.\-:]{1,253}$/;

/**
 * A mapping from the New* out-arguments of GetGenericPortMappingEntry /
 * GetSpecificPortMappingEntry, or from one PortMappingEntry of a listing.
 * Returns a reason instead when the gateway sent something that is not a mapping.
 */
export function toPortMapping(v: Record<string, string>, known: Partial<PortMapping> = {}): { ok: true; value: PortMapping } | { ok: false; reason: string } {
  const protocol = (v.NewProtocol ?? known.protocol ?? '').trim().toUpperCase();
  if (protocol !== 'TCP' && protocol !== 'UDP') return { ok: false, reason: `bad protocol ${JSON.stringify(protocol.slice(0, 16))}` };
  const externalPort = port(v.NewExternalPort, true) ?? known.externalPort;
  // IGD §2.3.17: 0 is a wildcard external port; still a mapping worth reporting.
  if (externalPort === undefined) return { ok: false, reason: 'bad external port' };
  const internalPort = port(v.NewInternalPort, false);
  if (internalPort === undefined) return { ok: false, reason: 'bad internal port' };
  const internalClient = (v.NewInternalClient ?? '').trim();
  if (!IPV4.test(internalClient) && !HOSTNAME.test(internalClient)) return { ok: false, reason: 'bad internal client' };
  const leaseText = (v.NewLeaseDuration ?? '0').trim();
  const leaseSeconds = /^\d{1,10}$/.test(leaseText) ? Math.min(Number(leaseText), 0xffffffff) : 0;
  const enabledText = (v.NewEnabled ?? '1').trim().toLowerCase();
  return {
    ok: true,
    value: {
      protocol,
      externalPort,
      internalClient,
      internalPort,
      // Descriptions are shown to people: strip control characters, keep them short.
      description: (v.NewPortMappingDescription ?? '').replace(/[\u0000-\u001f\u007f]/g, ' ').slice(0, 256),
      leaseSeconds,
      enabled: !(enabledText === '0' || enabledText === 'false' || enabledText === 'no'),
      remoteHost: (v.NewRemoteHost ?? '').trim().slice(0, 64),
    },
  };
}

/**
 * The IGDv2 NewPortListing value: an escaped XML document
 * <p:PortMappingList><p:PortMappingEntry>...</p:PortMappingEntry></p:PortMappingList>
 * (WANIPConnection:2 §2.6.17). Entries that do not validate are counted, not thrown.
 */
export function parsePortListing(xml: string, maxEntries: number): { ok: true; mappings: PortMapping[]; invalid: number; truncated: boolean } | { ok: false; reason: string } {
  const doc = parseXml(xml);
  if (!doc.ok) return doc;
  const list = child(doc.value, 'PortMappingList');
  if (list === undefined) return { ok: false, reason: 'no PortMappingList' };
  const entries = asArray(child(list, 'PortMappingEntry'));
  const mappings: PortMapping[] = [];
  let invalid = 0;
  for (const e of entries.slice(0, maxEntries)) {
    const v: Record<string, string> = {};
    if (e && typeof e === 'object') {
      for (const k of ['NewRemoteHost', 'NewExternalPort', 'NewProtocol', 'NewInternalPort', 'NewInternalClient', 'NewEnabled', 'NewDescription', 'NewPortMappingDescription', 'NewLeaseTime', 'NewLeaseDuration']) {
        const t = text(e, k, 1024);
        if (t !== undefined) v[k] = t;
      }
    }
    // The listing names two fields differently from GetGenericPortMappingEntry.
    if (v.NewDescription !== undefined && v.NewPortMappingDescription === undefined) v.NewPortMappingDescription = v.NewDescription;
    if (v.NewLeaseTime !== undefined && v.NewLeaseDuration === undefined) v.NewLeaseDuration = v.NewLeaseTime;
    const m = toPortMapping(v);
    if (m.ok) mappings.push(m.value);
    else invalid++;
  }
  return { ok: true, mappings, invalid, truncated: entries.length > maxEntries };
}

export function mappingKey(m: Pick<PortMapping, 'protocol' | 'externalPort' | 'remoteHost'>): string {
  return `${m.protocol}/${m.externalPort}/${m.remoteHost}`;
}

/** Parse the `--remove` argument: PROTO/PORT, e.g. tcp/2323. */
export function parseProtoPort(s: string): { protocol: 'TCP' | 'UDP'; port: number } | undefined {
  const m = /^(tcp|udp)\/(\d{1,5})$/i.exec(s.trim());
  if (!m) return undefined;
  const p = Number(m[2]);
  if (p < 1 || p > 65535) return undefined;
  return { protocol: m[1].toUpperCase() as 'TCP' | 'UDP', port: p };
}
