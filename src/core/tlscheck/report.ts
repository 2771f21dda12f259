// Turning the attempts into the tls-check document (CONTRACT.md): one result
// per device and destination with its verdict and per-certificate tests, and
// a `tls-no-cert-validation` finding for every destination where a forged
// certificate was accepted.
import type { Finding } from '../model/finding.js';
import { CERT_TESTS, verdictFor, type AttemptResult, type CertTest, type DestinationKey, type Verdict } from './plan.js';

export interface TlsTestEntry {
  certificate: CertTest;
  accepted: boolean;
  outcome: AttemptResult['outcome'];
  handshake: boolean;
  appDataBytes: number;
  alert?: string;
  reason: string;
  tlsVersion?: string;
  at: string;
}

export interface TlsCheckResult {
  device: string;
  sni: string | null;
  destination: string | null;
  verdict: Verdict;
  tests: TlsTestEntry[];
  /** Connections to this destination forwarded untouched (after the tests, or while tests were in flight). */
  passedThrough: number;
}

export interface DestinationSnapshot {
  key: DestinationKey;
  destination: string;
  attempts: AttemptResult[];
  passedThrough: number;
}

const VERDICT_TEXT: Record<Exclude<Verdict, 'validates' | 'no-tls-seen' | 'incomplete'>, string> = {
  'accepts-self-signed': 'a self-signed certificate',
  'accepts-untrusted-ca': 'a certificate from a CA it has no reason to trust',
  'accepts-wrong-host': 'a certificate issued for another name',
  'accepts-expired': 'an expired certificate',
};

export const NO_VALIDATION_ADVICE =
  'Anyone on the path (Wi-Fi, router, ISP) can read and change this device\'s encrypted traffic: keep it on an isolated IoT/guest network, install the vendor\'s firmware updates, and report the problem to the vendor.';

export function buildResults(devices: string[], snaps: DestinationSnapshot[]): TlsCheckResult[] {
  const out: TlsCheckResult[] = [];
  for (const device of devices) {
    const mine = snaps.filter((s) => s.key.device === device);
    if (mine.length === 0) {
      out.push({ device, sni: null, destination: null, verdict: 'no-tls-seen', tests: [], passedThrough: 0 });
      continue;
    }
    for (const s of mine) {
      out.push({
        device,
        sni: s.key.sni ?? null,
        destination: s.destination,
        verdict: s.attempts.length === 0 && s.passedThrough > 0 ? 'incomplete' : verdictFor(s.attempts),
        tests: orderTests(s.attempts).map((a) => ({
          certificate: a.certificate,
          accepted: a.accepted,
          outcome: a.outcome,
          handshake: a.handshake,
          appDataBytes: a.appDataBytes,
          ...(a.alert ? { alert: a.alert } : {}),
          reason: a.reason,
          ...(a.tlsVersion ? { tlsVersion: a.tlsVersion } : {}),
          at: a.at,
        })),
        passedThrough: s.passedThrough,
      });
    }
  }
  return out.sort((a, b) => a.device.localeCompare(b.device) || (a.sni ?? '').localeCompare(b.sni ?? '') || (a.destination ?? '').localeCompare(b.destination ?? ''));
}

function orderTests(attempts: AttemptResult[]): AttemptResult[] {
  // conclusive answers in the canonical order first, then inconclusive tries
  const conclusive = CERT_TESTS.flatMap((t) => attempts.filter((a) => a.certificate === t && a.outcome !== 'inconclusive'));
  return [...conclusive, ...attempts.filter((a) => a.outcome === 'inconclusive')];
}

export function buildFindings(results: TlsCheckResult[], macs: Map<string, string> = new Map()): Finding[] {
  const findings: Finding[] = [];
  for (const r of results) {
    if (!r.verdict.startsWith('accepts-')) continue;
    const what = VERDICT_TEXT[r.verdict as keyof typeof VERDICT_TEXT];
    const proof = r.tests
      .filter((t) => t.accepted)
      .map((t) => `accepted the ${t.certificate} certificate: finished the TLS handshake${t.tlsVersion ? ` (${t.tlsVersion})` : ''} and sent ${t.appDataBytes} bytes of application data`);
    const mac = macs.get(r.device);
    findings.push({
      id: 'tls-no-cert-validation',
      severity: 'high',
      title: `${r.device} accepts ${what} for ${r.sni ?? r.destination}`,
      device: { ip: r.device, ...(mac ? { mac } : {}) },
      evidence: {
        sni: r.sni,
        destination: r.destination,
        verdict: r.verdict,
        proof,
        tests: r.tests.map((t) => ({ certificate: t.certificate, accepted: t.accepted, ...(t.alert ? { alert: t.alert } : {}) })),
      },
      advice: NO_VALIDATION_ADVICE,
    });
  }
  return findings;
}
