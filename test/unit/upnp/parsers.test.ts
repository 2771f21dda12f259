import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  buildMSearch,
  buildSoapRequest,
  decodeGatewayAnswer,
  decodePortRequest,
  disableImpact,
  findingFromNatPmpRequest,
  findingFromSoapRequest,
  isIgdTarget,
  natPmpMapRequest,
  parseAddPortMappingSoap,
  parseDescription,
  parseIpNeighJson,
  parseIpNeighText,
  parsePortListing,
  parseProtoPort,
  parseSoapResponse,
  parseSsdp,
  pcpAnnounceRequest,
  rateMapping,
  toPortMapping,
  validatePortRiskTable,
  vendorFromOuiRecord,
  ouiKey,
} from '../../../src/core/upnp/index.js';
import { loadPortRiskTable } from '../../../src/adapters/probe/upnp-risk-table.js';

const table = await loadPortRiskTable();

describe('ssdp', () => {
  it('builds an M-SEARCH with CRLF and a clamped MX', () => {
    const m = buildMSearch('urn:schemas-upnp-org:device:InternetGatewayDevice:1', 9);
    expect(m.startsWith('M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: "ssdp:discover"\r\nMX: 5\r\n')).toBe(true);
    expect(m.endsWith('\r\n\r\n')).toBe(true);
  });
  it('parses a miniupnpd answer', () => {
    const r = parseSsdp(
      'HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=120\r\nST: urn:schemas-upnp-org:device:InternetGatewayDevice:2\r\nUSN: uuid:x::urn:schemas-upnp-org:device:InternetGatewayDevice:2\r\nEXT:\r\nSERVER: Debian/12 UPnP/1.1 MiniUPnPd/2.3.1\r\nLOCATION: http://192.168.77.1:5000/rootDesc.xml\r\n\r\n',
    );
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.kind).toBe('response');
    expect(r.value.location).toBe('http://192.168.77.1:5000/rootDesc.xml');
    expect(r.value.server).toContain('MiniUPnPd');
    expect(isIgdTarget(r.value.st)).toBe(true);
  });
  it('rejects non-SSDP and oversized datagrams', () => {
    expect(parseSsdp('GET / HTTP/1.1\r\n\r\n').ok).toBe(false);
    expect(parseSsdp(new Uint8Array(0)).ok).toBe(false);
    expect(parseSsdp(`HTTP/1.1 200 OK\r\n${'X: y\r\n'.repeat(3000)}`).ok).toBe(false);
    expect(isIgdTarget('urn:schemas-upnp-org:device:MediaServer:1')).toBe(false);
  });
  it('never throws on random bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 2000 }), (b) => typeof parseSsdp(b).ok === 'boolean'));
  });
});

const DESC = `<?xml version="1.0"?><root xmlns="urn:schemas-upnp-org:device-1-0"><device>
<deviceType>urn:schemas-upnp-org:device:InternetGatewayDevice:2</deviceType><friendlyName>Router &amp; Co</friendlyName>
<deviceList><device><deviceType>urn:schemas-upnp-org:device:WANDevice:2</deviceType><deviceList><device>
<deviceType>urn:schemas-upnp-org:device:WANConnectionDevice:2</deviceType><serviceList>
<service><serviceType>urn:schemas-upnp-org:service:WANPPPConnection:1</serviceType><serviceId>a</serviceId><controlURL>/ctl/PPP</controlURL></service>
<service><serviceType>urn:schemas-upnp-org:service:WANIPConnection:2</serviceType><serviceId>b</serviceId><controlURL>/ctl/IPConn</controlURL></service>
<service><serviceType>urn:schemas-upnp-org:service:WANIPConnection:1</serviceType><serviceId>c</serviceId><controlURL>http://8.8.8.8/ctl</controlURL></service>
</serviceList></device></deviceList></device></deviceList></device></root>`;

describe('description', () => {
  it('finds WAN connection services, best first, resolved against the location', () => {
    const r = parseDescription(DESC, 'http://192.168.77.1:5000/rootDesc.xml');
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.igdVersion).toBe(2);
    expect(r.value.friendlyName).toBe('Router & Co');
    expect(r.value.wanConnections.map((s) => s.serviceType)).toEqual(['urn:schemas-upnp-org:service:WANIPConnection:2', 'urn:schemas-upnp-org:service:WANPPPConnection:1']);
    expect(r.value.wanConnections[0].controlUrl).toBe('http://192.168.77.1:5000/ctl/IPConn');
  });
  it('drops a control URL pointing at another host (no SOAP sent off the gateway)', () => {
    const r = parseDescription(DESC, 'http://192.168.77.1:5000/rootDesc.xml');
    if (!r.ok) throw new Error(r.reason);
    expect(r.value.services.some((s) => s.controlUrl.includes('8.8.8.8'))).toBe(false);
    expect(r.value.warnings.join(' ')).toMatch(/8\.8\.8\.8/);
  });
  it('refuses DOCTYPE/ENTITY (billion laughs), malformed XML and non-descriptions', () => {
    expect(parseDescription('<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "x">]><root/>', 'http://h/').ok).toBe(false);
    expect(parseDescription('<root><device>', 'http://h/').ok).toBe(false);
    expect(parseDescription('<html></html>', 'http://h/').ok).toBe(false);
    expect(parseDescription(DESC, 'ftp://h/').ok).toBe(false);
  });
  it('survives deep nesting', () => {
    const deep = `<root><device>${'<deviceList><device>'.repeat(200)}${'</device></deviceList>'.repeat(200)}</device></root>`;
    expect(parseDescription(deep, 'http://h/').ok).toBe(false);
  });
  it('never throws on random text', () => {
    fc.assert(fc.property(fc.string({ maxLength: 3000 }), (s) => typeof parseDescription(s, 'http://h/x').ok === 'boolean'));
  });
});

describe('soap', () => {
  it('builds an escaped request envelope', () => {
    const r = buildSoapRequest('urn:schemas-upnp-org:service:WANIPConnection:1', 'AddPortMapping', [['NewPortMappingDescription', 'a<b&c']]);
    expect(r.soapAction).toBe('"urn:schemas-upnp-org:service:WANIPConnection:1#AddPortMapping"');
    expect(r.body).toContain('<NewPortMappingDescription>a&lt;b&amp;c</NewPortMappingDescription>');
  });
  it('parses out-arguments and UPnP faults', () => {
    const ok = parseSoapResponse(
      '<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><u:GetExternalIPAddressResponse xmlns:u="x"><NewExternalIPAddress>5.45.0.2</NewExternalIPAddress></u:GetExternalIPAddressResponse></s:Body></s:Envelope>',
      'GetExternalIPAddress',
    );
    expect(ok).toEqual({ ok: true, values: { NewExternalIPAddress: '5.45.0.2' } });
    const f = parseSoapResponse(
      '<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><s:Fault><faultcode>s:Client</faultcode><faultstring>UPnPError</faultstring><detail><UPnPError xmlns="urn:schemas-upnp-org:control-1-0"><errorCode>713</errorCode><errorDescription>SpecifiedArrayIndexInvalid</errorDescription></UPnPError></detail></s:Fault></s:Body></s:Envelope>',
      'GetGenericPortMappingEntry',
    );
    expect(f.ok).toBe(false);
    expect(!f.ok && f.fault).toEqual({ code: 713, description: 'SpecifiedArrayIndexInvalid' });
    expect(parseSoapResponse('<s:Envelope><s:Body><x>', 'A').ok).toBe(false);
    expect(parseSoapResponse('<a/>', 'A').ok).toBe(false);
  });
  it('validates mapping fields', () => {
    const good = toPortMapping({ NewProtocol: 'tcp', NewExternalPort: '2323', NewInternalPort: '23', NewInternalClient: '192.168.77.20', NewPortMappingDescription: 'cam\u0007 telnet', NewLeaseDuration: '0', NewEnabled: '1' });
    expect(good).toEqual({ ok: true, value: { protocol: 'TCP', externalPort: 2323, internalClient: '192.168.77.20', internalPort: 23, description: 'cam  telnet', leaseSeconds: 0, enabled: true, remoteHost: '' } });
    expect(toPortMapping({ NewProtocol: 'ICMP', NewExternalPort: '1', NewInternalPort: '1', NewInternalClient: '1.2.3.4' }).ok).toBe(false);
    expect(toPortMapping({ NewProtocol: 'TCP', NewExternalPort: '70000', NewInternalPort: '1', NewInternalClient: '1.2.3.4' }).ok).toBe(false);
    expect(toPortMapping({ NewProtocol: 'TCP', NewExternalPort: '1', NewInternalPort: '0', NewInternalClient: '1.2.3.4' }).ok).toBe(false);
    expect(toPortMapping({ NewProtocol: 'TCP', NewExternalPort: '1', NewInternalPort: '1', NewInternalClient: '<script>' }).ok).toBe(false);
  });
  it('parses the IGDv2 port listing and caps it', () => {
    const entry = (p: number) =>
      `<p:PortMappingEntry><p:NewRemoteHost></p:NewRemoteHost><p:NewExternalPort>${p}</p:NewExternalPort><p:NewProtocol>UDP</p:NewProtocol><p:NewInternalPort>${p}</p:NewInternalPort><p:NewInternalClient>192.168.77.50</p:NewInternalClient><p:NewEnabled>1</p:NewEnabled><p:NewDescription>console</p:NewDescription><p:NewLeaseTime>3600</p:NewLeaseTime></p:PortMappingEntry>`;
    const xml = `<p:PortMappingList xmlns:p="urn:schemas-upnp-org:gw:WANIPConnection">${entry(3074)}${entry(3478)}${entry(3479)}</p:PortMappingList>`;
    const r = parsePortListing(xml, 2);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.mappings).toHaveLength(2);
    expect(r.truncated).toBe(true);
    expect(r.mappings[0]).toMatchObject({ protocol: 'UDP', externalPort: 3074, description: 'console', leaseSeconds: 3600 });
  });
  it('parses --remove arguments', () => {
    expect(parseProtoPort('tcp/2323')).toEqual({ protocol: 'TCP', port: 2323 });
    expect(parseProtoPort('UDP/3074')).toEqual({ protocol: 'UDP', port: 3074 });
    for (const bad of ['tcp', 'tcp/0', 'tcp/70000', 'icmp/1', '2323', 'tcp/23x']) expect(parseProtoPort(bad)).toBeUndefined();
  });
});

describe('NAT-PMP / PCP', () => {
  it('decodes an external address answer and a PCP answer', () => {
    const a = decodeGatewayAnswer(Uint8Array.of(0, 128, 0, 0, 0, 0, 4, 210, 5, 45, 0, 2));
    expect(a).toEqual({ ok: true, value: { kind: 'natpmp-external-address', resultCode: 0, epoch: 1234, externalIp: '5.45.0.2' } });
    const p = new Uint8Array(24);
    p[0] = 2;
    p[1] = 0x80;
    expect(decodeGatewayAnswer(p)).toMatchObject({ ok: true, value: { kind: 'pcp', resultCode: 0 } });
    expect(decodeGatewayAnswer(Uint8Array.of(0, 128)).ok).toBe(false);
  });
  it('round-trips a NAT-PMP map request and decodes a PCP MAP request', () => {
    const r = decodePortRequest(natPmpMapRequest('TCP', 23, 2323, 3600));
    expect(r).toEqual({ ok: true, value: { kind: 'natpmp-map', protocol: 'TCP', internalPort: 23, suggestedExternalPort: 2323, lifetime: 3600 } });
    const pcp = new Uint8Array(60);
    pcp.set(pcpAnnounceRequest('192.168.77.20'));
    pcp[1] = 1; // MAP
    new DataView(pcp.buffer).setUint32(4, 7200);
    pcp[36] = 6;
    new DataView(pcp.buffer).setUint16(40, 8000);
    new DataView(pcp.buffer).setUint16(42, 8000);
    expect(decodePortRequest(pcp)).toMatchObject({ ok: true, value: { kind: 'pcp-map', protocol: 'TCP', internalPort: 8000, clientIp: '192.168.77.20', lifetime: 7200 } });
  });
  it('never throws on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (b) => {
        decodeGatewayAnswer(b);
        decodePortRequest(b);
        return true;
      }),
    );
  });
});

describe('port risk table', () => {
  it('ships a valid table', () => {
    expect(table.entries.length).toBeGreaterThan(10);
  });
  it('rates by the internal port first', () => {
    expect(rateMapping(table, 'TCP', 2323, 23)).toMatchObject({ severity: 'critical', service: 'telnet', matchedOn: 'internal' });
    expect(rateMapping(table, 'TCP', 8000, 80)).toMatchObject({ severity: 'high', service: 'http-admin' });
    expect(rateMapping(table, 'UDP', 3074, 3074)).toMatchObject({ severity: 'low', service: 'console-gaming' });
    expect(rateMapping(table, 'TCP', 7547, 7547).severity).toBe('critical');
    expect(rateMapping(table, 'TCP', 554, 554).severity).toBe('critical');
    expect(rateMapping(table, 'TCP', 3389, 3389).severity).toBe('critical');
    expect(rateMapping(table, 'TCP', 445, 445).severity).toBe('critical');
    expect(rateMapping(table, 'UDP', 5060, 5060).severity).toBe('medium');
    expect(rateMapping(table, 'TCP', 41234, 41234)).toMatchObject({ severity: 'medium', matchedOn: 'default' });
    expect(rateMapping(table, 'TCP', 2323, 41234)).toMatchObject({ severity: 'critical', matchedOn: 'external' });
  });
  it('rejects a broken table with a clear message', () => {
    expect(() => validatePortRiskTable({ version: 1, default: table.default, entries: [{ ...table.entries[0], severity: 'apocalyptic' }] })).toThrow(/entries\.0\.severity/);
    expect(() => validatePortRiskTable({ version: 1, default: table.default, entries: [{ ...table.entries[0], ports: ['9-3'] }] })).toThrow(/bad range/);
    expect(() => validatePortRiskTable({})).toThrow(/IOTGUARD|version|port-risk/);
  });
});

describe('observed mapping requests (for the traffic engine)', () => {
  const ctx = { srcIp: '192.168.77.20', srcMac: '18:80:25:00:77:20', dstIp: '192.168.77.1', dstPort: 5000, frames: [12, 13] };
  const body = (client: string, desc = 'cam telnet') =>
    `<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><u:AddPortMapping xmlns:u="urn:schemas-upnp-org:service:WANIPConnection:1"><NewRemoteHost></NewRemoteHost><NewExternalPort>2323</NewExternalPort><NewProtocol>TCP</NewProtocol><NewInternalPort>23</NewInternalPort><NewInternalClient>${client}</NewInternalClient><NewEnabled>1</NewEnabled><NewPortMappingDescription>${desc}</NewPortMappingDescription><NewLeaseDuration>0</NewLeaseDuration></u:AddPortMapping></s:Body></s:Envelope>`;
  it('turns an AddPortMapping SOAP call into a finding rated by the table', () => {
    const f = findingFromSoapRequest({ method: 'POST', body: body('192.168.77.20'), soapAction: '"urn:schemas-upnp-org:service:WANIPConnection:1#AddPortMapping"' }, ctx, { riskTable: table });
    expect(f).toMatchObject({ id: 'upnp-port-mapping-request', severity: 'critical', device: { ip: '192.168.77.20', mac: '18:80:25:00:77:20' } });
    expect(f?.evidence).toMatchObject({ externalPort: 2323, internalPort: 23, protocol: 'TCP', service: 'telnet', frames: [12, 13], description: 'cam telnet' });
  });
  it('flags a request for another address as high at least', () => {
    const f = findingFromSoapRequest({ body: body('192.168.77.30', 'x') .replace(/<NewInternalPort>23/, '<NewInternalPort>41000').replace(/<NewExternalPort>2323/, '<NewExternalPort>41000') }, ctx);
    expect(f?.severity).toBe('high');
    expect(f?.title).toMatch(/another device/);
  });
  it('reads a truncated body and ignores other actions', () => {
    const cut = body('192.168.77.20').slice(0, 400);
    expect(parseAddPortMappingSoap(cut)).toMatchObject({ action: 'AddPortMapping', externalPort: 2323, internalPort: 23 });
    expect(findingFromSoapRequest({ body: '<s:Envelope><s:Body><u:GetExternalIPAddress/></s:Body></s:Envelope>' }, ctx)).toBeUndefined();
    expect(findingFromSoapRequest({ method: 'GET', body: body('192.168.77.20') }, ctx)).toBeUndefined();
  });
  it('turns NAT-PMP map requests into findings, not deletes or address queries', () => {
    const f = findingFromNatPmpRequest(natPmpMapRequest('UDP', 3074, 3074, 7200), { ...ctx, srcIp: '192.168.77.50', dstPort: 5351 }, { riskTable: table });
    expect(f).toMatchObject({ id: 'upnp-port-mapping-request', severity: 'low', evidence: { via: 'nat-pmp', protocol: 'UDP', internalPort: 3074 } });
    expect(findingFromNatPmpRequest(natPmpMapRequest('UDP', 3074, 3074, 0), ctx)).toBeUndefined();
    expect(findingFromNatPmpRequest(Uint8Array.of(0, 0), ctx)).toBeUndefined();
  });
  it('never throws on hostile input', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 2000 }), fc.uint8Array({ maxLength: 80 }), (s, b) => {
        findingFromSoapRequest({ body: `<u:AddPortMapping>${s}` }, ctx);
        findingFromNatPmpRequest(b, ctx);
        return true;
      }),
    );
  });
});

describe('attribution helpers', () => {
  it('parses ip -json neigh and plain ip neigh', () => {
    const j = parseIpNeighJson(
      '[{"dst":"192.168.77.20","dev":"eth0","lladdr":"18:80:25:00:77:20","state":["REACHABLE"]},{"dst":"192.168.77.21","dev":"eth0","state":["FAILED"]},{"dst":"192.168.77.30","lladdr":"00:11:32:00:77:30","state":["STALE"]}]',
    );
    expect([...j]).toEqual([
      ['192.168.77.20', '18:80:25:00:77:20'],
      ['192.168.77.30', '00:11:32:00:77:30'],
    ]);
    expect(parseIpNeighJson('not json').size).toBe(0);
    const t = parseIpNeighText('192.168.77.20 dev eth0 lladdr 18:80:25:00:77:20 REACHABLE\n192.168.77.21 dev eth0  FAILED\n');
    expect([...t]).toEqual([['192.168.77.20', '18:80:25:00:77:20']]);
  });
  it('finds the vendor key of a MAC', () => {
    expect(ouiKey('18:80:25:00:77:20')).toBe('188025');
    expect(ouiKey('nope')).toBeUndefined();
    expect(vendorFromOuiRecord('Hikvision\nAddress')).toBe('Hikvision');
  });
});

describe('what breaks if UPnP is disabled', () => {
  const m = (protocol: 'TCP' | 'UDP', e: number, ip: string, i: number) => ({ protocol, externalPort: e, internalClient: ip, internalPort: i, description: '', leaseSeconds: 0, enabled: true, remoteHost: '' });
  it('says nothing is lost for a telnet-only camera and proposes forwards for a console', () => {
    const rows = [m('TCP', 2323, '192.168.77.20', 23), m('UDP', 3074, '192.168.77.50', 3074), m('UDP', 3478, '192.168.77.50', 3478)].map((mapping) => ({
      mapping,
      risk: rateMapping(table, mapping.protocol, mapping.externalPort, mapping.internalPort),
      device: { ip: mapping.internalClient, hostname: mapping.internalClient.endsWith('.20') ? 'ipcam-hall' : 'playstation' },
    }));
    const out = disableImpact(rows);
    expect(out[0].device.ip).toBe('192.168.77.20');
    expect(out[0].recommendation).toBe('nothing');
    expect(out[0].instead).toMatch(/telnet/);
    const consoleImpact = out.find((d) => d.device.ip === '192.168.77.50')!;
    expect(consoleImpact.recommendation).toBe('static-forward');
    expect(consoleImpact.loses).toHaveLength(2);
    expect(consoleImpact.staticForwards).toContain('forward UDP 3074 → 192.168.77.50:3074');
    expect(consoleImpact.miniupnpdAcl).toContain('allow 3074 192.168.77.50/32 3074');
  });
});

describe('findingFromRequestedMapping (pre-decoded requests)', () => {
  it('rates a decoded PCP MAP for the requester itself', async () => {
    const { findingFromRequestedMapping } = await import('../../../src/core/upnp/observed.js');
    const f = findingFromRequestedMapping({ via: 'pcp', action: 'MAP', protocol: 'TCP', externalPort: 554, internalPort: 554, internalClient: '192.168.77.20' }, { srcIp: '192.168.77.20', dstIp: '192.168.77.1', dstPort: 5351 }, { riskTable: table });
    expect(f).toMatchObject({ id: 'upnp-port-mapping-request', severity: 'critical', evidence: { service: 'rtsp', via: 'pcp' } });
    expect(f.title).toMatch(/PCP/);
  });
});
