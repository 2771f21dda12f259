// Every detector driven with hand-made events: what must fire (positives),
// what must not (negatives, just under the thresholds), and what the finding
// must carry (id, device, evidence with frames, advice).
import { describe, expect, it } from 'vitest';
import type { EngineEvent, Finding } from '../../../src/core/engine/events.js';
import { FINDING_IDS } from '../../../src/core/model/finding.js';
import { defaultDetectors, DETECTOR_NAMES, resolveDetectorConfig } from '../../../src/core/detect/index.js';
import { plaintextFirmwareDetector, firmwareMagic, classifyFirmwarePath } from '../../../src/core/detect/plaintext-firmware.js';
import { plaintextCredentialsDetector, hasJsonPassword, hasPasswordField } from '../../../src/core/detect/plaintext-credentials.js';
import { insecureServiceDetector } from '../../../src/core/detect/insecure-service.js';
import { tlsWeakDetector, nameMatches, weakCipher } from '../../../src/core/detect/tls-weak.js';
import { dnsTunnelDetector, commonZone, toolSignature } from '../../../src/core/detect/dns-tunnel.js';
import { dnsBypassDetector } from '../../../src/core/detect/dns-bypass.js';
import { lateralScanDetector } from '../../../src/core/detect/lateral-scan.js';
import { loginBruteForceDetector } from '../../../src/core/detect/login-brute-force.js';
import { beaconingDetector, periodicity } from '../../../src/core/detect/beaconing.js';
import { remoteAccessDetector } from '../../../src/core/detect/remote-access.js';
import { upnpPortMappingRequestDetector } from '../../../src/core/detect/upnp-port-mapping-request.js';
import { base, ctx, dev, dnsQuery, ep, flow, run } from './helpers.js';

const cfg = resolveDetectorConfig();
const PLUG = ep('192.168.77.60', 40000, '70:89:76:00:77:60');
const FW = ep('5.45.1.20', 80);
const bytes = (...xs: number[]) => new Uint8Array(xs);

function wellFormed(f: Finding): void {
  expect(FINDING_IDS).toContain(f.id);
  expect(['info', 'low', 'medium', 'high', 'critical']).toContain(f.severity);
  expect(f.title.length).toBeGreaterThan(10);
  expect(f.device.ip ?? f.device.mac).toBeTruthy();
  expect(f.advice).toMatch(/^[A-Z].*\.$/);
  // one sentence a non-expert can follow: no trailing jargon lists
  expect(f.advice.split('. ').length).toBeLessThanOrEqual(2);
  const ev = f.evidence as { frames?: unknown[] };
  expect(Array.isArray(ev.frames)).toBe(true);
  expect(ev.frames!.length).toBeGreaterThan(0);
}

function httpReq(ts: number, client = PLUG, server = FW, o: Partial<Extract<EngineEvent, { kind: 'http-request' }>> = {}): EngineEvent {
  return { kind: 'http-request', ...base(ts, dev(client.ip, client.mac)), flowId: 1, client, server, method: 'GET', path: '/', version: 'HTTP/1.1', bodyPrefix: new Uint8Array(0), ...o };
}
function httpResp(ts: number, o: Partial<Extract<EngineEvent, { kind: 'http-response' }>> = {}, client = PLUG, server = FW): EngineEvent {
  return { kind: 'http-response', ...base(ts, dev(client.ip, client.mac)), flowId: 1, client, server, status: 200, reason: 'OK', version: 'HTTP/1.1', bodyPrefix: new Uint8Array(0), ...o };
}
/** A request and its response, linked as the engine links them (the response names the request's frame). */
function exchange(ts: number, req: Partial<Extract<EngineEvent, { kind: 'http-request' }>>, resp: Partial<Extract<EngineEvent, { kind: 'http-response' }>>, client = PLUG, server = FW): EngineEvent[] {
  const q = httpReq(ts, client, server, req) as Extract<EngineEvent, { kind: 'http-request' }>;
  return [q, httpResp(ts + 0.1, { flowId: q.flowId, request: { method: q.method, path: q.path, host: q.host, frame: q.frame }, ...resp }, client, server)];
}

describe('registry and config', () => {
  it('registers one detector per vector, each with the kinds it wants', () => {
    const ds = defaultDetectors();
    expect(ds.map((d) => d.name)).toEqual([...DETECTOR_NAMES]);
    for (const d of ds) expect(d.wants && d.wants.length > 0).toBe(true);
    // no detector asks for per-packet events (they are the costly kind)
    for (const d of ds) expect(d.wants).not.toContain('packet');
    expect(defaultDetectors({ only: ['dns-tunnel'] }).map((d) => d.name)).toEqual(['dns-tunnel']);
  });
  it('merges overrides one level deep and leaves the defaults alone', () => {
    const c = resolveDetectorConfig({ dnsTunnel: { minQueries: 99 } });
    expect(c.dnsTunnel.minQueries).toBe(99);
    expect(c.dnsTunnel.minUniqueSubdomains).toBe(cfg.dnsTunnel.minUniqueSubdomains);
    expect(resolveDetectorConfig().dnsTunnel.minQueries).toBe(10);
  });
});

describe('plaintext-firmware', () => {
  it('knows firmware magics and firmware paths', () => {
    expect(firmwareMagic(bytes(0x27, 0x05, 0x19, 0x56, 1))).toBe('uImage');
    expect(firmwareMagic(bytes(0x68, 0x73, 0x71, 0x73))).toBe('squashfs');
    expect(firmwareMagic(bytes(0x7f, 0x45, 0x4c, 0x46))).toBe('ELF');
    expect(firmwareMagic(bytes(0x3c, 0x68, 0x74))).toBeUndefined();
    expect(firmwareMagic(bytes(0x27))).toBeUndefined();
    expect(classifyFirmwarePath('/firmware/plug-v1.2.3.bin')?.kind).toBe('image');
    expect(classifyFirmwarePath('/agent/upgrade?p=abc')?.kind).toBe('update-check');
    expect(classifyFirmwarePath('/index.html')).toBeUndefined();
    expect(classifyFirmwarePath('/images/logo.bin')).toBeUndefined();
  });
  it('reports an image by its magic bytes, with the URL and frames', () => {
    const d = plaintextFirmwareDetector(cfg);
    const f = run(d, [
      ...exchange(1, { path: '/firmware/latest.json', host: 'fw.plugco.example' }, { contentType: 'application/json', contentLength: 90, bodyPrefix: bytes(0x7b, 0x22) }),
      ...exchange(2, { path: '/dl/p.img', host: 'fw.plugco.example' }, { contentType: 'application/octet-stream', contentLength: 262144, bodyPrefix: bytes(0x27, 0x05, 0x19, 0x56, 0, 0) }),
    ]);
    expect(f).toHaveLength(1);
    wellFormed(f[0]);
    expect(f[0].severity).toBe('high');
    expect(f[0].device).toEqual({ ip: PLUG.ip, mac: PLUG.mac });
    const reqs = f[0].evidence.requests as Array<{ url: string; kind: string; magic?: string }>;
    expect(reqs.map((r) => r.url)).toEqual(['http://fw.plugco.example/firmware/latest.json', 'http://fw.plugco.example/dl/p.img']);
    expect(reqs[1]).toMatchObject({ kind: 'image', magic: 'uImage' });
  });
  it('reports an update check alone as medium, and ignores ordinary downloads', () => {
    expect(run(plaintextFirmwareDetector(cfg), [httpReq(1, PLUG, FW, { path: '/router/firmware/query.aspx?model=X' })])[0].severity).toBe('medium');
    const none = run(plaintextFirmwareDetector(cfg), [
      ...exchange(1, { path: '/index.html' }, { contentType: 'text/html', contentLength: 5000, bodyPrefix: bytes(0x3c, 0x68) }),
      ...exchange(2, { path: '/static/app.js' }, { contentType: 'application/javascript', contentLength: 900_000 }),
      ...exchange(3, { path: '/pic.jpg' }, { contentType: 'image/jpeg', contentLength: 900_000, bodyPrefix: bytes(0xff, 0xd8, 0xff) }),
      // a failed fetch of a binary is no download
      ...exchange(4, { path: '/x' }, { status: 404, contentType: 'application/octet-stream', contentLength: 900_000 }),
    ]);
    expect(none).toEqual([]);
  });
  it('counts a big binary body as an image, and a TFTP transfer', () => {
    const f = run(plaintextFirmwareDetector(cfg), exchange(1, { path: '/get?id=7' }, { contentType: 'application/octet-stream', contentLength: 2_000_000 }));
    expect(f[0]?.severity).toBe('high');
    const tftpReq = flow(ep('192.168.1.5', 3000), ep('192.168.1.9', 69), { proto: 'udp', payloadToServer: 20, payloadToClient: 0 });
    const data = flow(ep('192.168.1.9', 41000), ep('192.168.1.5', 3000), { proto: 'udp', payloadToServer: 100_000, payloadToClient: 400 });
    const t = run(plaintextFirmwareDetector(cfg), [
      { kind: 'flow-close', ...base(1, dev('192.168.1.5')), flow: tftpReq, reason: 'idle' },
      { kind: 'flow-close', ...base(2, dev('192.168.1.5')), flow: data, reason: 'idle' },
    ]);
    expect(t).toHaveLength(1);
    expect(t[0].title).toMatch(/TFTP/);
    const small = run(plaintextFirmwareDetector(cfg), [
      { kind: 'flow-close', ...base(1, dev('192.168.1.5')), flow: tftpReq, reason: 'idle' },
      { kind: 'flow-close', ...base(2, dev('192.168.1.5')), flow: { ...data, payloadToServer: 500 }, reason: 'idle' },
    ]);
    expect(small).toEqual([]);
    // a big UDP flow between hosts that never took part in a TFTP read request is no TFTP transfer
    const other = run(plaintextFirmwareDetector(cfg), [
      { kind: 'flow-close', ...base(1, dev('192.168.1.5')), flow: tftpReq, reason: 'idle' },
      { kind: 'flow-close', ...base(2, dev('192.168.1.6')), flow: { ...data, client: ep('192.168.1.9', 41000), server: ep('192.168.1.6', 3000) }, reason: 'idle' },
    ]);
    expect(other).toEqual([]);
  });
  it('keeps at most 10,000 TFTP read requests waiting, and still links the latest to its data', () => {
    const d = plaintextFirmwareDetector(cfg);
    const events: EngineEvent[] = [];
    // 25,000 read requests from different clients (a flood): the pairs are forgotten in batches of 10,000
    for (let i = 0; i < 25_000; i++) {
      const c = ep(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, 3000);
      events.push({ kind: 'flow-close', ...base(i + 1, dev(c.ip)), flow: flow(c, ep('192.168.1.9', 69), { proto: 'udp', payloadToServer: 20, payloadToClient: 0 }), reason: 'idle' });
    }
    const first = ep('10.0.0.0', 3000);
    const last = ep('10.0.97.167', 3000);
    const dataTo = (c: typeof first) => flow(ep('192.168.1.9', 41000), c, { proto: 'udp', payloadToServer: 100_000, payloadToClient: 400 });
    events.push({ kind: 'flow-close', ...base(30_000, dev(first.ip)), flow: dataTo(first), reason: 'idle' });
    events.push({ kind: 'flow-close', ...base(30_001, dev(last.ip)), flow: dataTo(last), reason: 'idle' });
    const found = run(d, events);
    // the first request was forgotten (its data matches nothing); the 25,000th is linked
    expect(found.map((x) => x.device.ip)).toEqual([last.ip]);
  });
});

describe('plaintext-credentials', () => {
  it('reports HTTP Basic, telnet, FTP and MQTT passwords, never the password', () => {
    const cam = ep('192.168.77.20', 80);
    const f = run(plaintextCredentialsDetector(cfg), [
      httpReq(1, PLUG, cam, { authorization: { scheme: 'Basic', username: 'admin', cleartextPassword: true } }),
      { kind: 'login', ...base(2, dev(PLUG.ip)), service: 'telnet', flowId: 2, client: PLUG, server: ep('192.168.77.20', 23), step: 'attempt', username: 'root', passwordInClear: true, attempt: 1 },
      { kind: 'mqtt-connect', ...base(3, dev(PLUG.ip)), flowId: 3, client: PLUG, server: ep('5.45.1.40', 1883), protocolName: 'MQTT', protocolLevel: 4, clientId: 'sp1', username: 'plug', passwordPresent: true, keepAlive: 60, cleanSession: true },
    ]);
    expect(f.map((x) => x.evidence.protocol).sort()).toEqual(['http-basic', 'mqtt', 'telnet']);
    for (const x of f) {
      wellFormed(x);
      expect(x.evidence.passwordShown).toBe(false);
      expect(JSON.stringify(x)).not.toMatch(/password"\s*:\s*"/);
    }
  });
  it('finds password fields in forms without copying their value', () => {
    expect(hasPasswordField('&user=a&password=hunter2')).toBe(true);
    expect(hasPasswordField('?pwd=x')).toBe(true);
    expect(hasPasswordField('&password=')).toBe(false);
    expect(hasPasswordField('&passwordless=1')).toBe(false);
    const body = new TextEncoder().encode('user=admin&password=sekrit99');
    const f = run(plaintextCredentialsDetector(cfg), [httpReq(1, PLUG, ep('192.168.77.20', 80), { method: 'POST', contentType: 'application/x-www-form-urlencoded', bodyPrefix: body })]);
    expect(f).toHaveLength(1);
    expect(JSON.stringify(f)).not.toContain('sekrit99');
    const json = new TextEncoder().encode('{"username":"admin","password":"s3cr3t-json"}');
    const j = run(plaintextCredentialsDetector(cfg), [httpReq(1, PLUG, ep('192.168.77.20', 80), { method: 'POST', contentType: 'application/json', bodyPrefix: json })]);
    expect(j).toHaveLength(1);
    expect(JSON.stringify(j)).not.toContain('s3cr3t-json');
    expect(hasJsonPassword('{"password":""}')).toBe(false);
  });
  it('ignores Digest, Bearer, MQTT without a password and telnet prompts', () => {
    const f = run(plaintextCredentialsDetector(cfg), [
      httpReq(1, PLUG, FW, { authorization: { scheme: 'Digest', username: 'admin', cleartextPassword: false } }),
      httpReq(2, PLUG, FW, { authorization: { scheme: 'Bearer', cleartextPassword: false } }),
      { kind: 'mqtt-connect', ...base(3), flowId: 3, client: PLUG, server: ep('5.45.1.40', 1883), protocolName: 'MQTT', protocolLevel: 4, clientId: 'x', passwordPresent: false, keepAlive: 60, cleanSession: true },
      { kind: 'login', ...base(4), service: 'telnet', flowId: 2, client: PLUG, server: ep('192.168.77.20', 23), step: 'prompt', passwordInClear: false, attempt: 0 },
    ]);
    expect(f).toEqual([]);
  });
});

describe('insecure-service', () => {
  const nas = ep('192.168.77.30', 23, '00:11:32:00:77:30');
  const login = (step: 'attempt' | 'failure' | 'success', n: number): EngineEvent => ({ kind: 'login', ...base(n, dev(PLUG.ip)), service: 'telnet', flowId: n, client: PLUG, server: nas, step, passwordInClear: step === 'attempt', attempt: 1, username: 'root' });
  it('blames the device that runs telnet when a login succeeds there', () => {
    const f = run(insecureServiceDetector(cfg), [login('attempt', 1), login('success', 2)]);
    expect(f).toHaveLength(1);
    wellFormed(f[0]);
    expect(f[0].device).toEqual({ mac: nas.mac, ip: nas.ip });
    expect(f[0].evidence).toMatchObject({ service: 'telnet', port: 23, role: 'server' });
  });
  it('does not blame a device that only rejected guesses', () => {
    expect(run(insecureServiceDetector(cfg), [login('attempt', 1), login('failure', 2), login('attempt', 3), login('failure', 4)])).toEqual([]);
  });
  it('reports an MQTT broker that accepts anonymous clients', () => {
    const broker = ep('192.168.77.5', 1883);
    const f = run(insecureServiceDetector(cfg), [
      { kind: 'mqtt-connect', ...base(1), flowId: 9, client: PLUG, server: broker, protocolName: 'MQTT', protocolLevel: 4, clientId: 'x', passwordPresent: false, keepAlive: 60, cleanSession: true },
      { kind: 'mqtt-connack', ...base(1.1), flowId: 9, client: PLUG, server: broker, returnCode: 0, accepted: true },
    ]);
    expect(f[0]?.device.ip).toBe(broker.ip);
    const refused = run(insecureServiceDetector(cfg), [
      { kind: 'mqtt-connect', ...base(1), flowId: 9, client: PLUG, server: broker, protocolName: 'MQTT', protocolLevel: 4, clientId: 'x', passwordPresent: false, keepAlive: 60, cleanSession: true },
      { kind: 'mqtt-connack', ...base(1.1), flowId: 9, client: PLUG, server: broker, returnCode: 5, accepted: false },
    ]);
    expect(refused).toEqual([]);
  });
});

describe('tls-weak', () => {
  const srv = ep('104.154.89.105', 443);
  const cert = (o: Partial<Extract<EngineEvent, { kind: 'tls-certificate' }>> = {}, leaf: Record<string, unknown> = {}): EngineEvent => ({
    kind: 'tls-certificate',
    ...base(10, dev(PLUG.ip, PLUG.mac)),
    flowId: 1,
    client: PLUG,
    server: srv,
    sni: 'cloud.example.com',
    chain: [
      {
        subject: 'CN=cloud.example.com',
        issuer: 'CN=Some CA',
        commonName: 'cloud.example.com',
        subjectAltNames: ['cloud.example.com', '*.cdn.example.com'],
        validFrom: '2020-01-01T00:00:00Z',
        validTo: '2030-01-01T00:00:00Z',
        serialNumber: '01',
        fingerprintSha256: 'ab',
        fingerprintSha1: 'cd',
        selfSigned: false,
        publicKey: 'rsa 2048',
        signatureAlgorithm: 'sha256WithRSAEncryption',
        ...leaf,
      },
      { subject: 'CN=Some CA', issuer: 'CN=Root', subjectAltNames: [], validFrom: '', validTo: '', serialNumber: '2', fingerprintSha256: '', fingerprintSha1: '', selfSigned: false },
    ],
    unparsed: 0,
    expiredAtCapture: false,
    notYetValidAtCapture: false,
    ...o,
  });
  it('matches names as RFC 6125 says', () => {
    expect(nameMatches('*.example.com', 'a.example.com')).toBe(true);
    expect(nameMatches('*.example.com', 'a.b.example.com')).toBe(false);
    expect(nameMatches('*.com', 'example.com')).toBe(false);
    expect(nameMatches('Example.COM', 'example.com')).toBe(true);
    expect(weakCipher('TLS_RSA_WITH_RC4_128_SHA')).toBe('RC4');
    expect(weakCipher('TLS_RSA_WITH_3DES_EDE_CBC_SHA')).toBe('DES/3DES');
    expect(weakCipher('TLS_AES_128_GCM_SHA256')).toBeUndefined();
  });
  it('says why: name mismatch, expired, self-signed, short key', () => {
    expect(run(tlsWeakDetector(cfg), [cert()])).toEqual([]);
    const mism = run(tlsWeakDetector(cfg), [cert({ sni: 'wrong.host.badssl.com' })]);
    expect(mism[0].evidence.reasons).toEqual(['name-mismatch']);
    wellFormed(mism[0]);
    expect(run(tlsWeakDetector(cfg), [cert({ sni: 'x.cdn.example.com' })])).toEqual([]);
    expect(run(tlsWeakDetector(cfg), [cert({ expiredAtCapture: true })])[0].evidence.reasons).toEqual(['expired']);
    const ss = run(tlsWeakDetector(cfg), [cert({ chain: [cert().kind === 'tls-certificate' ? { ...(cert() as Extract<EngineEvent, { kind: 'tls-certificate' }>).chain[0], selfSigned: true, publicKey: 'rsa 1024' } : (undefined as never)] })]);
    expect(ss[0].evidence.reasons).toEqual(['self-signed', 'weak-key']);
  });
  it('judges each SNI on its own when one certificate object is shared (the engine caches summaries)', () => {
    const shared = (cert() as Extract<EngineEvent, { kind: 'tls-certificate' }>).chain;
    const d = tlsWeakDetector(cfg);
    const evs = [
      cert({ chain: shared, sni: 'cloud.example.com' }),
      cert({ chain: shared, sni: 'evil.example.net' }),
      cert({ chain: shared, sni: 'x.cdn.example.com' }),
    ];
    const f = run(d, evs);
    expect(f).toHaveLength(1);
    expect(f[0].evidence.reasons).toEqual(['name-mismatch']);
    expect(f[0].evidence.frames).toEqual([evs[1].frame]);
  });
  it('reports obsolete versions and broken ciphers from the ServerHello, not modern ones', () => {
    const sh = (version: number, versionName: string, cipherName: string): EngineEvent => ({
      kind: 'tls-server-hello', ...base(1, dev(PLUG.ip)), flowId: 1, client: PLUG, server: srv, recordVersion: 0x0301, helloVersion: version, version, versionName, cipher: 0, cipherName, extensions: [], ja3s: '', ja3sHash: '',
    });
    expect(run(tlsWeakDetector(cfg), [sh(0x0303, 'TLS 1.2', 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256'), sh(0x0304, 'TLS 1.3', 'TLS_AES_128_GCM_SHA256')])).toEqual([]);
    const f = run(tlsWeakDetector(cfg), [sh(0x0301, 'TLS 1.0', 'TLS_RSA_WITH_RC4_128_SHA')]);
    expect(f[0].evidence.reasons).toEqual(['obsolete-version', 'weak-cipher']);
    expect(f[0].severity).toBe('high');
  });
});

describe('dns-tunnel', () => {
  const inf = ep('192.168.77.70', 40000, '14:08:08:00:77:70');
  const res = ep('192.168.77.1', 53);
  const b32 = (i: number) => Array.from({ length: 40 }, (_, k) => 'abcdefghijklmnopqrstuvwxyz234567'[(i * 7 + k * 13 + ((i * k) % 11)) % 32]).join('');
  it('recognises the tools by their names', () => {
    expect(toolSignature('aaaaah7wqa.=auth.dns2tcp.hsc.fr', 16)?.tool).toBe('dns2tcp');
    expect(toolSignature('0-60451.id-1605.down.tun.hsc.fr', 5)?.tool).toBe('sods');
    expect(toolSignature('init.mrxhg5dboaxgg33omyxhi6dupqytg.base64.hsc.fr', 16)?.tool).toBe('DNSExfiltrator');
    expect(toolSignature('147901b8d3df9cc46c59d600078b3316ce.biillpi.com', 15)?.tool).toBe('dnscat2');
    expect(toolSignature('paayebhi.t.c2tunnel.example', 10)?.tool).toBe('iodine');
    expect(toolSignature('www.google.com', 1)).toBeUndefined();
    expect(toolSignature('e7.whatsapp.net', 1)).toBeUndefined();
    expect(commonZone(['a.id-1.up.tun.hsc.fr', 'b.id-1.down.tun.hsc.fr'])).toBe('tun.hsc.fr');
  });
  it('finds an unnamed tunnel by its statistics and names the zone', () => {
    const evs = Array.from({ length: 30 }, (_, i) => dnsQuery(i, inf, res, `${b32(i)}.${b32(i + 100).slice(0, 25)}.x.evil-c2.net`, 16, 'TXT'));
    const f = run(dnsTunnelDetector(cfg), evs);
    expect(f).toHaveLength(1);
    wellFormed(f[0]);
    expect(f[0].evidence).toMatchObject({ domain: 'x.evil-c2.net', registeredDomain: 'evil-c2.net', queries: 30 });
    expect(f[0].evidence.tool).toBeUndefined();
    expect(f[0].device).toEqual({ ip: inf.ip, mac: inf.mac });
  });
  it('stays quiet under the thresholds and for ordinary lookups', () => {
    const few = Array.from({ length: 5 }, (_, i) => dnsQuery(i, inf, res, `${b32(i)}.evil-c2.net`, 16, 'TXT'));
    expect(run(dnsTunnelDetector(cfg), few)).toEqual([]);
    const cdn = Array.from({ length: 200 }, (_, i) => dnsQuery(i, inf, res, `r${i % 20}---sn-4g5e6nls.googlevideo.com`, 1, 'A'));
    const many = Array.from({ length: 100 }, (_, i) => dnsQuery(i, inf, res, ['www', 'api', 'mail', 'img', 'cdn', 'static', 'login'][i % 7] + `${i}.example.org`, 1, 'A'));
    const ptr = Array.from({ length: 100 }, (_, i) => dnsQuery(i, inf, res, `${i}.77.168.192.in-addr.arpa`, 12, 'PTR'));
    expect(run(dnsTunnelDetector(cfg), [...cdn, ...many, ...ptr])).toEqual([]);
  });
  it('keeps its state bounded on a long capture and still sees a late tunnel', () => {
    const d = dnsTunnelDetector(cfg);
    const c = ctx();
    for (let i = 0; i < 30_000; i++) d.onEvent(dnsQuery(i, inf, res, `www.site${i}.com`), c);
    for (let i = 0; i < 30; i++) d.onEvent(dnsQuery(40_000 + i, inf, res, `${b32(i)}.${b32(i + 100).slice(0, 25)}.x.evil-c2.net`, 16, 'TXT'), c);
    const f = d.finish(c);
    expect(f.map((x) => x.evidence.registeredDomain)).toEqual(['evil-c2.net']);
  });
  it('survives hostile names', () => {
    const evs = ['', '.', '..', 'a'.repeat(300), '\u0000\u0001.com', '=auth.', 'x.=auth.y', '*.*.*', '-.-.-'].map((n, i) => dnsQuery(i, inf, res, n, 10, 'NULL'));
    expect(() => run(dnsTunnelDetector(cfg), evs)).not.toThrow();
  });
});

describe('dns-bypass', () => {
  const a = ep('192.168.1.20', 5000, 'aa:aa:aa:aa:aa:20');
  const b = ep('192.168.1.21', 5000, 'aa:aa:aa:aa:aa:21');
  it('reports outside DNS when the LAN has its own resolver, and DoH/DoT always', () => {
    const evs: EngineEvent[] = [
      dnsQuery(1, b, ep('192.168.1.1', 53), 'a.example.com'),
      dnsQuery(2, a, ep('8.8.8.8', 53), 'a.example.com'),
      dnsQuery(3, a, ep('8.8.8.8', 53), 'b.example.com'),
      { kind: 'flow-close', ...base(4, dev(b.ip, b.mac)), flow: flow(b, ep('104.16.248.249', 443), { app: 'tls', serverName: 'mozilla.cloudflare-dns.com' }), reason: 'fin' },
      // an ordinary HTTPS site is not DoH
      { kind: 'flow-close', ...base(5, dev(b.ip, b.mac)), flow: flow(b, ep('104.16.1.1', 443), { app: 'tls', serverName: 'www.example.com' }), reason: 'fin' },
    ];
    const f = run(dnsBypassDetector(cfg), evs);
    expect(f).toHaveLength(2);
    const byIp = Object.fromEntries(f.map((x) => [x.device.ip, x]));
    expect(byIp[a.ip].evidence.ways).toEqual(['plain DNS to an outside resolver']);
    expect(byIp[b.ip].evidence.ways).toEqual(['DNS over HTTPS']);
    wellFormed(byIp[a.ip]);
  });
  it('reports DNS over TLS on port 853', () => {
    const f = run(dnsBypassDetector(cfg), [{ kind: 'flow-close', ...base(1, dev(a.ip, a.mac)), flow: flow(a, ep('9.9.9.9', 853)), reason: 'fin' }]);
    expect(f[0]?.evidence.ways).toEqual(['DNS over TLS']);
  });
  it('does not blame devices that all use the resolver DHCP gave them', () => {
    const isp = ep('80.10.246.2', 53);
    expect(run(dnsBypassDetector(cfg), [dnsQuery(1, a, isp, 'x.com'), dnsQuery(2, a, isp, 'y.com'), dnsQuery(3, b, isp, 'z.com'), dnsQuery(4, b, isp, 'w.com')])).toEqual([]);
  });
  it('still knows a public resolver is shared after one device asked thousands of outside addresses', () => {
    // the flood fills the bounded table of outside resolvers; 8.8.8.8, used by both devices, must still count as shared
    const evs: EngineEvent[] = [];
    for (let i = 0; i < 5000; i++) evs.push(dnsQuery(i, a, ep(`203.0.${i >> 8}.${i & 255}`, 53), `q${i}.example.com`));
    for (let i = 0; i < cfg.dnsBypass.minQueries; i++) {
      evs.push(dnsQuery(6000 + i, a, ep('8.8.8.8', 53), `a${i}.example.com`), dnsQuery(7000 + i, b, ep('8.8.8.8', 53), `b${i}.example.com`));
    }
    expect(run(dnsBypassDetector(cfg), evs)).toEqual([]);
  });
});

describe('lateral-scan', () => {
  const inf = ep('192.168.77.70', 40000, '14:08:08:00:77:70');
  const close = (i: number, dst: string, port: number, o: Record<string, unknown> = {}): EngineEvent => ({
    kind: 'flow-close',
    ...base(i, dev(inf.ip, inf.mac)),
    flow: flow({ ...inf, port: 40000 + i }, ep(dst, port), { firstTs: i, lastTs: i, tcpState: 'rejected', packetsToClient: 1, ...o }),
    reason: 'rst',
  });
  it('catches a Mirai-style sweep of telnet on the LAN', () => {
    const evs = [2, 3, 4, 5, 6].flatMap((h) => [close(h, `192.168.77.${h}`, 23), close(h, `192.168.77.${h}`, 2323, { tcpState: 'syn', packetsToClient: 0 })]);
    const f = run(lateralScanDetector(cfg), evs);
    expect(f).toHaveLength(1);
    wellFormed(f[0]);
    expect(f[0].severity).toBe('high');
    expect(f[0].evidence).toMatchObject({ kind: 'horizontal', scope: 'lan', ports: ['23/tcp', '2323/tcp'], distinct: 5 });
    expect(run(lateralScanDetector(cfg), evs.slice(0, 8))).toEqual([]);
  });
  it('catches vertical scans and ARP sweeps but not a busy client', () => {
    const vert = Array.from({ length: 20 }, (_, i) => close(i, '192.168.77.30', 1000 + i));
    expect(run(lateralScanDetector(cfg), vert)[0].evidence).toMatchObject({ kind: 'vertical', target: '192.168.77.30' });
    const arp: EngineEvent[] = Array.from({ length: 25 }, (_, i) => ({ kind: 'arp', ...base(i / 10), op: 1, senderMac: inf.mac!, senderIp: inf.ip, targetMac: '00:00:00:00:00:00', targetIp: `192.168.77.${100 + i}`, gratuitous: false }));
    expect(run(lateralScanDetector(cfg), arp)[0].evidence).toMatchObject({ kind: 'arp', distinct: 25 });
    // the same ARP burst from the gateway (the MAC internet hosts appear behind) is the router doing its job
    const gw = ep('192.168.77.1', undefined, '14:75:90:00:77:01');
    const viaGw: EngineEvent = { kind: 'flow-close', ...base(0, dev(inf.ip, inf.mac)), flow: flow(inf, { ...ep('52.1.1.1', 443), mac: gw.mac }, { serverName: 'x.example' }), reason: 'fin' };
    const gwArp: EngineEvent[] = arp.map((a) => ({ ...(a as Extract<EngineEvent, { kind: 'arp' }>), senderMac: gw.mac!, senderIp: gw.ip }));
    expect(run(lateralScanDetector(cfg), [viaGw, ...gwArp])).toEqual([]);
    // 40 successful HTTPS connections to named cloud hosts: a phone, not a scanner
    const busy = Array.from({ length: 40 }, (_, i) => close(i, `52.1.2.${i}`, 443, { tcpState: 'closed', packetsToClient: 10, serverName: `s${i}.cloud.example` }));
    expect(run(lateralScanDetector(cfg), busy)).toEqual([]);
    // the same port on many internet hosts, answered, unnamed (a P2P app): not a worm port, answered → nothing
    const p2p = Array.from({ length: 30 }, (_, i) => close(i, `81.1.2.${i}`, 51413, { tcpState: 'closed', packetsToClient: 10 }));
    expect(run(lateralScanDetector(cfg), p2p)).toEqual([]);
  });
  it('catches an outward worm sweep on 23 to unnamed internet addresses', () => {
    const evs = Array.from({ length: 12 }, (_, i) => close(i, `${20 + i}.${i}.1.1`, 23, { tcpState: 'syn', packetsToClient: 0 }));
    expect(run(lateralScanDetector(cfg), evs)[0].evidence).toMatchObject({ scope: 'internet', distinct: 12 });
  });
});

describe('login-brute-force', () => {
  const inf = ep('192.168.77.70', 40000, '14:08:08:00:77:70');
  const nas = ep('192.168.77.30', 23);
  const tries = (n: number, last: 'failure' | 'success' = 'failure'): EngineEvent[] =>
    Array.from({ length: n }, (_, i) => [
      { kind: 'login', ...base(i * 2, dev(inf.ip, inf.mac)), service: 'telnet', flowId: 100 + i, client: inf, server: nas, step: 'attempt', username: 'root', passwordInClear: true, attempt: 1 } as EngineEvent,
      { kind: 'login', ...base(i * 2 + 1, dev(inf.ip, inf.mac)), service: 'telnet', flowId: 100 + i, client: inf, server: nas, step: i === n - 1 ? last : 'failure', passwordInClear: false, attempt: 1 } as EngineEvent,
    ]).flat();
  it('reports five failed telnet logins from the attacker, and a final success as critical', () => {
    const f = run(loginBruteForceDetector(cfg), tries(6));
    expect(f).toHaveLength(1);
    wellFormed(f[0]);
    expect(f[0].device).toEqual({ ip: inf.ip, mac: inf.mac });
    expect(f[0].evidence).toMatchObject({ service: 'telnet', attacker: inf.ip, target: '192.168.77.30:23', failures: 6 });
    expect(run(loginBruteForceDetector(cfg), tries(7, 'success'))[0].severity).toBe('critical');
    expect(run(loginBruteForceDetector(cfg), tries(4))).toEqual([]);
  });
  it('counts unanswered attempts on dropped connections, HTTP 401s and short SSH bursts', () => {
    const dropped: EngineEvent[] = Array.from({ length: 5 }, (_, i) => [
      { kind: 'login', ...base(i, dev(inf.ip)), service: 'telnet', flowId: 200 + i, client: inf, server: nas, step: 'attempt', passwordInClear: true, attempt: 1 } as EngineEvent,
      { kind: 'flow-close', ...base(i + 0.5, dev(inf.ip)), flow: flow(inf, nas, { id: 200 + i, app: 'telnet' }), reason: 'fin' } as EngineEvent,
    ]).flat();
    expect(run(loginBruteForceDetector(cfg), dropped)[0]?.evidence.failures).toBe(5);
    const cam = ep('192.168.77.20', 80);
    const http: EngineEvent[] = Array.from({ length: 6 }, (_, i) => exchange(i, { flowId: 300 + i, authorization: { scheme: 'Basic', username: 'admin', cleartextPassword: true } }, { status: 401 }, inf, cam)).flat();
    // 401s to requests without credentials are the usual challenge, not failures
    const challenges: EngineEvent[] = Array.from({ length: 8 }, (_, i) => exchange(i, { flowId: 400 + i }, { status: 401 }, inf, cam)).flat();
    expect(run(loginBruteForceDetector(cfg), challenges)).toEqual([]);
    expect(run(loginBruteForceDetector(cfg), http)[0]?.evidence).toMatchObject({ service: 'http', failures: 6 });
    const ssh = (n: number): EngineEvent[] => Array.from({ length: n }, (_, i) => ({ kind: 'flow-close', ...base(i), flow: flow(inf, ep('192.168.77.21', 22), { app: 'ssh', firstTs: i * 3, lastTs: i * 3 + 2, packetsToClient: 8 }), reason: 'fin' }) as EngineEvent);
    expect(run(loginBruteForceDetector(cfg), ssh(10))[0]?.evidence.inferred).toBeTruthy();
    expect(run(loginBruteForceDetector(cfg), ssh(9))).toEqual([]);
  });
});

describe('beaconing', () => {
  const d = ep('192.168.1.50', 40000, 'aa:bb:cc:00:00:50');
  const open = (ts: number, ip: string, port: number, name?: string): EngineEvent => ({ kind: 'flow-close', ...base(ts + 1, dev(d.ip, d.mac)), flow: flow(d, ep(ip, port), { firstTs: ts, lastTs: ts + 1, ...(name ? { serverName: name } : {}) }), reason: 'fin' });
  it('measures period and jitter', () => {
    const p = periodicity([0, 60, 120.5, 180, 239.5, 300], 5)!;
    expect(p.period).toBeCloseTo(60, 0);
    expect(p.jitter).toBeLessThan(0.02);
    expect(periodicity([0, 1], 5)).toBeUndefined();
  });
  it('reports a clockwork beacon to an unnamed address on an odd port', () => {
    const evs = Array.from({ length: 10 }, (_, i) => open(i * 30 + (i % 2) * 0.4, '45.9.8.7', 4444));
    const f = run(beaconingDetector(cfg), evs);
    expect(f).toHaveLength(1);
    wellFormed(f[0]);
    expect(f[0].severity).toBe('medium');
    expect(f[0].evidence).toMatchObject({ destination: '45.9.8.7', port: 4444, connections: 10 });
  });
  it('ignores named check-ins on ordinary ports, irregular traffic and short series', () => {
    expect(run(beaconingDetector(cfg), Array.from({ length: 20 }, (_, i) => open(i * 30, '52.1.1.1', 443, 'api.vendor.example')))).toEqual([]);
    const irregular = [0, 7, 50, 58, 130, 300, 310, 480, 700, 720].map((t) => open(t, '45.9.8.7', 4444));
    expect(run(beaconingDetector(cfg), irregular)).toEqual([]);
    expect(run(beaconingDetector(cfg), Array.from({ length: 5 }, (_, i) => open(i * 30, '45.9.8.7', 4444)))).toEqual([]);
  });
});

describe('remote-access', () => {
  const cam = ep('192.168.77.20', 36000, '18:80:25:00:77:20');
  const relay = ep('5.45.1.40', 1883);
  const close = (o: Record<string, unknown>, reason: 'fin' | 'end' = 'end'): EngineEvent => ({ kind: 'flow-close', ...base(30, dev(cam.ip, cam.mac)), flow: flow(cam, relay, { app: 'mqtt', firstTs: 0, lastTs: 25, serverName: 'relay.camco.example', ...o }), reason });
  it('names the relay and how long the connection lived', () => {
    const f = run(remoteAccessDetector(cfg), [close({})]);
    expect(f).toHaveLength(1);
    wellFormed(f[0]);
    expect(f[0].evidence).toMatchObject({ kind: 'broker', relay: 'relay.camco.example', longestSeconds: 25, stillOpen: true, protocol: 'MQTT' });
    expect(f[0].advice).toMatch(/relay\.camco\.example/);
  });
  it('ignores a short publish, and reports frequent polling', () => {
    expect(run(remoteAccessDetector(cfg), [close({ lastTs: 0.3 }, 'fin')])).toEqual([]);
    const polls = Array.from({ length: 12 }, (_, i) => ({ kind: 'flow-close', ...base(i), flow: flow(cam, ep('52.1.1.1', 443), { app: 'tls', firstTs: i * 10, lastTs: i * 10 + 1, serverName: 'api.camco.example' }), reason: 'fin' }) as EngineEvent);
    expect(run(remoteAccessDetector(cfg), polls)[0]?.evidence).toMatchObject({ kind: 'poll', connections: 12 });
    expect(run(remoteAccessDetector(cfg), polls.slice(0, 9))).toEqual([]);
  });
});

describe('upnp-port-mapping-request', () => {
  const ps = ep('192.168.77.50', 40000, '00:04:1f:00:77:50');
  const gw = ep('192.168.77.1', 5000);
  it('reports AddPortMapping and NAT-PMP map requests once each, not deletions', () => {
    const soap = (action: string, port: number): EngineEvent => ({
      kind: 'upnp-soap', ...base(1, dev(ps.ip, ps.mac)), flowId: 1, client: ps, server: gw, action, controlPath: '/ctl/IPConn', args: {},
      mapping: { protocol: 'TCP', externalPort: port, internalPort: port, internalClient: ps.ip, description: 'PS Remote Play', leaseSeconds: 3600 },
    });
    const pmp = (lifetime: number): EngineEvent => ({ kind: 'natpmp', ...base(2, dev(ps.ip, ps.mac)), client: ps, server: ep('192.168.77.1', 5351), protocol: 'nat-pmp', response: false, opcode: 1, mapProto: 'udp', internalPort: 9296, externalPort: 9296, lifetime });
    const f = run(upnpPortMappingRequestDetector(cfg), [soap('AddPortMapping', 9295), soap('AddPortMapping', 9295), soap('DeletePortMapping', 9295), pmp(3600), pmp(0)]);
    expect(f).toHaveLength(2);
    for (const x of f) wellFormed(x);
    expect(f.map((x) => x.evidence.via).sort()).toEqual(['nat-pmp', 'upnp-soap']);
    expect(f.find((x) => x.evidence.via === 'upnp-soap')!.evidence.requests).toBe(2);
    expect(f[0].device).toEqual({ ip: ps.ip, mac: ps.mac });
  });
  it('escalates a request made for another device', () => {
    const f = run(upnpPortMappingRequestDetector(cfg), [
      { kind: 'upnp-soap', ...base(1), flowId: 1, client: ps, server: gw, action: 'AddPortMapping', controlPath: '/ctl', args: {}, mapping: { protocol: 'TCP', externalPort: 23, internalPort: 23, internalClient: '192.168.77.20' } },
    ]);
    expect(f[0].severity).toBe('high');
  });
});

describe('attribution', () => {
  it('blames the acting LAN side even when the flow was attributed to its peer (capture started mid-connection)', () => {
    const pi = ep('192.168.77.10', 50000, '2c:cf:67:00:77:10');
    const nas = ep('192.168.77.30', 23, '00:11:32:00:77:30');
    const evs: EngineEvent[] = Array.from({ length: 6 }, (_, i) => [
      { kind: 'login', ...base(i, dev(nas.ip, nas.mac)), service: 'telnet', flowId: 500 + i, client: pi, server: nas, step: 'attempt', passwordInClear: true, attempt: 1, username: 'root' } as EngineEvent,
      { kind: 'login', ...base(i + 0.5, dev(nas.ip, nas.mac)), service: 'telnet', flowId: 500 + i, client: pi, server: nas, step: 'failure', passwordInClear: false, attempt: 1 } as EngineEvent,
    ]).flat();
    expect(run(loginBruteForceDetector(cfg), evs)[0].device).toEqual({ mac: pi.mac, ip: pi.ip });
    expect(run(plaintextCredentialsDetector(cfg), evs)[0].device).toEqual({ mac: pi.mac, ip: pi.ip });
  });
});

describe('every detector on a ctx', () => {
  it('finishes with nothing when it saw nothing', () => {
    for (const d of defaultDetectors()) expect(d.finish(ctx())).toEqual([]);
  });
});
