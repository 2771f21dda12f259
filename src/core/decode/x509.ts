// X.509 certificate summary via node:crypto's X509Certificate (no I/O; the
// parsing is OpenSSL's). Bad DER returns undefined instead of throwing.
import { X509Certificate, createHash } from 'node:crypto';

export interface CertSummary {
  subject: string;
  issuer: string;
  /** Common name from the subject. */
  commonName?: string;
  subjectAltNames: string[];
  /** ISO 8601. */
  validFrom: string;
  validTo: string;
  serialNumber: string;
  /** SHA-256 of the DER, hex lower-case, no separators. */
  fingerprintSha256: string;
  /** SHA-1 of the DER (what blocklists such as abuse.ch SSLBL use). */
  fingerprintSha1: string;
  /** Issuer equals subject and the signature verifies with its own key. */
  selfSigned: boolean;
  /** Public key type and size when known, e.g. 'rsa 2048', 'ec prime256v1'. */
  publicKey?: string;
  /** Signature algorithm, e.g. 'sha256WithRSAEncryption' or its OID. */
  signatureAlgorithm?: string;
}

const oneLine = (dn: string): string => dn.split('\n').filter(Boolean).join(', ');

function isoDate(s: string): string {
  const d = new Date(s);
  return Number.isNaN(d.getTime()) ? s : d.toISOString();
}

// Devices reconnect to the same servers again and again: parse each distinct
// certificate once (parsing and the self-signature check cost ~100 µs each).
// Looked up by a hash of the DER's bytes and confirmed by comparing them all
// (native memcmp): exact, and no 1-2 KiB string to make and hash per
// certificate, which is what a lookup cost when the DER's text was the key.
interface Cached {
  der: Uint8Array;
  summary: CertSummary | null;
}
const cache = new Map<number, Cached[]>();
let cached = 0;
const CACHE_MAX = 2048;

/**
 * FNV-1a over the length and the last 64 bytes: a certificate ends with its
 * signature, bytes that differ between any two certificates, so that is
 * enough to spread them; equal hashes are told apart by the full compare.
 */
function derHash(der: Uint8Array): number {
  let h = Math.imul(0x811c9dc5 ^ der.length, 0x01000193);
  for (let i = der.length > 64 ? der.length - 64 : 0; i < der.length; i++) h = Math.imul(h ^ der[i], 0x01000193);
  return h >>> 0;
}

export function summarizeCertificate(der: Uint8Array): CertSummary | undefined {
  const h = derHash(der);
  const bucket = cache.get(h);
  if (bucket !== undefined) {
    for (const c of bucket) {
      // summaries are frozen and shared: a certificate seen a thousand times is one object
      if (c.der.length === der.length && Buffer.compare(c.der, der) === 0) return c.summary ?? undefined;
    }
  }
  const s = parseCertificate(der);
  if (s !== undefined) {
    Object.freeze(s.subjectAltNames);
    Object.freeze(s);
  }
  if (cached >= CACHE_MAX) {
    cache.clear();
    cached = 0;
  }
  // `der` may be a view into a buffer that is reused: keep a copy
  const entry = { der: Uint8Array.prototype.slice.call(der), summary: s ?? null };
  const b = cache.get(h);
  if (b === undefined) cache.set(h, [entry]);
  else b.push(entry);
  cached++;
  return s;
}

function parseCertificate(der: Uint8Array): CertSummary | undefined {
  let c: X509Certificate;
  try {
    c = new X509Certificate(der);
  } catch {
    return undefined;
  }
  try {
    const subject = oneLine(c.subject);
    const issuer = oneLine(c.issuer);
    const cn = /(?:^|\n)CN=([^\n]*)/.exec(c.subject)?.[1];
    const sans = (c.subjectAltName ?? '')
      .split(/,\s*/)
      .map((s) => s.trim())
      .filter(Boolean)
      .map((s) => s.replace(/^(DNS|IP Address):/, ''));
    let selfSigned = false;
    if (subject === issuer) {
      try {
        selfSigned = c.checkIssued(c) && c.verify(c.publicKey);
      } catch {
        selfSigned = true; // same names, key not usable to verify: still self-issued
      }
    }
    let publicKey: string | undefined;
    try {
      const k = c.publicKey;
      const d = k.asymmetricKeyDetails;
      publicKey = `${k.asymmetricKeyType ?? 'unknown'}${d?.modulusLength ? ` ${d.modulusLength}` : d?.namedCurve ? ` ${d.namedCurve}` : ''}`;
    } catch {
      publicKey = undefined;
    }
    return {
      subject,
      issuer,
      commonName: cn,
      subjectAltNames: sans,
      validFrom: isoDate(c.validFrom),
      validTo: isoDate(c.validTo),
      serialNumber: c.serialNumber,
      fingerprintSha256: createHash('sha256').update(der).digest('hex'),
      fingerprintSha1: createHash('sha1').update(der).digest('hex'),
      selfSigned,
      publicKey,
    };
  } catch {
    return undefined;
  }
}
