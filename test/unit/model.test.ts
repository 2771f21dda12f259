import { describe, expect, it } from 'vitest';
import { ErrorCodes, IotguardError } from '../../src/core/model/errors.js';
import { cidrContains, cidrHosts, isLocallyAdministeredMac, isPrivateIpv4, parseCidr } from '../../src/core/model/net.js';
import { sortFindings, type Finding } from '../../src/core/model/finding.js';

describe('errors', () => {
  it('carries a stable code and exit code', () => {
    const e = new IotguardError(ErrorCodes.NET_BAD_CIDR, 'bad');
    expect(e.code).toBe('IOTGUARD_ERR_NET_BAD_CIDR');
    expect(e.exitCode).toBe(1);
    expect(new IotguardError(ErrorCodes.USAGE, 'x').exitCode).toBe(2);
  });
  it('every code is IOTGUARD_ERR_ prefixed and unique', () => {
    const codes = Object.values(ErrorCodes);
    expect(new Set(codes).size).toBe(codes.length);
    for (const c of codes) expect(c).toMatch(/^IOTGUARD_ERR_[A-Z_]+$/);
  });
});

describe('net helpers', () => {
  it('parses and canonicalises CIDRs', () => {
    expect(parseCidr('192.168.77.9/24').text).toBe('192.168.77.0/24');
    expect(() => parseCidr('300.1.1.1/24')).toThrow(IotguardError);
    expect(() => parseCidr('10.0.0.0/33')).toThrow(/not an IPv4 CIDR/);
  });
  it('lists hosts and tests membership', () => {
    const c = parseCidr('10.1.2.0/30');
    expect(cidrHosts(c)).toEqual(['10.1.2.1', '10.1.2.2']);
    expect(cidrContains(c, '10.1.2.3')).toBe(true);
    expect(cidrContains(c, '10.1.2.4')).toBe(false);
  });
  it('knows private ranges and local MACs', () => {
    expect(isPrivateIpv4('192.168.1.1')).toBe(true);
    expect(isPrivateIpv4('8.8.8.8')).toBe(false);
    expect(isLocallyAdministeredMac('02:00:00:00:00:01')).toBe(true);
    expect(isLocallyAdministeredMac('00:1a:2b:00:00:01')).toBe(false);
  });
});

describe('findings', () => {
  it('sorts most severe first, deterministically', () => {
    const f = (id: Finding['id'], severity: Finding['severity'], ip: string): Finding => ({ id, severity, title: id, device: { ip }, evidence: {}, advice: '' });
    const sorted = sortFindings([f('beaconing', 'low', '1'), f('default-credentials', 'critical', '2'), f('dns-tunnel', 'high', '3')]);
    expect(sorted.map((x) => x.severity)).toEqual(['critical', 'high', 'low']);
  });
});
