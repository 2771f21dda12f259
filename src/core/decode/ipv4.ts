// IPv4 (RFC 791): header checks, Ethernet padding trimmed by the total-length
// field, fragments noted (a later fragment carries no transport header).
import { i32, u16 } from './bytes.js';
import type { PacketView } from './packet-view.js';

export function decodeIpv4(pv: PacketView): void {
  const b = pv.buf;
  const o = pv.l3Off;
  if (pv.end - o < 20) {
    pv.reason = 'truncated-ipv4';
    return;
  }
  const vihl = b[o];
  const ihl = (vihl & 0x0f) * 4;
  if (vihl >> 4 !== 4 || ihl < 20) {
    pv.reason = 'bad-ipv4-header';
    return;
  }
  let total = u16(b, o + 2);
  // total length 0 happens with TSO on the capturing host: trust the capture
  if (total === 0) total = pv.end - o;
  if (total < ihl) {
    pv.reason = 'bad-ipv4-length';
    return;
  }
  pv.ipVersion = 4;
  pv.ipLen = total;
  pv.l3End = Math.min(o + total, pv.end);
  pv.ttl = b[o + 8];
  pv.ipProto = b[o + 9];
  pv.src4 = i32(b, o + 12);
  pv.dst4 = i32(b, o + 16);
  const frag = u16(b, o + 6);
  const more = (frag & 0x2000) !== 0;
  const fragOff = frag & 0x1fff;
  if (more || fragOff !== 0) {
    pv.fragment = true;
    if (fragOff !== 0) {
      pv.laterFragment = true;
      return;
    }
  }
  if (o + ihl > pv.end) {
    pv.reason = 'truncated-ipv4-options';
    return;
  }
  pv.l4Off = o + ihl;
}
