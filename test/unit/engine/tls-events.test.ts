// TLS events from a real handshake: a Node TLS 1.2 server that asks for a
// client certificate and gets none ends the handshake with a fatal alert
// (handshake_failure), after its certificate and ServerHelloDone. The bytes each
// side wrote are recorded by a relay on loopback and replayed into the engine
// as one TCP conversation. The engine stops reading a TLS flow once nothing
// more is wanted from it; alert listeners still get the alerts.
import net from 'node:net';
import tls from 'node:tls';
import { beforeAll, describe, expect, it } from 'vitest';
import { TcpConv, pcap } from './pkt.js';
import { ofKind, runEngine } from './run.js';
import type { EventKind } from '../../../src/core/engine/events.js';
import { hasTool, makePki } from '../tlscheck/helpers.js';

type Chunk = { toServer: boolean; data: Buffer };

/** What a TLS client and server wrote to each other, in order, through a relay on 127.0.0.1. */
async function recordHandshake(client: tls.ConnectionOptions, server: tls.TlsOptions): Promise<Chunk[]> {
  const chunks: Chunk[] = [];
  const tlsServer = tls.createServer(server, (s) => s.on('error', () => {}));
  tlsServer.on('tlsClientError', () => {});
  await new Promise<void>((r) => tlsServer.listen(0, '127.0.0.1', r));
  const relay = net.createServer((c) => {
    const up = net.connect((tlsServer.address() as net.AddressInfo).port, '127.0.0.1');
    c.on('data', (d: Buffer) => {
      chunks.push({ toServer: true, data: Buffer.from(d) });
      up.write(d);
    });
    up.on('data', (d: Buffer) => {
      chunks.push({ toServer: false, data: Buffer.from(d) });
      c.write(d);
    });
    c.on('close', () => up.destroy());
    up.on('close', () => c.destroy());
    c.on('error', () => {});
    up.on('error', () => {});
  });
  await new Promise<void>((r) => relay.listen(0, '127.0.0.1', r));
  await new Promise<void>((resolve) => {
    const c = tls.connect({ host: '127.0.0.1', port: (relay.address() as net.AddressInfo).port, ...client });
    c.on('secureConnect', () => c.end());
    c.on('error', () => undefined);
    c.on('close', () => resolve());
  });
  // let the last bytes through the relay
  await new Promise((r) => setTimeout(r, 100));
  relay.close();
  tlsServer.close();
  return chunks;
}

describe.skipIf(!hasTool('openssl'))('TLS events from a real handshake', () => {
  let chunks: Chunk[];
  beforeAll(async () => {
    const pki = makePki(['cam.example']);
    // the server asks for a client certificate and the client has none: the server ends the handshake with a fatal alert, in clear (TLS 1.2)
    chunks = await recordHandshake(
      { servername: 'cam.example', maxVersion: 'TLSv1.2', rejectUnauthorized: false },
      { cert: pki.cert, key: pki.key, maxVersion: 'TLSv1.2', requestCert: true, rejectUnauthorized: true, ca: pki.ca },
    );
  });

  const replay = (wants: EventKind[]) => {
    const conv = new TcpConv({ mac: '70:89:76:00:77:61', ip: '192.168.77.61', port: 40_443 }, { mac: '14:75:90:00:77:01', ip: '5.45.1.44', port: 443 }).handshake();
    for (const ch of chunks) {
      // MSS-sized segments: the certificate record spans several
      for (let o = 0; o < ch.data.length; o += 536) {
        const seg = [...ch.data.subarray(o, o + 536)];
        if (ch.toServer) conv.client(seg);
        else conv.server(seg);
      }
    }
    return runEngine(pcap(conv.close().frames), { wants }).events;
  };

  it('gives the certificate, and the alert that ended the handshake, to those who listen', () => {
    const all = replay(['tls-client-hello', 'tls-server-hello', 'tls-certificate', 'tls-alert']);
    expect(ofKind(all, 'tls-client-hello').map((e) => e.sni)).toEqual(['cam.example']);
    expect(ofKind(all, 'tls-server-hello').map((e) => e.versionName)).toEqual(['TLS 1.2']);
    const certs = ofKind(all, 'tls-certificate');
    expect(certs).toHaveLength(1);
    expect(certs[0].chain[0]).toMatchObject({ commonName: 'cam.example', subjectAltNames: ['cam.example'] });
    // OpenSSL's alert for a missing client certificate in TLS 1.2: handshake_failure (RFC 5246 §7.2.2, §7.4.6), fatal
    expect(ofKind(all, 'tls-alert').map((e) => ({ fromServer: e.fromServer, level: e.level, description: e.description }))).toEqual([{ fromServer: true, level: 2, description: 40 }]);
  });

  it('stops reading a side once nothing more is wanted from it, without losing what is', () => {
    const all = replay(['tls-client-hello', 'tls-server-hello', 'tls-certificate', 'tls-alert']);
    const pick = (kind: EventKind) => all.filter((e) => e.kind === kind).map((e) => ({ ...e, ts: 0 }));
    // the certificate alone (the server side stops after it, the client side after its hello)
    expect(ofKind(replay(['tls-certificate']), 'tls-certificate').map((e) => ({ ...e, ts: 0 }))).toEqual(pick('tls-certificate'));
    // the server hello alone (the server side stops after it)
    expect(ofKind(replay(['tls-server-hello']), 'tls-server-hello').map((e) => ({ ...e, ts: 0 }))).toEqual(pick('tls-server-hello'));
    // alerts alone: the server side is read on past its ServerHelloDone, so the alert after it is still seen
    expect(ofKind(replay(['tls-alert']), 'tls-alert').map((e) => ({ ...e, ts: 0 }))).toEqual(pick('tls-alert'));
  });
});

// An SSLv2-format ClientHello (RFC 5246 Appendix E.2), as old TLS stacks
// (OpenSSL 0.9.8: the D-Link camera of the IoT Sentinel corpus) send it: a
// 2-byte header with the top bit set, then cipher specs of 3 bytes, TLS suites
// (first byte 0) mixed with SSL 2.0 kinds. Built byte by byte: no client on
// this machine still sends one. The corpus test holds it to tshark on the
// camera's real hellos.
function sslv2Hello(specs: number[], opts: { version?: number; sid?: number; challenge?: number; lengthDelta?: number } = {}): number[] {
  const sid = opts.sid ?? 0;
  const challenge = opts.challenge ?? 32;
  const body = [0x01, (opts.version ?? 0x0301) >> 8, (opts.version ?? 0x0301) & 255, 0, specs.length * 3, 0, sid, 0, challenge];
  for (const s of specs) body.push((s >> 16) & 255, (s >> 8) & 255, s & 255);
  for (let i = 0; i < sid + challenge; i++) body.push((i * 37 + 11) & 255);
  const len = body.length + (opts.lengthDelta ?? 0);
  return [0x80 | (len >> 8), len & 255, ...body];
}

/** A TLS ServerHello record choosing `cipher` at `version` (no extensions). */
function serverHello(version: number, cipher: number): number[] {
  const hs = [version >> 8, version & 255, ...Array.from({ length: 32 }, (_, i) => i), 0, cipher >> 8, cipher & 255, 0];
  const msg = [0x02, 0, 0, hs.length, ...hs];
  return [0x16, version >> 8, version & 255, 0, msg.length, ...msg];
}

describe('an SSLv2-format ClientHello', () => {
  const SPECS = [0x000039, 0x0700c0, 0x000005, 0x010080, 0x020080, 0x0000ff];
  const run = (hello: number[], port: number, cuts: readonly number[], after: number[] = []) => {
    const conv = new TcpConv({ mac: '70:89:76:00:77:62', ip: '192.168.77.62', port: 41_472 }, { mac: '14:75:90:00:77:01', ip: '5.45.1.45', port }).handshake();
    let o = 0;
    for (const c of [...cuts, hello.length]) {
      conv.client(hello.slice(o, c));
      o = c;
    }
    conv.server(serverHello(0x0301, 0x0039));
    if (after.length > 0) conv.client(after);
    return runEngine(pcap(conv.close().frames), { wants: ['tls-client-hello', 'tls-server-hello', 'tls-alert'] }).events;
  };

  it('gives a tls-client-hello with the offered version and both kinds of cipher, on 443 and on any port', () => {
    // on a port of its own the flow's first segment is sniffed (as for TLS and HTTP): it needs the hello's first 11 bytes
    for (const [port, cutsList] of [[443, [[], [1], [2, 7, 40]]], [50_443, [[], [11], [20, 40]]]] as const) {
      for (const cuts of cutsList) {
        const all = run(sslv2Hello(SPECS), port, cuts);
        const ch = ofKind(all, 'tls-client-hello');
        expect(ch, `port ${port}, cuts ${cuts.join(',')}`).toHaveLength(1);
        expect(ch[0]).toMatchObject({ recordVersion: 0x0002, helloVersion: 0x0301, maxVersion: 'TLS 1.0', supportedVersions: [], ciphers: [0x39, 0x05, 0xff], sslv2Ciphers: [0x0700c0, 0x010080, 0x020080], extensions: [], ja3: '', ja3Hash: '', ja4: '' });
        expect(ch[0].sni).toBeUndefined();
        expect(ofKind(all, 'tls-server-hello').map((e) => e.versionName)).toEqual(['TLS 1.0']);
      }
    }
  });

  it('reads the TLS records that follow it (an alert in the same segment as its end, or after)', () => {
    const alert = [0x15, 0x03, 0x01, 0x00, 0x02, 0x02, 0x28];
    const hello = sslv2Hello(SPECS, { sid: 16 });
    // the alert rides in the hello's last segment
    const together = run([...hello, ...alert], 443, [hello.length - 5]);
    expect(ofKind(together, 'tls-client-hello')).toHaveLength(1);
    expect(ofKind(together, 'tls-alert').map((e) => [e.fromServer, e.level, e.description])).toEqual([[false, 2, 40]]);
    const later = run(hello, 443, [3], alert);
    expect(ofKind(later, 'tls-alert').map((e) => [e.fromServer, e.level, e.description])).toEqual([[false, 2, 40]]);
  });

  it('takes no hello whose lengths do not add up, or that SSL 2.0 and TLS never sent', () => {
    for (const bad of [
      sslv2Hello(SPECS, { lengthDelta: 1 }),
      sslv2Hello(SPECS, { challenge: 15 }),
      sslv2Hello(SPECS, { sid: 8 }),
      sslv2Hello(SPECS, { version: 0x0400 }),
      sslv2Hello([], {}),
    ]) {
      for (const port of [443, 50_443]) expect(ofKind(run(bad, port, [2]), 'tls-client-hello')).toEqual([]);
    }
    // SSL 2.0 itself (version 0x0002) is one
    expect(ofKind(run(sslv2Hello(SPECS, { version: 0x0002 }), 443, []), 'tls-client-hello').map((e) => e.maxVersion)).toEqual(['SSL 2.0']);
  });
});
