// The interception endpoint on loopback, against real TLS clients (Node,
// curl, openssl s_client). No nftables here: clients connect to the
// interceptor directly and the "original destination" is a genuine TLS
// server on loopback with a certificate from a CA the test trusts.
import { spawn } from 'node:child_process';
import net from 'node:net';
import tls from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CertRotation, verdictFor, type AttemptResult, type DestinationKey } from '../../../src/core/tlscheck/plan.js';
import { CertForge } from '../../../src/adapters/probe/tls-intercept/certs.js';
import { Interceptor } from '../../../src/adapters/probe/tls-intercept/interceptor.js';
import { hasTool, makePki, type TestPki } from './helpers.js';

const NAME = 'cloud.test.example';
let pki: TestPki;
let upstream: tls.Server;
let upstreamPort = 0;
let plainUpstream: net.Server;
let plainPort = 0;
let bannerUpstream: net.Server;
let bannerPort = 0;
let upstreamHits = 0;
const forge = new CertForge();

beforeAll(async () => {
  pki = makePki([NAME]);
  upstream = tls.createServer({ key: pki.key, cert: pki.cert }, (s) => {
    upstreamHits++;
    s.once('data', () => s.end('HTTP/1.0 200 OK\r\ncontent-type: text/plain\r\n\r\nreal cloud says hi\n'));
    s.on('error', () => {});
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', () => r()));
  upstreamPort = (upstream.address() as net.AddressInfo).port;
  plainUpstream = net.createServer((s) => s.on('data', (d) => s.end(Buffer.concat([Buffer.from('echo:'), d]))));
  await new Promise<void>((r) => plainUpstream.listen(0, '127.0.0.1', () => r()));
  plainPort = (plainUpstream.address() as net.AddressInfo).port;
  bannerUpstream = net.createServer((s) => {
    s.write('SSH-2.0-Fake_1.0\r\n');
    s.on('data', () => s.end());
  });
  await new Promise<void>((r) => bannerUpstream.listen(0, '127.0.0.1', () => r()));
  bannerPort = (bannerUpstream.address() as net.AddressInfo).port;
  await forge.warm();
}, 60_000);

afterAll(() => {
  upstream?.close();
  plainUpstream?.close();
  bannerUpstream?.close();
});

interface Setup {
  ic: Interceptor;
  rotation: CertRotation;
  attempts: Array<{ key: DestinationKey; r: AttemptResult }>;
  port: number;
}
let current: Setup | undefined;
afterEach(async () => {
  await current?.ic.close(100);
  current = undefined;
});

async function setup(dstPort = upstreamPort, extra: Partial<ConstructorParameters<typeof Interceptor>[1]> = {}): Promise<Setup> {
  const rotation = new CertRotation();
  const attempts: Setup['attempts'] = [];
  const ic = new Interceptor(
    {
      forge,
      rotation,
      originalDestination: async () => ({ ip: '127.0.0.1', port: dstPort }),
      events: { attempt: (key, r) => attempts.push({ key, r }) },
    },
    { devices: ['127.0.0.1'], listenIp: '127.0.0.1', peekTimeoutMs: 300, appDataTimeoutMs: 2000, ...extra },
  );
  const port = await ic.listen();
  current = { ic, rotation, attempts, port };
  return current;
}

function nodeClient(port: number, opts: tls.ConnectionOptions): Promise<{ ok: boolean; body: string; err?: string }> {
  return new Promise((resolve) => {
    let body = '';
    const c = tls.connect({ host: '127.0.0.1', port, servername: NAME, ...opts }, () => c.write('GET / HTTP/1.0\r\n\r\n'));
    c.on('data', (d: Buffer) => (body += d.toString()));
    c.on('error', (e) => resolve({ ok: false, body, err: e.message }));
    c.on('close', () => resolve({ ok: body.length > 0, body }));
    c.setTimeout(5000, () => c.destroy());
  });
}

function runTool(cmd: string, args: string[], input = ''): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const ch = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    ch.stdout.on('data', (d: Buffer) => (out += d.toString()));
    ch.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const t = setTimeout(() => ch.kill('SIGKILL'), 10_000);
    ch.on('close', (code) => {
      clearTimeout(t);
      resolve({ code: code ?? 1, out });
    });
    ch.stdin.end(input);
  });
}

/** Drive a client until every forged certificate had its turn, then once more (pass-through). */
async function drive(s: Setup, once: () => Promise<unknown>, rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    await once();
    // a refusing client returns before the interceptor has read its alert
    await s.ic.idle();
  }
}

const key = (s: Setup) => s.attempts[0]?.key;
const verdict = (s: Setup) => verdictFor(s.rotation.snapshot().find((d) => d.key.sni === NAME)?.attempts ?? []);

describe('Interceptor with a Node client', () => {
  it('a validating client refuses all four forgeries, then passes through to the real server', async () => {
    const s = await setup();
    const outs = [] as Array<{ ok: boolean; body: string; err?: string }>;
    const before = upstreamHits;
    await drive(s, async () => outs.push(await nodeClient(s.port, { ca: pki.ca })));
    expect(s.attempts.map((a) => a.r.certificate)).toEqual(['self-signed', 'wrong-host', 'expired', 'untrusted-ca']);
    expect(s.attempts.every((a) => a.r.outcome === 'refused' && !a.r.accepted)).toBe(true);
    // Node checks the certificate after OpenSSL's handshake and just closes: no alert, but no data either
    expect(s.attempts.every((a) => a.r.appDataBytes === 0 && /closed/.test(a.r.reason))).toBe(true);
    expect(verdict(s)).toBe('validates');
    expect(outs.slice(0, 4).every((o) => !o.ok)).toBe(true);
    // the fifth connection reaches the genuine server untouched: its certificate verifies and its answer arrives
    expect(outs[4].ok).toBe(true);
    expect(outs[4].body).toContain('real cloud says hi');
    expect(upstreamHits).toBe(before + 1);
    expect(key(s)).toMatchObject({ device: '127.0.0.1', sni: NAME, destination: `127.0.0.1:${upstreamPort}` });
  });

  it('rejectUnauthorized:false accepts everything: accepts-self-signed, data counted', async () => {
    const s = await setup();
    await drive(s, () => nodeClient(s.port, { rejectUnauthorized: false }), 4);
    expect(s.attempts.map((a) => [a.r.certificate, a.r.outcome])).toEqual([
      ['self-signed', 'accepted'],
      ['wrong-host', 'accepted'],
      ['expired', 'accepted'],
      ['untrusted-ca', 'accepted'],
    ]);
    expect(s.attempts.every((a) => a.r.handshake && a.r.appDataBytes === 'GET / HTTP/1.0\r\n\r\n'.length)).toBe(true);
    expect(verdict(s)).toBe('accepts-self-signed');
  });

  it('a client that checks the chain but not the name accepts a trusted wrong-host certificate', async () => {
    const f = new CertForge({ userWrongHost: { certPem: pki.otherCert, keyPem: pki.otherKey } });
    const rotation = new CertRotation();
    const attempts: AttemptResult[] = [];
    const ic = new Interceptor(
      { forge: f, rotation, originalDestination: async () => ({ ip: '127.0.0.1', port: upstreamPort }), events: { attempt: (_k, r) => attempts.push(r) } },
      { devices: ['127.0.0.1'], listenIp: '127.0.0.1' },
    );
    const port = await ic.listen();
    try {
      for (let i = 0; i < 4; i++) {
        await nodeClient(port, { ca: pki.ca, checkServerIdentity: () => undefined });
        await ic.idle();
      }
      expect(attempts.find((a) => a.certificate === 'wrong-host')?.outcome).toBe('accepted');
      expect(attempts.filter((a) => a.certificate !== 'wrong-host').every((a) => a.outcome === 'refused')).toBe(true);
      expect(verdictFor(attempts)).toBe('accepts-wrong-host');
      // a client that checks the name too refuses it
      const r2 = new CertRotation();
      const a2: AttemptResult[] = [];
      const ic2 = new Interceptor(
        { forge: f, rotation: r2, originalDestination: async () => ({ ip: '127.0.0.1', port: upstreamPort }), events: { attempt: (_k, r) => a2.push(r) } },
        { devices: ['127.0.0.1'], listenIp: '127.0.0.1' },
      );
      const p2 = await ic2.listen();
      for (let i = 0; i < 4; i++) {
        await nodeClient(p2, { ca: pki.ca });
        await ic2.idle();
      }
      await ic2.close(100);
      expect(verdictFor(a2)).toBe('validates');
    } finally {
      await ic.close(100);
    }
  });

  it('a client that ignores only expiry gets accepts-expired', async () => {
    const s = await setup();
    const client = () =>
      new Promise<void>((resolve) => {
        const c = tls.connect({ host: '127.0.0.1', port: s.port, servername: NAME, rejectUnauthorized: false }, () => {
          const err = c.authorizationError ? String(c.authorizationError) : '';
          const cert = c.getPeerCertificate();
          const selfSigned = err === 'DEPTH_ZERO_SELF_SIGNED_CERT';
          const expired = new Date(cert.valid_to).getTime() < Date.now();
          const rightName = tls.checkServerIdentity(NAME, cert) === undefined;
          // this "client" trusts any issuer except a self-signed leaf, checks the name, ignores expiry
          if (!selfSigned && rightName && (expired || err === 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY' || err === 'SELF_SIGNED_CERT_IN_CHAIN' || err === 'CERT_HAS_EXPIRED')) {
            if (expired) c.write('x');
            else c.destroy();
          } else c.destroy();
        });
        c.on('error', () => {});
        c.on('close', () => resolve());
        c.setTimeout(3000, () => c.destroy());
      });
    await drive(s, client, 4);
    expect(verdict(s)).toBe('accepts-expired');
    expect(s.attempts.find((a) => a.r.certificate === 'expired')?.r.accepted).toBe(true);
    expect(s.attempts.filter((a) => a.r.certificate !== 'expired').every((a) => a.r.outcome === 'refused')).toBe(true);
  });
});

describe.skipIf(!hasTool('curl'))('Interceptor with curl', () => {
  const curl = (port: number, extra: string[]) =>
    runTool('curl', ['-s', '-S', '--max-time', '5', '--resolve', `${NAME}:${port}:127.0.0.1`, ...extra, `https://${NAME}:${port}/api/status`]);

  it('curl --cacert: validates, then works through the pass-through', async () => {
    const s = await setup();
    const outs: Array<{ code: number; out: string }> = [];
    await drive(s, async () => outs.push(await curl(s.port, ['--cacert', pki.caFile])));
    expect(verdict(s)).toBe('validates');
    expect(outs.slice(0, 4).every((o) => o.code !== 0)).toBe(true);
    expect(outs[4]).toMatchObject({ code: 0 });
    expect(outs[4].out).toContain('real cloud says hi');
  });

  it('curl -k: accepts-self-signed', async () => {
    const s = await setup();
    await drive(s, () => curl(s.port, ['-k']), 4);
    expect(verdict(s)).toBe('accepts-self-signed');
    expect(s.attempts.every((a) => a.r.accepted)).toBe(true);
  });
});

describe.skipIf(!hasTool('openssl'))('Interceptor with openssl s_client', () => {
  const sclient = (port: number, extra: string[]) =>
    runTool('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-servername', NAME, '-quiet', ...extra], 'GET / HTTP/1.0\r\n\r\n');

  it('-verify_return_error -verify_hostname with the CA: validates', async () => {
    const s = await setup();
    await drive(s, () => sclient(s.port, ['-verify_return_error', '-CAfile', pki.caFile, '-verify_hostname', NAME]), 4);
    expect(verdict(s)).toBe('validates');
  });

  it('old clients are still served: TLS 1.0 with RSA key exchange only (an old embedded stack)', async () => {
    const s = await setup();
    await drive(s, () => sclient(s.port, ['-tls1', '-cipher', 'AES128-SHA:@SECLEVEL=0']), 4);
    expect(verdict(s)).toBe('accepts-self-signed');
    expect(s.attempts.map((a) => a.r.tlsVersion)).toEqual(['TLSv1', 'TLSv1', 'TLSv1', 'TLSv1']);
  });

  it('a client we cannot serve (ECDSA signatures only) is inconclusive, never "validates"', async () => {
    const s = await setup();
    await drive(s, () => sclient(s.port, ['-tls1_2', '-sigalgs', 'ECDSA+SHA256']), 3);
    expect(s.attempts.length).toBe(3);
    expect(s.attempts.every((a) => a.r.outcome === 'inconclusive' && a.r.certificate === 'self-signed')).toBe(true);
    expect(verdict(s)).toBe('incomplete');
  });

  it('without -verify_return_error: accepts-self-signed', async () => {
    const s = await setup();
    await drive(s, () => sclient(s.port, []), 4);
    expect(verdict(s)).toBe('accepts-self-signed');
  });
});

describe('pass-through of what is not tested', () => {
  it('plaintext on a redirected port is forwarded byte for byte', async () => {
    const s = await setup(plainPort);
    const got = await new Promise<string>((resolve) => {
      const c = net.connect(s.port, '127.0.0.1', () => c.write('GET / HTTP/1.0\r\n\r\n'));
      let b = '';
      c.on('data', (d) => (b += d.toString()));
      c.on('close', () => resolve(b));
    });
    expect(got).toBe('echo:GET / HTTP/1.0\r\n\r\n');
    expect(s.attempts).toHaveLength(0);
    expect(s.ic.stats.passedThrough).toBe(1);
  });

  it('a server-speaks-first protocol gets its banner after the peek timeout', async () => {
    const s = await setup(bannerPort);
    const t0 = Date.now();
    const banner = await new Promise<string>((resolve) => {
      const c = net.connect(s.port, '127.0.0.1');
      c.once('data', (d) => {
        resolve(d.toString());
        c.destroy();
      });
    });
    expect(banner).toMatch(/^SSH-2.0-Fake/);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
  });

  it('connections from other hosts are closed, not served', async () => {
    const rotation = new CertRotation();
    const ic = new Interceptor({ forge, rotation, originalDestination: async () => ({ ip: '127.0.0.1', port: upstreamPort }) }, { devices: ['192.0.2.1'], listenIp: '127.0.0.1' });
    const port = await ic.listen();
    const r = await nodeClient(port, { rejectUnauthorized: false });
    await ic.close(100);
    expect(r.ok).toBe(false);
    expect(ic.stats.dropped).toBe(1);
  });

  it('a connection whose original destination is unknown is closed', async () => {
    const rotation = new CertRotation();
    const ic = new Interceptor({ forge, rotation, originalDestination: async () => undefined }, { devices: ['127.0.0.1'], listenIp: '127.0.0.1' });
    const port = await ic.listen();
    const r = await nodeClient(port, { rejectUnauthorized: false });
    await ic.close(100);
    expect(r.ok).toBe(false);
    expect(rotation.snapshot()).toHaveLength(0);
  });
});
