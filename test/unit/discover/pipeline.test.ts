// The discovery pipeline with fake components: merge, names, services, types.
import { describe, expect, it } from 'vitest';
import { runDiscovery, type DiscoveryComponents } from '../../../src/core/inventory/discover.js';
import { loadFingerprints } from '../../../src/adapters/net/fingerprint-data.js';
import { vendorOf } from '../../../src/adapters/net/oui.js';
import { parseCidr } from '../../../src/core/model/net.js';
import type { OpenPort } from '../../../src/core/model/device.js';

function fakes(over: Partial<DiscoveryComponents> = {}): DiscoveryComponents & { scanned: string[][] } {
  const scanned: string[][] = [];
  return {
    scanned,
    async sweep(hosts, onProgress, onFound) {
      const m = new Map([
        ['192.168.77.20', '18:80:25:00:77:20'],
        ['192.168.77.30', '00:11:32:00:77:30'],
        ['192.168.77.40', '00:0E:58:00:77:40'],
      ]);
      onFound?.(new Map([['192.168.77.20', '18:80:25:00:77:20']]));
      onProgress(hosts.length);
      return m;
    },
    async scan(hosts, ports) {
      scanned.push(hosts);
      const open: Record<string, number[]> = { '192.168.77.20': [23, 80], '192.168.77.30': [22, 8200] };
      return new Map(hosts.map((h) => [h, { open: (open[h] ?? []).filter((p) => ports.includes(p)), alive: true }]));
    },
    async banner(ip, port, service): Promise<OpenPort> {
      if (port === 23) return { port, proto: 'tcp', service: 'telnet', banner: 'ipcam login:' };
      if (port === 80) return { port, proto: 'tcp', service: 'http', banner: '401', details: { server: 'Hikvision-Webs' } };
      return { port, proto: 'tcp', service: service ?? 'unknown', banner: '' };
    },
    async mdns() {
      return [{ address: '192.168.77.40', hostname: 'living-room-speaker.local', services: [{ type: '_sonos._tcp', name: 'Living Room', port: 1400 }] }];
    },
    async ssdp() {
      return [{ address: '192.168.77.30', location: 'http://192.168.77.30:8200/rootDesc.xml', targets: [], description: { deviceType: 'urn:schemas-upnp-org:device:MediaServer:1', manufacturer: 'Justin Maggard', modelName: 'DiskStation Media Server', modelNumber: 'DS218', embedded: [] } }];
    },
    async reverseDns(ips) {
      return new Map(ips.filter((i) => i.endsWith('.20')).map((i) => [i, 'ipcam-hall.lan']));
    },
    async neighbours6() {
      return [{ ip: 'fe80::1a80:25ff:fe00:7720', mac: '18:80:25:00:77:20' }];
    },
    vendorOf,
    rules: loadFingerprints(),
    now: () => new Date('2026-01-01T00:00:00Z'),
    ...over,
  };
}

describe('runDiscovery', () => {
  it('merges sweep, ports, banners, names, mDNS and SSDP per device', async () => {
    const c = fakes();
    const r = await runDiscovery(c, {
      targets: [{ cidr: parseCidr('192.168.77.0/24'), onLink: true }],
      ports: [22, 23, 80, 8200],
      portNames: new Map([[22, 'ssh'], [23, 'telnet'], [80, 'http'], [8200, 'upnp']]),
      self: [{ ip: '192.168.77.10', mac: '2c:cf:67:00:77:10' }, { ip: '10.9.9.9', mac: '00:00:00:00:00:01' }],
      leases: [{ ip: '192.168.77.30', mac: '00:11:32:00:77:30', hostname: 'nas', vendorClass: 'udhcp 1.24.2' }],
    });
    expect(r.devices.map((d) => d.ip)).toEqual(['192.168.77.10', '192.168.77.20', '192.168.77.30', '192.168.77.40']);
    // this host first, then the first host found before the sweep ended, and nobody twice
    expect(c.scanned[0]).toEqual(['192.168.77.10']);
    expect(c.scanned[1]).toEqual(['192.168.77.20']);
    expect(c.scanned.flat().sort()).toEqual(['192.168.77.10', '192.168.77.20', '192.168.77.30', '192.168.77.40']);
    const [self, cam, nas, speaker] = r.devices;
    expect(self).toMatchObject({ self: true, vendor: expect.stringMatching(/Raspberry Pi/), type: 'computer' });
    expect(cam).toMatchObject({ mac: '18:80:25:00:77:20', hostname: 'ipcam-hall.lan', type: 'camera', ipv6: ['fe80::1a80:25ff:fe00:7720'] });
    expect(cam.openPorts.map((p) => `${p.port}/${p.service}`)).toEqual(['23/telnet', '80/http']);
    expect(cam.typeEvidence?.[0].type).toBe('camera');
    expect(nas).toMatchObject({ hostname: 'nas', type: 'nas', vendor: expect.stringMatching(/Synology/) });
    expect(nas.services).toEqual(expect.arrayContaining([
      { via: 'dhcp', name: 'nas', vendorClass: 'udhcp 1.24.2' },
      expect.objectContaining({ via: 'ssdp', type: 'urn:schemas-upnp-org:device:MediaServer:1', model: 'DiskStation Media Server', modelNumber: 'DS218' }),
    ]));
    expect(speaker).toMatchObject({ mac: '00:0e:58:00:77:40', hostname: 'living-room-speaker', type: 'speaker' });
    expect(speaker.services[0]).toEqual({ via: 'mdns', type: '_sonos._tcp', name: 'Living Room', port: 1400 });
    expect(r.stats).toMatchObject({ addressesSwept: 254, hostsFound: 4, openPorts: 4 });
  });

  it('off-link ranges: every address scanned, only answering hosts kept, no MAC', async () => {
    const c = fakes({
      async scan(hosts) {
        return new Map(hosts.map((h) => [h, { open: h === '10.1.0.2' ? [80] : [], alive: h === '10.1.0.2' }]));
      },
    });
    const r = await runDiscovery(c, { targets: [{ cidr: parseCidr('10.1.0.0/29'), onLink: false }], ports: [80], portNames: new Map(), noBanners: true });
    expect(r.devices).toHaveLength(1);
    expect(r.devices[0]).toMatchObject({ ip: '10.1.0.2', mac: null, vendor: null, openPorts: [{ port: 80, proto: 'tcp', service: 'unknown', banner: '' }] });
  });

  it('a failing browse does not sink the run', async () => {
    const c = fakes({ mdns: () => Promise.reject(new Error('boom')), ssdp: () => Promise.reject(new Error('boom')), reverseDns: () => Promise.reject(new Error('x')) });
    const r = await runDiscovery(c, { targets: [{ cidr: parseCidr('192.168.77.0/24'), onLink: true }], ports: [23], portNames: new Map() });
    expect(r.devices.map((d) => d.ip)).toEqual(['192.168.77.20', '192.168.77.30', '192.168.77.40']);
  });
});
