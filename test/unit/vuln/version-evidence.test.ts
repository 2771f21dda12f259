import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { Device } from '../../../src/core/model/device.js';
import { compareVersions, evidenceFromDevice, inRange, parseHttpHead, parseUpnpDescription, vulnFindings } from '../../../src/core/vuln/index.js';
import { catalog, ids } from './helpers.js';

describe('firmware version comparison', () => {
  it('orders the version styles embedded devices print', () => {
    expect(compareVersions('1.0.7.2', '1.0.7.6')).toBeLessThan(0);
    expect(compareVersions('V1.0.7.6', '1.0.7.6')).toBe(0);
    expect(compareVersions('1.0.10', '1.0.9')).toBeGreaterThan(0);
    expect(compareVersions('1.04b12', '1.04b11')).toBeGreaterThan(0);
    expect(compareVersions('1.04B12', '1.04b12')).toBe(0);
    expect(compareVersions('V5.4.0 build 160530', 'V5.4.0 build 160401')).toBeGreaterThan(0);
    expect(compareVersions('5.21(AAZF.6)C0', '5.21(AAZF.7)C0')).toBeLessThan(0);
    expect(compareVersions('15.03.05.19_multi', '15.03.05.19')).toBeGreaterThan(0);
  });

  it('is antisymmetric and reflexive on arbitrary strings', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (a, b) => {
        expect(Math.sign(compareVersions(a, b))).toBe(-Math.sign(compareVersions(b, a)) || 0);
        expect(compareVersions(a, a)).toBe(0);
      }),
    );
  });

  it('checks ranges: introduced <= v < fixed, v <= lastAffected', () => {
    expect(inRange('1.0.7.2', { fixed: '1.0.7.6' })).toBe(true);
    expect(inRange('1.0.7.6', { fixed: '1.0.7.6' })).toBe(false);
    expect(inRange('10.0.0.50', { lastAffected: '10.0.0.50' })).toBe(true);
    expect(inRange('10.0.0.51', { lastAffected: '10.0.0.50' })).toBe(false);
    expect(inRange('5.1.9', { introduced: '5.2.0', lastAffected: '5.4.0' })).toBe(false);
    expect(inRange('garbage', { fixed: '1.0' })).toBe(false);
  });
});

describe('evidence from raw bytes', () => {
  it('reads Server, realm and title from an HTTP head and from discovery summaries', () => {
    expect(parseHttpHead('HTTP/1.0 401 Unauthorized\r\nServer: Linux/2.x UPnP/1.0 Avtech/1.0\r\nWWW-Authenticate: Basic realm="NETGEAR R7000"\r\n\r\n<html><title>::: Login :::</title>')).toEqual({
      server: 'Linux/2.x UPnP/1.0 Avtech/1.0',
      realm: 'NETGEAR R7000',
      title: '::: Login :::',
    });
    expect(parseHttpHead('401 Unauthorized | Server: JAWS/1.0 | title: x | auth: Basic realm="IPCAM"')).toMatchObject({ server: 'JAWS/1.0', realm: 'IPCAM' });
  });

  it('never throws on hostile bytes', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 2000 }), (s) => {
        parseHttpHead(s);
        parseUpnpDescription(s);
        parseUpnpDescription(`<root><device>${s}</device></root>`);
      }),
    );
    expect(parseUpnpDescription('<root><device><modelName>' + 'A'.repeat(300_000))).toBeUndefined();
  });

  it('reads the identity of a UPnP device description (UDA 1.1 §2.3)', () => {
    const xml = `<?xml version="1.0"?>
<root xmlns="urn:schemas-upnp-org:device-1-0"><specVersion><major>1</major><minor>0</minor></specVersion>
<device><deviceType>urn:schemas-upnp-org:device:InternetGatewayDevice:1</deviceType>
<friendlyName>Home Gateway</friendlyName><manufacturer>Huawei Technologies Co., Ltd.</manufacturer>
<modelName>HG532e</modelName><modelNumber>V100R001</modelNumber><firmwareVersion>V100R001C105B016</firmwareVersion></device></root>`;
    expect(parseUpnpDescription(xml, 'Linux UPnP/1.0 Huawei-ATP-IGD')).toEqual({
      deviceType: 'urn:schemas-upnp-org:device:InternetGatewayDevice:1',
      friendlyName: 'Home Gateway',
      manufacturer: 'Huawei Technologies Co., Ltd.',
      modelName: 'HG532e',
      modelNumber: 'V100R001',
      firmware: 'V100R001C105B016',
      server: 'Linux UPnP/1.0 Huawei-ATP-IGD',
    });
    expect(parseUpnpDescription('<html>not a description</html>')).toBeUndefined();
  });
});

describe('adapter from the CONTRACT device shape (discover --json)', () => {
  // The lab router exactly as `iotguard discover --json` printed it (2026-11-25).
  const router: Device = {
    ip: '192.168.77.1',
    mac: '14:75:90:00:77:01',
    vendor: 'TP-LINK TECHNOLOGIES CO.,LTD.',
    hostname: null,
    type: 'router',
    openPorts: [
      { port: 53, proto: 'tcp', service: 'domain', banner: '' },
      {
        port: 5000,
        proto: 'tcp',
        service: 'http',
        banner: '404 Not Found | Server: Debian/6.18.44-fc-v782 UPnP/1.1 MiniUPnPd/2.3.1 | title: 404 Not Found',
        details: { status: 404, server: 'Debian/6.18.44-fc-v782 UPnP/1.1 MiniUPnPd/2.3.1', title: '404 Not Found' },
      },
    ],
    services: [
      {
        via: 'ssdp',
        type: 'urn:schemas-upnp-org:device:InternetGatewayDevice:2',
        friendlyName: 'Lab Home Router',
        manufacturer: 'iotguard lab',
        model: 'Lab IGD',
        modelNumber: '1',
        location: 'http://192.168.77.1:5000/rootDesc.xml',
        server: 'Debian/12 UPnP/1.1 MiniUPnPd/2.3.1',
      },
    ],
  };

  it('fills ports, HTTP facts, UPnP identity and SSDP server', () => {
    const ev = evidenceFromDevice(router);
    expect(ev.openPorts[1]).toEqual({ port: 5000, proto: 'tcp', service: 'http', banner: router.openPorts[1].banner, http: { server: 'Debian/6.18.44-fc-v782 UPnP/1.1 MiniUPnPd/2.3.1', title: '404 Not Found' } });
    expect(ev.ssdpServer).toEqual(['Debian/12 UPnP/1.1 MiniUPnPd/2.3.1']);
    expect(ev.upnp?.[0]).toMatchObject({ manufacturer: 'iotguard lab', modelName: 'Lab IGD', location: 'http://192.168.77.1:5000/rootDesc.xml' });
    expect(ids(ev)).toEqual([]);
  });

  it('a device whose banner is an affected product gives a finding keyed by MAC and IP', () => {
    const dvr: Device = {
      ip: '192.168.1.64',
      mac: 'aa:bb:cc:00:00:64',
      vendor: null,
      hostname: null,
      type: 'dvr',
      openPorts: [{ port: 80, proto: 'tcp', service: 'http', banner: '200 OK | Server: JAWS/1.0 | title: WEB SERVICE' }],
      services: [],
    };
    const f = vulnFindings(evidenceFromDevice(dvr), catalog);
    expect(f.map((x) => [x.evidence.cve, x.device])).toEqual([['CVE-2016-20016', { ip: '192.168.1.64', mac: 'aa:bb:cc:00:00:64' }]]);
  });
});
