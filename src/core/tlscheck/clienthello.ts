// Reading the first bytes a client sends on an intercepted connection: is it a
// TLS ClientHello, and for which name (SNI)? The interceptor peeks until this
// says `hello` or `not-tls`, then either answers with a forged certificate or
// forwards the bytes untouched. Never throws on hostile bytes.
import { decodeClientHello } from '../decode/tls.js';

/** A ClientHello longer than this is treated as not-TLS (RFC 8446 §5.1 allows 2^14 per record; post-quantum key shares make hellos ~1.8 KB). */
export const MAX_HELLO_BYTES = 32 * 1024;

export type HelloPeek =
  | { status: 'need-more' }
  | { status: 'not-tls'; reason: string }
  | { status: 'hello'; sni?: string; alpn: string[]; helloVersion: number; supportedVersions: number[]; bytes: number };

/** True when the first bytes can start a TLS handshake record (RFC 8446 §5.1: ContentType 22, legacy version 3.x). */
export function looksLikeTlsStart(b: Uint8Array): boolean {
  if (b.length === 0) return true; // nothing yet: undecided
  if (b[0] !== 0x16) return false;
  if (b.length >= 2 && b[1] !== 0x03) return false;
  if (b.length >= 3 && b[2] > 0x04) return false;
  return true;
}

/**
 * Cut the handshake message out of the leading TLS records (a ClientHello may
 * span several records, RFC 8446 §5.1) and decode it.
 */
export function peekClientHello(b: Uint8Array): HelloPeek {
  if (!looksLikeTlsStart(b)) return { status: 'not-tls', reason: 'first bytes are not a TLS handshake record' };
  const hs: number[] = [];
  let p = 0;
  let need = -1;
  while (true) {
    if (p + 5 > b.length) break;
    const type = b[p];
    const len = (b[p + 3] << 8) | b[p + 4];
    if (type !== 0x16) return { status: 'not-tls', reason: 'a non-handshake record before the ClientHello was complete' };
    if (b[p + 1] !== 0x03) return { status: 'not-tls', reason: 'bad record version' };
    if (len === 0 || len > 16384 + 2048) return { status: 'not-tls', reason: 'bad record length' };
    if (p + 5 + len > b.length) break;
    for (let i = p + 5; i < p + 5 + len; i++) hs.push(b[i]);
    p += 5 + len;
    if (need < 0 && hs.length >= 4) {
      if (hs[0] !== 1) return { status: 'not-tls', reason: 'first handshake message is not a ClientHello' };
      need = 4 + ((hs[1] << 16) | (hs[2] << 8) | hs[3]);
      if (need > MAX_HELLO_BYTES) return { status: 'not-tls', reason: 'ClientHello too large' };
    }
    if (need >= 0 && hs.length >= need) break;
  }
  if (need < 0 || hs.length < need) {
    if (b.length > MAX_HELLO_BYTES + 64) return { status: 'not-tls', reason: 'no complete ClientHello within the size cap' };
    return { status: 'need-more' };
  }
  const msg = Uint8Array.from(hs.slice(0, need));
  const d = decodeClientHello(msg, 4, need, (b[1] << 8) | b[2]);
  if (!d.ok) return { status: 'not-tls', reason: `malformed ClientHello (${d.reason})` };
  const sni = d.value.sni !== undefined && isHostname(d.value.sni) ? d.value.sni.toLowerCase() : undefined;
  return {
    status: 'hello',
    ...(sni ? { sni } : {}),
    alpn: d.value.alpn,
    helloVersion: d.value.helloVersion,
    supportedVersions: d.value.supportedVersions,
    bytes: p,
  };
}

/** A DNS name we are willing to put in a certificate (RFC 1123 labels); hostile SNI values are dropped. */
export function isHostname(s: string): boolean {
  if (s.length === 0 || s.length > 253) return false;
  return s.split('.').every((l) => /^[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9])?$/.test(l));
}
