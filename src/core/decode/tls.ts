// TLS handshake (RFC 8446 §4, RFC 5246 §7.4): records are reassembled per
// direction by TlsRecordStream, handshake messages (which may span records)
// are cut out and the hellos and certificate list decoded. Everything after
// ChangeCipherSpec, or after a TLS 1.3 ServerHello, is encrypted and ignored.
import { ByteQueue, u16, type Decoded, fail } from './bytes.js';

export interface ClientHello {
  recordVersion: number;
  helloVersion: number;
  supportedVersions: number[];
  sni?: string;
  alpn: string[];
  ciphers: number[];
  extensions: number[];
  groups: number[];
  pointFormats: number[];
  signatureAlgorithms: number[];
  /** SSL 2.0 cipher kinds (3-byte values such as 0x0700c0) offered in an SSLv2-format hello; absent otherwise. */
  sslv2Ciphers?: number[];
}

export interface ServerHello {
  recordVersion: number;
  helloVersion: number;
  version: number;
  cipher: number;
  alpn?: string;
  extensions: number[];
}

/** RFC 8701 GREASE values (0x?a?a). */
export const isGrease = (v: number): boolean => (v & 0x0f0f) === 0x0a0a && v >> 8 === (v & 0xff);

function u16List(b: Uint8Array, o: number, end: number, out: number[]): void {
  for (let p = o; p + 2 <= end; p += 2) {
    const v = u16(b, p);
    if (!isGrease(v)) out.push(v);
  }
}

function ascii(b: Uint8Array, o: number, end: number): string {
  let s = '';
  for (let i = o; i < end; i++) {
    const c = b[i];
    s += c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : `\\x${c.toString(16).padStart(2, '0')}`;
  }
  return s;
}

/** A ClientHello with nothing offered yet: the decoders fill it in. */
function emptyHello(recordVersion: number, helloVersion: number): ClientHello {
  return { recordVersion, helloVersion, supportedVersions: [], alpn: [], ciphers: [], extensions: [], groups: [], pointFormats: [], signatureAlgorithms: [] };
}

/** ClientHello body (after the 4-byte handshake header). */
export function decodeClientHello(b: Uint8Array, o: number, end: number, recordVersion = 0): Decoded<ClientHello> {
  if (end - o < 38) return fail('truncated');
  const ch = emptyHello(recordVersion, u16(b, o));
  let p = o + 34;
  const sid = b[p];
  p += 1 + sid;
  if (p + 2 > end) return fail('truncated');
  const cl = u16(b, p);
  if (p + 2 + cl > end) return fail('truncated');
  u16List(b, p + 2, p + 2 + cl, ch.ciphers);
  p += 2 + cl;
  if (p + 1 > end) return fail('truncated');
  p += 1 + b[p];
  if (p > end) return fail('truncated');
  if (p + 2 > end) return { ok: true, value: ch }; // SSL 3.0 style: no extensions
  const el = u16(b, p);
  p += 2;
  const eEnd = Math.min(end, p + el);
  while (p + 4 <= eEnd) {
    const type = u16(b, p);
    const len = u16(b, p + 2);
    const v = p + 4;
    const ve = v + len;
    if (ve > eEnd) break;
    if (!isGrease(type)) ch.extensions.push(type);
    switch (type) {
      case 0: {
        // server_name (RFC 6066 §3): list of (type, len, name); type 0 = host_name
        let q = v + 2;
        while (q + 3 <= ve) {
          const nt = b[q];
          const nl = u16(b, q + 1);
          if (q + 3 + nl > ve) break;
          if (nt === 0 && ch.sni === undefined) ch.sni = ascii(b, q + 3, q + 3 + nl);
          q += 3 + nl;
        }
        break;
      }
      case 16: {
        let q = v + 2;
        while (q + 1 <= ve && ch.alpn.length < 32) {
          const l = b[q];
          if (q + 1 + l > ve) break;
          ch.alpn.push(ascii(b, q + 1, q + 1 + l));
          q += 1 + l;
        }
        break;
      }
      case 10:
        if (len >= 2) u16List(b, v + 2, Math.min(ve, v + 2 + u16(b, v)), ch.groups);
        break;
      case 11:
        if (len >= 1) for (let q = v + 1; q < Math.min(ve, v + 1 + b[v]); q++) ch.pointFormats.push(b[q]);
        break;
      case 13:
        if (len >= 2) u16List(b, v + 2, Math.min(ve, v + 2 + u16(b, v)), ch.signatureAlgorithms);
        break;
      case 43:
        if (len >= 1) u16List(b, v + 1, Math.min(ve, v + 1 + b[v]), ch.supportedVersions);
        break;
      default:
        break;
    }
    p = ve;
  }
  return { ok: true, value: ch };
}

export function decodeServerHello(b: Uint8Array, o: number, end: number, recordVersion = 0): Decoded<ServerHello> {
  if (end - o < 38) return fail('truncated');
  const sh: ServerHello = { recordVersion, helloVersion: u16(b, o), version: u16(b, o), cipher: 0, extensions: [] };
  let p = o + 34;
  p += 1 + b[p];
  if (p + 3 > end) return fail('truncated');
  sh.cipher = u16(b, p);
  p += 3; // cipher + compression method
  if (p + 2 > end) return { ok: true, value: sh };
  const el = u16(b, p);
  p += 2;
  const eEnd = Math.min(end, p + el);
  while (p + 4 <= eEnd) {
    const type = u16(b, p);
    const len = u16(b, p + 2);
    const v = p + 4;
    if (v + len > eEnd) break;
    sh.extensions.push(type);
    if (type === 43 && len === 2) sh.version = u16(b, v);
    if (type === 16 && len >= 3) {
      const l = b[v + 2];
      if (v + 3 + l <= v + len) sh.alpn = ascii(b, v + 3, v + 3 + l);
    }
    p = v + len;
  }
  return { ok: true, value: sh };
}

/**
 * Certificate message body (RFC 5246 §7.4.2): DER certificates, leaf first.
 * TLS 1.3 has a context and per-cert extensions. The certificates are views
 * into `b`: read them during the call (`summarizeCertificate` does), copy to keep.
 */
export function decodeCertificateList(b: Uint8Array, o: number, end: number, tls13 = false): Decoded<Uint8Array[]> {
  let p = o;
  if (tls13) {
    if (p + 1 > end) return fail('truncated');
    p += 1 + b[p];
  }
  if (p + 3 > end) return fail('truncated');
  const total = (b[p] << 16) | (b[p + 1] << 8) | b[p + 2];
  p += 3;
  const le = Math.min(end, p + total);
  const certs: Uint8Array[] = [];
  while (p + 3 <= le && certs.length < 16) {
    const l = (b[p] << 16) | (b[p + 1] << 8) | b[p + 2];
    if (p + 3 + l > le) break;
    certs.push(b.subarray(p + 3, p + 3 + l));
    p += 3 + l;
    if (tls13) {
      if (p + 2 > le) break;
      p += 2 + u16(b, p);
    }
  }
  return { ok: true, value: certs };
}

export function tlsVersionName(v: number): string {
  switch (v) {
    case 0x0304:
      return 'TLS 1.3';
    case 0x0303:
      return 'TLS 1.2';
    case 0x0302:
      return 'TLS 1.1';
    case 0x0301:
      return 'TLS 1.0';
    case 0x0300:
      return 'SSL 3.0';
    case 0x0002:
      return 'SSL 2.0';
    default:
      if ((v & 0xff00) === 0x7f00) return `TLS 1.3 draft ${v & 0xff}`;
      return `0x${v.toString(16).padStart(4, '0')}`;
  }
}

export interface TlsRecordSink {
  handshake(type: number, b: Uint8Array, o: number, end: number, recordVersion: number): void;
  alert(level: number | undefined, description: number | undefined): void;
  /** A stream that opens with an SSLv2-format ClientHello: the whole message, header included. Without it such a stream is not TLS. */
  sslv2Hello?(b: Uint8Array, o: number, end: number): void;
}

/**
 * The length (2-byte header included) of the SSLv2-format ClientHello at
 * b[o..], or 0 when the bytes there are not one. RFC 5246 Appendix E.2 (and
 * RFC 6101 Appendix E): old TLS clients (OpenSSL 0.9.8 and kin) open with it
 * to reach SSL 2.0 servers too. Its first 11 bytes decide, and they must add
 * up: msg_length = 9 + cipher specs (3 bytes each) + session id (0, 16 or
 * 32) + challenge (16..32).
 */
export function sslv2HelloLength(b: Uint8Array, o: number, end: number): number {
  if (end - o < 11 || (b[o] & 0x80) === 0 || b[o + 2] !== 1) return 0;
  const major = b[o + 3];
  const minor = b[o + 4];
  if (!((major === 3 && minor <= 3) || (major === 0 && minor === 2))) return 0;
  const len = ((b[o] & 0x7f) << 8) | b[o + 1];
  const specs = u16(b, o + 5);
  const sid = u16(b, o + 7);
  const challenge = u16(b, o + 9);
  if (specs === 0 || specs % 3 !== 0 || (sid !== 0 && sid !== 16 && sid !== 32) || challenge < 16 || challenge > 32) return 0;
  return 9 + specs + sid + challenge === len ? len + 2 : 0;
}

/**
 * An SSLv2-format ClientHello (whole, from its 2-byte header). The record
 * version is 0x0002 (the format's, as Wireshark shows it), the hello version
 * the highest the client offers. Cipher specs whose first byte is 0 are TLS
 * suites; the others are SSL 2.0 kinds. No extensions: no SNI, no ALPN.
 */
export function decodeSslv2ClientHello(b: Uint8Array, o: number, end: number): Decoded<ClientHello> {
  const total = sslv2HelloLength(b, o, end);
  if (total === 0) return fail('bad-sslv2-hello');
  if (end - o < total) return fail('truncated');
  const ch = emptyHello(0x0002, u16(b, o + 3));
  const v2: number[] = [];
  const specsEnd = o + 11 + u16(b, o + 5);
  for (let p = o + 11; p < specsEnd; p += 3) {
    if (b[p] === 0) ch.ciphers.push(u16(b, p + 1));
    else v2.push((b[p] << 16) | (b[p + 1] << 8) | b[p + 2]);
  }
  ch.sslv2Ciphers = v2;
  return { ok: true, value: ch };
}

const MAX_HS = 256 * 1024;

/**
 * One direction of a TLS connection. push() takes in-order stream bytes;
 * complete handshake messages go to the sink. `done` turns true once the
 * rest of the direction is encrypted (or the bytes are not TLS).
 */
export class TlsRecordStream {
  done = false;
  notTls = false;
  /** Bytes of a record still incomplete, and of a handshake message spanning records: appended to, never re-copied whole. */
  private readonly rec = new ByteQueue();
  private readonly hs = new ByteQueue();
  encrypted = false;
  /** No byte read yet. */
  private start = true;
  /** Gathering an SSLv2-format ClientHello (the stream's first message). */
  private v2 = false;

  constructor(private readonly sink: TlsRecordSink) {}

  push(b: Uint8Array, o: number, end: number): void {
    if (this.done) return;
    if (this.start) {
      if (end <= o) return;
      this.start = false;
      if ((b[o] & 0x80) !== 0 && this.sink.sslv2Hello !== undefined) this.v2 = true;
    }
    if (this.v2) {
      this.sslv2(b, o, end);
      return;
    }
    let data = b;
    let p = o;
    let n = end;
    const queued = this.rec.length > 0;
    if (queued) {
      this.rec.append(b, o, end);
      data = this.rec.buf;
      p = 0;
      n = this.rec.length;
      // a record still incomplete: nothing to parse until its last byte is in
      if (n >= 5 && u16(data, 3) + 5 > n && data[0] >= 20 && data[0] <= 24 && data[1] === 3 && u16(data, 3) <= 18432) return;
    }
    while (p + 5 <= n && !this.done) {
      const ct = data[p];
      const ver = u16(data, p + 1);
      const len = u16(data, p + 3);
      // RFC 8446 §5.1: content types 20-24, major version 3 (SSL 3.0 .. TLS 1.3), length <= 2^14 + 2048
      if (ct < 20 || ct > 24 || data[p + 1] !== 3 || len > 18432) {
        this.notTls = true;
        this.done = true;
        break;
      }
      if (p + 5 + len > n) break;
      const body = p + 5;
      if (ct === 22 && !this.encrypted) this.handshakeBytes(data, body, body + len, ver);
      else if (ct === 21) {
        if (!this.encrypted && len === 2) this.sink.alert(data[body], data[body + 1]);
        else this.sink.alert(undefined, undefined);
      } else if (ct === 20) {
        this.encrypted = true;
        this.done = true;
      } else if (ct === 23) {
        this.done = true;
      }
      p = body + len;
    }
    if (this.done) {
      this.rec.clear();
      return;
    }
    if (n - p > MAX_HS) {
      this.done = true;
      this.rec.clear();
      return;
    }
    // the rest of a record is on its way (its header passed the checks above): hold room for all of it at once
    if (queued) {
      this.rec.consume(p);
      if (n - p >= 5) this.rec.reserve(5 + u16(this.rec.buf, 3));
    } else if (p < n) {
      if (n - p >= 5) this.rec.reserve(5 + u16(data, p + 3), n - p);
      this.rec.append(data, p, n);
    }
  }

  /** The stream opens with an SSLv2-format ClientHello: gather it whole, hand it over, then read TLS records as usual. */
  private sslv2(b: Uint8Array, o: number, end: number): void {
    const q = this.rec;
    q.append(b, o, end);
    if (q.length < 11) return;
    const total = sslv2HelloLength(q.buf, 0, q.length);
    if (total === 0) {
      this.notTls = true;
      this.done = true;
      q.clear();
      return;
    }
    if (q.length < total) {
      q.reserve(total);
      return;
    }
    this.v2 = false;
    this.sink.sslv2Hello?.(q.buf, 0, total);
    q.consume(total);
    if (this.done) q.clear();
    else if (q.length > 0) this.push(b, end, end);
  }

  private handshakeBytes(b: Uint8Array, o: number, end: number, recVer: number): void {
    let data = b;
    let p = o;
    let n = end;
    const queued = this.hs.length > 0;
    if (queued) {
      this.hs.append(b, o, end);
      data = this.hs.buf;
      p = 0;
      n = this.hs.length;
    }
    while (p + 4 <= n && !this.done) {
      const type = data[p];
      const len = (data[p + 1] << 16) | (data[p + 2] << 8) | data[p + 3];
      if (len > MAX_HS) {
        this.done = true;
        return;
      }
      if (p + 4 + len > n) break;
      this.sink.handshake(type, data, p + 4, p + 4 + len, recVer);
      p += 4 + len;
    }
    if (this.done) return;
    if (queued) this.hs.consume(p);
    else if (p < n) this.hs.append(data, p, n);
  }

  /** Stop after this point (e.g. TLS 1.3 after the ServerHello). */
  stop(): void {
    this.done = true;
    this.rec.clear();
    this.hs.clear();
  }
}
