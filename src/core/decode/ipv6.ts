// IPv6 (RFC 8200): fixed header, then the extension-header chain (hop-by-hop,
// routing, fragment, destination options, AH) up to the transport header.
import { u16 } from './bytes.js';
import type { PacketView } from './packet-view.js';

export function decodeIpv6(pv: PacketView): void {
  const b = pv.buf;
  const o = pv.l3Off;
  if (pv.end - o < 40) {
    pv.reason = 'truncated-ipv6';
    return;
  }
  if (b[o] >> 4 !== 6) {
    pv.reason = 'bad-ipv6-header';
    return;
  }
  const plen = u16(b, o + 4);
  // payload length 0 = jumbogram (RFC 2675) or TSO: trust the capture
  const total = plen === 0 ? pv.end - o : 40 + plen;
  pv.ipVersion = 6;
  pv.ipLen = total;
  pv.l3End = Math.min(o + total, pv.end);
  pv.ttl = b[o + 7];
  pv.src6Off = o + 8;
  pv.dst6Off = o + 24;
  let nh = b[o + 6];
  let p = o + 40;
  // RFC 8200 §4: walk at most a handful of extension headers
  for (let i = 0; i < 8; i++) {
    if (nh === 0 || nh === 43 || nh === 60 || nh === 135 || nh === 139 || nh === 140) {
      if (p + 8 > pv.l3End) {
        pv.reason = 'truncated-ipv6-ext';
        pv.ipProto = nh;
        return;
      }
      nh = b[p];
      p += (b[p + 1] + 1) * 8;
    } else if (nh === 44) {
      if (p + 8 > pv.l3End) {
        pv.reason = 'truncated-ipv6-frag';
        pv.ipProto = nh;
        return;
      }
      pv.fragment = true;
      const fo = u16(b, p + 2) >> 3;
      nh = b[p];
      p += 8;
      if (fo !== 0) {
        pv.laterFragment = true;
        pv.ipProto = nh;
        return;
      }
    } else if (nh === 51) {
      if (p + 8 > pv.l3End) {
        pv.reason = 'truncated-ipv6-ah';
        pv.ipProto = nh;
        return;
      }
      nh = b[p];
      p += (b[p + 1] + 2) * 4;
    } else {
      break;
    }
  }
  pv.ipProto = nh;
  if (p > pv.l3End) {
    pv.reason = 'truncated-ipv6-ext';
    return;
  }
  pv.l4Off = p;
}
