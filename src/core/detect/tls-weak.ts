// tls-weak: what a passive observer can tell about a TLS connection's
// strength — an obsolete version negotiated (SSL 3.0, TLS 1.0/1.1), a broken
// cipher suite (NULL, export, anonymous, RC4, DES/3DES), and a server
// certificate that a careful client would refuse (self-signed, expired or not
// yet valid at capture time, not naming the SNI host, short RSA key, MD5/SHA-1
// signature). One finding per device and server, listing every reason.
import type { DetectorConfig } from './config.js';
import type { Detector, DeviceRef, EngineEvent, EventKind, TlsCertificateEvent, TlsServerHelloEvent } from '../engine/events.js';
import type { Finding, Severity } from '../model/finding.js';
import { severityRank } from '../model/finding.js';
import { Capped, deviceKey, deviceOf, endpointText, printable } from './util.js';

const WANTS: readonly EventKind[] = ['tls-server-hello', 'tls-certificate'];

export type TlsWeakReason =
  | 'obsolete-version'
  | 'weak-cipher'
  | 'self-signed'
  | 'expired'
  | 'not-yet-valid'
  | 'name-mismatch'
  | 'weak-key'
  | 'weak-signature';

const REASON_TEXT: Record<TlsWeakReason, string> = {
  'obsolete-version': 'an obsolete TLS/SSL version',
  'weak-cipher': 'a broken cipher suite',
  'self-signed': 'a self-signed certificate',
  expired: 'an expired certificate',
  'not-yet-valid': 'a certificate not yet valid',
  'name-mismatch': 'a certificate for another name',
  'weak-key': 'a short key',
  'weak-signature': 'an MD5/SHA-1 signed certificate',
};

const REASON_SEVERITY: Record<TlsWeakReason, Severity> = {
  'obsolete-version': 'medium',
  'weak-cipher': 'high',
  'self-signed': 'medium',
  expired: 'medium',
  'not-yet-valid': 'medium',
  'name-mismatch': 'high',
  'weak-key': 'medium',
  'weak-signature': 'medium',
};

/** Cipher suite names that give no real protection today (RFC 7465 RC4, RFC 8996 era guidance, export and NULL suites). */
export function weakCipher(name: string): string | undefined {
  const n = name.toUpperCase();
  if (/_NULL_|WITH_NULL|NULL_WITH/.test(n)) return 'NULL encryption';
  if (/EXPORT/.test(n)) return 'export-grade';
  if (/_ANON_|DH_ANON|ECDH_ANON/.test(n)) return 'anonymous (no server authentication)';
  if (/RC4/.test(n)) return 'RC4';
  if (/3DES|DES_EDE|DES40|_DES_|DES_CBC/.test(n)) return 'DES/3DES';
  if (/RC2|IDEA/.test(n)) return 'RC2/IDEA';
  return undefined;
}

/** RFC 6125 §6.4: does a certificate name (possibly `*.example.com`) cover the host? */
export function nameMatches(pattern: string, host: string): boolean {
  const p = pattern.toLowerCase().replace(/\.$/, '');
  const h = host.toLowerCase().replace(/\.$/, '');
  if (p === h) return true;
  if (p.startsWith('*.')) {
    const rest = p.slice(2);
    const dot = h.indexOf('.');
    // the wildcard covers exactly one left-most label, never a public suffix alone
    return dot > 0 && h.slice(dot + 1) === rest && rest.includes('.');
  }
  return false;
}

const IP_RE = /^(?:\d{1,3}\.){3}\d{1,3}$|:/;

interface Case {
  device: DeviceRef;
  server: string;
  serverLocal: boolean;
  sni?: string;
  reasons: Map<TlsWeakReason, string>;
  frames: Capped<number>;
  file: string;
  certificate?: { subject: string; issuer: string; validFrom: string; validTo: string; sha256: string; names: string[] };
  version?: string;
  cipher?: string;
}

/** What a leaf certificate says on its own, worked out once per certificate (the engine shares one frozen summary per distinct certificate). */
interface LeafFacts {
  names: string[];
  /** The names lowercased, without a trailing dot (nameMatches' normal form). */
  norm: string[];
  weakKey: string | undefined;
  weakSignature: string | undefined;
  /** SNI → matches one of the names. */
  sniMatch: Map<string, boolean>;
}

export function tlsWeakDetector(cfg: DetectorConfig): Detector {
  const cases = new Map<string, Case>();
  const facts = new WeakMap<object, LeafFacts>();

  const factsOf = (leaf: TlsCertificateEvent['chain'][number]): LeafFacts => {
    let f = facts.get(leaf);
    if (f === undefined) {
      const names = leaf.subjectAltNames.length > 0 ? leaf.subjectAltNames : leaf.commonName ? [leaf.commonName] : [];
      const rsa = /^rsa\s+(\d+)/i.exec(leaf.publicKey ?? '');
      f = {
        names,
        norm: names.map((n) => n.toLowerCase().replace(/\.$/, '')),
        weakKey: rsa && Number(rsa[1]) < cfg.tlsWeak.minRsaBits ? `RSA ${rsa[1]}-bit key` : undefined,
        weakSignature: /md5|md2|sha1with|sha-1|1\.2\.840\.113549\.1\.1\.(4|5)\b/i.test(leaf.signatureAlgorithm ?? '') && !leaf.selfSigned ? `signed with ${leaf.signatureAlgorithm}` : undefined,
        sniMatch: new Map(),
      };
      facts.set(leaf, f);
    }
    return f;
  };

  const sniMatches = (f: LeafFacts, sni: string): boolean => {
    let m = f.sniMatch.get(sni);
    if (m === undefined) {
      m = f.norm.some((n) => nameMatches(n, sni));
      if (f.sniMatch.size >= 64) f.sniMatch.clear();
      f.sniMatch.set(sni, m);
    }
    return m;
  };

  const caseFor = (e: TlsServerHelloEvent | TlsCertificateEvent): Case => {
    const device = deviceOf(e, e.client, e.server);
    const server = endpointText(e.server);
    const k = `${deviceKey(device)}|${server}`;
    let c = cases.get(k);
    if (!c) {
      c = { device, server, serverLocal: e.server.local, reasons: new Map(), frames: new Capped(cfg.maxEvidence), file: e.file };
      cases.set(k, c);
    }
    return c;
  };

  const add = (c: Case, r: TlsWeakReason, detail: string, frame: number) => {
    if (!c.reasons.has(r)) c.reasons.set(r, detail);
    if (!c.frames.items.includes(frame)) c.frames.push(frame);
  };

  return {
    name: 'tls-weak',
    wants: WANTS,
    onEvent(e: EngineEvent): void {
      if (e.kind === 'tls-server-hello') {
        const weakVersion = e.version < 0x0303 && e.version >= 0x0200;
        const wc = weakCipher(e.cipherName);
        if (!weakVersion && !wc) return;
        const c = caseFor(e);
        c.version = e.versionName;
        c.cipher = e.cipherName;
        if (weakVersion) add(c, 'obsolete-version', `${e.versionName} negotiated`, e.frame);
        if (wc) add(c, 'weak-cipher', `${e.cipherName} (${wc})`, e.frame);
        return;
      }
      if (e.kind !== 'tls-certificate') return;
      const leaf = e.chain[0];
      if (!leaf) return;
      const found: Array<[TlsWeakReason, string]> = [];
      // a self-signed certificate on a LAN device's own admin page is common (rated low below); optional
      if (leaf.selfSigned && e.chain.length === 1 && (!e.server.local || cfg.tlsWeak.localSelfSigned)) {
        found.push(['self-signed', `self-signed certificate for ${printable(leaf.subject, 120)}`]);
      }
      if (e.expiredAtCapture) found.push(['expired', `certificate expired on ${leaf.validTo}`]);
      if (e.notYetValidAtCapture) found.push(['not-yet-valid', `certificate valid only from ${leaf.validFrom}`]);
      const lf = factsOf(leaf);
      const names = lf.names;
      if (e.sni && !IP_RE.test(e.sni) && names.length > 0 && !sniMatches(lf, e.sni)) {
        found.push(['name-mismatch', `certificate names ${names.slice(0, 5).map((n) => printable(n, 80)).join(', ')}${names.length > 5 ? ', …' : ''}, not ${printable(e.sni, 120)}`]);
      }
      if (lf.weakKey !== undefined) found.push(['weak-key', lf.weakKey]);
      if (lf.weakSignature !== undefined) found.push(['weak-signature', lf.weakSignature]);
      if (found.length === 0) return;
      const c = caseFor(e);
      if (e.sni) c.sni = printable(e.sni, 200);
      c.certificate = { subject: printable(leaf.subject, 200), issuer: printable(leaf.issuer, 200), validFrom: leaf.validFrom, validTo: leaf.validTo, sha256: leaf.fingerprintSha256, names: names.slice(0, 10).map((n) => printable(n, 100)) };
      for (const [r, d] of found) add(c, r, d, e.frame);
    },
    finish(): Finding[] {
      const out: Finding[] = [];
      for (const c of cases.values()) {
        const reasons = [...c.reasons.keys()];
        let severity: Severity = 'low';
        for (const r of reasons) {
          // a LAN device's own self-signed certificate is common and only a low risk on its own
          const s: Severity = r === 'self-signed' && c.serverLocal ? 'low' : REASON_SEVERITY[r];
          if (severityRank(s) > severityRank(severity)) severity = s;
        }
        const who = c.device.ip ?? c.device.mac ?? 'a device';
        const target = c.sni ? `${c.sni} (${c.server})` : c.server;
        const certIssue = reasons.some((r) => r !== 'obsolete-version' && r !== 'weak-cipher');
        out.push({
          id: 'tls-weak',
          severity,
          title: `Weak TLS between ${who} and ${target}: ${reasons.map((r) => REASON_TEXT[r]).join(', ')}`,
          device: c.device,
          evidence: {
            server: c.server,
            ...(c.sni ? { sni: c.sni } : {}),
            reasons,
            details: [...c.reasons.values()],
            ...(c.version ? { version: c.version } : {}),
            ...(c.cipher ? { cipher: c.cipher } : {}),
            ...(c.certificate ? { certificate: c.certificate } : {}),
            file: c.file,
            frames: c.frames.items,
          },
          advice: certIssue
            ? 'This connection can be impersonated: make sure the device and its app are up to date, and if it still happens ask the vendor for a fix or keep the device on an isolated network.'
            : 'This connection uses outdated encryption that can be broken: update the device firmware, and replace it if the vendor no longer updates it.',
        });
      }
      return out;
    },
  };
}
