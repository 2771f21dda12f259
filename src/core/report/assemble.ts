// Joins what each audit step produced (in CONTRACT.md's JSON shapes) into one
// AuditResult per device: findings attributed by IP, then MAC; risk and advice
// computed; everything sorted so the same inputs give the same bytes.
import { sortFindings, type Finding } from '../model/finding.js';
import { adviseDevice, scoreDevice } from '../risk/risk.js';
import type { AuditDevice, AuditGateway, AuditMapping, AuditResult, AuditStep } from './model.js';

export interface DiscoverInput {
  devices: Array<{
    ip: string;
    mac: string | null;
    vendor: string | null;
    hostname: string | null;
    type: string;
    openPorts: Array<{ port: number; proto: string; service: string; banner: string }>;
    services: Array<Record<string, unknown>>;
    self?: boolean;
  }>;
}

export interface UpnpInput {
  gateways: Array<{
    location: string;
    server: string | null;
    host?: string;
    externalIp: string | null;
    mappings: Array<AuditMapping & { device?: { mac: string | null; ip: string; vendor: string | null } }>;
  }>;
  findings: Finding[];
  disableImpact?: Array<{ device: { ip: string }; instead: string; loses: Array<{ what: string }> }>;
}

export interface CredsInput {
  results: Array<{ ip: string; service: string; port: number; status: string; username?: string; password?: string }>;
  findings?: Finding[];
}

export interface AnalyzeInput {
  devices: Array<{ mac: string | null; ip: string | null; hostname?: string | null; destinations: Array<{ name: string | null; ip: string; port: number; proto: string; bytes: number; direction?: string }> }>;
  findings: Finding[];
}

export interface AssembleInput {
  version: string;
  startedAt: string;
  finishedAt: string;
  scope: AuditResult['scope'];
  steps: AuditStep[];
  discover?: DiscoverInput;
  upnp?: UpnpInput;
  creds?: CredsInput;
  analyze?: AnalyzeInput;
  /** Findings computed by the audit itself (known vulnerabilities...). */
  extraFindings?: Finding[];
}

/** Findings about the gateway or the network as a whole, not about one device's own behaviour. */
const NETWORK_IDS = new Set(['upnp-enabled', 'upnp-wan-exposed', 'upnp-permissive']);

function ipKey(ip: string): number[] {
  return ip.split(/[.:]/).map((x) => (/^\d+$/.test(x) ? Number(x) : parseInt(x, 16) || 0));
}

function compareIp(a: string, b: string): number {
  const x = ipKey(a);
  const y = ipKey(b);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? -1) - (y[i] ?? -1);
    if (d) return d;
  }
  return a.localeCompare(b);
}

function isLanIp(ip: string | null | undefined): ip is string {
  return !!ip && /^(10\.|192\.168\.|172\.(1[6-9]|2\d|3[01])\.)/.test(ip);
}

function dedupeFindings(fs: Finding[]): Finding[] {
  const seen = new Set<string>();
  const out: Finding[] = [];
  for (const f of fs) {
    const key = JSON.stringify([f.id, f.severity, f.device.ip ?? '', f.device.mac ?? '', f.title]);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(f);
  }
  return out;
}

export function assembleAudit(input: AssembleInput): AuditResult {
  const devices = new Map<string, AuditDevice>();
  const blank = (ip: string, mac: string | null): AuditDevice => ({
    ip,
    mac,
    vendor: null,
    hostname: null,
    type: 'unknown',
    openPorts: [],
    services: [],
    mappings: [],
    destinations: [],
    credentials: [],
    risk: { score: 0, level: 'none', explanation: [] },
    findings: [],
    advice: [],
  });
  // the host iotguard runs on is not audited (its own probes would look like a scan)
  const selfIps = new Set((input.discover?.devices ?? []).filter((d) => d.self).map((d) => d.ip));
  for (const d of input.discover?.devices ?? []) {
    if (d.self) continue;
    devices.set(d.ip, {
      ...blank(d.ip, d.mac),
      vendor: d.vendor,
      hostname: d.hostname,
      type: d.type,
      openPorts: [...d.openPorts].sort((a, b) => a.port - b.port).map((p) => ({ port: p.port, proto: p.proto, service: p.service, banner: p.banner })),
      services: d.services,
    });
  }
  const byMac = () => new Map([...devices.values()].filter((d) => d.mac).map((d) => [d.mac!.toLowerCase(), d]));
  // devices seen only on the wire
  for (const t of input.analyze?.devices ?? []) {
    if (!isLanIp(t.ip) || selfIps.has(t.ip)) continue;
    const dev = devices.get(t.ip) ?? (t.mac ? byMac().get(t.mac.toLowerCase()) : undefined);
    const target = dev ?? blank(t.ip, t.mac);
    if (!dev) {
      target.hostname = t.hostname ?? null;
      devices.set(t.ip, target);
    }
    target.destinations.push(
      ...t.destinations
        .filter((x) => x.direction !== 'in')
        .map((x) => ({ name: x.name, ip: x.ip, port: x.port, proto: x.proto, bytes: x.bytes })),
    );
  }
  for (const d of devices.values()) {
    d.destinations.sort((a, b) => b.bytes - a.bytes || compareIp(a.ip, b.ip) || a.port - b.port);
  }
  const gateways: AuditGateway[] = [];
  for (const g of input.upnp?.gateways ?? []) {
    gateways.push({ ip: g.host ?? hostOf(g.location), location: g.location, server: g.server, externalIp: g.externalIp, mappings: g.mappings.length });
    for (const m of g.mappings) {
      const dev = devices.get(m.internalClient) ?? blank(m.internalClient, m.device?.mac ?? null);
      if (!devices.has(m.internalClient)) devices.set(m.internalClient, dev);
      dev.mappings.push({ protocol: m.protocol, externalPort: m.externalPort, internalClient: m.internalClient, internalPort: m.internalPort, description: m.description, leaseSeconds: m.leaseSeconds, risk: m.risk, service: m.service });
    }
  }
  for (const imp of input.upnp?.disableImpact ?? []) {
    const dev = devices.get(imp.device.ip);
    if (dev) dev.upnpImpact = imp.instead;
  }
  for (const c of input.creds?.results ?? []) {
    const dev = devices.get(c.ip);
    if (dev) dev.credentials.push({ service: c.service, port: c.port, status: c.status, ...(c.username !== undefined ? { username: c.username, password: c.password } : {}) });
  }
  const merged = [
    ...(input.upnp?.findings ?? []),
    ...(input.creds?.findings ?? []),
    ...(input.analyze?.findings ?? []),
    ...(input.extraFindings ?? []),
  ];
  const networkFindings: Finding[] = [];
  const macIndex = byMac();
  // a finding names its device by what its step knew (an IP, sometimes no MAC yet):
  // complete it from the inventory so the same device always reads the same
  const all = dedupeFindings(
    merged.map((f) => {
      const dev = f.device.ip ? devices.get(f.device.ip) : undefined;
      return dev?.mac && !f.device.mac ? { ...f, device: { ...f.device, mac: dev.mac } } : f;
    }),
  );
  for (const f of all) {
    if (f.device.ip && selfIps.has(f.device.ip)) continue;
    const dev = NETWORK_IDS.has(f.id) ? undefined : (f.device.ip ? devices.get(f.device.ip) : undefined) ?? (f.device.mac ? macIndex.get(f.device.mac.toLowerCase()) : undefined);
    if (dev) dev.findings.push(f);
    else networkFindings.push(f);
  }
  const gatewayIps = new Set(gateways.map((g) => g.ip));
  for (const d of devices.values()) {
    d.findings = sortFindings(d.findings);
    d.mappings.sort((a, b) => a.protocol.localeCompare(b.protocol) || a.externalPort - b.externalPort);
    d.credentials.sort((a, b) => a.port - b.port || a.service.localeCompare(b.service));
    const riskIn = { ip: d.ip, mac: d.mac, type: d.type, findings: d.findings, openPorts: d.openPorts, mappings: d.mappings.map((m) => ({ ...m, risk: m.risk as Finding['severity'] })) };
    const risk = scoreDevice(riskIn);
    d.risk = { score: risk.score, level: risk.level, explanation: risk.lines };
    d.advice = adviseDevice({ ...riskIn, lossIfUpnpOff: d.upnpImpact });
    if (gatewayIps.has(d.ip) && d.type === 'unknown') d.type = 'router';
  }
  const list = [...devices.values()].sort((a, b) => compareIp(a.ip, b.ip));
  const findings = sortFindings(all);
  const counts: Record<string, number> = {};
  for (const f of findings) counts[f.severity] = (counts[f.severity] ?? 0) + 1;
  return {
    tool: { name: 'iotguard', version: input.version },
    startedAt: input.startedAt,
    finishedAt: input.finishedAt,
    scope: input.scope,
    steps: input.steps,
    gateways: gateways.sort((a, b) => a.location.localeCompare(b.location)),
    devices: list,
    networkFindings: sortFindings(networkFindings),
    findings,
    summary: {
      devices: list.length,
      findings: counts,
      worst: [...list].sort((a, b) => b.risk.score - a.risk.score || compareIp(a.ip, b.ip)).slice(0, 5).map((d) => ({ ip: d.ip, level: d.risk.level, score: d.risk.score })),
    },
  };
}

function hostOf(url: string): string | null {
  const m = /^[a-z]+:\/\/\[?([^\]/:]+)/i.exec(url);
  return m ? m[1] : null;
}

/** What changed between two audits: devices that came or went, findings that appeared or were fixed, risk moves. */
export interface AuditDiff {
  since: string;
  newDevices: string[];
  goneDevices: string[];
  newFindings: Array<{ ip: string | null; id: string; title: string; severity: string }>;
  resolvedFindings: Array<{ ip: string | null; id: string; title: string; severity: string }>;
  riskChanges: Array<{ ip: string; from: string; to: string; fromScore: number; toScore: number }>;
}

export function diffAudits(prev: AuditResult, cur: AuditResult): AuditDiff {
  const key = (f: Finding) => `${f.id}|${f.device.ip ?? ''}|${f.title}`;
  const pf = new Map(prev.findings.map((f) => [key(f), f]));
  const cf = new Map(cur.findings.map((f) => [key(f), f]));
  const pd = new Map(prev.devices.map((d) => [d.mac ?? d.ip, d]));
  const cd = new Map(cur.devices.map((d) => [d.mac ?? d.ip, d]));
  const brief = (f: Finding) => ({ ip: f.device.ip ?? null, id: f.id, title: f.title, severity: f.severity });
  return {
    since: prev.finishedAt,
    newDevices: [...cd.keys()].filter((k) => !pd.has(k)).map((k) => cd.get(k)!.ip).sort(compareIp),
    goneDevices: [...pd.keys()].filter((k) => !cd.has(k)).map((k) => pd.get(k)!.ip).sort(compareIp),
    newFindings: [...cf.keys()].filter((k) => !pf.has(k)).map((k) => brief(cf.get(k)!)),
    resolvedFindings: [...pf.keys()].filter((k) => !cf.has(k)).map((k) => brief(pf.get(k)!)),
    riskChanges: [...cd.entries()]
      .filter(([k, d]) => pd.has(k) && pd.get(k)!.risk.score !== d.risk.score)
      .map(([k, d]) => ({ ip: d.ip, from: pd.get(k)!.risk.level, to: d.risk.level, fromScore: pd.get(k)!.risk.score, toScore: d.risk.score })),
  };
}
