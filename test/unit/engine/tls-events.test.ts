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
