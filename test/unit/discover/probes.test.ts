// Probes against servers this test starts on 127.0.0.1 (no other traffic).
import dgram from 'node:dgram';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import dnsPacket from 'dns-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { grabBanner } from '../../../src/adapters/probe/banner.js';
import { mdnsBrowse } from '../../../src/adapters/probe/mdns.js';
import { scanPorts } from '../../../src/adapters/probe/portscan.js';
import { ssdpDiscover } from '../../../src/adapters/probe/ssdp-discover.js';

const closers: Array<() => void> = [];
afterAll(() => closers.forEach((c) => c()));

async function tcpServer(onConn: (s: net.Socket) => void): Promise<number> {
  const srv = net.createServer(onConn);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  closers.push(() => srv.close());
  return (srv.address() as AddressInfo).port;
}

/** A free port nobody listens on: bind, read the number, close. */
async function closedPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const p = (srv.address() as AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return p;
}

let telnetPort = 0;
let telnetReplies: number[] = [];
let sshPort = 0;
let httpPort = 0;
let rtspPort = 0;
let mqttPort = 0;
let silentHttpPort = 0;
let mqttSawCredentials = false;

beforeAll(async () => {
  telnetPort = await tcpServer((s) => {
    // busybox-like: options first, the prompt only after the client answered
    s.write(Buffer.from([255, 253, 1, 255, 253, 31, 255, 251, 1, 255, 251, 3]));
    s.once('data', (d) => {
      telnetReplies = [...d];
      s.write('\r\nDebian GNU/Linux 12\r\nipcam login: ');
    });
    s.on('error', () => {});
  });
  sshPort = await tcpServer((s) => {
    s.write('SSH-2.0-dropbear_2019.78\r\n');
    s.on('error', () => {});
  });
  const web = http.createServer((req, res) => {
    res.setHeader('Server', 'Hikvision-Webs');
    res.setHeader('WWW-Authenticate', 'Basic realm="IPCAM"');
    res.writeHead(401, { 'content-type': 'text/html' });
    res.end('<html><head><title>Network Camera</title></head></html>');
  });
  await new Promise<void>((r) => web.listen(0, '127.0.0.1', r));
  closers.push(() => web.close());
  httpPort = (web.address() as AddressInfo).port;
  rtspPort = await tcpServer((s) => {
    s.on('data', (d) => {
      if (d.toString().startsWith('OPTIONS rtsp://')) s.write('RTSP/1.0 200 OK\r\nCSeq: 1\r\nServer: Hikvision RTSP\r\nPublic: OPTIONS, DESCRIBE, PLAY\r\n\r\n');
    });
    s.on('error', () => {});
  });
  mqttPort = await tcpServer((s) => {
    s.on('data', (d) => {
      if (d[0] === 0x10) {
        mqttSawCredentials = (d[9] & 0xc0) !== 0;
        s.write(Buffer.from([0x20, 2, 0, 5]));
      }
    });
    s.on('error', () => {});
  });
  // says nothing first, but answers HTTP: found by the fallback
  const quiet = http.createServer((_req, res) => res.end('<title>Smart Plug</title>'));
  await new Promise<void>((r) => quiet.listen(0, '127.0.0.1', r));
  closers.push(() => quiet.close());
  silentHttpPort = (quiet.address() as AddressInfo).port;
});

describe('TCP connect scan', () => {
  it('finds exactly the listening ports', async () => {
    const closed = await closedPort();
    const r = await scanPorts(['127.0.0.1'], [closed, sshPort, httpPort, telnetPort], { concurrency: 2, timeoutMs: 1000 });
    const h = r.get('127.0.0.1')!;
    expect(h.open).toEqual([sshPort, httpPort, telnetPort].sort((a, b) => a - b));
    expect(h.closed).toBe(1);
    expect(h.alive).toBe(true);
  });
  it('reports progress for every probe', async () => {
    let last = 0;
    await scanPorts(['127.0.0.1'], [sshPort, httpPort], { onProgress: (d) => (last = d) });
    expect(last).toBe(2);
  });
});

describe('banners', () => {
  it('telnet: refuses options and reads up to the login prompt', async () => {
    const b = await grabBanner('127.0.0.1', telnetPort, 'telnet', { timeoutMs: 2000 });
    expect(b.service).toBe('telnet');
    expect(b.banner).toBe('Debian GNU/Linux 12 | ipcam login:');
    expect(b.details).toMatchObject({ options: true, prompt: 'ipcam login:' });
    expect(telnetReplies).toEqual([255, 252, 1, 255, 252, 31, 255, 253, 1, 255, 253, 3]);
  });
  it('ssh: the identification line, whatever the port table says', async () => {
    const b = await grabBanner('127.0.0.1', sshPort, undefined, { timeoutMs: 2000 });
    expect(b).toMatchObject({ service: 'ssh', banner: 'SSH-2.0-dropbear_2019.78' });
  });
  it('http: status, Server, title and auth scheme', async () => {
    const b = await grabBanner('127.0.0.1', httpPort, 'http', { timeoutMs: 2000 });
    expect(b.service).toBe('http');
    expect(b.details).toMatchObject({ status: 401, server: 'Hikvision-Webs', title: 'Network Camera', authenticate: 'Basic' });
    expect(b.banner).toContain('Server: Hikvision-Webs');
  });
  it('rtsp: OPTIONS', async () => {
    const b = await grabBanner('127.0.0.1', rtspPort, 'rtsp', { timeoutMs: 2000 });
    expect(b.details).toMatchObject({ status: 200, server: 'Hikvision RTSP', methods: 'OPTIONS, DESCRIBE, PLAY' });
  });
  it('mqtt: asks without credentials and reads the verdict', async () => {
    const b = await grabBanner('127.0.0.1', mqttPort, 'mqtt', { timeoutMs: 2000 });
    expect(b.details).toEqual({ returnCode: 5, anonymous: false });
    expect(b.banner).toMatch(/CONNACK 5 \(not authorized\)/);
    expect(mqttSawCredentials).toBe(false);
  });
  it('an unknown silent port that speaks HTTP', async () => {
    const b = await grabBanner('127.0.0.1', silentHttpPort, undefined, { timeoutMs: 1500 });
    expect(b.service).toBe('http');
    expect(b.details).toMatchObject({ title: 'Smart Plug' });
  });
  it('a closed port gives an empty banner, not an error', async () => {
    const b = await grabBanner('127.0.0.1', await closedPort(), 'http', { timeoutMs: 500 });
    expect(b).toEqual({ port: b.port, proto: 'tcp', service: 'http', banner: '' });
  });
});

describe('mDNS browse (unicast to a loopback responder)', () => {
  it('enumerates service types, then instances, SRV, TXT and A', async () => {
    const sock = dgram.createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
    closers.push(() => sock.close());
    const asked: string[] = [];
    sock.on('message', (msg, rinfo) => {
      const q = dnsPacket.decode(msg);
      const answers: dnsPacket.Answer[] = [];
      for (const qq of q.questions ?? []) {
        asked.push(qq.name);
        if (qq.name === '_services._dns-sd._udp.local') answers.push({ name: qq.name, type: 'PTR', ttl: 10, data: '_sonos._tcp.local' });
        if (qq.name === '_sonos._tcp.local') {
          answers.push({ name: qq.name, type: 'PTR', ttl: 10, data: 'Living Room._sonos._tcp.local' });
          answers.push({ name: 'Living Room._sonos._tcp.local', type: 'SRV', ttl: 10, data: { port: 1400, target: 'speaker.local', priority: 0, weight: 0 } });
          answers.push({ name: 'Living Room._sonos._tcp.local', type: 'TXT', ttl: 10, data: ['model=One'] });
          answers.push({ name: 'speaker.local', type: 'A', ttl: 10, data: '127.0.0.1' });
        }
      }
      sock.send(dnsPacket.encode({ type: 'response', id: q.id, flags: dnsPacket.AUTHORITATIVE_ANSWER, questions: q.questions, answers }), rinfo.port, rinfo.address);
    });
    const port = (sock.address() as AddressInfo).port;
    const hosts = await mdnsBrowse({ address: '127.0.0.1', port, timeoutMs: 600 });
    expect(asked).toContain('_sonos._tcp.local');
    expect(hosts).toEqual([{ address: '127.0.0.1', hostname: 'speaker.local', services: [{ type: '_sonos._tcp', name: 'Living Room', host: 'speaker.local', port: 1400, txt: { model: 'One' } }] }]);
  });
  it('drops answers from outside the scanned range', async () => {
    const sock = dgram.createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
    closers.push(() => sock.close());
    sock.on('message', (msg, rinfo) => {
      const q = dnsPacket.decode(msg);
      sock.send(dnsPacket.encode({ type: 'response', id: q.id, answers: [{ name: 'x.local', type: 'A', ttl: 1, data: '127.0.0.1' }] }), rinfo.port, rinfo.address);
    });
    const hosts = await mdnsBrowse({ address: '127.0.0.1', port: (sock.address() as AddressInfo).port, timeoutMs: 300, accept: () => false });
    expect(hosts).toEqual([]);
  });
});

describe('SSDP discovery (unicast to a loopback responder)', () => {
  it('answers M-SEARCH ssdp:all and the description gives manufacturer, model, firmware', async () => {
    const desc = http.createServer((req, res) => {
      res.writeHead(req.url === '/rootDesc.xml' ? 200 : 404, { 'content-type': 'text/xml' });
      res.end(`<?xml version="1.0"?><root xmlns="urn:schemas-upnp-org:device-1-0"><device><deviceType>urn:schemas-upnp-org:device:MediaServer:1</deviceType>
        <friendlyName>nas: minidlna</friendlyName><manufacturer>Synology</manufacturer><modelName>DiskStation Media Server</modelName><modelNumber>DS218</modelNumber><firmwareVersion>7.2</firmwareVersion></device></root>`);
    });
    await new Promise<void>((r) => desc.listen(0, '127.0.0.1', r));
    closers.push(() => desc.close());
    const descPort = (desc.address() as AddressInfo).port;
    const sock = dgram.createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
    closers.push(() => sock.close());
    let st = '';
    sock.on('message', (msg, rinfo) => {
      st = /\r\nST: (.*)\r\n/.exec(msg.toString())?.[1] ?? '';
      for (const t of ['upnp:rootdevice', 'urn:schemas-upnp-org:device:MediaServer:1']) {
        sock.send(`HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=1800\r\nLOCATION: http://127.0.0.1:${descPort}/rootDesc.xml\r\nSERVER: Linux UPnP/1.0 MiniDLNA/1.3.0\r\nST: ${t}\r\nUSN: uuid:1::${t}\r\n\r\n`, rinfo.port, rinfo.address);
      }
    });
    const found = await ssdpDiscover({ address: '127.0.0.1', port: (sock.address() as AddressInfo).port, timeoutMs: 500 });
    expect(st).toBe('ssdp:all');
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ address: '127.0.0.1', server: 'Linux UPnP/1.0 MiniDLNA/1.3.0', targets: ['upnp:rootdevice', 'urn:schemas-upnp-org:device:MediaServer:1'] });
    expect(found[0].description).toMatchObject({ manufacturer: 'Synology', modelName: 'DiskStation Media Server', modelNumber: 'DS218', firmwareVersion: '7.2' });
  });
});
