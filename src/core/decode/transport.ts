// Transport headers: TCP (RFC 9293), UDP (RFC 768), ICMP (RFC 792) and
// ICMPv6 (RFC 4443). They fill ports, flags, sequence numbers and the payload
// window; a truncated header leaves the ports unset and says so.
import { u16, u32 } from './bytes.js';
import type { PacketView } from './packet-view.js';

export function decodeTcp(pv: PacketView): void {
  const b = pv.buf;
  const o = pv.l4Off;
  if (pv.l3End - o < 20) {
    pv.reason = 'truncated-tcp';
    return;
  }
  const doff = (b[o + 12] >> 4) * 4;
  if (doff < 20) {
    pv.reason = 'bad-tcp-offset';
    return;
  }
  pv.srcPort = u16(b, o);
  pv.dstPort = u16(b, o + 2);
  pv.seq = u32(b, o + 4);
  pv.ack = u32(b, o + 8);
  pv.tcpFlags = b[o + 13];
  const po = o + doff;
  if (po > pv.l3End) {
    pv.payloadOff = pv.l3End;
    pv.payloadLen = 0;
    pv.payloadWireLen = 0;
    pv.reason = 'truncated-tcp-options';
    return;
  }
  pv.payloadOff = po;
  pv.payloadLen = pv.l3End - po;
  pv.payloadWireLen = Math.max(0, pv.ipLen - (po - pv.l3Off));
}

export function decodeUdp(pv: PacketView): void {
  const b = pv.buf;
  const o = pv.l4Off;
  if (pv.l3End - o < 8) {
    pv.reason = 'truncated-udp';
    return;
  }
  pv.srcPort = u16(b, o);
  pv.dstPort = u16(b, o + 2);
  const ulen = u16(b, o + 4);
  const po = o + 8;
  // a UDP length below 8 is bogus; 0 happens with jumbograms: fall back to the IP length
  const declared = ulen >= 8 ? ulen - 8 : pv.l3End - po;
  pv.payloadOff = po;
  pv.payloadLen = Math.max(0, Math.min(declared, pv.l3End - po));
  pv.payloadWireLen = declared;
}

export function decodeIcmp(pv: PacketView): void {
  const o = pv.l4Off;
  if (pv.l3End - o < 4) {
    pv.reason = 'truncated-icmp';
    return;
  }
  pv.icmpType = pv.buf[o];
  pv.icmpCode = pv.buf[o + 1];
  pv.payloadOff = o + 4;
  pv.payloadLen = pv.l3End - o - 4;
  pv.payloadWireLen = pv.payloadLen;
}
