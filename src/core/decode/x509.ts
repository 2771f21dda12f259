// X.509 certificate summary via node:crypto's X509Certificate (no I/O; the
// parsing is OpenSSL's). Bad DER returns undefined instead of throwing.
import { X509Certificate, createHash } from 'node:crypto';
import { latin1 } from './bytes.js';

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
// Keyed by the DER itself as a Latin-1 string: exact (no digest to trust), and
// making and hashing a 1-2 KiB string costs less than a SHA-1 through node:crypto.
const cache = new Map<string, CertSummary | null>();
const CACHE_MAX = 2048;

export function summarizeCertificate(der: Uint8Array): CertSummary | undefined {
  const key = der.length <= 16384 ? latin1(der, 0, der.length) : createHash('sha1').update(der).digest('hex');
  const hit = cache.get(key);
  // summaries are frozen and shared: a certificate seen a thousand times is one object
  if (hit !== undefined) return hit === null ? undefined : hit;
  const s = parseCertificate(der);
  if (s !== undefined) {
    Object.freeze(s.subjectAltNames);
    Object.freeze(s);
  }
  if (cache.size >= CACHE_MAX) cache.clear();
  cache.set(key, s ?? null);
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
