import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { basicAuthorization, describeChallenge, digestAuthorization, parseChallenges, pickChallenge } from '../../../src/core/creds/http-auth.js';
import { parseResponseHead, rtspDescribe } from '../../../src/core/creds/rtsp.js';

describe('WWW-Authenticate parsing (RFC 7235 §4.1)', () => {
  it('parses several challenges in one header, quoted strings with escapes and commas', () => {
    const ch = parseChallenges('Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=SHA-256, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS", Digest realm="x", algorithm=MD5, nonce="n2", Basic realm="say \\"hi\\", ok"');
    expect(ch.map((c) => c.scheme)).toEqual(['digest', 'digest', 'basic']);
    expect(ch[0].params.qop).toBe('auth, auth-int');
    expect(ch[0].params.algorithm).toBe('SHA-256');
    expect(ch[2].params.realm).toBe('say "hi", ok');
    expect(pickChallenge(ch)).toBe(ch[0]);
    expect(describeChallenge(ch[0])).toBe('Digest SHA-256 realm="http-auth@example.org"');
  });
  it('takes several header lines and token68 schemes', () => {
    const ch = parseChallenges(['Negotiate abc==', 'Basic realm="cam"']);
    expect(ch[0]).toMatchObject({ scheme: 'negotiate', token68: 'abc==' });
    expect(pickChallenge(ch)?.scheme).toBe('basic');
  });
  it('ignores what it cannot answer', () => {
    expect(pickChallenge(parseChallenges('Digest realm="x", algorithm=SHA-1024, nonce="n"'))).toBeUndefined();
    expect(pickChallenge(parseChallenges('Digest realm="x"'))).toBeUndefined();
    expect(parseChallenges(undefined)).toEqual([]);
  });
  it('never throws on hostile headers', () => {
    fc.assert(fc.property(fc.string({ maxLength: 500 }), (s) => {
      const ch = parseChallenges(s);
      pickChallenge(ch);
    }), { numRuns: 500 });
  });
});

describe('Basic (RFC 7617) and Digest (RFC 7616)', () => {
  it('Basic is base64 of user:pass in UTF-8', () => {
    expect(basicAuthorization('Aladdin', 'open sesame')).toBe('Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==');
  });
  // RFC 7616 §3.9.1 worked example
  const base = { username: 'Mufasa', password: 'Circle of Life', method: 'GET', uri: '/dir/index.html', nc: 1, cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ' };
  const params = { realm: 'http-auth@example.org', qop: 'auth, auth-int', nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v', opaque: 'FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS' };
  it('matches the RFC 7616 SHA-256 example', () => {
    const v = digestAuthorization({ scheme: 'digest', params: { ...params, algorithm: 'SHA-256' } }, base) as string;
    expect(v).toContain('response="753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"');
    expect(v).toContain('qop=auth, nc=00000001');
    expect(v).toContain('opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"');
  });
  it('matches the RFC 7616 MD5 example', () => {
    const v = digestAuthorization({ scheme: 'digest', params: { ...params, algorithm: 'MD5' } }, base) as string;
    expect(v).toContain('response="8ca523f5e9506fed4657c9700eebdbec"');
  });
  it('matches RFC 2617 §3.5 (MD5, qop=auth) and handles RFC 2069 without qop', () => {
    const v = digestAuthorization(
      { scheme: 'digest', params: { realm: 'testrealm@host.com', qop: 'auth,auth-int', nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093', opaque: '5ccc069c403ebaf9f0171e9517f40e41' } },
      { username: 'Mufasa', password: 'Circle Of Life', method: 'GET', uri: '/dir/index.html', nc: 1, cnonce: '0a4f113b' },
    ) as string;
    expect(v).toContain('response="6629fae49393a05397450978507c4ef1"');
    expect(v).not.toContain('algorithm=');
    const old = digestAuthorization({ scheme: 'digest', params: { realm: 'r', nonce: 'n' } }, { ...base, cnonce: 'c' }) as string;
    expect(old).not.toContain('qop=');
  });
  it('supports -sess and userhash', () => {
    const v = digestAuthorization({ scheme: 'digest', params: { ...params, algorithm: 'SHA-256-sess', userhash: 'true' } }, base) as string;
    expect(v).toMatch(/username="[0-9a-f]{64}"/);
    expect(v).toContain('userhash=true');
  });
});

describe('RTSP response heads', () => {
  it('parses a 401 with its challenge and content length', () => {
    const h = parseResponseHead(Buffer.from('RTSP/1.0 401 Unauthorized\r\nCSeq: 1\r\nWWW-Authenticate: Digest realm="IP Camera", nonce="abc"\r\nContent-Length: 5\r\n\r\nhello'));
    expect(h.ok).toBe(true);
    if (h.ok) {
      expect(h.status).toBe(401);
      expect(h.headers.get('www-authenticate')?.[0]).toContain('Digest');
      expect(h.headLength).toBe(h.headLength);
    }
  });
  it('reports incomplete, garbage and oversize heads as values', () => {
    expect(parseResponseHead(Buffer.from('RTSP/1.0 200 OK\r\nCSeq'))).toEqual({ ok: false, reason: 'incomplete' });
    expect(parseResponseHead(Buffer.from('HTTP/1.1 200 OK\r\n\r\n'))).toEqual({ ok: false, reason: 'garbage' });
    expect(parseResponseHead(Buffer.from('\x00\xff garbage'))).toEqual({ ok: false, reason: 'garbage' });
    expect(parseResponseHead(Buffer.concat([Buffer.from('RTSP/1.0 200 OK\r\n'), Buffer.alloc(20000, 0x41)]))).toEqual({ ok: false, reason: 'too-large' });
    fc.assert(fc.property(fc.uint8Array({ maxLength: 400 }), (u) => {
      parseResponseHead(Buffer.concat([Buffer.from('RTSP/1.0 '), Buffer.from(u)]));
    }));
  });
  it('builds a DESCRIBE', () => {
    expect(rtspDescribe('rtsp://1.2.3.4:554/', 2, 'Basic x').toString()).toBe('DESCRIBE rtsp://1.2.3.4:554/ RTSP/1.0\r\nCSeq: 2\r\nAccept: application/sdp\r\nUser-Agent: iotguard-creds\r\nAuthorization: Basic x\r\n\r\n');
  });
});
