import net from 'node:net';
import tls from 'node:tls';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { looksLikeTlsStart, peekClientHello } from '../../../src/core/tlscheck/clienthello.js';

/** The first flight a real Node TLS client sends, captured on a plain TCP server. */
async function captureHello(opts: tls.ConnectionOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer((s) => {
      let buf = Buffer.alloc(0);
      s.on('data', (d: Buffer) => {
        buf = Buffer.concat([buf, d]);
        if (buf.length >= 5 && buf.length >= 5 + buf.readUInt16BE(3)) {
          s.destroy();
          srv.close();
          resolve(buf);
        }
      });
    });
    srv.listen(0, '127.0.0.1', () => {
      const c = tls.connect({ host: '127.0.0.1', port: (srv.address() as net.AddressInfo).port, rejectUnauthorized: false, ...opts });
      c.on('error', () => {});
      setTimeout(() => reject(new Error('no hello')), 5000).unref();
    });
  });
}

let hello: Buffer;
let helloNoSni: Buffer;
beforeAll(async () => {
  hello = await captureHello({ servername: 'cloud.plugco.example', ALPNProtocols: ['h2', 'http/1.1'] });
  helloNoSni = await captureHello({ servername: '' });
});
afterAll(() => {});

describe('peekClientHello', () => {
  it('reads the SNI and ALPN of a real ClientHello', () => {
    const p = peekClientHello(hello);
    expect(p.status).toBe('hello');
    if (p.status !== 'hello') return;
    expect(p.sni).toBe('cloud.plugco.example');
    expect(p.alpn).toEqual(['h2', 'http/1.1']);
    expect(p.bytes).toBe(hello.length);
  });

  it('has no SNI when the client sent none', () => {
    const p = peekClientHello(helloNoSni);
    expect(p.status).toBe('hello');
    if (p.status === 'hello') expect(p.sni).toBeUndefined();
  });

  it('asks for more on every prefix, decides only on the whole hello', () => {
    for (let n = 0; n < hello.length; n++) {
      expect(peekClientHello(hello.subarray(0, n)).status, `prefix ${n}`).toBe('need-more');
    }
  });

  it('reassembles a ClientHello split over several records (RFC 8446 §5.1)', () => {
    const body = hello.subarray(5);
    const recs: Buffer[] = [];
    for (let i = 0; i < body.length; i += 100) {
      const part = body.subarray(i, i + 100);
      const h = Buffer.from([0x16, 0x03, 0x01, 0, 0]);
      h.writeUInt16BE(part.length, 3);
      recs.push(h, part);
    }
    const split = Buffer.concat(recs);
    const p = peekClientHello(split);
    expect(p.status).toBe('hello');
    if (p.status === 'hello') expect(p.sni).toBe('cloud.plugco.example');
    expect(peekClientHello(split.subarray(0, split.length - 1)).status).toBe('need-more');
  });

  it('says not-tls at once for plaintext protocols', () => {
    for (const s of ['GET / HTTP/1.1\r\n', '\x10\x1c\x00\x04MQTT', 'SSH-2.0-OpenSSH_9.2\r\n', '\xff\xfb\x01']) {
      expect(peekClientHello(Buffer.from(s, 'latin1')).status).toBe('not-tls');
      expect(looksLikeTlsStart(Buffer.from(s, 'latin1'))).toBe(false);
    }
  });

  it('drops an SNI that is not a host name', () => {
    const evil = Buffer.from(hello);
    const at = evil.indexOf(Buffer.from('cloud.plugco.example'));
    evil.write('cloud/plugco<xampl', at, 'latin1');
    const p = peekClientHello(evil);
    expect(p.status).toBe('hello');
    if (p.status === 'hello') expect(p.sni).toBeUndefined();
  });

  it('never throws on hostile bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), fc.nat(hello.length), (junk, cut) => {
        const a = peekClientHello(junk);
        const b = peekClientHello(Buffer.concat([hello.subarray(0, cut), Buffer.from(junk)]));
        const mutated = Buffer.from(hello);
        for (let i = 0; i < junk.length && i < mutated.length; i += 7) mutated[(junk[i] * 31 + i) % mutated.length] = junk[i];
        const c = peekClientHello(mutated);
        for (const r of [a, b, c]) expect(['need-more', 'not-tls', 'hello']).toContain(r.status);
      }),
      { numRuns: 500 },
    );
  });
});
