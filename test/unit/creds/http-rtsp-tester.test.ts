import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createHttpTester } from '../../../src/adapters/probe/creds/http.js';
import { createRtspTester } from '../../../src/adapters/probe/creds/rtsp.js';
import type { Credential } from '../../../src/core/creds/types.js';
import { closedPort, closesMidway, garbage, listen, tarpit, type Listening } from './fake-servers.js';

const cred = (username: string, password: string): Credential => ({ username, password, public: true, source: 'test' });
const open: Listening[] = [];
afterEach(async () => {
  while (open.length) await open.pop()?.close();
});

/** Server side of Digest, written independently of the client code: RFC 7616 §3.4.1. */
function digestOk(header: string, method: string, users: Record<string, string>, realm: string, alg: 'MD5' | 'SHA-256', nonces: Set<string>): boolean {
  const p: Record<string, string> = {};
  for (const m of header.slice(7).matchAll(/(\w+)=(?:"([^"]*)"|([^,\s]+))/g)) p[m[1]] = m[2] ?? m[3];
  const h = (s: string) => createHash(alg === 'MD5' ? 'md5' : 'sha256').update(s).digest('hex');
  const pass = users[p.username];
  if (pass === undefined || !nonces.has(p.nonce) || p.realm !== realm) return false;
  const expected = h(`${h(`${p.username}:${realm}:${pass}`)}:${p.nonce}:${p.nc}:${p.cnonce}:${p.qop}:${h(`${method}:${p.uri}`)}`);
  return expected === p.response;
}

type Mode = { kind: 'basic' } | { kind: 'digest'; alg: 'MD5' | 'SHA-256' } | { kind: 'open' } | { kind: 'form' } | { kind: 'throttle'; after: number };

async function fakeHttp(users: Record<string, string>, mode: Mode) {
  const stats = { requests: 0, authTries: 0, connections: 0 };
  const nonces = new Set<string>();
  const realm = 'IPCamera Login';
  const server = http.createServer((req, res) => {
    stats.requests++;
    const auth = req.headers.authorization;
    if (mode.kind === 'open') return res.end('<html>camera</html>');
    if (mode.kind === 'form') return res.writeHead(302, { Location: '/login.html' }).end();
    if (auth) stats.authTries++;
    if (mode.kind === 'throttle' && stats.authTries > mode.after) return res.writeHead(429, 'Too Many Requests').end();
    let ok = false;
    if (auth?.startsWith('Basic ') && mode.kind !== 'digest') {
      const [u, ...rest] = Buffer.from(auth.slice(6), 'base64').toString('utf8').split(':');
      ok = users[u] === rest.join(':');
    } else if (auth?.startsWith('Digest ') && mode.kind === 'digest') {
      ok = digestOk(auth, req.method ?? 'GET', users, realm, mode.alg, nonces);
    }
    if (ok) return res.end('<html>welcome admin</html>');
    const nonce = randomBytes(16).toString('hex');
    nonces.add(nonce);
    const challenge = mode.kind === 'digest' ? `Digest realm="${realm}", qop="auth", algorithm=${mode.alg}, nonce="${nonce}", opaque="xyz"` : `Basic realm="${realm}"`;
    res.writeHead(401, { 'WWW-Authenticate': challenge }).end('denied');
  });
  server.on('connection', () => stats.connections++);
  const l = await listen(server as unknown as net.Server);
  return { ...l, stats };
}

const httpTester = (replyTimeoutMs = 2000) => createHttpTester({ connectTimeoutMs: 1000, replyTimeoutMs });

describe('http tester', () => {
  for (const mode of [{ kind: 'basic' }, { kind: 'digest', alg: 'MD5' }, { kind: 'digest', alg: 'SHA-256' }] as Mode[]) {
    it(`finds admin/12345 behind ${JSON.stringify(mode)} over one keep-alive connection`, async () => {
      const srv = await fakeHttp({ admin: '12345' }, mode);
      open.push(srv);
      const s = httpTester().session({ ip: '127.0.0.1', port: srv.port });
      expect(await s.attempt(cred('admin', 'admin'))).toEqual({ kind: 'failure', canContinue: true });
      expect(await s.attempt(cred('root', '12345'))).toEqual({ kind: 'failure', canContinue: true });
      const ok = await s.attempt(cred('admin', '12345'));
      s.close();
      expect(ok).toMatchObject({ kind: 'success', username: 'admin', password: '12345' });
      if (ok.kind === 'success') expect(ok.evidence).toMatch(mode.kind === 'digest' ? /Digest/ : /Basic/);
      expect(srv.stats.connections).toBe(1);
      expect(srv.stats.authTries).toBe(3);
    });
  }

  it('does not count a page without a challenge, nor a form login', async () => {
    const a = await fakeHttp({}, { kind: 'open' });
    const b = await fakeHttp({}, { kind: 'form' });
    open.push(a, b);
    expect((await httpTester().session({ ip: '127.0.0.1', port: a.port }).attempt(cred('admin', 'admin'))).kind).toBe('no-auth');
    const o = await httpTester().session({ ip: '127.0.0.1', port: b.port }).attempt(cred('admin', 'admin'));
    expect(o.kind).toBe('no-auth');
    if (o.kind === 'no-auth') expect(o.detail).toMatch(/302.*form logins are not tested/);
  });

  it('reads 429 as the device pushing back', async () => {
    const srv = await fakeHttp({ admin: 'x' }, { kind: 'throttle', after: 2 });
    open.push(srv);
    const s = httpTester().session({ ip: '127.0.0.1', port: srv.port });
    expect((await s.attempt(cred('admin', 'a'))).kind).toBe('failure');
    expect((await s.attempt(cred('admin', 'b'))).kind).toBe('failure');
    expect(await s.attempt(cred('admin', 'c'))).toMatchObject({ kind: 'lockout', detail: 'HTTP 429 Too Many Requests' });
    s.close();
  });

  it('ends on a tarpit, garbage, a mid-answer close and a closed port', async () => {
    const tp = await tarpit();
    const g = await garbage(1024, false);
    const c = await closesMidway('HTTP/1.1 401 Unauthorized\r\nWWW-Auth');
    open.push(tp, g, c);
    const t0 = Date.now();
    expect(await httpTester(700).session({ ip: '127.0.0.1', port: tp.port }).attempt(cred('a', 'b'))).toMatchObject({ kind: 'error', reason: 'timeout', attempted: false });
    expect(Date.now() - t0).toBeLessThan(1500);
    expect(await httpTester(700).session({ ip: '127.0.0.1', port: g.port }).attempt(cred('a', 'b'))).toMatchObject({ kind: 'error', attempted: false });
    expect(await httpTester(700).session({ ip: '127.0.0.1', port: c.port }).attempt(cred('a', 'b'))).toMatchObject({ kind: 'error', attempted: false });
    expect(await httpTester(700).session({ ip: '127.0.0.1', port: await closedPort() }).attempt(cred('a', 'b'))).toMatchObject({ kind: 'error', reason: 'refused' });
  });
});

/** A small RTSP camera: DESCRIBE guarded by Digest MD5 (as Hikvision/Dahua do). */
async function fakeRtsp(users: Record<string, string>, closeAfter401 = false) {
  const stats = { describes: 0, connections: 0 };
  const nonces = new Set<string>();
  const realm = 'IP Camera(12345)';
  const server = net.createServer((s) => {
    stats.connections++;
    let buf = '';
    s.on('data', (d) => {
      buf += d.toString('latin1');
      let end: number;
      while ((end = buf.indexOf('\r\n\r\n')) >= 0) {
        const head = buf.slice(0, end);
        buf = buf.slice(end + 4);
        stats.describes++;
        const cseq = /CSeq: (\d+)/i.exec(head)?.[1] ?? '0';
        const auth = /Authorization: (.*)/i.exec(head)?.[1]?.trim();
        if (auth && digestOk(auth, 'DESCRIBE', users, realm, 'MD5', nonces)) {
          const sdp = 'v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=cam\r\n';
          s.write(`RTSP/1.0 200 OK\r\nCSeq: ${cseq}\r\nContent-Type: application/sdp\r\nContent-Length: ${sdp.length}\r\n\r\n${sdp}`);
          continue;
        }
        const nonce = randomBytes(8).toString('hex');
        nonces.add(nonce);
        s.write(`RTSP/1.0 401 Unauthorized\r\nCSeq: ${cseq}\r\nWWW-Authenticate: Digest realm="${realm}", nonce="${nonce}", qop="auth"\r\nContent-Length: 4\r\n\r\nnope`);
        if (closeAfter401 && auth) s.end();
      }
    });
  });
  const l = await listen(server);
  return { ...l, stats };
}

describe('rtsp tester', () => {
  const rtsp = (replyTimeoutMs = 2000) => createRtspTester({ connectTimeoutMs: 1000, replyTimeoutMs });
  it('finds a camera password with DESCRIBE + Digest over one connection', async () => {
    const srv = await fakeRtsp({ admin: '12345' });
    open.push(srv);
    const s = rtsp().session({ ip: '127.0.0.1', port: srv.port });
    expect(await s.attempt(cred('admin', 'admin'))).toEqual({ kind: 'failure', canContinue: true });
    const ok = await s.attempt(cred('admin', '12345'));
    s.close();
    expect(ok).toMatchObject({ kind: 'success', evidence: expect.stringMatching(/RTSP 200 OK to Digest MD5/) });
    expect(srv.stats.connections).toBe(1);
  });
  it('treats a hang-up after a wrong password as a "no" that needs a new connection', async () => {
    const srv = await fakeRtsp({ admin: '12345' }, true);
    open.push(srv);
    const s = rtsp().session({ ip: '127.0.0.1', port: srv.port });
    expect((await s.attempt(cred('admin', 'x'))).kind).toBe('failure');
    s.close();
  });
  it('ends on a tarpit, garbage and a closed port', async () => {
    const tp = await tarpit();
    const g = await garbage(512, false);
    open.push(tp, g);
    expect(await rtsp(600).session({ ip: '127.0.0.1', port: tp.port }).attempt(cred('a', 'b'))).toMatchObject({ kind: 'error', reason: 'timeout', attempted: false });
    expect(await rtsp(600).session({ ip: '127.0.0.1', port: g.port }).attempt(cred('a', 'b'))).toMatchObject({ kind: 'error', reason: 'protocol', attempted: false });
    expect(await rtsp(600).session({ ip: '127.0.0.1', port: await closedPort() }).attempt(cred('a', 'b'))).toMatchObject({ kind: 'error', reason: 'refused' });
  });
});
