import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { findOriginalDestination, parseConntrackLine } from '../../../src/core/tlscheck/conntrack.js';
import { CERT_TESTS, CertRotation, classifyHandshakeError, verdictFor, type AttemptResult, type CertTest } from '../../../src/core/tlscheck/plan.js';
import { buildFindings, buildResults } from '../../../src/core/tlscheck/report.js';
import { hasTable, parseNftSetJson, parseRedirectCounter, renderInterceptTable } from '../../../src/core/tlscheck/nft.js';

const att = (certificate: CertTest, outcome: AttemptResult['outcome']): AttemptResult => ({
  certificate,
  outcome,
  accepted: outcome === 'accepted',
  handshake: outcome === 'accepted',
  appDataBytes: outcome === 'accepted' ? 10 : 0,
  reason: outcome,
  at: '2026-01-01T00:00:00.000Z',
});

describe('conntrack', () => {
  // lines as /proc/net/nf_conntrack prints them on the lab router after DNAT
  const table = [
    'ipv4     2 tcp      6 117 TIME_WAIT src=192.168.77.60 dst=5.45.1.30 sport=40112 dport=443 src=192.168.77.1 dst=192.168.77.60 sport=37783 dport=40112 [ASSURED] mark=0 zone=0 use=2',
    'ipv4     2 tcp      6 431999 ESTABLISHED src=192.168.77.60 dst=5.45.1.40 sport=40113 dport=8883 src=192.168.77.1 dst=192.168.77.60 sport=37783 dport=40113 [ASSURED] mark=0 zone=0 use=2',
    'ipv4     2 tcp      6 431999 ESTABLISHED src=192.168.77.60 dst=5.45.1.20 sport=40114 dport=80 src=5.45.1.20 dst=5.45.0.2 sport=80 dport=40114 [ASSURED] mark=0 zone=0 use=2',
    'ipv4     2 udp      17 29 src=5.45.0.2 dst=5.45.1.10 sport=33108 dport=53 src=5.45.1.10 dst=5.45.0.2 sport=53 dport=33108 mark=0 zone=0 use=2',
    // conntrack -L (conntrack-tools) format
    'tcp      6 431999 ESTABLISHED src=192.168.77.60 dst=5.45.1.30 sport=40200 dport=8443 src=192.168.77.1 dst=192.168.77.60 sport=37783 dport=40200 [ASSURED] mark=0 use=1',
  ].join('\n');
  const local = { ip: '192.168.77.1', port: 37783 };

  it('finds the original destination DNAT rewrote', () => {
    expect(findOriginalDestination(table, { ip: '192.168.77.60', port: 40112 }, local)).toEqual({ ip: '5.45.1.30', port: 443 });
    expect(findOriginalDestination(table, { ip: '192.168.77.60', port: 40113 }, local)).toEqual({ ip: '5.45.1.40', port: 8883 });
    expect(findOriginalDestination(table, { ip: '192.168.77.60', port: 40200 }, local)).toEqual({ ip: '5.45.1.30', port: 8443 });
  });

  it('ignores entries of other connections, other listeners and direct connections', () => {
    expect(findOriginalDestination(table, { ip: '192.168.77.60', port: 40114 }, local)).toBeUndefined();
    expect(findOriginalDestination(table, { ip: '192.168.77.61', port: 40112 }, local)).toBeUndefined();
    expect(findOriginalDestination(table, { ip: '192.168.77.60', port: 40112 }, { ip: '192.168.77.1', port: 1 })).toBeUndefined();
    const direct = 'ipv4 2 tcp 6 10 ESTABLISHED src=192.168.77.60 dst=192.168.77.1 sport=5 dport=37783 src=192.168.77.1 dst=192.168.77.60 sport=37783 dport=5';
    expect(findOriginalDestination(direct, { ip: '192.168.77.60', port: 5 }, local)).toBeUndefined();
    expect(parseConntrackLine(table.split('\n')[3])).toBeUndefined();
  });

  it('never throws on junk', () => {
    fc.assert(fc.property(fc.string({ maxLength: 400 }), fc.nat(65535), (s, port) => {
      findOriginalDestination(s, { ip: '1.2.3.4', port }, local);
      parseConntrackLine(`tcp ${s}`);
    }));
  });
});

describe('CertRotation', () => {
  const k = { device: '192.168.77.60', sni: 'cloud.plugco.example', destination: '5.45.1.30:443', port: 443 };

  it('hands out each forgery once per destination, in order, then passes through', () => {
    const r = new CertRotation();
    const got: Array<CertTest | undefined> = [];
    for (let i = 0; i < 6; i++) {
      const t = r.next(k);
      got.push(t);
      if (t) r.record(k, att(t, 'refused'));
    }
    expect(got).toEqual([...CERT_TESTS, undefined, undefined]);
    expect(r.complete(k)).toBe(true);
  });

  it('connections in parallel get different certificates; an inconclusive one is offered again', () => {
    const r = new CertRotation();
    const a = r.next(k)!;
    const b = r.next(k)!;
    expect([a, b]).toEqual(['self-signed', 'wrong-host']);
    r.record(k, att(a, 'inconclusive'));
    expect(r.next(k)).toBe('self-signed');
  });

  it('keeps destinations apart: another SNI, another port, another device', () => {
    const r = new CertRotation();
    expect(r.next(k)).toBe('self-signed');
    expect(r.next({ ...k, sni: 'mqtt.plugco.example' })).toBe('self-signed');
    expect(r.next({ ...k, port: 8883, destination: '5.45.1.30:8883' })).toBe('self-signed');
    expect(r.next({ ...k, device: '192.168.77.61' })).toBe('self-signed');
    // without SNI the destination address is the key
    expect(r.next({ device: k.device, destination: '5.45.1.30:443', port: 443 })).toBe('self-signed');
    expect(r.next({ device: k.device, destination: '5.45.1.31:443', port: 443 })).toBe('self-signed');
    expect(r.snapshot()).toHaveLength(6);
  });
});

describe('verdictFor', () => {
  it('validates only when every forgery was refused', () => {
    expect(verdictFor(CERT_TESTS.map((t) => att(t, 'refused')))).toBe('validates');
    expect(verdictFor(CERT_TESTS.slice(0, 3).map((t) => att(t, 'refused')))).toBe('incomplete');
    expect(verdictFor([...CERT_TESTS.slice(0, 3).map((t) => att(t, 'refused')), att('untrusted-ca', 'inconclusive')])).toBe('incomplete');
    expect(verdictFor([])).toBe('incomplete');
  });

  it('names the most dangerous acceptance', () => {
    expect(verdictFor(CERT_TESTS.map((t) => att(t, 'accepted')))).toBe('accepts-self-signed');
    expect(verdictFor([att('self-signed', 'refused'), att('wrong-host', 'accepted'), att('expired', 'accepted'), att('untrusted-ca', 'accepted')])).toBe('accepts-untrusted-ca');
    expect(verdictFor([att('self-signed', 'refused'), att('wrong-host', 'accepted'), att('expired', 'accepted'), att('untrusted-ca', 'refused')])).toBe('accepts-wrong-host');
    expect(verdictFor([att('self-signed', 'refused'), att('wrong-host', 'refused'), att('expired', 'accepted')])).toBe('accepts-expired');
    // one acceptance is proof enough, even before the other tests ran
    expect(verdictFor([att('expired', 'accepted')])).toBe('accepts-expired');
  });
});

describe('classifyHandshakeError', () => {
  it('alerts after our certificate are refusals', () => {
    const e = { code: 'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA', message: 'C0D7:error:0A000418:SSL routines:ssl3_read_bytes:tlsv1 alert unknown ca:../deps/openssl/ssl/record/rec_layer_s3.c:1605:SSL alert number 48' };
    expect(classifyHandshakeError(e, true)).toMatchObject({ outcome: 'refused', alert: 'unknown ca' });
    expect(classifyHandshakeError({ code: 'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE', message: 'x:sslv3 alert bad certificate:y' }, true)).toMatchObject({ outcome: 'refused', alert: 'bad certificate' });
    expect(classifyHandshakeError({ code: 'ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED' }, true)).toMatchObject({ outcome: 'refused', alert: 'certificate expired' });
    expect(classifyHandshakeError({ code: 'ECONNRESET', message: 'read ECONNRESET' }, true).outcome).toBe('refused');
  });

  it('failures to agree on TLS parameters prove nothing', () => {
    expect(classifyHandshakeError({ code: 'ERR_SSL_NO_SHARED_CIPHER', message: 'no shared cipher' }, false).outcome).toBe('inconclusive');
    expect(classifyHandshakeError({ code: 'ERR_SSL_UNSUPPORTED_PROTOCOL', message: 'unsupported protocol' }, false).outcome).toBe('inconclusive');
    expect(classifyHandshakeError({ message: 'x:tlsv1 alert protocol version:y' }, false).outcome).toBe('inconclusive');
    expect(classifyHandshakeError({ message: 'closed' }, false).outcome).toBe('inconclusive');
  });
});

describe('results and findings', () => {
  const key = { device: '192.168.77.60', sni: 'cloud.plugco.example', destination: '5.45.1.30:443', port: 443 };
  it('one result per destination; no-tls-seen for a device without TLS', () => {
    const res = buildResults(['192.168.77.60', '192.168.77.61'], [{ key, destination: key.destination, attempts: CERT_TESTS.map((t) => att(t, 'accepted')), passedThrough: 2 }]);
    expect(res.map((r) => [r.device, r.sni, r.destination, r.verdict])).toEqual([
      ['192.168.77.60', 'cloud.plugco.example', '5.45.1.30:443', 'accepts-self-signed'],
      ['192.168.77.61', null, null, 'no-tls-seen'],
    ]);
    expect(res[0].tests.map((t) => [t.certificate, t.accepted])).toEqual(CERT_TESTS.map((t) => [t, true]));
    const f = buildFindings(res, new Map([['192.168.77.60', '70:89:76:00:77:60']]));
    expect(f).toHaveLength(1);
    expect(f[0]).toMatchObject({ id: 'tls-no-cert-validation', severity: 'high', device: { ip: '192.168.77.60', mac: '70:89:76:00:77:60' } });
    expect(f[0].evidence.proof).toHaveLength(4);
    expect(f[0].advice).toMatch(/isolated/);
    expect(f[0].advice).toMatch(/vendor/);
  });

  it('no finding for validates, incomplete or no-tls-seen', () => {
    const res = buildResults(['192.168.77.60'], [{ key, destination: key.destination, attempts: CERT_TESTS.map((t) => att(t, 'refused')), passedThrough: 0 }]);
    expect(res[0].verdict).toBe('validates');
    expect(buildFindings(res)).toEqual([]);
  });
});

describe('nftables table', () => {
  it('renders one table that redirects only the device, and refuses odd input', () => {
    const t = renderInterceptTable({ device: '192.168.77.60', listenIp: '192.168.77.1', listenPort: 40000, ports: [8883, 443, 443] });
    expect(t).toMatch(/^table ip iotguard_tlscheck \{/);
    expect(t).toContain('elements = { 443, 8883 }');
    expect(t).toContain('ip saddr 192.168.77.60 tcp dport @ports fib daddr type != local counter dnat to 192.168.77.1:40000');
    expect(t.match(/^table /gm)).toHaveLength(1);
    expect(() => renderInterceptTable({ device: '192.168.77.60; flush ruleset', listenIp: '192.168.77.1', listenPort: 1, ports: [443] })).toThrow();
    expect(() => renderInterceptTable({ device: '192.168.77.60', listenIp: '192.168.77.1', listenPort: 0, ports: [443] })).toThrow();
    expect(() => renderInterceptTable({ device: '192.168.77.60', listenIp: '192.168.77.1', listenPort: 1, ports: [] })).toThrow();
  });

  it('reads sets, counters and the table list', () => {
    expect(parseNftSetJson('{"nftables": [{"metainfo": {}}, {"set": {"family": "ip", "name": "seen", "elem": [5000, 8443]}}]}')).toEqual([5000, 8443]);
    expect(parseNftSetJson('{"nftables": [{"set": {"name": "seen"}}]}')).toEqual([]);
    expect(parseNftSetJson('not json')).toEqual([]);
    expect(parseRedirectCounter('{"nftables":[{"rule":{"expr":[{"match":{}},{"counter":{"packets":7,"bytes":420}},{"dnat":{}}]}}]}')).toBe(7);
    expect(parseRedirectCounter('{}')).toBeUndefined();
    expect(hasTable('table inet filter\ntable ip iotguard_tlscheck\n')).toBe(true);
    expect(hasTable('table inet filter\ntable inet iotguard_tlscheck\n')).toBe(false);
  });
});
