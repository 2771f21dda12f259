// The interception endpoint of tls-check. nftables DNATs the device's TLS
// connections here; for each one it finds the original destination, peeks at
// the ClientHello (SNI), and either answers with the next forged certificate
// for that (device, SNI, port) or forwards the bytes untouched to where the
// device was going. Decrypted application data is counted, never kept.
import { Duplex } from 'node:stream';
import net from 'node:net';
import tls from 'node:tls';
import { peekClientHello, type HelloPeek } from '../../../core/tlscheck/clienthello.js';
import type { OriginalDestination } from '../../../core/tlscheck/conntrack.js';
import { classifyHandshakeError, type AttemptResult, type CertRotation, type CertTest, type DestinationKey } from '../../../core/tlscheck/plan.js';
import type { CertForge } from './certs.js';

export interface InterceptorEvents {
  attempt?(key: DestinationKey, result: AttemptResult): void;
  passThrough?(info: { device: string; destination: string; sni?: string; reason: string }): void;
  dropped?(info: { device: string; reason: string }): void;
}

export interface InterceptorComponents {
  forge: CertForge;
  rotation: CertRotation;
  /** Where the accepted connection was going before the redirect. */
  originalDestination(client: { ip: string; port: number }, local: { ip: string; port: number }): Promise<OriginalDestination | undefined>;
  /** Opens the pass-through connection (swappable in tests). */
  connect?(dst: OriginalDestination): net.Socket;
  events?: InterceptorEvents;
  now?: () => Date;
}

export interface InterceptorInit {
  /** Only connections from these addresses are handled; anything else is closed. */
  devices: string[];
  listenIp: string;
  listenPort?: number;
  /** How long to wait for a client to speak before treating the protocol as server-first and passing it through. */
  peekTimeoutMs?: number;
  handshakeTimeoutMs?: number;
  /** After the handshake, how long to wait for the first application data. */
  appDataTimeoutMs?: number;
  maxConnections?: number;
}

const stripV4Mapped = (a: string | undefined) => (a ?? '').replace(/^::ffff:/, '');

/** A Duplex over a socket that first replays bytes already read (the peeked ClientHello) and counts what is written back. */
class ReplayDuplex extends Duplex {
  bytesOut = 0;
  private started = false;
  constructor(private readonly sock: net.Socket, private readonly prefix: Buffer) {
    super({ allowHalfOpen: true });
    sock.on('data', (d: Buffer) => {
      if (!this.push(d)) sock.pause();
    });
    sock.on('end', () => this.push(null));
    sock.on('error', (e) => this.destroy(e));
    sock.on('close', () => this.destroy());
    sock.pause();
  }
  override _read(): void {
    if (!this.started) {
      this.started = true;
      if (this.prefix.length && !this.push(this.prefix)) return;
    }
    this.sock.resume();
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    this.bytesOut += chunk.length;
    if (this.sock.destroyed) return cb(new Error('socket closed'));
    this.sock.write(chunk, (e) => cb(e ?? null));
  }
  override _final(cb: (e?: Error | null) => void): void {
    this.sock.end();
    cb();
  }
  override _destroy(err: Error | null, cb: (e: Error | null) => void): void {
    this.sock.destroy();
    cb(err);
  }
}

export class Interceptor {
  private server?: net.Server;
  private readonly open = new Set<net.Socket>();
  private readonly pending = new Set<Promise<void>>();
  private readonly devices: Set<string>;
  port = 0;
  stats = { accepted: 0, tested: 0, passedThrough: 0, dropped: 0 };

  constructor(private readonly c: InterceptorComponents, private readonly init: InterceptorInit) {
    this.devices = new Set(init.devices);
  }

  async listen(): Promise<number> {
    const server = net.createServer({ allowHalfOpen: true }, (s) => this.onConnection(s));
    server.maxConnections = this.init.maxConnections ?? 512;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: this.init.listenIp, port: this.init.listenPort ?? 0, exclusive: true }, () => resolve());
    });
    server.on('error', () => {});
    this.server = server;
    this.port = (server.address() as net.AddressInfo).port;
    return this.port;
  }

  /** Resolves when no connection is being peeked or tested (tests use it to wait for the last outcome). */
  async idle(timeoutMs = 15_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (this.pending.size && Date.now() < end) await Promise.race([Promise.allSettled([...this.pending]), new Promise((r) => setTimeout(r, 100))]);
  }

  /** Stop accepting, give tests in flight up to `graceMs` to finish, then close everything. */
  async close(graceMs = 2000): Promise<void> {
    const srv = this.server;
    this.server = undefined;
    if (srv) srv.close();
    if (this.pending.size) {
      await Promise.race([Promise.allSettled([...this.pending]), new Promise((r) => setTimeout(r, graceMs))]);
    }
    for (const s of this.open) s.destroy();
    this.open.clear();
  }

  private now(): Date {
    return this.c.now ? this.c.now() : new Date();
  }

  private track(s: net.Socket): void {
    this.open.add(s);
    s.on('close', () => this.open.delete(s));
  }

  private onConnection(sock: net.Socket): void {
    this.track(sock);
    this.stats.accepted++;
    sock.on('error', () => {});
    const device = stripV4Mapped(sock.remoteAddress);
    if (!this.devices.has(device)) {
      this.stats.dropped++;
      this.c.events?.dropped?.({ device, reason: 'not a device under test' });
      sock.destroy();
      return;
    }
    const job = this.handle(sock, device).catch(() => {
      sock.destroy();
    });
    this.pending.add(job);
    void job.finally(() => this.pending.delete(job));
  }

  private async handle(sock: net.Socket, device: string): Promise<void> {
    const client = { ip: device, port: sock.remotePort ?? 0 };
    const local = { ip: stripV4Mapped(sock.localAddress), port: sock.localPort ?? 0 };
    // start reading before the conntrack lookup so nothing is lost
    const peek = this.peek(sock);
    const dst = await this.c.originalDestination(client, local);
    const { buf, result } = await peek;
    if (!dst) {
      this.stats.dropped++;
      this.c.events?.dropped?.({ device, reason: 'original destination not found in conntrack' });
      sock.destroy();
      return;
    }
    const destination = `${dst.ip}:${dst.port}`;
    if (result.status !== 'hello') {
      this.passThrough(sock, buf, dst, { device, destination, reason: result.status === 'not-tls' ? result.reason : 'the client did not speak first' });
      return;
    }
    const key: DestinationKey = { device, destination, port: dst.port, ...(result.sni ? { sni: result.sni } : {}) };
    const test = this.c.rotation.next(key);
    if (test === undefined) {
      this.passThrough(sock, buf, dst, { device, destination, ...(result.sni ? { sni: result.sni } : {}), reason: 'tests for this destination are done' });
      return;
    }
    this.stats.tested++;
    const r = await this.runTest(sock, buf, test, result.sni ?? dst.ip);
    this.c.rotation.record(key, r);
    this.c.events?.attempt?.(key, r);
  }

  /** Read until a ClientHello is complete, the bytes are clearly not TLS, or the client stays silent. */
  private peek(sock: net.Socket): Promise<{ buf: Buffer; result: HelloPeek | { status: 'silent' } }> {
    return new Promise((resolve) => {
      let buf = Buffer.alloc(0);
      const finish = (result: HelloPeek | { status: 'silent' }) => {
        clearTimeout(timer);
        sock.off('data', onData);
        sock.off('end', onEnd);
        sock.pause();
        resolve({ buf, result });
      };
      const onData = (d: Buffer) => {
        buf = Buffer.concat([buf, d]);
        const p = peekClientHello(buf);
        if (p.status !== 'need-more') finish(p);
      };
      const onEnd = () => finish({ status: 'not-tls', reason: 'the client closed before a complete ClientHello' });
      const timer = setTimeout(() => finish(buf.length ? { status: 'not-tls', reason: 'incomplete ClientHello' } : { status: 'silent' }), this.init.peekTimeoutMs ?? 1500);
      sock.on('data', onData);
      sock.on('end', onEnd);
    });
  }

  private passThrough(sock: net.Socket, buf: Buffer, dst: OriginalDestination, info: { device: string; destination: string; sni?: string; reason: string }): void {
    this.stats.passedThrough++;
    this.c.events?.passThrough?.(info);
    if (info.sni) this.c.rotation.notePassThrough({ device: info.device, destination: info.destination, port: dst.port, sni: info.sni });
    const up = this.c.connect ? this.c.connect(dst) : net.connect({ host: dst.ip, port: dst.port, allowHalfOpen: true });
    this.track(up);
    up.setTimeout(15_000, () => {
      if (!up.connecting) return;
      up.destroy();
    });
    up.on('error', () => sock.destroy());
    sock.on('error', () => up.destroy());
    sock.on('close', () => up.destroy());
    up.on('close', () => sock.destroy());
    up.once('connect', () => {
      up.setTimeout(0);
      if (buf.length) up.write(buf);
      sock.pipe(up);
      up.pipe(sock);
      sock.resume();
    });
  }

  private async runTest(sock: net.Socket, buf: Buffer, test: CertTest, name: string): Promise<AttemptResult> {
    const at = this.now().toISOString();
    let cert;
    try {
      cert = await this.c.forge.forge(test, name);
    } catch (e) {
      sock.destroy();
      return { certificate: test, accepted: false, outcome: 'inconclusive', handshake: false, appDataBytes: 0, reason: `could not make the certificate: ${(e as Error).message}`, at };
    }
    const duplex = new ReplayDuplex(sock, buf);
    return new Promise<AttemptResult>((resolve) => {
      let settled = false;
      let handshake = false;
      let tlsVersion: string | undefined;
      let appDataBytes = 0;
      let timer: NodeJS.Timeout | undefined;
      const done = (r: Omit<AttemptResult, 'certificate' | 'at' | 'handshake' | 'appDataBytes' | 'tlsVersion'>) => {
        if (settled) return;
        settled = true;
        if (timer) clearTimeout(timer);
        duplex.destroy();
        sock.destroy();
        resolve({ certificate: test, at, handshake, appDataBytes, ...(tlsVersion ? { tlsVersion } : {}), ...r });
      };
      const srv = tls.createServer({
        key: cert.keyPem,
        cert: cert.certPem,
        // accept whatever the device speaks, so a refusal is about the certificate and not about ciphers
        minVersion: 'TLSv1',
        ciphers: 'DEFAULT:@SECLEVEL=0',
        // answer with the certificate we chose, whatever else the client asks for
        ALPNCallback: ({ protocols }) => protocols[0],
        handshakeTimeout: this.init.handshakeTimeoutMs ?? 10_000,
      });
      srv.on('tlsClientError', (e: NodeJS.ErrnoException) => {
        done({ accepted: false, ...classifyHandshakeError(e, duplex.bytesOut > 300) });
      });
      srv.on('secureConnection', (ts: tls.TLSSocket) => {
        handshake = true;
        tlsVersion = ts.getProtocol() ?? undefined;
        ts.on('data', (d: Buffer) => {
          // count only: the plaintext is never stored
          appDataBytes += d.length;
          done({ accepted: true, outcome: 'accepted', reason: `finished the handshake and sent ${appDataBytes} bytes of application data` });
        });
        ts.on('error', (e: NodeJS.ErrnoException) => {
          const c = classifyHandshakeError(e, true);
          done({ accepted: false, outcome: 'refused', ...(c.alert ? { alert: c.alert } : {}), reason: `finished the handshake, then ${c.alert ? `sent alert "${c.alert}"` : 'failed'} before sending data` });
        });
        ts.on('end', () => done({ accepted: false, outcome: 'refused', reason: 'finished the handshake, then closed without sending data' }));
        ts.on('close', () => done({ accepted: false, outcome: 'refused', reason: 'finished the handshake, then closed without sending data' }));
        timer = setTimeout(
          () => done({ accepted: false, outcome: 'inconclusive', reason: 'finished the handshake but sent no data (a server-speaks-first protocol?); offered again' }),
          this.init.appDataTimeoutMs ?? 8000,
        );
      });
      // The client closing its side ends the attempt. Give the TLS layer a moment
      // to read an alert that came just before the FIN, so the alert is what we report.
      const onPeerGone = () =>
        setTimeout(() => {
          if (!handshake) done({ accepted: false, ...classifyHandshakeError({ message: 'closed' }, duplex.bytesOut > 300) });
          else done({ accepted: false, outcome: 'refused', reason: 'finished the handshake, then closed without sending data' });
        }, 50);
      sock.once('end', onPeerGone);
      duplex.once('close', onPeerGone);
      srv.emit('connection', duplex);
    });
  }
}
