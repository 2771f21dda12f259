// The byte-level HTTP head parser against a reference written with the
// regular expressions of RFC 9112's start lines over the head's Latin-1 text
// (the parser's first version): same result on hand-picked heads and on
// generated ones, with and without a header filter.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeHttpHead, header, looksLikeHttpStart, type HttpHead } from '../../../src/core/decode/http.js';
import { indexOfHeaderEnd } from '../../../src/core/decode/bytes.js';

function reference(b: Uint8Array, o: number, headEnd: number, only?: ReadonlySet<string>): { ok: true; value: HttpHead } | { ok: false; reason: string } {
  if (headEnd - o > 64 * 1024) return { ok: false, reason: 'head-too-large' };
  const text = Buffer.from(b.subarray(o, headEnd)).toString('latin1');
  let eol = text.indexOf('\n');
  if (eol < 0) eol = text.length;
  const first = text.charCodeAt(eol - 1) === 13 ? text.slice(0, eol - 1) : text.slice(0, eol);
  const head: HttpHead = { kind: 'request', method: '', target: '', version: '', status: 0, reason: '', headers: [], headLength: headEnd - o + 4 };
  let m = /^((?:HTTP|RTSP)\/\d\.\d) (\d{3})(?: (.*))?$/.exec(first);
  if (m) {
    head.kind = 'response';
    head.version = m[1];
    head.status = Number(m[2]);
    head.reason = m[3] ?? '';
  } else {
    m = /^([A-Z][A-Z_-]{0,19}) (\S{1,8192}) ((?:HTTP|RTSP)\/\d\.\d)$/.exec(first);
    if (!m) return { ok: false, reason: 'bad-start-line' };
    head.method = m[1];
    head.target = m[2];
    head.version = m[3];
  }
  let p = eol + 1;
  while (p < text.length && head.headers.length < 128) {
    let e = text.indexOf('\n', p);
    if (e < 0) e = text.length;
    const c = text.indexOf(':', p);
    if (c > p && c < e) {
      const name = text.slice(p, c).trim().toLowerCase();
      if (only === undefined || only.has(name)) head.headers.push([name, text.slice(c + 1, e).trim()]);
    }
    p = e + 1;
  }
  return { ok: true, value: head };
}

const enc = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'latin1'));
const FILTER: ReadonlySet<string> = new Set(['host', 'content-length', 'content-type', 'server', 'x-a']);

function same(s: string | Uint8Array): void {
  const b = typeof s === 'string' ? enc(s) : s;
  // the head ends where the caller found CRLFCRLF: here, at the end
  expect(decodeHttpHead(b, 0, b.length)).toEqual(reference(b, 0, b.length));
  expect(decodeHttpHead(b, 0, b.length, FILTER)).toEqual(reference(b, 0, b.length, FILTER));
  // at an offset inside a larger buffer
  const big = new Uint8Array(b.length + 7).fill(0x41);
  big.set(b, 3);
  expect(decodeHttpHead(big, 3, 3 + b.length, FILTER)).toEqual(reference(big, 3, 3 + b.length, FILTER));
}

describe('HTTP head parser', () => {
  it('parses requests and responses as RFC 9112 lays them out', () => {
    const g = enc('GET /fw/update.bin?x=1 HTTP/1.1\r\nHost: fw.example:8080\r\nUser-Agent: curl/8\r\nContent-Length:  12 \r\nX-Odd:\r\n');
    const r = decodeHttpHead(g, 0, g.length);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value).toMatchObject({ kind: 'request', method: 'GET', target: '/fw/update.bin?x=1', version: 'HTTP/1.1' });
    expect(header(r.value, 'host')).toBe('fw.example:8080');
    expect(header(r.value, 'content-length')).toBe('12');
    const s = enc('HTTP/1.0 401 Unauthorized\r\nWWW-Authenticate: Basic realm="x"\r\nSERVER: Boa/0.94');
    const q = decodeHttpHead(s, 0, s.length, new Set(['server']));
    expect(q.ok && q.value).toMatchObject({ kind: 'response', status: 401, reason: 'Unauthorized', version: 'HTTP/1.0', headers: [['server', 'Boa/0.94']] });
  });

  it('agrees with the regular-expression reference on edge cases', () => {
    for (const s of [
      '',
      '\r',
      'GET / HTTP/1.1',
      'GET  / HTTP/1.1',
      'GET / HTTP/1.1 ',
      'get / HTTP/1.1',
      'M-SEARCH * HTTP/1.1\r\nST: ssdp:all\r\nMX: 1',
      'NOTIFY * HTTP/1.1\r\nNT: upnp:rootdevice\r\nNTS:ssdp:alive\r\n LOCATION : http://x/\r\n',
      'GET /a\tb HTTP/1.1',
      'GET /a\xa0b HTTP/1.1',
      'GET /\x85 HTTP/1.1',
      'ABCDEFGHIJKLMNOPQRST / HTTP/1.1',
      'ABCDEFGHIJKLMNOPQRSTU / HTTP/1.1',
      'GET / HTTP/1.1\r',
      'GET / HTTP/11.1',
      'GET / RTSP/1.0\nCSeq: 2',
      'HTTP/1.1 200',
      'HTTP/1.1 200 ',
      'HTTP/1.1 200 OK\r\n',
      'HTTP/1.1 2000 OK',
      'HTTP/1.1 200 O\rK',
      'HTTP/1.1 200\tOK',
      'RTSP/1.0 200 OK\r\nCSeq: 1\r\nServer: \xa0GStreamer\xa0\r\n',
      'HTTP/1.1 200 OK\r\n: empty name\r\nno colon line\r\n\xc0Host: latin\r\nHOST:\xa0 a \r\nHost :b\r\n\r\nContent-Type: text/html',
      'HTTP/1.1 200 OK\n\n\nServer: x\r\n\r\n',
      `HTTP/1.1 200 OK\r\n${Array.from({ length: 140 }, (_, i) => `X-${i}: ${i}\r\n`).join('')}Server: late`,
      `GET /${'a'.repeat(8191)} HTTP/1.1`,
      `GET /${'a'.repeat(8192)} HTTP/1.1`,
    ]) same(s);
  });

  it('agrees with the reference on generated heads', () => {
    const token = fc.constantFrom('GET', 'POST', 'M-SEARCH', 'NOTIFY', 'HTTP/1.1', 'RTSP/1.0', 'HTTP/1.0', '200', '404', '/', '/x?y=1', '*', 'OK', 'Host', 'host', 'HOST', 'Server', 'content-length', 'Content-Type', 'X-A', ':', ' ', '\t', '\r', '\n', '\r\n', '\xa0', '\xc0', 'a', 'Z', '_', '-', '1', '');
    const line = fc.array(token, { maxLength: 8 }).map((t) => t.join(''));
    const head = fc.array(line, { maxLength: 10 }).map((ls) => ls.join('\r\n'));
    fc.assert(fc.property(head, (s) => same(s)), { numRuns: 3000 });
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (x) => same(x)), { numRuns: 1000 });
  });
});

describe('end of head search', () => {
  it('finds the first CRLFCRLF inside [o, end) exactly like a naive scan', () => {
    const naive = (b: Uint8Array, o: number, end: number): number => {
      for (let i = o; i + 3 < end; i++) if (b[i] === 13 && b[i + 1] === 10 && b[i + 2] === 13 && b[i + 3] === 10) return i;
      return -1;
    };
    const arb = fc.tuple(fc.uint8Array({ maxLength: 80 }).map((x) => x.map((v) => [13, 10, 65, 0x0a, 0x0d][v % 5])), fc.nat(10), fc.nat(10));
    fc.assert(
      fc.property(arb, ([b, a, z]) => {
        const o = Math.min(a, b.length);
        const end = Math.max(o, b.length - z);
        expect(indexOfHeaderEnd(b, o, end)).toBe(naive(b, o, end));
      }),
      { numRuns: 5000 },
    );
  });
});

describe('looksLikeHttpStart (sniffing and resync)', () => {
  const METHODS = ['GET', 'POST', 'HEAD', 'PUT', 'DELETE', 'OPTIONS', 'PATCH', 'CONNECT', 'TRACE', 'M-SEARCH', 'NOTIFY', 'SUBSCRIBE', 'UNSUBSCRIBE', 'PROPFIND', 'DESCRIBE', 'SETUP', 'PLAY', 'TEARDOWN', 'ANNOUNCE', 'GET_PARAMETER', 'SET_PARAMETER'];
  const START = new RegExp(`^(?:(?:HTTP|RTSP)/|(?:${METHODS.join('|')}) )`);
  const reference = (b: Uint8Array, o: number, end: number): boolean => end - o >= 5 && START.test(Buffer.from(b.subarray(o, end)).toString('latin1'));
  // starts near the real ones: a prefix of a start, then anything (including zero bytes)
  const prefix = fc.constantFrom('HTTP/', 'RTSP/', 'HTTP', 'HTTPS', 'RTSP', 'RTS/', 'HTTP1', 'TTP/', '', '\0\0\0\0\0', 'H\0\0\0\0', 'R\0\0\0\0', ...METHODS.map((m) => `${m} `), ...METHODS.map((m) => m), 'get ', 'GETX ');
  const input = fc.tuple(prefix, fc.uint8Array({ maxLength: 8 }), fc.integer({ min: 0, max: 3 })).map(([p, rest, off]) => {
    const b = new Uint8Array(off + p.length + rest.length);
    b.set(Buffer.from(p, 'latin1'), off);
    b.set(rest, off + p.length);
    return { b, off };
  });

  it('agrees with a regular expression over the text', () => {
    fc.assert(
      fc.property(input, fc.integer({ min: 0, max: 12 }), ({ b, off }, cut) => {
        const end = Math.max(off, b.length - cut);
        expect(looksLikeHttpStart(b, off, end)).toBe(reference(b, off, end));
      }),
      { numRuns: 5000 },
    );
  });

  it('takes status lines of HTTP and RTSP, request lines, and nothing else', () => {
    const t = (s: string) => looksLikeHttpStart(Buffer.from(s, 'latin1'), 0, s.length);
    expect(t('HTTP/1.1 200 OK')).toBe(true);
    expect(t('RTSP/1.0 200 OK')).toBe(true);
    expect(t('GET / HTTP/1.1')).toBe(true);
    expect(t('M-SEARCH * HTTP/1.1')).toBe(true);
    expect(t('\0\0\0\0\0\0')).toBe(false);
    expect(t('HTTPS/1.1')).toBe(false);
    expect(t('GET')).toBe(false);
    expect(t('get / HTTP/1.1')).toBe(false);
  });
});
