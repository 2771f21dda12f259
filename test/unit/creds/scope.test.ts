import { describe, expect, it } from 'vitest';
import { attachedNets, inScope } from '../../../src/adapters/probe/creds/scope.js';
import { checkScope } from '../../../src/adapters/probe/creds/audit.js';

const nets = attachedNets({
  lo: [{ address: '127.0.0.1', netmask: '255.0.0.0', family: 'IPv4', mac: '00:00:00:00:00:00', internal: true, cidr: '127.0.0.1/8' }],
  eth0: [{ address: '192.168.77.10', netmask: '255.255.255.0', family: 'IPv4', mac: '2c:cf:67:00:77:10', internal: false, cidr: '192.168.77.10/24' }],
  wg0: [{ address: 'fd00::1', netmask: 'ffff::', family: 'IPv6', mac: '00:00:00:00:00:00', internal: false, cidr: 'fd00::1/16', scopeid: 0 }],
});

describe('target scope', () => {
  it('accepts hosts of a directly attached subnet and loopback', () => {
    expect(inScope('192.168.77.20', nets)).toEqual({ ok: true, via: 'eth0' });
    expect(inScope('127.0.0.1', nets)).toEqual({ ok: true, via: 'loopback' });
  });
  it('refuses the internet, other private networks, the broadcast address and non-IPs', () => {
    for (const ip of ['5.45.1.40', '8.8.8.8', '10.0.0.5', '192.168.78.20']) {
      const v = inScope(ip, nets);
      expect(v.ok).toBe(false);
      if (!v.ok) expect(v.why).toMatch(/192\.168\.77\.0\/24 \(eth0\)/);
    }
    expect(inScope('192.168.77.255', nets).ok).toBe(false);
    expect(inScope('192.168.77.0', nets).ok).toBe(false);
    expect(inScope('cam.local', nets).ok).toBe(false);
  });
  it('checkScope throws the stable out-of-scope error', () => {
    expect(() => checkScope(['192.168.77.20', '5.45.1.40'], nets)).toThrow(expect.objectContaining({ code: 'IOTGUARD_ERR_CREDS_OUT_OF_SCOPE', exitCode: 1 }));
  });
});
