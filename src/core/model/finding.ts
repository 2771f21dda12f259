// Findings: the one shape every detector, probe and audit step reports in
// (CONTRACT.md "Finding"). Ids are stable and never renamed.

export const SEVERITIES = ['info', 'low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

export const FINDING_IDS = [
  'default-credentials',
  'insecure-service',
  'upnp-enabled',
  'upnp-mapping',
  'upnp-wan-exposed',
  'upnp-permissive',
  'upnp-port-mapping-request',
  'plaintext-firmware',
  'plaintext-credentials',
  'tls-weak',
  'tls-no-cert-validation',
  'dns-tunnel',
  'dns-bypass',
  'lateral-scan',
  'login-brute-force',
  'beaconing',
  'remote-access',
  'known-vulnerability',
  'policy-violation',
] as const;
export type FindingId = (typeof FINDING_IDS)[number];

export interface DeviceRef {
  mac?: string;
  ip?: string;
}

export interface Finding {
  id: FindingId;
  severity: Severity;
  title: string;
  device: DeviceRef;
  evidence: Record<string, unknown>;
  advice: string;
}

export function severityRank(s: Severity): number {
  return SEVERITIES.indexOf(s);
}

/** Sort findings most severe first, then by id and device, so output is deterministic. */
export function sortFindings(findings: Finding[]): Finding[] {
  return [...findings].sort(
    (a, b) =>
      severityRank(b.severity) - severityRank(a.severity) ||
      a.id.localeCompare(b.id) ||
      (a.device.ip ?? '').localeCompare(b.device.ip ?? '') ||
      (a.device.mac ?? '').localeCompare(b.device.mac ?? '') ||
      a.title.localeCompare(b.title),
  );
}
