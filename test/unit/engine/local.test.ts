// isGroupAddress reads an address's characters instead of running regular
// expressions (lateral-scan and the KEV detector ask it for every flow and
// event): held to the regexes it replaced, over IPv4, IPv6 in both cases,
// and the mixed forms where a `.255` follows an address starting with `f`
// (a first version returned early there).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isGroupAddress, isLocalAddress, isLocalUnicast4, isMulticastOrBroadcast4 } from '../../../src/core/flows/local.js';
import { i32, u32 } from '../../../src/core/decode/bytes.js';

const reference = (ip: string): boolean => /^(?:22[4-9]|23\d|255)\./.test(ip) || ip.endsWith('.255') || ip.toLowerCase().startsWith('ff');

describe('isGroupAddress', () => {
  it('agrees with the regular expressions it replaced', () => {
    const octet = fc.integer({ min: 0, max: 255 });
    const check = (ip: string) => {
      expect(isGroupAddress(ip), ip).toBe(reference(ip));
    };
    fc.assert(fc.property(fc.tuple(octet, octet, octet, octet), (o) => check(o.join('.'))), { numRuns: 5000 });
    fc.assert(fc.property(fc.oneof(fc.ipV6(), fc.ipV6().map((s) => s.toUpperCase())), check), { numRuns: 20000 });
    for (const ip of ['f::0:0.0.0.255', 'F0::0:0.0.0.255', '224.0.0.251', '239.255.255.250', '230.1.2.3', '255.255.255.255', '255.1.2.3', '223.255.255.254', '22.4.0.1', '25.5.1.1', '240.0.0.1', '192.168.1.255', 'ff02::fb', 'FF02::1', 'Ff05::2', 'fe80::1', 'f', '', '2'])
      check(ip);
  });
});

describe('IPv4 address classes from numbers', () => {
  it('give the same answer for an address read signed (the engine) or unsigned, and agree with the text form', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 4, maxLength: 4 }), (a) => {
        const s = i32(a, 0);
        const u = u32(a, 0);
        expect(s >>> 0).toBe(u);
        expect(isLocalUnicast4(s)).toBe(isLocalUnicast4(u));
        expect(isMulticastOrBroadcast4(s)).toBe(isMulticastOrBroadcast4(u));
        expect(isLocalUnicast4(s) || isMulticastOrBroadcast4(s)).toBe(isLocalAddress(a.join('.')));
      }),
      { numRuns: 5000 },
    );
    for (const text of ['255.255.255.255', '192.168.1.1', '10.0.0.1', '239.255.255.250', '224.0.0.251', '8.8.8.8', '172.31.0.1', '100.64.0.1', '169.254.1.1']) {
      const a = Uint8Array.from(text.split('.').map(Number));
      expect(isLocalUnicast4(i32(a, 0)) || isMulticastOrBroadcast4(i32(a, 0))).toBe(isLocalAddress(text));
    }
    expect(isMulticastOrBroadcast4(-1)).toBe(true);
    expect(isMulticastOrBroadcast4(0xffffffff)).toBe(true);
  });
});
