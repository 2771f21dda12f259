// SSDP (UPnP Device Architecture 2.0 §1): HTTP-over-UDP M-SEARCH, NOTIFY and
// unicast search responses on port 1900.
import { indexOfHeaderEnd, type Decoded, fail } from './bytes.js';
import { decodeHttpHead, header } from './http.js';

export interface Ssdp {
  method: 'M-SEARCH' | 'NOTIFY' | 'RESPONSE';
  target?: string;
  nts?: string;
  usn?: string;
  location?: string;
  server?: string;
  userAgent?: string;
  igd: boolean;
}

/** The header fields an SSDP message is read for (the parser makes strings only for these). */
const SSDP_HEADERS: ReadonlySet<string> = new Set(['st', 'nt', 'nts', 'usn', 'location', 'server', 'user-agent']);

const IGD = /InternetGatewayDevice|WANIPConnection|WANPPPConnection|WANCommonInterfaceConfig/i;

export function decodeSsdp(b: Uint8Array, o: number, end: number): Decoded<Ssdp> {
  let he = indexOfHeaderEnd(b, o, end);
  // some stacks end the datagram after the last header's CRLF without the blank line
  if (he < 0) he = end;
  const h = decodeHttpHead(b, o, he, SSDP_HEADERS);
  if (!h.ok) return h;
  const head = h.value;
  let method: Ssdp['method'];
  if (head.kind === 'response') method = 'RESPONSE';
  else if (head.method === 'M-SEARCH' || head.method === 'NOTIFY') method = head.method;
  else return fail('not-ssdp');
  const target = header(head, 'st') ?? header(head, 'nt');
  return {
    ok: true,
    value: {
      method,
      target,
      nts: header(head, 'nts'),
      usn: header(head, 'usn'),
      location: header(head, 'location'),
      server: header(head, 'server'),
      userAgent: header(head, 'user-agent'),
      igd: IGD.test(target ?? '') || IGD.test(header(head, 'usn') ?? ''),
    },
  };
}
