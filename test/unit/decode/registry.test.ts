// decodeLayers calls the Ethernet, IPv4, TCP and UDP decoders directly (so V8
// can inline them): they must stay the registries' entries for those keys,
// or the fast path and the registry would disagree.
import { describe, expect, it } from 'vitest';
import { ETHERTYPE_DECODERS, IPPROTO_DECODERS, LINK_DECODERS } from '../../../src/core/decode/registry.js';
import { decodeEthernet } from '../../../src/core/decode/link.js';
import { decodeIpv4 } from '../../../src/core/decode/ipv4.js';
import { decodeTcp, decodeUdp } from '../../../src/core/decode/transport.js';

describe('decoder registries', () => {
  it('hold the decoders the fast path calls directly', () => {
    expect(LINK_DECODERS.get(1)).toBe(decodeEthernet);
    expect(ETHERTYPE_DECODERS.get(0x0800)).toBe(decodeIpv4);
    expect(IPPROTO_DECODERS.get(6)).toBe(decodeTcp);
    expect(IPPROTO_DECODERS.get(17)).toBe(decodeUdp);
  });
});
