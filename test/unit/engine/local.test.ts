// isGroupAddress reads an address's characters instead of running regular
// expressions (lateral-scan and the KEV detector ask it for every flow and
// event): held to the regexes it replaced, over IPv4, IPv6 in both cases,
// and the mixed forms where a `.255` follows an address starting with `f`
// (a first version returned early there).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isGroupAddress } from '../../../src/core/flows/local.js';

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
