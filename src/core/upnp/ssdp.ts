// SSDP (UPnP Device Architecture 2.0 §1.3): the M-SEARCH messages we send to
// find Internet Gateway Devices and the parser for the unicast answers (and
// NOTIFY adverts). Pure: bytes in, values out; never throws on hostile bytes.

export const SSDP_MULTICAST = '239.255.255.250';
export const SSDP_PORT = 1900;

/** What we ask for: both IGD generations and both WAN connection services (a PPPoE router exposes only the latter). */
export const IGD_SEARCH_TARGETS = [
  'urn:schemas-upnp-org:device:InternetGatewayDevice:1',
  'urn:schemas-upnp-org:device:InternetGatewayDevice:2',
  'urn:schemas-upnp-org:service:WANIPConnection:1',
  'urn:schemas-upnp-org:service:WANIPConnection:2',
  'urn:schemas-upnp-org:service:WANPPPConnection:1',
] as const;

/** UDA §1.3.2: an SSDP message fits one UDP datagram; anything larger is not one. */
export const MAX_SSDP_BYTES = 8192;

export function buildMSearch(st: string, mx = 2, host = `${SSDP_MULTICAST}:${SSDP_PORT}`): string {
  // MX must be 1..5 (UDA 2.0 §1.3.2); CRLF line ends and a blank line end the message.
  const wait = Math.min(5, Math.max(1, Math.round(mx)));
  return [
    'M-SEARCH * HTTP/1.1',
    `HOST: ${host}`,
    'MAN: "ssdp:discover"',
    `MX: ${wait}`,
    `ST: ${st}`,
    'USER-AGENT: Linux/1 UPnP/2.0 iotguard/0.1',
    '',
    '',
  ].join('\r\n');
}

export interface SsdpMessage {
  kind: 'response' | 'notify' | 'search';
  /** Upper-cased header names are normalised to lower case. */
  headers: Record<string, string>;
  location?: string;
  st?: string;
  usn?: string;
  server?: string;
}

export type SsdpParse = { ok: true; value: SsdpMessage } | { ok: false; reason: string };

export function parseSsdp(data: Uint8Array | string): SsdpParse {
  const len = typeof data === 'string' ? data.length : data.byteLength;
  if (len === 0) return { ok: false, reason: 'empty' };
  if (len > MAX_SSDP_BYTES) return { ok: false, reason: 'oversized' };
  const textValue = typeof data === 'string' ? data : new TextDecoder('utf-8', { fatal: false }).decode(data);
  const lines = textValue.split(/\r?\n/);
  const start = lines[0]?.trim() ?? '';
  let kind: SsdpMessage['kind'];
  if (/^HTTP\/1\.[01] 200\b/i.test(start)) kind = 'response';
  else if (/^NOTIFY \* HTTP\/1\.[01]$/i.test(start)) kind = 'notify';
  else if (/^M-SEARCH \* HTTP\/1\.[01]$/i.test(start)) kind = 'search';
  else return { ok: false, reason: 'not an SSDP start line' };
  const headers: Record<string, string> = Object.create(null) as Record<string, string>;
  let count = 0;
  for (const line of lines.slice(1)) {
    if (line.trim() === '') break;
    const i = line.indexOf(':');
    if (i <= 0) continue;
    if (++count > 64) break;
    const name = line.slice(0, i).trim().toLowerCase();
    if (!/^[a-z0-9.\-_]{1,64}$/.test(name)) continue;
    headers[name] = line.slice(i + 1).trim().slice(0, 1024);
  }
  const value: SsdpMessage = { kind, headers };
  if (headers.location) value.location = headers.location;
  const st = kind === 'notify' ? headers.nt : headers.st;
  if (st) value.st = st;
  if (headers.usn) value.usn = headers.usn;
  if (headers.server) value.server = headers.server;
  return { ok: true, value };
}

/** True when a search target or notification type names an IGD or its WAN connection services. */
export function isIgdTarget(st: string | undefined): boolean {
  if (!st) return false;
  return /urn:schemas-upnp-org:(device:InternetGatewayDevice|service:WAN(IP|PPP)Connection):\d+/i.test(st);
}
