// Which forged certificate each intercepted connection gets, what a client's
// reaction means, and the verdict per device and destination. Pure state: the
// interceptor asks `next()` when a ClientHello arrives and reports the outcome.

/** The forged certificates, in the order they are tried (CONTRACT.md `tests[].certificate`). */
export const CERT_TESTS = ['self-signed', 'wrong-host', 'expired', 'untrusted-ca'] as const;
export type CertTest = (typeof CERT_TESTS)[number];

export const VERDICTS = [
  'validates',
  'accepts-self-signed',
  'accepts-wrong-host',
  'accepts-expired',
  'accepts-untrusted-ca',
  'no-tls-seen',
  'incomplete',
] as const;
export type Verdict = (typeof VERDICTS)[number];

/**
 * What happened on one attempt.
 *  accepted:     handshake completed and the client sent application data.
 *  refused:      the client sent an alert or closed before sending data.
 *  inconclusive: the attempt proves nothing about certificate checking (our
 *                side could not offer anything the client speaks, the client
 *                never finished its hello, the run ended mid-attempt); the
 *                same certificate is offered again on the next connection.
 */
export type Outcome = 'accepted' | 'refused' | 'inconclusive';

export interface AttemptResult {
  certificate: CertTest;
  accepted: boolean;
  outcome: Outcome;
  /** Client finished the TLS handshake. */
  handshake: boolean;
  /** Bytes of application data seen (counted, never stored). */
  appDataBytes: number;
  /** The alert the client sent, as OpenSSL names it (e.g. "tlsv1 alert unknown ca"). */
  alert?: string;
  /** Why the attempt ended as it did, for people. */
  reason: string;
  tlsVersion?: string;
  at: string;
}

export interface DestinationKey {
  device: string;
  /** SNI from the ClientHello; absent when the client sent none. */
  sni?: string;
  /** Original destination "ip:port" (after DNS, before our redirect). */
  destination: string;
  port: number;
}

export function keyString(k: DestinationKey): string {
  return `${k.device}|${k.sni ?? ''}|${k.sni ? k.port : k.destination}`;
}

interface DestState {
  key: DestinationKey;
  attempts: AttemptResult[];
  /** Tests handed out and not yet reported. */
  inFlight: CertTest[];
  passedThrough: number;
  lastDestination: string;
}

/**
 * Rotation of forged certificates per (device, SNI, port): each new TLS
 * connection takes the next test nobody has a conclusive answer for yet; once
 * every test is answered, connections to that destination pass through.
 */
export class CertRotation {
  private readonly dests = new Map<string, DestState>();
  constructor(private readonly tests: readonly CertTest[] = CERT_TESTS) {}

  private state(k: DestinationKey): DestState {
    const id = keyString(k);
    let s = this.dests.get(id);
    if (!s) {
      s = { key: { ...k }, attempts: [], inFlight: [], passedThrough: 0, lastDestination: k.destination };
      this.dests.set(id, s);
    }
    s.lastDestination = k.destination;
    return s;
  }

  private done(s: DestState): Set<CertTest> {
    return new Set(s.attempts.filter((a) => a.outcome !== 'inconclusive').map((a) => a.certificate));
  }

  /** The certificate to answer with, or undefined to pass the connection through. */
  next(k: DestinationKey): CertTest | undefined {
    const s = this.state(k);
    const done = this.done(s);
    const t = this.tests.find((x) => !done.has(x) && !s.inFlight.includes(x));
    if (t === undefined) return undefined;
    s.inFlight.push(t);
    return t;
  }

  /** Record a connection to this destination that was forwarded untouched (after its tests). */
  notePassThrough(k: DestinationKey): void {
    this.state(k).passedThrough++;
  }

  record(k: DestinationKey, r: AttemptResult): void {
    const s = this.state(k);
    const i = s.inFlight.indexOf(r.certificate);
    if (i >= 0) s.inFlight.splice(i, 1);
    s.attempts.push(r);
  }

  complete(k: DestinationKey): boolean {
    const s = this.dests.get(keyString(k));
    return s !== undefined && this.tests.every((t) => this.done(s).has(t));
  }

  snapshot(): Array<{ key: DestinationKey; destination: string; attempts: AttemptResult[]; passedThrough: number }> {
    return [...this.dests.values()].map((s) => ({ key: s.key, destination: s.lastDestination, attempts: [...s.attempts], passedThrough: s.passedThrough }));
  }
}

/**
 * Most dangerous acceptance first: anything that chains to nobody
 * (self-signed, untrusted CA) is forgeable by anyone; a wrong-host acceptance
 * needs any trusted certificate; an expired one needs an old key for the name.
 */
const SEVERITY_ORDER: CertTest[] = ['self-signed', 'untrusted-ca', 'wrong-host', 'expired'];

export function verdictFor(attempts: AttemptResult[], tests: readonly CertTest[] = CERT_TESTS): Verdict {
  const conclusive = attempts.filter((a) => a.outcome !== 'inconclusive');
  for (const t of SEVERITY_ORDER) {
    if (conclusive.some((a) => a.certificate === t && a.outcome === 'accepted')) return `accepts-${t}` as Verdict;
  }
  const refused = new Set(conclusive.filter((a) => a.outcome === 'refused').map((a) => a.certificate));
  return tests.every((t) => refused.has(t)) ? 'validates' : 'incomplete';
}

/**
 * What a TLS error on the server side says about the client. Alerts the
 * client sent after seeing our certificate (RFC 8446 §6.2: bad_certificate,
 * unknown_ca, certificate_expired, ...) and closes during the handshake are
 * refusals; failures to agree on anything (no shared cipher, protocol version)
 * are ours and prove nothing.
 */
export function classifyHandshakeError(e: { code?: string; message?: string }, certificateSent: boolean): { outcome: Outcome; alert?: string; reason: string } {
  const msg = `${e.code ?? ''} ${e.message ?? ''}`;
  const alert = /alert ([a-z0-9 _]+?)(?:\s*$|:|\s*\(|\s+SSL alert)/i.exec(e.message ?? '')?.[1]?.trim() ?? (/_ALERT_([A-Z0-9_]+)/.exec(e.code ?? '')?.[1]?.toLowerCase().replace(/_/g, ' '));
  if (/NO_SHARED_CIPHER|no shared cipher|UNSUPPORTED_PROTOCOL|unsupported protocol|VERSION_TOO_LOW|version too low|NO_SUITABLE_SIGNATURE|no suitable signature|NO_SHARED_GROUP|no shared group|INAPPROPRIATE_FALLBACK|inappropriate fallback/i.test(msg)) {
    return { outcome: 'inconclusive', reason: `no common TLS parameters with the client (${(e.message ?? e.code ?? '').trim()})` };
  }
  if (alert && /protocol version|handshake failure|insufficient security/i.test(alert) && !certificateSent) {
    return { outcome: 'inconclusive', alert, reason: `the client rejected our TLS parameters before seeing a certificate (alert ${alert})` };
  }
  if (alert) return { outcome: 'refused', alert, reason: `the client sent alert "${alert}"` };
  if (/ECONNRESET|EPIPE|socket hang up|ERR_SSL_PROTOCOL|closed|ended|EOF/i.test(msg) || msg.trim() === '') {
    return certificateSent
      ? { outcome: 'refused', reason: 'the client closed the connection after our certificate, before finishing the handshake' }
      : { outcome: 'inconclusive', reason: 'the client closed the connection before our certificate was sent' };
  }
  return certificateSent
    ? { outcome: 'refused', reason: `the handshake failed: ${(e.message ?? e.code ?? '').trim()}` }
    : { outcome: 'inconclusive', reason: `the handshake failed before our certificate was sent: ${(e.message ?? e.code ?? '').trim()}` };
}
