import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { oneLine, parseHttpHead, parseMqttConnack, printable, serviceFromGreeting, telnetStep, mqttConnectPacket } from '../../../src/core/inventory/banners.js';
import { parseLeases } from '../../../src/core/inventory/leases.js';
import { foldMdns, mdnsHosts, newMdnsState, splitInstance } from '../../../src/core/inventory/mdns.js';
import { parseSsdpResponse } from '../../../src/core/inventory/ssdp.js';
import { parseDeviceDescription } from '../../../src/core/inventory/upnp-description.js';
import { isResolved, parseNeighJson } from '../../../src/adapters/net/neighbours.js';

const enc = (s: string) => new TextEncoder().encode(s);

describe('telnet negotiation', () => {
  it('refuses options, accepts server echo/SGA, and keeps the text', () => {
    // IAC DO TTYPE, IAC WILL ECHO, IAC WILL SGA, IAC DO NAWS, text
    const st = telnetStep(Uint8Array.from([255, 253, 24, 255, 251, 1, 255, 251, 3, 255, 253, 31, ...enc('\r\nipcam login: ')]));
    expect(st.sawOptions).toBe(true);
    expect([...st.reply]).toEqual([255, 252, 24, 255, 253, 1, 255, 253, 3, 255, 252, 31]);
    expect(st.text).toBe('ipcam login:');
  });
  it('skips subnegotiation and unescapes IAC IAC', () => {
    const st = telnetStep(Uint8Array.from([255, 250, 24, 1, 255, 240, 65, 255, 255, 66]));
    expect(st.reply.length).toBe(0);
    expect(st.text).toBe('A.B');
  });
  it('never throws on arbitrary bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (b) => {
      const st = telnetStep(b);
      expect(st.reply.length % 3).toBe(0);
    }));
  });
});

describe('HTTP / RTSP heads', () => {
  it('reads status, Server and <title>', () => {
    const h = parseHttpHead(enc('HTTP/1.1 200 OK\r\nServer: Hikvision-Webs\r\nContent-Type: text/html\r\n\r\n<html><head><title> Network  Camera &amp; more</title>'));
    expect(h).toMatchObject({ protocol: 'HTTP/1.1', status: 200, reason: 'OK', title: 'Network Camera & more' });
    expect(h?.headers.server).toBe('Hikvision-Webs');
  });
  it('reads RTSP', () => {
    expect(parseHttpHead(enc('RTSP/1.0 200 OK\r\nCSeq: 1\r\nPublic: OPTIONS, DESCRIBE\r\n\r\n'))?.headers.public).toBe('OPTIONS, DESCRIBE');
  });
  it('rejects what is not HTTP and never throws', () => {
    expect(parseHttpHead(enc('SSH-2.0-x\r\n'))).toBeUndefined();
    fc.assert(fc.property(fc.uint8Array({ maxLength: 500 }), (b) => {
      parseHttpHead(b);
      printable(b);
    }));
    fc.assert(fc.property(fc.string({ maxLength: 300 }), (s) => {
      parseHttpHead(enc(`HTTP/1.0 200 X\r\n${s}`));
    }));
  });
});

describe('MQTT', () => {
  it('builds a CONNECT without credentials and reads CONNACK', () => {
    const p = mqttConnectPacket('iotguard-1');
    expect(p[0]).toBe(0x10);
    expect(p[1]).toBe(p.length - 2);
    expect(p[9]).toBe(0x02); // clean session only: no user name / password flags
    expect(parseMqttConnack(Uint8Array.from([0x20, 2, 0, 5]))).toEqual({ returnCode: 5, accepted: false, meaning: 'not authorized' });
    expect(parseMqttConnack(Uint8Array.from([0x20, 2, 0, 0]))?.accepted).toBe(true);
    expect(parseMqttConnack(Uint8Array.from([0x30, 2, 0, 0]))).toBeUndefined();
  });
});

describe('greetings', () => {
  it('names services from what they say first', () => {
    expect(serviceFromGreeting(enc('SSH-2.0-dropbear_2019.78\r\n'))).toBe('ssh');
    expect(serviceFromGreeting(enc('220 (vsFTPd 3.0.3)\r\n'))).toBe('ftp');
    expect(serviceFromGreeting(Uint8Array.from([255, 253, 1]))).toBe('telnet');
    expect(serviceFromGreeting(enc('RFB 003.008\n'))).toBe('vnc');
    expect(serviceFromGreeting(enc(''))).toBeUndefined();
    expect(oneLine('a\n\n b \nc', 5)).toBe('a ...');
  });
});

describe('SSDP and UPnP descriptions', () => {
  it('parses a search response', () => {
    const r = parseSsdpResponse(enc('HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=1800\r\nLOCATION: http://192.168.1.30:8200/rootDesc.xml\r\nSERVER: Linux DLNADOC/1.50 UPnP/1.0 MiniDLNA/1.3.0\r\nST: upnp:rootdevice\r\nUSN: uuid:4d696e69::upnp:rootdevice\r\n\r\n'));
    expect(r).toEqual({ location: 'http://192.168.1.30:8200/rootDesc.xml', server: 'Linux DLNADOC/1.50 UPnP/1.0 MiniDLNA/1.3.0', st: 'upnp:rootdevice', usn: 'uuid:4d696e69::upnp:rootdevice' });
    expect(parseSsdpResponse(enc('M-SEARCH * HTTP/1.1\r\n\r\n'))).toBeUndefined();
  });
  it('parses a device description with embedded devices', () => {
    const d = parseDeviceDescription(`<?xml version="1.0"?><root xmlns="urn:schemas-upnp-org:device-1-0"><device>
      <deviceType>urn:schemas-upnp-org:device:InternetGatewayDevice:1</deviceType><friendlyName>Router</friendlyName>
      <manufacturer>TP-Link</manufacturer><modelName>Archer C7</modelName><modelNumber>5.0</modelNumber><softwareVersion>1.2.3</softwareVersion>
      <deviceList><device><deviceType>urn:schemas-upnp-org:device:WANDevice:1</deviceType></device></deviceList></device></root>`);
    expect(d).toMatchObject({ manufacturer: 'TP-Link', modelName: 'Archer C7', modelNumber: '5.0', firmwareVersion: '1.2.3', embedded: ['urn:schemas-upnp-org:device:WANDevice:1'] });
    expect(parseDeviceDescription('<html>no</html>')).toBeUndefined();
  });
  it('never throws on junk', () => {
    fc.assert(fc.property(fc.string({ maxLength: 400 }), (s) => {
      parseDeviceDescription(s);
      parseDeviceDescription(`<root><device>${s}</device></root>`);
      parseSsdpResponse(enc(`HTTP/1.1 200 OK\r\n${s}`));
    }));
  });
});

describe('mDNS folding', () => {
  it('groups instances by the host A record', () => {
    const st = newMdnsState();
    foldMdns(st, '192.168.1.40', [
      { name: '_services._dns-sd._udp.local', type: 'PTR', data: '_sonos._tcp.local' },
      { name: '_sonos._tcp.local', type: 'PTR', data: 'Living Room._sonos._tcp.local' },
      { name: 'Living Room._sonos._tcp.local', type: 'SRV', data: { port: 1400, target: 'speaker.local' } },
      { name: 'Living Room._sonos._tcp.local', type: 'TXT', data: [Buffer.from('model=One'), Buffer.from('vers=2')] },
      { name: 'speaker.local', type: 'A', data: '192.168.1.41' },
    ]);
    expect([...st.types]).toEqual(['_sonos._tcp']);
    expect(mdnsHosts(st)).toEqual([{ address: '192.168.1.41', hostname: 'speaker.local', services: [{ type: '_sonos._tcp', name: 'Living Room', host: 'speaker.local', port: 1400, txt: { model: 'One', vers: '2' } }] }]);
    expect(splitInstance('a.b._http._tcp.local')).toEqual({ name: 'a.b', type: '_http._tcp' });
  });
  it('survives hostile records', () => {
    fc.assert(fc.property(fc.array(fc.record({ name: fc.string(), type: fc.constantFrom('PTR', 'SRV', 'TXT', 'A', 'AAAA', 'X'), data: fc.anything() }), { maxLength: 20 }), (recs) => {
      const st = newMdnsState();
      foldMdns(st, '10.0.0.1', recs);
      mdnsHosts(st);
    }));
  });
});

describe('leases and the neighbour table', () => {
  it('reads dnsmasq and ISC dhcpd leases', () => {
    expect(parseLeases('1700000000 18:80:25:00:77:20 192.168.77.20 ipcam-hall 01:18:80:25:00:77:20\n0 aa:bb:cc:dd:ee:ff 192.168.77.99 * *\njunk\n')).toEqual([
      { ip: '192.168.77.20', mac: '18:80:25:00:77:20', expires: 1700000000, hostname: 'ipcam-hall' },
      { ip: '192.168.77.99', mac: 'aa:bb:cc:dd:ee:ff', expires: 0 },
    ]);
    const isc = 'lease 10.0.0.5 {\n  hardware ethernet 00:11:32:AA:BB:CC;\n  client-hostname "nas";\n}\nlease 10.0.0.5 {\n  hardware ethernet 00:11:32:aa:bb:cc;\n  client-hostname "nas2";\n  set vendor-class-identifier = "udhcp 1.21.1";\n}\n';
    expect(parseLeases(isc)).toEqual([{ ip: '10.0.0.5', mac: '00:11:32:aa:bb:cc', hostname: 'nas2', vendorClass: 'udhcp 1.21.1' }]);
    fc.assert(fc.property(fc.string({ maxLength: 300 }), (s) => {
      parseLeases(s);
    }));
  });
  it('reads ip -j neigh, with or without the dev field', () => {
    const all = parseNeighJson('[{"dst":"192.168.77.20","dev":"eth0","lladdr":"18:80:25:00:77:20","state":["REACHABLE"]},{"dst":"192.168.77.99","dev":"eth0","state":["FAILED"]},{"dst":"fe80::1","dev":"eth0","lladdr":"14:75:90:00:77:01","router":null,"state":["STALE"]}]', 4);
    expect(all.map((n) => [n.ip, n.mac, isResolved(n)])).toEqual([['192.168.77.20', '18:80:25:00:77:20', true], ['192.168.77.99', null, false]]);
    const devLess = parseNeighJson('[{"dst":"192.168.77.1","lladdr":"14:75:90:00:77:01","state":["DELAY"]}]', 4, 'eth0');
    expect(devLess[0]).toMatchObject({ dev: 'eth0', mac: '14:75:90:00:77:01' });
    const v6 = parseNeighJson('[{"dst":"fe80::1","dev":"eth0","lladdr":"14:75:90:00:77:01","router":null,"state":["STALE"]}]', 6);
    expect(v6[0]).toMatchObject({ router: true, family: 6 });
    expect(parseNeighJson('not json', 4)).toEqual([]);
  });
});
