// The audit's result: what every renderer (HTML, Markdown, JSON) and the
// stored history read. `devices[]` keeps CONTRACT.md's discover fields and adds
// risk, findings and advice; `findings[]` holds every finding of the audit.
import type { Finding } from '../model/finding.js';
import type { Advice, Risk } from '../risk/risk.js';

export interface AuditStep {
  name: string;
  status: 'ok' | 'skipped' | 'failed';
  seconds: number;
  detail?: string;
}

export interface AuditMapping {
  protocol: string;
  externalPort: number;
  internalClient: string;
  internalPort: number;
  description: string;
  leaseSeconds: number;
  risk: string;
  service?: string;
}

export interface AuditDestination {
  name: string | null;
  ip: string;
  port: number;
  proto: string;
  bytes: number;
}

export interface AuditDevice {
  ip: string;
  mac: string | null;
  vendor: string | null;
  hostname: string | null;
  type: string;
  openPorts: Array<{ port: number; proto: string; service: string; banner: string }>;
  services: Array<Record<string, unknown>>;
  mappings: AuditMapping[];
  destinations: AuditDestination[];
  credentials: Array<{ service: string; port: number; status: string; username?: string; password?: string }>;
  /** What this device loses if UPnP is turned off (from the UPnP audit). */
  upnpImpact?: string;
  risk: Pick<Risk, 'score' | 'level'> & { explanation: Risk['lines'] };
  findings: Finding[];
  advice: Advice[];
}

export interface AuditGateway {
  ip: string | null;
  location: string;
  server: string | null;
  externalIp: string | null;
  mappings: number;
}

export interface AuditResult {
  tool: { name: 'iotguard'; version: string };
  startedAt: string;
  finishedAt: string;
  scope: { cidrs: string[]; authorized: boolean; captures: string[]; captureSeconds: number };
  steps: AuditStep[];
  gateways: AuditGateway[];
  devices: AuditDevice[];
  /** Findings not tied to one LAN device (the gateway, the WAN side). */
  networkFindings: Finding[];
  findings: Finding[];
  summary: {
    devices: number;
    findings: Record<string, number>;
    worst: Array<{ ip: string; level: string; score: number }>;
  };
}
