// Decoder registries (gopacket-style): the next layer is looked up by link
// type, ethertype or IP protocol number, never chosen by if-chains, so adding
// a protocol is one line here. decodeLayers() runs link → network → transport.
import { LINKTYPE } from './capture-format.js';
import { decodeEthernet, decodeNull, decodeRaw, decodeRawIpv4, decodeRawIpv6, decodeSll, decodeSll2, unwrapPppoe } from './link.js';
import { decodeIpv4 } from './ipv4.js';
import { decodeIpv6 } from './ipv6.js';
import { decodeIcmp, decodeTcp, decodeUdp } from './transport.js';
import type { LayerDecoder, PacketView } from './packet-view.js';

export const LINK_DECODERS = new Map<number, LayerDecoder>([
  [LINKTYPE.ETHERNET, decodeEthernet],
  [LINKTYPE.NULL, decodeNull],
  [LINKTYPE.LOOP, decodeNull],
  [LINKTYPE.RAW, decodeRaw],
  [12, decodeRaw], // LINKTYPE_RAW on some OpenBSD writers (DLT_RAW value 12 kept in files)
  [14, decodeRaw],
  [LINKTYPE.IPV4, decodeRawIpv4],
  [LINKTYPE.IPV6, decodeRawIpv6],
  [LINKTYPE.LINUX_SLL, decodeSll],
  [LINKTYPE.LINUX_SLL2, decodeSll2],
]);

export const ETHERTYPE_DECODERS = new Map<number, LayerDecoder>([
  [0x0800, decodeIpv4],
  [0x86dd, decodeIpv6],
]);

export const IPPROTO_DECODERS = new Map<number, LayerDecoder>([
  [6, decodeTcp],
  [17, decodeUdp],
  [1, decodeIcmp],
  [58, decodeIcmp],
]);

export const ETHERTYPE_ARP = 0x0806;

/** Encapsulations between the link and IP: they rewrite pv.ethertype and pv.l3Off, then the lookup goes on. */
export const SHIM_DECODERS = new Map<number, LayerDecoder>([[0x8864, unwrapPppoe]]);

/** Decode link, network and transport headers into pv (already reset). Never throws. */
export function decodeLayers(pv: PacketView): void {
  const link = LINK_DECODERS.get(pv.linktype);
  if (link === undefined) {
    pv.reason = 'unknown-linktype';
    return;
  }
  link(pv);
  if (pv.reason !== '' || pv.ethertype < 0) return;
  const shim = SHIM_DECODERS.get(pv.ethertype);
  if (shim !== undefined) {
    shim(pv);
    if (pv.reason !== '' || pv.ethertype < 0) return;
  }
  const net = ETHERTYPE_DECODERS.get(pv.ethertype);
  if (net === undefined) return;
  net(pv);
  if (pv.reason !== '' || pv.l4Off < 0) return;
  const tr = IPPROTO_DECODERS.get(pv.ipProto);
  if (tr !== undefined) tr(pv);
}
