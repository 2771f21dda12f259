// SSDP search responses (UPnP Device Architecture 2.0 §1.3.3): who answered
// and where its description lives (parsed in upnp-description.ts). Pure.
export type { UpnpDeviceDescription } from './upnp-description.js';

export interface SsdpResponse {
  location?: string;
  server?: string;
  st?: string;
  usn?: string;
}

/** Parses `HTTP/1.1 200 OK` search responses and NOTIFYs; undefined for anything else. */
export function parseSsdpResponse(bytes: Uint8Array): SsdpResponse | undefined {
  const text = new TextDecoder('latin1').decode(bytes.subarray(0, 8192));
  if (!/^(HTTP\/1\.[01] 200|NOTIFY \* HTTP\/1\.[01])/i.test(text)) return undefined;
  const h: Record<string, string> = {};
  for (const line of text.split(/\r?\n/).slice(1, 60)) {
    const c = line.indexOf(':');
    if (c > 0) h[line.slice(0, c).trim().toLowerCase()] = line.slice(c + 1).trim().slice(0, 512);
  }
  const out: SsdpResponse = {};
  if (h.location) out.location = h.location;
  if (h.server) out.server = h.server;
  if (h.st ?? h.nt) out.st = h.st ?? h.nt;
  if (h.usn) out.usn = h.usn;
  return out;
}

export function mSearch(st = 'ssdp:all', mx = 2): string {
  return `M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: "ssdp:discover"\r\nMX: ${mx}\r\nST: ${st}\r\nUSER-AGENT: iotguard/1 UPnP/2.0 iotguard-discover/1\r\n\r\n`;
}

