import { describe, expect, it } from 'vitest';
import { ACK, RST, SYN, TcpConv, bytes, dnsQuery, dnsResponse, eth, ipv4, pcap, tcp, udp, type Frame } from './pkt.js';
import { ofKind, runEngine, type Run } from './run.js';
import type { Detector } from '../../../src/core/engine/events.js';
import { MAX_BEHIND_MAC, MAX_DEVICES } from '../../../src/core/flows/devices.js';

const CAM = { mac: '18:80:25:00:77:20', ip: '192.168.77.20' };
const ROUTER = { mac: '14:75:90:00:77:01', ip: '192.168.77.1' };
const T0 = 1700000000;

function dnsExchange(dev: { mac: string; ip: string }, name: string, addrs: string[], ts = T0): Frame[] {
  return [
    { ts, data: eth(dev.mac, ROUTER.mac, 0x0800, ipv4(dev.ip, ROUTER.ip, 17, udp(40000, 53, dnsQuery(7, name)))) },
    { ts: ts + 0.01, data: eth(ROUTER.mac, dev.mac, 0x0800, ipv4(ROUTER.ip, dev.ip, 17, udp(53, 40000, dnsResponse(7, name, addrs)))) },
  ];
}

describe('traffic engine', () => {
  it('gives each destination the name the device looked up, and decodes plain-HTTP firmware with Basic auth', () => {
    const fw = new TcpConv({ ...CAM, port: 51000 }, { mac: ROUTER.mac, ip: '5.45.1.20', port: 80 }, T0 + 1)
      .handshake()
      .client('GET /firmware/plug-v1.2.3.bin HTTP/1.1\r\nHost: fw.plugco.example\r\nUser-Agent: plug/1.0\r\nAuthorization: Basic ' + Buffer.from('admin:s3cret').toString('base64') + '\r\n\r\n')
      .server('HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 20\r\n\r\n')
      .server([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, ...new Array(12).fill(0)])
      .close();
    const file = pcap([...dnsExchange(CAM, 'fw.plugco.example', ['5.45.1.20']), ...fw.frames]);
    const { result, events } = runEngine(file, { wants: ['dns', 'http-request', 'http-response', 'flow-open', 'flow-close', 'flow-state'] });

    expect(result.summary.packets).toBe(2 + fw.frames.length);
    const cam = result.devices.find((d) => d.ip === CAM.ip);
    expect(cam?.mac).toBe(CAM.mac);
    const dest = cam?.destinations.find((d) => d.port === 80);
    expect(dest).toMatchObject({ name: 'fw.plugco.example', ip: '5.45.1.20', proto: 'tcp', direction: 'out', flows: 1 });
    expect(dest?.bytes).toBeGreaterThan(100);
    // the internet host is not a device (it sends with the router's MAC); the router is, from its LAN address
    expect(result.devices.find((d) => d.ip === '5.45.1.20')).toBeUndefined();
    expect(result.devices.find((d) => d.ip === ROUTER.ip)?.mac).toBe(ROUTER.mac);

    const [req] = ofKind(events, 'http-request');
    expect(req).toMatchObject({ method: 'GET', path: '/firmware/plug-v1.2.3.bin', host: 'fw.plugco.example', userAgent: 'plug/1.0', device: { mac: CAM.mac, ip: CAM.ip } });
    expect(req.authorization).toEqual({ scheme: 'Basic', username: 'admin', cleartextPassword: true });
    expect(JSON.stringify(events)).not.toContain('s3cret');
    const [res] = ofKind(events, 'http-response');
    expect(res.status).toBe(200);
    expect(res.request?.path).toBe('/firmware/plug-v1.2.3.bin');
    expect([...res.bodyPrefix.slice(0, 4)]).toEqual([0x7f, 0x45, 0x4c, 0x46]);

    const [dns] = ofKind(events, 'dns').filter((e) => e.response);
    expect(dns.answers[0]).toMatchObject({ typeName: 'A', data: '5.45.1.20' });
    expect(dns.queryTs).toBeCloseTo(T0, 3);
    const states = ofKind(events, 'flow-state').filter((e) => e.flow.server.port === 80).map((e) => e.flow.tcpState);
    expect(states).toEqual(['syn-ack', 'established', 'closing', 'closed']);
    const close = ofKind(events, 'flow-close').find((e) => e.flow.server.port === 80);
    expect(close?.reason).toBe('fin');
    expect(close?.flow.serverName).toBe('fw.plugco.example');
  });

  it('decodes a UPnP AddPortMapping whose body spans segments, delivered out of order', () => {
    const body = `<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><u:AddPortMapping xmlns:u="urn:schemas-upnp-org:service:WANIPConnection:1"><NewRemoteHost></NewRemoteHost><NewExternalPort>2323</NewExternalPort><NewProtocol>TCP</NewProtocol><NewInternalPort>23</NewInternalPort><NewInternalClient>192.168.77.20</NewInternalClient><NewEnabled>1</NewEnabled><NewPortMappingDescription>cam telnet</NewPortMappingDescription><NewLeaseDuration>0</NewLeaseDuration></u:AddPortMapping></s:Body></s:Envelope>`;
    const head = `POST /ctl/IPConn HTTP/1.1\r\nHost: 192.168.77.1:5000\r\nContent-Type: text/xml; charset="utf-8"\r\nSOAPAction: "urn:schemas-upnp-org:service:WANIPConnection:1#AddPortMapping"\r\nContent-Length: ${body.length}\r\n\r\n`;
    const c = new TcpConv({ ...CAM, port: 50100 }, { ...ROUTER, port: 5000 }).handshake().client(head).client(body.slice(0, 200)).client(body.slice(200)).server('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');
    const frames = [...c.frames];
    // swap the two body segments: the engine must hold the later one until the gap fills
    [frames[4], frames[5]] = [frames[5], frames[4]];
    const { events } = runEngine(pcap(frames), { wants: ['upnp-soap', 'http-request'] });
    const [soap] = ofKind(events, 'upnp-soap');
    expect(soap).toMatchObject({
      action: 'AddPortMapping',
      serviceType: 'urn:schemas-upnp-org:service:WANIPConnection:1',
      controlPath: '/ctl/IPConn',
      mapping: { protocol: 'TCP', externalPort: 2323, internalPort: 23, internalClient: '192.168.77.20', enabled: true, description: 'cam telnet', leaseSeconds: 0 },
      device: { mac: CAM.mac, ip: CAM.ip },
    });
    expect(soap.server).toMatchObject({ ip: ROUTER.ip, port: 5000 });
  });

  it('reports MQTT CONNECT without the password, and the broker verdict', () => {
    const user = bytes('plug');
    const pass = bytes('plugpass123');
    const cid = bytes('plug-60');
    const vh = [0, 4, ...bytes('MQTT'), 4, 0xc2, 0, 60];
    const pl = [0, cid.length, ...cid, 0, user.length, ...user, 0, pass.length, ...pass];
    const connect = [0x10, vh.length + pl.length, ...vh, ...pl];
    const c = new TcpConv({ mac: '70:89:76:00:77:60', ip: '192.168.77.60', port: 40001 }, { mac: ROUTER.mac, ip: '5.45.1.40', port: 1883 })
      .handshake()
      .client(connect)
      .server([0x20, 2, 0, 0]);
    const { events } = runEngine(pcap(c.frames), { wants: ['mqtt-connect', 'mqtt-connack'] });
    expect(ofKind(events, 'mqtt-connect')[0]).toMatchObject({ protocolName: 'MQTT', protocolLevel: 4, clientId: 'plug-60', username: 'plug', passwordPresent: true, keepAlive: 60, cleanSession: true });
    expect(ofKind(events, 'mqtt-connack')[0]).toMatchObject({ returnCode: 0, accepted: true });
    expect(JSON.stringify(events)).not.toContain('plugpass123');
  });

  it('follows a telnet login through IAC negotiation: prompt, attempt, failure, attempt, success', () => {
    const c = new TcpConv({ mac: '14:08:08:00:77:70', ip: '192.168.77.70', port: 40002 }, { ...CAM, port: 23 })
      .handshake()
      .server([255, 253, 24, 255, 251, 1, ...bytes('\r\nipcam login: ')])
      .client([255, 252, 24, ...bytes('root\r\n')])
      .server('Password: ')
      .client('wrong\r\n')
      .server('\r\nLogin incorrect\r\nipcam login: ')
      .client('r')
      .client('oot\r\n')
      .server('Password: ')
      .client('xc3511\r\n')
      .server('\r\n\r\nBusyBox v1.21.1 built-in shell (ash)\r\n# ');
    const { events } = runEngine(pcap(c.frames), { wants: ['login'] });
    const steps = ofKind(events, 'login').map((e) => [e.step, e.username ?? null, e.attempt]);
    expect(steps).toEqual([
      ['prompt', null, 0],
      ['attempt', 'root', 1],
      ['failure', 'root', 1],
      ['prompt', null, 1],
      ['attempt', 'root', 2],
      ['success', 'root', 2],
    ]);
    expect(ofKind(events, 'login').every((e) => e.service === 'telnet')).toBe(true);
    expect(JSON.stringify(events)).not.toContain('xc3511');
  });

  it('counts FTP attempts and verdicts', () => {
    const c = new TcpConv({ mac: '02:00:00:00:00:09', ip: '192.168.1.9', port: 40003 }, { mac: '02:00:00:00:00:21', ip: '192.168.1.21', port: 21 })
      .handshake()
      .server('220 ProFTPD ready\r\n')
      .client('USER admin\r\n')
      .server('331 Password required\r\n')
      .client('PASS nope\r\n')
      .server('530 Login incorrect.\r\n')
      .client('PASS admin\r\n')
      .server('230 User admin logged in\r\n');
    const { events } = runEngine(pcap(c.frames), { wants: ['login'] });
    expect(ofKind(events, 'login').map((e) => `${e.step}:${e.username ?? ''}:${e.attempt}`)).toEqual(['prompt::0', 'attempt:admin:1', 'failure:admin:1', 'attempt:admin:2', 'success:admin:2']);
  });

  it('marks a SYN answered by RST as rejected and closes the flow', () => {
    const a = { mac: '14:08:08:00:77:70', ip: '192.168.77.70' };
    const frames: Frame[] = [
      { ts: T0, data: eth(a.mac, CAM.mac, 0x0800, ipv4(a.ip, CAM.ip, 6, tcp({ sport: 41000, dport: 2323, seq: 1, flags: SYN }))) },
      { ts: T0 + 0.001, data: eth(CAM.mac, a.mac, 0x0800, ipv4(CAM.ip, a.ip, 6, tcp({ sport: 2323, dport: 41000, ack: 2, flags: RST | ACK }))) },
    ];
    const { events, result } = runEngine(pcap(frames), { wants: ['flow-close', 'flow-open'] });
    expect(ofKind(events, 'flow-open')[0].flow.tcpState).toBe('syn');
    const [close] = ofKind(events, 'flow-close');
    expect(close).toMatchObject({ reason: 'rst', flow: { tcpState: 'rejected', client: { ip: a.ip, port: 41000 }, server: { ip: CAM.ip, port: 2323 } } });
    // LAN to LAN: the scanner sees an outbound destination, the camera an inbound one
    expect(result.devices.find((d) => d.ip === a.ip)?.destinations[0]).toMatchObject({ ip: CAM.ip, port: 2323, direction: 'out' });
    expect(result.devices.find((d) => d.ip === CAM.ip)?.destinations[0]).toMatchObject({ ip: a.ip, port: 2323, direction: 'in' });
  });

  it('reads DHCP options 12, 55, 60, 61, 81 and names the device', () => {
    const chaddr = [0x70, 0x89, 0x76, 0x00, 0x77, 0x60];
    const bootp = [1, 1, 6, 0, 0xde, 0xad, 0xbe, 0xef, 0, 0, 0, 0, ...new Array(16).fill(0), ...chaddr, ...new Array(10 + 64 + 128).fill(0), 99, 130, 83, 99];
    const vc = bytes('dhcpcd-6.8.2:Linux-3.10.14:mips');
    const opts = [53, 1, 3, 12, 11, ...bytes('smartplug-1'), 55, 4, 1, 3, 6, 15, 60, vc.length, ...vc, 61, 7, 1, ...chaddr, 81, 6, 0, 0, 0, ...bytes('plu'), 50, 4, 192, 168, 77, 60, 255];
    const frame = eth('70:89:76:00:77:60', 'ff:ff:ff:ff:ff:ff', 0x0800, ipv4('0.0.0.0', '255.255.255.255', 17, udp(68, 67, [...bootp, ...opts])));
    const { events, result } = runEngine(pcap([{ ts: T0, data: frame }]), { wants: ['dhcp'] });
    expect(ofKind(events, 'dhcp')[0]).toMatchObject({
      op: 1,
      messageTypeName: 'REQUEST',
      clientMac: '70:89:76:00:77:60',
      hostname: 'smartplug-1',
      paramRequestList: [1, 3, 6, 15],
      vendorClass: 'dhcpcd-6.8.2:Linux-3.10.14:mips',
      clientId: '01708976007760',
      fqdn: 'plu',
      requestedIp: '192.168.77.60',
    });
    expect(result.devices[0]).toMatchObject({ mac: '70:89:76:00:77:60', hostname: 'smartplug-1', vendorClass: 'dhcpcd-6.8.2:Linux-3.10.14:mips' });
  });

  it('decodes NAT-PMP and SSDP IGD searches, VLAN tags and IPv6', () => {
    const natpmp = [0, 2, 0, 0, 0x09, 0x10, 0x09, 0x10, 0, 0, 0x0e, 0x10];
    const msearch = bytes('M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: "ssdp:discover"\r\nMX: 2\r\nST: urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\n\r\n');
    const v6src = [0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0x02, 0, 0, 0, 0, 0, 0, 0x50];
    const v6dst = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
    const l4 = tcp({ sport: 50000, dport: 443, flags: SYN });
    // hop-by-hop extension header (8 bytes) in front of TCP
    const v6 = [0x60, 0, 0, 0, 0, l4.length + 8, 0, 64, ...v6src, ...v6dst, 6, 0, 1, 4, 0, 0, 0, 0, ...l4];
    const frames: Frame[] = [
      { ts: T0, data: eth('00:04:1f:00:77:50', ROUTER.mac, 0x0800, ipv4('192.168.77.50', ROUTER.ip, 17, udp(5350, 5351, natpmp))) },
      { ts: T0 + 1, data: eth('00:04:1f:00:77:50', '01:00:5e:7f:ff:fa', 0x0800, ipv4('192.168.77.50', '239.255.255.250', 17, udp(50001, 1900, msearch)), 77) },
      { ts: T0 + 2, data: eth('00:04:1f:00:77:50', ROUTER.mac, 0x86dd, v6) },
    ];
    const { events, result } = runEngine(pcap(frames), { wants: ['natpmp', 'ssdp', 'packet'] });
    expect(ofKind(events, 'natpmp')[0]).toMatchObject({ protocol: 'nat-pmp', response: false, opcode: 2, mapProto: 'tcp', internalPort: 2320, externalPort: 2320, lifetime: 3600 });
    expect(ofKind(events, 'ssdp')[0]).toMatchObject({ method: 'M-SEARCH', igd: true, target: 'urn:schemas-upnp-org:device:InternetGatewayDevice:1' });
    const pk = ofKind(events, 'packet');
    expect(pk[1]).toMatchObject({ vlan: 77, proto: 'udp', dstPort: 1900, srcIp: '192.168.77.50' });
    expect(pk[2]).toMatchObject({ ipVersion: 6, srcIp: 'fe80::200:0:0:50', dstIp: '2001:db8::1', proto: 'tcp', dstPort: 443, tcpFlags: SYN });
    const dev = result.devices.find((d) => d.mac === '00:04:1f:00:77:50');
    expect(dev?.ips).toEqual(['192.168.77.50', 'fe80::200:0:0:50']);
    expect(dev?.ip).toBe('192.168.77.50');
  });

  it('disables a detector that throws, keeps going, and includes the others\' findings sorted', () => {
    const bad: Detector = { name: 'bad', wants: ['dns'], onEvent: () => { throw new Error('boom'); }, finish: () => [] };
    const good: Detector = {
      name: 'good',
      wants: ['dns'],
      onEvent: () => undefined,
      finish: (ctx) => [
        { id: 'dns-bypass', severity: 'low', title: 'b', device: { ip: CAM.ip }, evidence: { name: ctx.nameFor({ ip: CAM.ip }, '5.45.1.20') }, advice: 'x' },
        { id: 'dns-tunnel', severity: 'high', title: 'a', device: { ip: CAM.ip }, evidence: {}, advice: 'y' },
      ],
    };
    const { result, warnings } = runEngine(pcap(dnsExchange(CAM, 'fw.plugco.example', ['5.45.1.20'])), { extra: [bad, good] });
    expect(warnings.join('\n')).toMatch(/detector bad failed and was disabled: boom/);
    expect(result.findings.map((f) => f.id)).toEqual(['dns-tunnel', 'dns-bypass']);
    expect(result.findings[1].evidence.name).toBe('fw.plugco.example');
  });

  it('a detector that throws is disabled without the next one missing that event', () => {
    const bad: Detector = { name: 'bad', wants: ['dns'], onEvent: () => { throw new Error('boom'); }, finish: () => [] };
    let seen = 0;
    const next: Detector = { name: 'next', wants: ['dns'], onEvent: () => void seen++, finish: () => [] };
    runEngine(pcap(dnsExchange(CAM, 'fw.plugco.example', ['5.45.1.20'])), { extra: [bad, next] });
    expect(seen).toBe(2);
  });

  it("'dns-query' subscribers get the queries only; 'dns' ones both; responses still name destinations", () => {
    const flow = new TcpConv({ ...CAM, port: 51001 }, { mac: ROUTER.mac, ip: '5.45.1.21', port: 443 }, T0 + 1).handshake().close();
    const file = pcap([...dnsExchange(CAM, 'api.plugco.example', ['5.45.1.21']), ...flow.frames]);
    const got: Array<{ who: string; response: boolean; answers: number }> = [];
    const sub = (who: string, wants: Detector['wants']): Detector => ({
      name: who,
      wants,
      onEvent: (e) => void (e.kind === 'dns' && got.push({ who, response: e.response, answers: e.answers.length })),
      finish: () => [],
    });
    const only = runEngine(file, { wants: ['flow-close'], extra: [sub('queries', ['dns-query'])] });
    expect(got).toEqual([{ who: 'queries', response: false, answers: 0 }]);
    expect(only.result.devices.find((d) => d.ip === CAM.ip)?.destinations.find((d) => d.ip === '5.45.1.21')?.name).toBe('api.plugco.example');
    got.length = 0;
    runEngine(file, { wants: ['flow-close'], extra: [sub('queries', ['dns-query']), sub('all', ['dns'])] });
    expect(got.filter((g) => g.who === 'queries')).toEqual([{ who: 'queries', response: false, answers: 0 }]);
    expect(got.filter((g) => g.who === 'all').map((g) => [g.response, g.answers])).toEqual([
      [false, 0],
      [true, 1],
    ]);
    // asking for both gets each query once
    got.length = 0;
    runEngine(file, { wants: ['flow-close'], extra: [sub('both', ['dns', 'dns-query'])] });
    expect(got.map((g) => g.response)).toEqual([false, true]);
  });

  it('keeps the packets before a malformed record and says where it is', () => {
    const good = pcap(dnsExchange(CAM, 'a.example', ['1.2.3.4']));
    const broken = new Uint8Array(good.length + 16);
    broken.set(good);
    // a record header claiming 1 GiB of data
    broken.set([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x40, 0, 0, 0, 0x40], good.length);
    const { result } = runEngine(broken);
    expect(result.summary.packets).toBe(2);
    expect(result.summary.errors?.[0].offset).toBe(good.length);
    expect(result.summary.errors?.[0].message).toMatch(new RegExp(`byte offset ${good.length}`));
  });
  it('fills every header field HTTP events carry (the head parser keeps only those), in any case and order', () => {
    const c = new TcpConv({ ...CAM, port: 51500 }, { ...ROUTER, port: 80 }, T0 + 5)
      .handshake()
      .client('POST /login.cgi HTTP/1.1\r\nx-noise: 1\r\nUSER-AGENT:  cam-app/2 \r\nContent-Type: application/x-www-form-urlencoded\r\nhost: 192.168.77.1\r\nSoapAction: "urn:x#Y"\r\nAuthorization: Digest username="admin", realm="r"\r\nContent-Length: 4\r\n\r\na=bc')
      .server('HTTP/1.0 401 Unauthorized\r\nServer: Boa/0.94.14rc21\r\nwww-authenticate: Digest realm="r", nonce="n"\r\nContent-Type: text/html\r\nContent-Length: 0\r\n\r\n')
      .close();
    const { events } = runEngine(pcap(c.frames), { wants: ['http-request', 'http-response'] });
    const [req] = ofKind(events, 'http-request');
    expect(req).toMatchObject({ method: 'POST', path: '/login.cgi', host: '192.168.77.1', userAgent: 'cam-app/2', contentType: 'application/x-www-form-urlencoded', contentLength: 4, soapAction: 'urn:x#Y' });
    expect(req.authorization).toMatchObject({ scheme: 'Digest', username: 'admin', cleartextPassword: false });
    expect([...req.bodyPrefix]).toEqual([...Buffer.from('a=bc')]);
    const [res] = ofKind(events, 'http-response');
    expect(res).toMatchObject({ status: 401, reason: 'Unauthorized', version: 'HTTP/1.0', serverHeader: 'Boa/0.94.14rc21', authChallenge: 'Digest', contentType: 'text/html', contentLength: 0 });
  });

  it('emits one SSDP event per datagram, repeated announcements included (each distinct one is decoded once)', () => {
    const notify = (nt: string) => `NOTIFY * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nNT: ${nt}\r\nNTS: ssdp:alive\r\nSERVER: Linux/3.10 UPnP/1.0 cam/1.0\r\nLOCATION: http://192.168.77.20:49152/desc.xml\r\nUSN: uuid:1::${nt}\r\n\r\n`;
    const frames: Frame[] = ['upnp:rootdevice', 'upnp:rootdevice', 'urn:schemas-upnp-org:device:Basic:1', 'upnp:rootdevice'].map((nt, i) => ({
      ts: T0 + i,
      data: eth(CAM.mac, '01:00:5e:7f:ff:fa', 0x0800, ipv4(CAM.ip, '239.255.255.250', 17, udp(1900, 1900, bytes(notify(nt))))),
    }));
    const { events } = runEngine(pcap(frames), { wants: ['ssdp'] });
    const ssdp = ofKind(events, 'ssdp');
    expect(ssdp.map((e) => e.target)).toEqual(['upnp:rootdevice', 'upnp:rootdevice', 'urn:schemas-upnp-org:device:Basic:1', 'upnp:rootdevice']);
    expect(ssdp.map((e) => e.frame)).toEqual([1, 2, 3, 4]);
    expect(ssdp.every((e) => e.method === 'NOTIFY' && e.serverHeader === 'Linux/3.10 UPnP/1.0 cam/1.0' && e.client.ip === CAM.ip)).toBe(true);
    expect(ssdp[2].usn).toBe('uuid:1::urn:schemas-upnp-org:device:Basic:1');
  });

  it('gives the same HTTP events however the heads and bodies are cut into segments (CRLFCRLF straddling any boundary)', () => {
    const req1 = 'GET /cgi-bin/status?x=1 HTTP/1.1\r\nHost: cam.local\r\nUser-Agent: app/3\r\nAuthorization: Basic ' + Buffer.from('admin:1234').toString('base64') + '\r\n\r\n';
    const res1 = 'HTTP/1.1 200 OK\r\nServer: GoAhead-Webs\r\nContent-Type: application/octet-stream\r\nContent-Length: 300\r\n\r\n';
    const body1 = Array.from({ length: 300 }, (_, i) => (i * 7 + 3) & 0xff);
    const req2 = 'POST /login.cgi HTTP/1.1\r\nHost: cam.local\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 9\r\n\r\nuser=root';
    const res2 = 'HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm="cam"\r\nContent-Length: 0\r\n\r\n';
    const toClient = [...bytes(res1), ...body1, ...bytes(res2)];
    const toServer = [...bytes(req1), ...bytes(req2)];
    const run = (cut: number[]) => {
      // requests and responses alternate as on a keep-alive connection; each side is cut into the given sizes, cycling
      const c = new TcpConv({ ...CAM, port: 51600 }, { ...ROUTER, port: 80 }, T0 + 6).handshake();
      const pieces = (all: number[]): number[][] => {
        const out: number[][] = [];
        for (let p = 0, k = 0; p < all.length; k++) {
          const n = cut[k % cut.length];
          out.push(all.slice(p, p + n));
          p += n;
        }
        return out;
      };
      const firstReq = bytes(req1).length;
      const firstRes = bytes(res1).length + body1.length;
      for (const s of pieces(toServer.slice(0, firstReq))) c.client(s);
      for (const s of pieces(toClient.slice(0, firstRes))) c.server(s);
      for (const s of pieces(toServer.slice(firstReq))) c.client(s);
      for (const s of pieces(toClient.slice(firstRes))) c.server(s);
      c.close();
      const { events } = runEngine(pcap(c.frames), { wants: ['http-request', 'http-response'] });
      return events
        .filter((e) => e.kind === 'http-request' || e.kind === 'http-response')
        .map((e) => {
          // frame numbers and times differ with the cut; everything else must not
          const r: Record<string, unknown> = { ...(e as unknown as Record<string, unknown>) };
          delete r.ts;
          delete r.frame;
          r.bodyPrefix = [...(e as { bodyPrefix: Uint8Array }).bodyPrefix];
          const req = (e as { request?: object }).request;
          if (req) r.request = { ...req, frame: 0 };
          return r;
        });
    };
    const whole = run([100_000]);
    expect(whole.map((e) => e.kind)).toEqual(['http-request', 'http-response', 'http-request', 'http-response']);
    expect(whole[1]).toMatchObject({ status: 200, serverHeader: 'GoAhead-Webs', contentLength: 300 });
    expect(whole[1].bodyPrefix).toEqual(body1.slice(0, 256));
    expect(whole[2]).toMatchObject({ method: 'POST', path: '/login.cgi', bodyPrefix: [...bytes('user=root')] });
    expect(whole[3]).toMatchObject({ status: 401, authChallenge: 'Basic' });
    for (const cut of [[1], [2], [3], [5], [1, 2, 3], [7, 1], [13], [64], [150, 1], [4, 4, 1]]) expect(run(cut), `segments of ${cut.join(',')}`).toEqual(whole);
  });

  it('drops a head that never ends once it passes 64 KiB, and finds the next message after it', () => {
    const c = new TcpConv({ ...CAM, port: 51700 }, { ...ROUTER, port: 80 }, T0 + 7).handshake();
    c.client('GET /a HTTP/1.1\r\nHost: cam.local\r\n');
    const filler = bytes('X-Filler: ' + 'y'.repeat(1000) + '\r\n');
    for (let i = 0; i < 70; i++) c.client(filler);
    c.client('GET /b HTTP/1.1\r\nHost: cam.local\r\n\r\n');
    c.close();
    const { events } = runEngine(pcap(c.frames), { wants: ['http-request'] });
    expect(ofKind(events, 'http-request').map((e) => e.path)).toEqual(['/b']);
  });

  it('reads MQTT CONNECT/CONNACK and DNS over TCP however they are cut into segments', () => {
    const user = bytes('plug');
    const cid = bytes('plug-61');
    const vh = [0, 4, ...bytes('MQTT'), 4, 0xc2, 0, 60];
    const pl = [0, cid.length, ...cid, 0, user.length, ...user, 0, 3, ...bytes('pw1')];
    const connect = [0x10, vh.length + pl.length, ...vh, ...pl];
    const framed = (m: number[]) => [m.length >> 8, m.length & 0xff, ...m];
    const queries = [...framed(dnsQuery(1, 'a.example')), ...framed(dnsQuery(2, 'b.example', 28))];
    const answers = [...framed(dnsResponse(1, 'a.example', ['5.45.1.1'])), ...framed(dnsResponse(2, 'b.example', ['5.45.1.2', '5.45.1.3']))];
    const run = (size: number) => {
      const cut = (all: number[]) => Array.from({ length: Math.ceil(all.length / size) }, (_, k) => all.slice(k * size, (k + 1) * size));
      const m = new TcpConv({ mac: '70:89:76:00:77:61', ip: '192.168.77.61', port: 40002 }, { mac: ROUTER.mac, ip: '5.45.1.40', port: 1883 }, T0 + 8).handshake();
      for (const p of cut(connect)) m.client(p);
      for (const p of cut([0x20, 2, 0, 5])) m.server(p);
      const d = new TcpConv({ mac: '70:89:76:00:77:61', ip: '192.168.77.61', port: 40003 }, { ...ROUTER, port: 53 }, T0 + 9).handshake();
      for (const p of cut(queries)) d.client(p);
      for (const p of cut(answers)) d.server(p);
      const { events } = runEngine(pcap([...m.frames, ...d.frames]), { wants: ['mqtt-connect', 'mqtt-connack', 'dns'] });
      return events
        .filter((e) => e.kind === 'mqtt-connect' || e.kind === 'mqtt-connack' || e.kind === 'dns')
        .map((e) => (e.kind === 'dns' ? { kind: e.kind, id: e.id, response: e.response, q: e.questions[0]?.name, a: e.answers.map((x) => x.data) } : { ...e, ts: 0, frame: 0 }));
    };
    const whole = run(10_000);
    expect(whole.filter((e) => e.kind === 'dns')).toEqual([
      { kind: 'dns', id: 1, response: false, q: 'a.example', a: [] },
      { kind: 'dns', id: 2, response: false, q: 'b.example', a: [] },
      { kind: 'dns', id: 1, response: true, q: 'a.example', a: ['5.45.1.1'] },
      { kind: 'dns', id: 2, response: true, q: 'b.example', a: ['5.45.1.2', '5.45.1.3'] },
    ]);
    expect(whole.find((e) => e.kind === 'mqtt-connect')).toMatchObject({ clientId: 'plug-61', username: 'plug', passwordPresent: true });
    expect(whole.find((e) => e.kind === 'mqtt-connack')).toMatchObject({ returnCode: 5, accepted: false });
    for (const size of [1, 2, 3, 7, 33]) expect(run(size), `segments of ${size}`).toEqual(whole);
  });

  it('under a flood (a port scan) lets closed flows go sooner, says so once, and still counts every flow', () => {
    // 50,000 SYNs from one device to ports of another, each refused with RST: a new flow every other packet, over 25 s
    const SCANNER = { mac: '02:00:00:00:66:66', ip: '192.168.77.66' };
    const frames: Frame[] = [];
    for (let i = 0; i < 50_000; i++) {
      const ts = T0 + i * 0.0005;
      const sport = 10_000 + i;
      frames.push({ ts, data: eth(SCANNER.mac, CAM.mac, 0x0800, ipv4(SCANNER.ip, CAM.ip, 6, tcp({ sport, dport: 1 + i, seq: 7, flags: SYN }))) });
      frames.push({ ts: ts + 0.0001, data: eth(CAM.mac, SCANNER.mac, 0x0800, ipv4(CAM.ip, SCANNER.ip, 6, tcp({ sport: 1 + i, dport: sport, ack: 8, flags: RST | ACK }))) });
    }
    const file = pcap(frames);
    const run = (floodFlows?: number) => {
      // when each flow-close went out, in capture time (the scan ends at T0 + 25 s)
      const at: number[] = [];
      const clock: Detector = { name: 'clock', wants: ['flow-close'], onEvent: (_e, ctx) => void at.push(ctx.now()), finish: () => [] };
      const r = runEngine(file, { wants: ['flow-close'], extra: [clock], engine: { floodFlows } });
      return { r, closes: ofKind(r.events, 'flow-close'), during: at.filter((t) => t < T0 + 24.9).length };
    };
    const normal = run();
    const flooded = run(20_000);
    expect(normal.r.warnings).toEqual([]);
    expect(flooded.r.warnings).toHaveLength(1);
    // sweeps come every 32,768 packets: at the first, 16,384 flows are open (not yet a flood); at the second, 32,768
    expect(flooded.r.warnings[0]).toMatch(/over 20,000 flows open at once at frame 65536 .*closed flows now leave the flow table after 1 s instead of 30 s/);
    // all 50,000 flows are reported either way, as refused connections
    for (const x of [normal, flooded]) {
      expect(x.closes).toHaveLength(50_000);
      expect(x.closes.every((e) => e.reason === 'rst')).toBe(true);
    }
    // normally each closed flow stays 30 s, longer than the whole scan: all go out at the end;
    // flooded, the sweep at frame 65,536 (T0 + 16.38 s) lets go of those closed over 1 s before
    expect(normal.during).toBe(0);
    expect(flooded.during).toBeGreaterThan(30_000);
    expect(flooded.during).toBeLessThan(32_768);
    // and the devices' destinations are the same: leaving the table early loses nothing
    const dests = (r: Run) => r.result.devices.map((d) => ({ ip: d.ip, n: d.destinations.length, flows: d.destinations.reduce((a, x) => a + x.flows, 0), packets: d.destinations.reduce((a, x) => a + x.packets, 0) }));
    expect(dests(flooded.r)).toEqual(dests(normal.r));
    expect(dests(normal.r).find((d) => d.ip === SCANNER.ip)).toMatchObject({ n: 20_000, flows: 20_000, packets: 40_000 });
  });

  it('holds at most maxLiveFlows open flows: past the cap, the flows seen longest ago go first, busy ones stay, every flow is counted', () => {
    const SERVER = { mac: ROUTER.mac, ip: '5.45.1.99' };
    const BROKER = { mac: ROUTER.mac, ip: '5.45.1.40' };
    const frames: Frame[] = [];
    const seg = (from: 'c' | 's', sport: number, dport: number, flags: number, ts: number, to = BROKER) =>
      frames.push({
        ts,
        data: from === 'c' ? eth(CAM.mac, to.mac, 0x0800, ipv4(CAM.ip, to.ip, 6, tcp({ sport, dport, seq: 7, ack: 9, flags }))) : eth(to.mac, CAM.mac, 0x0800, ipv4(to.ip, CAM.ip, 6, tcp({ sport: dport, dport: sport, seq: 9, ack: 8, flags }))),
      });
    // a connection answered once at the start, then quiet; and one busy all along (a packet each way every 0.2 s)
    seg('c', 40_001, 8883, SYN, T0);
    seg('s', 40_001, 8883, SYN | ACK, T0 + 0.001);
    // 20,000 SYNs nobody answers (4 s), then 12,000 answered ones, 1 ms apart, each answered 0.1 ms later (12 s)
    let ts = T0 + 0.01;
    for (let i = 0; i < 20_000; i++) {
      seg('c', 10_000 + i, 80, SYN, (ts += 0.0002), SERVER);
      if (i % 1000 === 0) {
        seg('c', 40_002, 1883, ACK, ts);
        seg('s', 40_002, 1883, ACK, ts);
      }
    }
    for (let i = 0; i < 12_000; i++) {
      seg('c', 50_000 + i, 443, SYN, (ts += 0.001), SERVER);
      seg('s', 50_000 + i, 443, SYN | ACK, ts + 0.0001, SERVER);
      if (i % 200 === 0) {
        seg('c', 40_002, 1883, ACK, ts);
        seg('s', 40_002, 1883, ACK, ts);
      }
    }
    const file = pcap(frames);
    const run = (maxLiveFlows?: number) => {
      const open: number[] = [];
      let live = 0;
      // open flows after each packet: +1 per flow's first packet (a recorder of `packet` events would see them all), -1 per flow-close
      const seen = new Set<string>();
      const count: Detector = {
        name: 'count',
        wants: ['packet', 'flow-close'],
        onEvent: (e) => {
          if (e.kind === 'flow-close') {
            live--;
            seen.delete(`${e.flow.client.port}`);
          } else if (e.kind === 'packet') {
            const k = `${e.srcIp === CAM.ip ? e.srcPort : e.dstPort}`;
            if (!seen.has(k)) {
              seen.add(k);
              live++;
            }
            open.push(live);
          }
        },
        finish: () => [],
      };
      const r = runEngine(file, { wants: ['flow-close'], extra: [count], engine: { maxLiveFlows } });
      const closes = ofKind(r.events, 'flow-close');
      return { r, closes, peak: Math.max(...open), of: (port: number) => closes.filter((e) => e.flow.client.port === port) };
    };
    const normal = run();
    const capped = run(5_000);
    expect(normal.r.warnings).toEqual([]);
    expect(normal.peak).toBe(2 + 20_000 + 12_000);
    expect(capped.r.warnings).toHaveLength(1);
    expect(capped.r.warnings[0]).toMatch(/^over 5,000 flows open at once at frame 5\d{3}: closed flows now leave the flow table at once, then one-sided flows idle over 1 s, then the flows seen longest ago, until it is under 3,750/);
    // the table passes its cap by one flow, then the sweep takes it back to 3,750
    expect(capped.peak).toBe(5_001);
    // oldest first: the SYNs nobody answered go during the scan; the quiet answered connection goes with the oldest
    expect(capped.of(40_001)[0].reason).toBe('idle');
    expect(capped.closes.filter((e) => e.flow.server.port === 80 && e.reason === 'idle').length).toBe(20_000);
    // the busy connection is one flow to the end either way
    for (const x of [normal, capped]) {
      expect(x.of(40_002)).toHaveLength(1);
      expect(x.of(40_002)[0]).toMatchObject({ reason: 'end', flow: { packetsToServer: 80, packetsToClient: 80 } });
    }
    // nothing is lost or split: every flow closes once, whole (no SYN left before its answer), on the same destinations
    for (const x of [normal, capped]) expect(x.closes).toHaveLength(2 + 20_000 + 12_000);
    expect(capped.closes.filter((e) => e.flow.server.port === 443).every((e) => e.flow.packetsToServer === 1 && e.flow.packetsToClient === 1)).toBe(true);
    const dests = (r: Run) => r.result.devices.map((d) => d.destinations.map((x) => `${x.ip}:${x.port} ${x.flows} ${x.packets} ${x.bytes}`).sort());
    expect(dests(capped.r)).toEqual(dests(normal.r));
  });

  it('makes forged sources behind one MAC devices only up to a cap, then counts them on that MAC, and says so once', () => {
    // a SYN flood from 10,000 different LAN addresses, all from one MAC, to the camera's web port
    const FLOODER = '02:00:00:00:66:01';
    const frames: Frame[] = [];
    for (let i = 0; i < 10_000; i++) {
      const src = `10.1.${i >> 8}.${i & 255}`;
      frames.push({ ts: T0 + i * 0.001, data: eth(FLOODER, CAM.mac, 0x0800, ipv4(src, CAM.ip, 6, tcp({ sport: 1024 + i, dport: 80, seq: i, flags: SYN }))) });
    }
    const { result, warnings } = runEngine(pcap(frames), { wants: ['flow-close'] });
    // the MAC's device (its first 32 addresses) + one device per address up to 4,096 behind it
    const behind = result.devices.filter((d) => !d.mac && d.ip?.startsWith('10.1.'));
    expect(behind).toHaveLength(MAX_BEHIND_MAC);
    const own = result.devices.find((d) => d.mac === FLOODER);
    // every flow is still someone's: 32 + 4,096 on their own devices, the rest on the MAC's device
    const flows = (d: (typeof result.devices)[number] | undefined) => d?.destinations.reduce((a, x) => a + x.flows, 0) ?? 0;
    expect(flows(own)).toBe(10_000 - MAX_BEHIND_MAC);
    expect(behind.reduce((a, d) => a + flows(d), 0)).toBe(MAX_BEHIND_MAC);
    expect(result.summary.flows).toBe(10_000);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/more than 4,096 source addresses behind 02:00:00:00:66:01 .*from frame 4129/);
  });

  it('makes at most MAX_DEVICES devices of forged source MACs, and still counts their flows', () => {
    const frames: Frame[] = [];
    const n = MAX_DEVICES + 500;
    for (let i = 0; i < n; i++) {
      const m = `02:aa:00:${((i >> 16) & 255).toString(16).padStart(2, '0')}:${((i >> 8) & 255).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`;
      // one flow each (devices come from flows): broadcasts from distinct ports (none a service port, which would make the sender the server)
      frames.push({ ts: T0 + i * 0.0001, data: eth(m, 'ff:ff:ff:ff:ff:ff', 0x0800, ipv4('0.0.0.0', '255.255.255.255', 17, udp(10_000 + (i % 50_000), 5000 + Math.floor(i / 50_000), [1]))) });
    }
    const { result, warnings } = runEngine(pcap(frames), { wants: ['flow-close'] });
    expect(result.devices.length).toBe(MAX_DEVICES);
    expect(result.summary.packets).toBe(n);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/more than 65,536 devices/);
  });

  it('merges the flows to one destination however many ports one address has (the index past 8 per address)', () => {
    const frames: Frame[] = [];
    let ts = T0;
    // three rounds from three source ports to 500 UDP ports and 20 TCP ports of one host: 3 flows per destination
    for (let round = 0; round < 3; round++) {
      for (let port = 1; port <= 500; port++) frames.push({ ts: (ts += 0.001), data: eth(CAM.mac, ROUTER.mac, 0x0800, ipv4(CAM.ip, '5.45.1.99', 17, udp(20_000 + round, port, [1, 2, 3]))) });
      for (let port = 1; port <= 20; port++) frames.push({ ts: (ts += 0.001), data: eth(CAM.mac, ROUTER.mac, 0x0800, ipv4(CAM.ip, '5.45.1.99', 6, tcp({ sport: 30_000 + round, dport: port, flags: SYN }))) });
    }
    const { result } = runEngine(pcap(frames));
    const dests = result.devices.find((d) => d.ip === CAM.ip)?.destinations.filter((d) => d.ip === '5.45.1.99') ?? [];
    expect(dests).toHaveLength(520);
    expect(dests.every((d) => d.flows === 3 && d.packets === 3 && d.direction === 'out')).toBe(true);
    expect(new Set(dests.map((d) => `${d.proto}/${d.port}`)).size).toBe(520);
    expect(dests.filter((d) => d.proto === 'tcp')).toHaveLength(20);
  });

  it('makes devices of ARP senders: local ones with their address, probes and outside addresses by MAC only', () => {
    const arp = (op: number, smac: string, sip: string, tmac: string, tip: string, htype = 1): number[] => [
      0, htype, 0x08, 0x00, 6, 4, 0, op,
      ...smac.split(':').map((x) => parseInt(x, 16)), ...sip.split('.').map(Number),
      ...tmac.split(':').map((x) => parseInt(x, 16)), ...tip.split('.').map(Number),
    ];
    const BCAST = 'ff:ff:ff:ff:ff:ff';
    const PLUG = '50:02:91:00:00:01';
    const PROBE = '50:02:91:00:00:02';
    const ODD = '50:02:91:00:00:03';
    const TOKEN = '50:02:91:00:00:04';
    const frames: Frame[] = [
      // a request from a LAN address, and its gratuitous repeat
      { ts: T0, data: eth(PLUG, BCAST, 0x0806, arp(1, PLUG, '192.168.77.30', '00:00:00:00:00:00', '192.168.77.1')) },
      { ts: T0 + 1, data: eth(PLUG, BCAST, 0x0806, arp(1, PLUG, '192.168.77.30', '00:00:00:00:00:00', '192.168.77.30')) },
      // an address probe (RFC 5227: sender 0.0.0.0)
      { ts: T0 + 2, data: eth(PROBE, BCAST, 0x0806, arp(1, PROBE, '0.0.0.0', '00:00:00:00:00:00', '192.168.77.31')) },
      // a sender claiming an outside address
      { ts: T0 + 3, data: eth(ODD, BCAST, 0x0806, arp(2, ODD, '8.8.8.8', CAM.mac, CAM.ip)) },
      // not Ethernet/IPv4 (hardware type 6, IEEE 802), and one cut short: neither makes a device
      { ts: T0 + 4, data: eth(TOKEN, BCAST, 0x0806, arp(1, TOKEN, '192.168.77.32', '00:00:00:00:00:00', '192.168.77.1', 6)) },
      { ts: T0 + 5, data: eth(TOKEN, BCAST, 0x0806, arp(1, TOKEN, '192.168.77.32', '00:00:00:00:00:00', '192.168.77.1').slice(0, 27)) },
    ];
    const run = runEngine(pcap(frames), { wants: ['arp'] });
    const dev = (m: string) => run.result.devices.find((d) => d.mac === m);
    expect(dev(PLUG)).toMatchObject({ ip: '192.168.77.30', ips: ['192.168.77.30'], packets: 2, bytes: 84 });
    expect(dev(PROBE)).toMatchObject({ ip: null, ips: [], packets: 1 });
    expect(dev(ODD)).toMatchObject({ ip: null, ips: [], packets: 1 });
    expect(dev(TOKEN)).toBeUndefined();
    const events = ofKind(run.events, 'arp');
    expect(events.map((e) => [e.senderMac, e.senderIp, e.targetIp, e.gratuitous])).toEqual([
      [PLUG, '192.168.77.30', '192.168.77.1', false],
      [PLUG, '192.168.77.30', '192.168.77.30', true],
      [PROBE, '0.0.0.0', '192.168.77.31', false],
      [ODD, '8.8.8.8', CAM.ip, false],
    ]);
    expect(events[3]).toMatchObject({ op: 2, targetMac: CAM.mac });
    // the same devices when nobody listens to ARP events (the engine then decodes only the sender)
    const quiet = runEngine(pcap(frames));
    expect(quiet.result.devices).toEqual(run.result.devices);
  });
});
