// DHCP (RFC 2131 message, RFC 2132 options, RFC 4702 client FQDN): what a
// device says about itself when it asks for an address.
import { hex, ipv4At, macAt, u32, type Decoded, fail } from './bytes.js';
import { readName } from './dns.js';

export interface Dhcp {
  op: number;
  xid: number;
  clientMac: string;
  ciaddr: string;
  yiaddr: string;
  messageType?: number;
  requestedIp?: string;
  hostname?: string;
  paramRequestList?: number[];
  vendorClass?: string;
  clientId?: string;
  fqdn?: string;
  serverId?: string;
  options: number[];
}

export const DHCP_MESSAGE_TYPES = ['', 'DISCOVER', 'OFFER', 'REQUEST', 'DECLINE', 'ACK', 'NAK', 'RELEASE', 'INFORM'];

function text(b: Uint8Array, o: number, len: number): string {
  let s = '';
  for (let i = o; i < o + len; i++) {
    const c = b[i];
    if (c === 0) break;
    s += c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : '?';
  }
  return s;
}

export function decodeDhcp(b: Uint8Array, o: number, end: number): Decoded<Dhcp> {
  if (end - o < 240) return fail('truncated');
  // RFC 2131 §3: magic cookie 99.130.83.99 opens the options field
  if (u32(b, o + 236) !== 0x63825363) return fail('no-magic-cookie');
  const hlen = b[o + 2];
  const d: Dhcp = {
    op: b[o],
    xid: u32(b, o + 4),
    clientMac: hlen === 6 ? macAt(b, o + 28) : hex(b, o + 28, Math.min(hlen, 16)),
    ciaddr: ipv4At(b, o + 12),
    yiaddr: ipv4At(b, o + 16),
    options: [],
  };
  let p = o + 240;
  while (p < end) {
    const code = b[p];
    if (code === 255) break;
    if (code === 0) {
      p++;
      continue;
    }
    if (p + 2 > end) break;
    const len = b[p + 1];
    const v = p + 2;
    if (v + len > end) break;
    d.options.push(code);
    switch (code) {
      case 53:
        if (len >= 1) d.messageType = b[v];
        break;
      case 50:
        if (len === 4) d.requestedIp = ipv4At(b, v);
        break;
      case 54:
        if (len === 4) d.serverId = ipv4At(b, v);
        break;
      case 12:
        d.hostname = text(b, v, len);
        break;
      case 55:
        d.paramRequestList = Array.from(b.subarray(v, v + len));
        break;
      case 60:
        d.vendorClass = text(b, v, len);
        break;
      case 61:
        d.clientId = hex(b, v, len);
        break;
      case 81:
        // RFC 4702 §2: flags, two rcodes, then the name (wire format when E is set)
        if (len > 3) {
          if (b[v] & 0x04) {
            const n = readName(b, v + 3, v + 3, v + len);
            if (n) d.fqdn = n[0];
          } else {
            d.fqdn = text(b, v + 3, len - 3);
          }
        }
        break;
      default:
        break;
    }
    p = v + len;
  }
  return { ok: true, value: d };
}
