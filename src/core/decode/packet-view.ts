// The scratch record the link, network and transport decoders fill for one
// packet. One instance is reused for every packet (no per-packet allocation);
// numbers and offsets only — strings are made later, and only when needed.

const EMPTY = new Uint8Array(0);

/**
 * Zero as a double, for fields that will hold doubles: capture times (seconds
 * with a fraction) and TCP sequence numbers (unsigned 32-bit, most of them
 * past the small-integer range). A field V8 first sees holding a small integer
 * is laid out for small integers; the first double stored in it then changes
 * its layout, which throws away all optimised code that relied on it (the
 * engine's hot loop, early in every run). -0 is not a small integer, so such a
 * field is a double from the start; it equals 0 in every comparison and prints
 * as 0.
 */
export const DOUBLE_ZERO = -0;

export class PacketView {
  buf: Uint8Array = EMPTY;
  /** Offset of the packet's first byte in buf, and end of the captured bytes. */
  start = 0;
  end = 0;
  capLen = 0;
  wireLen = 0;
  linktype = 0;
  ts = DOUBLE_ZERO;
  // link layer (-1: absent)
  srcMacOff = -1;
  dstMacOff = -1;
  vlan = -1;
  ethertype = -1;
  l3Off = 0;
  // network layer
  ipVersion = 0;
  /** End of the network-layer packet per its own length field (Ethernet padding excluded), clamped to the capture. */
  l3End = 0;
  /** Length of the IP packet per its header (may exceed the captured bytes). */
  ipLen = 0;
  ipProto = -1;
  ttl = 0;
  /** IPv4 addresses as signed 32-bit integers (see bytes.ts i32; `>>> 0` for the unsigned value). */
  src4 = 0;
  dst4 = 0;
  src6Off = -1;
  dst6Off = -1;
  fragment = false;
  /** True for a non-first fragment: no transport header to decode. */
  laterFragment = false;
  // transport layer
  l4Off = -1;
  srcPort = -1;
  dstPort = -1;
  tcpFlags = 0;
  /** Sequence and acknowledgement numbers (unsigned 32-bit: doubles from the start, see DOUBLE_ZERO). */
  seq = DOUBLE_ZERO;
  ack = DOUBLE_ZERO;
  icmpType = -1;
  icmpCode = -1;
  payloadOff = 0;
  /** Captured payload bytes (payloadOff .. payloadOff+payloadLen). */
  payloadLen = 0;
  /** Payload length according to the headers (>= payloadLen when the snaplen cut it). */
  payloadWireLen = 0;
  /** Why decoding stopped early ('' when every present layer decoded). */
  reason = '';

  reset(buf: Uint8Array, off: number, capLen: number, wireLen: number, linktype: number, ts: number): void {
    this.buf = buf;
    this.start = off;
    this.end = off + capLen;
    this.capLen = capLen;
    this.wireLen = wireLen;
    this.linktype = linktype;
    this.ts = ts;
    this.srcMacOff = -1;
    this.dstMacOff = -1;
    this.vlan = -1;
    this.ethertype = -1;
    this.l3Off = off;
    this.ipVersion = 0;
    this.l3End = off;
    this.ipLen = 0;
    this.ipProto = -1;
    this.ttl = 0;
    this.src4 = 0;
    this.dst4 = 0;
    this.src6Off = -1;
    this.dst6Off = -1;
    this.fragment = false;
    this.laterFragment = false;
    this.l4Off = -1;
    this.srcPort = -1;
    this.dstPort = -1;
    this.tcpFlags = 0;
    this.seq = 0;
    this.ack = 0;
    this.icmpType = -1;
    this.icmpCode = -1;
    this.payloadOff = off;
    this.payloadLen = 0;
    this.payloadWireLen = 0;
    this.reason = '';
  }
}

/** A layer decoder: reads pv.buf from the offset the previous layer left, fills pv, never throws. */
export type LayerDecoder = (pv: PacketView) => void;
