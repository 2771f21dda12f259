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

/**
 * Decode link, network and transport headers into pv (already reset). Never throws.
 *
 * Ethernet, IPv4, TCP and UDP — nearly every packet — are called directly so
 * V8 can inline them (a decoder fetched from a Map is a call it cannot see
 * through); everything else goes through the registries. The direct calls
 * are the registries' own entries for those keys.
 */
export function decodeLayers(pv: PacketView): void {
  const lt = pv.linktype;
  if (lt === LINKTYPE.ETHERNET) decodeEthernet(pv);
  else {
    const link = LINK_DECODERS.get(lt);
    if (link === undefined) {
      pv.reason = 'unknown-linktype';
      return;
    }
    link(pv);
  }
  if (pv.reason !== '' || pv.ethertype < 0) return;
  const et = pv.ethertype;
  if (et === 0x0800) decodeIpv4(pv);
  else {
    const shim = SHIM_DECODERS.get(et);
    if (shim !== undefined) {
      shim(pv);
      if (pv.reason !== '' || pv.ethertype < 0) return;
    }
    const net = ETHERTYPE_DECODERS.get(pv.ethertype);
    if (net === undefined) return;
    net(pv);
  }
  if (pv.reason !== '' || pv.l4Off < 0) return;
  const proto = pv.ipProto;
  if (proto === 6) decodeTcp(pv);
  else if (proto === 17) decodeUdp(pv);
  else {
    const tr = IPPROTO_DECODERS.get(proto);
    if (tr !== undefined) tr(pv);
  }
}
