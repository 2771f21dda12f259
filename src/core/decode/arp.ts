// ARP (RFC 826) for Ethernet/IPv4: who says they own which address.
import { ipv4At, macAt, u16 } from './bytes.js';
import { type Decoded, fail } from './bytes.js';

export interface Arp {
  op: number;
  senderMac: string;
  senderIp: string;
  targetMac: string;
  targetIp: string;
}

/** True when b[o..end) holds a whole ARP message for Ethernet and IPv4 (what decodeArp decodes). */
export function isEthernetIpv4Arp(b: Uint8Array, o: number, end: number): boolean {
  // hardware type 1 (Ethernet), protocol 0x0800, lengths 6 and 4
  return end - o >= 28 && u16(b, o) === 1 && u16(b, o + 2) === 0x0800 && b[o + 4] === 6 && b[o + 5] === 4;
}

export function decodeArp(b: Uint8Array, o: number, end: number): Decoded<Arp> {
  if (end - o < 28) return fail('truncated');
  if (!isEthernetIpv4Arp(b, o, end)) return fail('not-ethernet-ipv4');
  return {
    ok: true,
    value: {
      op: u16(b, o + 6),
      senderMac: macAt(b, o + 8),
      senderIp: ipv4At(b, o + 14),
      targetMac: macAt(b, o + 18),
      targetIp: ipv4At(b, o + 24),
    },
  };
}
