// Link layers: Ethernet II with 802.1Q/802.1ad tags, Linux cooked capture v1
// and v2, BSD null/loopback, and raw IP. Each sets pv.ethertype and pv.l3Off.
import { u16, u32, u32le } from './bytes.js';
import type { PacketView } from './packet-view.js';

const ETH_IPV4 = 0x0800;
const ETH_IPV6 = 0x86dd;

export function decodeEthernet(pv: PacketView): void {
  const b = pv.buf;
  const s = pv.start;
  if (pv.end - s < 14) {
    pv.reason = 'truncated-ethernet';
    return;
  }
  pv.dstMacOff = s;
  pv.srcMacOff = s + 6;
  let p = s + 12;
  let et = u16(b, p);
  // IEEE 802.1Q / 802.1ad / QinQ tags: 4 bytes each, keep the outermost VLAN id
  let tags = 0;
  while ((et === 0x8100 || et === 0x88a8 || et === 0x9100) && tags < 4) {
    if (p + 6 > pv.end) {
      pv.reason = 'truncated-vlan';
      return;
    }
    if (pv.vlan < 0) pv.vlan = u16(b, p + 2) & 0x0fff;
    p += 4;
    et = u16(b, p);
    tags++;
  }
  // values <= 1500 are an 802.3 length (LLC/SNAP follows): no ethertype
  pv.ethertype = et >= 0x0600 ? et : -1;
  pv.l3Off = p + 2;
}

/** Linux cooked capture v1 (LINKTYPE_LINUX_SLL, 16-byte header). */
export function decodeSll(pv: PacketView): void {
  const b = pv.buf;
  const s = pv.start;
  if (pv.end - s < 16) {
    pv.reason = 'truncated-sll';
    return;
  }
  const hatype = u16(b, s + 2);
  const alen = u16(b, s + 4);
  if (hatype === 1 && alen === 6) pv.srcMacOff = s + 6;
  pv.ethertype = u16(b, s + 14);
  pv.l3Off = s + 16;
}

/** Linux cooked capture v2 (LINKTYPE_LINUX_SLL2, 20-byte header). */
export function decodeSll2(pv: PacketView): void {
  const b = pv.buf;
  const s = pv.start;
  if (pv.end - s < 20) {
    pv.reason = 'truncated-sll2';
    return;
  }
  const hatype = u16(b, s + 8);
  const alen = b[s + 11];
  if (hatype === 1 && alen === 6) pv.srcMacOff = s + 12;
  pv.ethertype = u16(b, s);
  pv.l3Off = s + 20;
}

/** BSD loopback: a 4-byte address family, host byte order (NULL) or network order (LOOP). */
export function decodeNull(pv: PacketView): void {
  const b = pv.buf;
  const s = pv.start;
  if (pv.end - s < 4) {
    pv.reason = 'truncated-null';
    return;
  }
  let fam = u32le(b, s);
  if (fam > 0xffff) fam = u32(b, s);
  // AF_INET is 2 everywhere; AF_INET6 is 10 (Linux), 24 (NetBSD/OpenBSD), 28 (FreeBSD), 30 (macOS)
  pv.ethertype = fam === 2 ? ETH_IPV4 : fam === 10 || fam === 24 || fam === 28 || fam === 30 ? ETH_IPV6 : -1;
  pv.l3Off = s + 4;
}

/** Raw IP: the version nibble says which. */
export function decodeRaw(pv: PacketView): void {
  const s = pv.start;
  if (pv.end - s < 1) {
    pv.reason = 'truncated-raw';
    return;
  }
  const v = pv.buf[s] >> 4;
  pv.ethertype = v === 4 ? ETH_IPV4 : v === 6 ? ETH_IPV6 : -1;
  pv.l3Off = s;
}

export function decodeRawIpv4(pv: PacketView): void {
  pv.ethertype = ETH_IPV4;
  pv.l3Off = pv.start;
}

export function decodeRawIpv6(pv: PacketView): void {
  pv.ethertype = ETH_IPV6;
  pv.l3Off = pv.start;
}

/**
 * PPPoE session stage (RFC 2516 §4) carrying PPP (RFC 1661): 6-byte PPPoE
 * header and the 2-byte PPP protocol, then IPv4 (0x0021) or IPv6 (0x0057).
 * Rewrites pv.ethertype so the registry continues with the IP decoder.
 */
export function unwrapPppoe(pv: PacketView): void {
  const b = pv.buf;
  const o = pv.l3Off;
  if (pv.end - o < 8) {
    pv.reason = 'truncated-pppoe';
    return;
  }
  if (b[o] !== 0x11 || b[o + 1] !== 0) {
    pv.ethertype = -1;
    return;
  }
  const proto = u16(b, o + 6);
  pv.ethertype = proto === 0x0021 ? ETH_IPV4 : proto === 0x0057 ? ETH_IPV6 : -1;
  pv.l3Off = o + 8;
}
