// The passive identity observer fed engine events directly (no capture needed).
import { describe, expect, it } from 'vitest';
import { loadFingerprints } from '../../../src/adapters/net/fingerprint-data.js';
import { vendorOf } from '../../../src/adapters/net/oui.js';
import type { DetectorContext, EngineEvent } from '../../../src/core/engine/events.js';
import { createIdentityObserver } from '../../../src/core/inventory/passive.js';

const base = { ts: 1, frame: 1, file: 'x' };
const ep = (ip: string, mac?: string, port?: number) => ({ ip, mac, port, local: true });
const ctx = { devices: () => [], nameFor: () => undefined, deviceFor: () => undefined, isLocal: () => true, now: () => 1 } as unknown as DetectorContext;

describe('passive identity observer', () => {
  it('turns DHCP, mDNS, SSDP, HTTP and DNS events into a typed device', () => {
    const o = createIdentityObserver();
    const events: EngineEvent[] = [
      { ...base, kind: 'dhcp', op: 1, xid: 1, clientMac: 'B0:C5:54:25:5B:0E', ciaddr: '0.0.0.0', yiaddr: '0.0.0.0', requestedIp: '192.168.0.20', hostname: 'DCS-935L', vendorClass: 'udhcp 1.22.1', paramRequestList: [1, 3, 6], options: [53, 12, 60] },
      { ...base, kind: 'dhcp', op: 2, xid: 1, clientMac: 'b0:c5:54:25:5b:0e', ciaddr: '0.0.0.0', yiaddr: '192.168.0.20', hostname: 'from-the-server', options: [53] },
      {
        ...base, kind: 'mdns', device: { mac: 'b0:c5:54:25:5b:0e' }, id: 0, response: true, opcode: 0, rcode: 0, questions: [], answers: [{ name: '_http._tcp.local', type: 12, typeName: 'PTR', ttl: 1, data: 'D-Link\\032DCS-935L._http._tcp.local', rdLength: 0 }],
        additional: [], size: 1, transport: 'udp', client: ep('192.168.0.20'), server: ep('224.0.0.251'), partial: false, services: [], hostnames: ['dcs-935l.local'],
      },
      { ...base, kind: 'ssdp', client: ep('192.168.0.20', 'b0:c5:54:25:5b:0e', 1900), server: ep('239.255.255.250'), method: 'NOTIFY', target: 'urn:schemas-upnp-org:device:DCS-935L:1', serverHeader: 'Linux,   UPnP/1.0 DCS-935L/1.0', igd: false },
      { ...base, kind: 'ssdp', client: ep('192.168.0.20', 'b0:c5:54:25:5b:0e', 1900), server: ep('239.255.255.250'), method: 'M-SEARCH', target: 'urn:schemas-upnp-org:device:InternetGatewayDevice:1', igd: true },
      { ...base, kind: 'dns', id: 1, response: false, opcode: 0, rcode: 0, questions: [{ name: 'signal.mydlink.com', type: 1, typeName: 'A', class: 1 }], answers: [], additional: [], size: 1, transport: 'udp', client: ep('192.168.0.20', 'b0:c5:54:25:5b:0e'), server: ep('192.168.0.1'), partial: false },
      { ...base, kind: 'ssdp', client: ep('192.168.0.30', 'ff:ff:ff:ff:ff:ff'), server: ep('239.255.255.250'), method: 'NOTIFY', igd: false },
    ];
    for (const e of events) o.onEvent(e, ctx);
    expect(o.finish(ctx)).toEqual([]);
    const [d] = o.devices(loadFingerprints(), vendorOf);
    expect(o.devices(loadFingerprints(), vendorOf)).toHaveLength(1);
    expect(d).toMatchObject({ mac: 'b0:c5:54:25:5b:0e', ip: '192.168.0.20', hostname: 'DCS-935L', type: 'camera', vendor: expect.stringMatching(/D-Link/) });
    expect(d.services).toEqual(expect.arrayContaining([
      { via: 'dhcp', name: 'DCS-935L', vendorClass: 'udhcp 1.22.1', paramRequestList: [1, 3, 6] },
      { via: 'mdns', type: '_http._tcp', name: 'D-Link DCS-935L' },
      { via: 'ssdp', type: 'urn:schemas-upnp-org:device:DCS-935L:1', server: 'Linux, UPnP/1.0 DCS-935L/1.0' },
      { via: 'ssdp', searched: 'urn:schemas-upnp-org:device:InternetGatewayDevice:1', igdSearch: true },
      { via: 'dns', name: 'signal.mydlink.com' },
    ]));
    expect(d.typeEvidence!.length).toBeGreaterThan(0);
  });
});
