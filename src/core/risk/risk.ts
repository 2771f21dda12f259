// Risk per device, explained line by line, and the advice that cuts it, most
// effective first. Pure: the audit hands in what discovery, the UPnP audit,
// the credential audit and the traffic engine found; nothing is guessed here.
import { severityRank, type Finding, type Severity } from '../model/finding.js';

export type RiskLevel = 'none' | 'low' | 'medium' | 'high' | 'critical';

export interface RiskLine {
  points: number;
  why: string;
  /** The finding id this line comes from, when it comes from one. */
  finding?: string;
}

export interface Risk {
  score: number;
  level: RiskLevel;
  lines: RiskLine[];
}

export interface Advice {
  /** Stable key so the same advice is given once and diffs can compare it. */
  key: string;
  /** Higher first: how much risk acting on it removes. */
  priority: number;
  text: string;
  /** A command the user can run, when there is one. */
  command?: string;
}

export interface RiskInput {
  ip: string;
  mac: string | null;
  type: string;
  findings: Finding[];
  /** Open TCP ports reachable on the LAN (from discovery). */
  openPorts: Array<{ port: number; service: string }>;
  /** UPnP mappings that point at this device. */
  mappings: Array<{ protocol: string; externalPort: number; internalPort: number; risk: Severity; service?: string; description?: string }>;
}

const SEVERITY_POINTS: Record<Severity, number> = { info: 0, low: 4, medium: 12, high: 25, critical: 40 };

/** Findings that are proven by a live test count in full; passive inferences a little less. */
const PROVEN = new Set(['default-credentials', 'tls-no-cert-validation', 'upnp-mapping', 'upnp-permissive']);
/** Signs that the device is already compromised. */
export const COMPROMISE = new Set(['dns-tunnel', 'lateral-scan']);

const CLEARTEXT_ADMIN: Record<number, string> = { 21: 'FTP', 23: 'telnet', 2323: 'telnet', 69: 'TFTP', 513: 'rlogin', 514: 'rsh' };

export function levelFor(score: number): RiskLevel {
  if (score >= 70) return 'critical';
  if (score >= 40) return 'high';
  if (score >= 15) return 'medium';
  if (score > 0) return 'low';
  return 'none';
}

export function scoreDevice(d: RiskInput): Risk {
  const lines: RiskLine[] = [];
  // one line per distinct finding id and severity: ten DNS-tunnel findings are one problem
  const seen = new Map<string, Finding>();
  for (const f of d.findings) {
    const key = `${f.id}`;
    const prev = seen.get(key);
    if (!prev || severityRank(f.severity) > severityRank(prev.severity)) seen.set(key, f);
  }
  for (const f of [...seen.values()].sort((a, b) => severityRank(b.severity) - severityRank(a.severity) || a.id.localeCompare(b.id))) {
    const base = SEVERITY_POINTS[f.severity];
    if (base === 0) continue;
    const points = PROVEN.has(f.id) ? base : Math.round(base * 0.8);
    const count = d.findings.filter((x) => x.id === f.id).length;
    lines.push({
      points,
      finding: f.id,
      why: `${f.severity} ${f.id}: ${f.title}${count > 1 ? ` (and ${count - 1} more like it)` : ''}${PROVEN.has(f.id) ? ' — proven by a live test' : ''}`,
    });
  }
  const exposed = d.mappings.filter((m) => severityRank(m.risk) >= severityRank('high'));
  if (exposed.length > 0) {
    lines.push({
      points: 15,
      why: `reachable from the internet through UPnP on ${exposed.map((m) => `${m.protocol}/${m.externalPort}`).join(', ')}: anyone can try it, not only your LAN`,
    });
  }
  const hasDefault = d.findings.some((f) => f.id === 'default-credentials');
  if (hasDefault && exposed.length > 0) {
    lines.push({ points: 15, why: 'a default password on a service the internet can reach is exactly how Mirai spread' });
  }
  const cleartext = d.openPorts.filter((p) => CLEARTEXT_ADMIN[p.port] !== undefined);
  if (cleartext.length > 0 && !d.findings.some((f) => f.id === 'insecure-service')) {
    lines.push({
      points: 8,
      why: `cleartext admin service listening on the LAN: ${cleartext.map((p) => `${CLEARTEXT_ADMIN[p.port]} (${p.port})`).join(', ')}`,
    });
  }
  if (d.findings.some((f) => COMPROMISE.has(f.id))) {
    lines.push({ points: 20, why: 'behaves as if already compromised (tunnel or scanning): treat it as an attacker inside your LAN' });
  }
  const score = Math.min(100, lines.reduce((n, l) => n + l.points, 0));
  return { score, level: levelFor(score), lines };
}

const SERVICE_HOWTO: Record<string, string> = {
  telnet: 'log in to the device\'s web or app settings and set a new, unique password; then turn telnet off there if it offers the switch',
  ssh: 'log in over SSH and run `passwd`, or change it in the device\'s settings',
  http: 'open the device\'s admin page, go to its user/password settings and set a new, unique password',
  https: 'open the device\'s admin page, go to its user/password settings and set a new, unique password',
  ftp: 'change the FTP user\'s password in the device\'s settings, or turn FTP off',
  mqtt: 'change the broker user\'s password (mosquitto_passwd) and update the clients',
  rtsp: 'change the camera\'s stream password in its settings (and the app that views it)',
};

function policyCommands(ip: string, mac: string | null): { learn: string; render: string } {
  const who = mac ?? ip;
  const file = `${(mac ?? ip).replace(/[:.]/g, '-')}.mud.json`;
  return {
    learn: `iotguard policy learn CAPTURE.pcap --device ${who} --out ${file}`,
    render: `iotguard policy render --mud ${file} --format nftables`,
  };
}

/** Advice for one device, most effective first, each given once. */
export function adviseDevice(d: RiskInput & { lossIfUpnpOff?: string }): Advice[] {
  const out = new Map<string, Advice>();
  const add = (a: Advice) => {
    if (!out.has(a.key)) out.set(a.key, a);
  };
  const cmds = policyCommands(d.ip, d.mac);
  const compromised = d.findings.filter((f) => COMPROMISE.has(f.id));
  if (compromised.length > 0) {
    add({
      key: 'quarantine',
      priority: 100,
      text: `It looks compromised (${[...new Set(compromised.map((f) => f.id))].join(', ')}): cut it off now (quarantine), then factory-reset it, change its passwords and update its firmware before it goes back; replace it if the vendor has no update.`,
      command: `iotguard policy render --mud ${(d.mac ?? d.ip).replace(/[:.]/g, '-')}.mud.json --format nftables --mode quarantine`,
    });
  }
  const exposedPorts = new Set(d.mappings.filter((m) => severityRank(m.risk) >= severityRank('high')).map((m) => m.internalPort));
  for (const f of d.findings.filter((x) => x.id === 'default-credentials')) {
    const ev = f.evidence as { service?: string; port?: number; username?: string };
    const service = String(ev.service ?? 'the service');
    add({
      key: `change-password:${service}:${ev.port ?? ''}`,
      // a default password the internet can reach (through a mapping) first, then shells before web pages
      priority: 95 + (ev.port !== undefined && exposedPorts.has(ev.port) ? 4 : 0) + (service === 'telnet' || service === 'ssh' ? 1 : 0),
      text: `Change the default ${service} password${ev.username ? ` of user '${ev.username}'` : ''}${ev.port ? ` (port ${ev.port})` : ''}: ${SERVICE_HOWTO[service] ?? 'set a new, unique password in the device\'s settings'}.${service === 'telnet' ? ' Telnet sends everything in clear: turn it off, or isolate the device if you cannot.' : ''}`,
    });
  }
  for (const m of d.mappings) {
    const dangerous = severityRank(m.risk) >= severityRank('high');
    add({
      key: `mapping:${m.protocol}/${m.externalPort}`,
      priority: dangerous ? 90 : 25,
      text: dangerous
        ? `Remove the UPnP mapping ${m.protocol}/${m.externalPort} -> port ${m.internalPort}${m.service ? ` (${m.service})` : ''}: it exposes the device to the whole internet.${d.lossIfUpnpOff ? ` If you disable UPnP instead, ${d.lossIfUpnpOff}` : ''}`
        : `The UPnP mapping ${m.protocol}/${m.externalPort}${m.description ? ` ('${m.description}')` : ''} is an ordinary use; keep it if you use the feature, or replace it with a static forward and turn UPnP off.`,
      command: dangerous ? `iotguard upnp --remove ${m.protocol}/${m.externalPort}` : undefined,
    });
  }
  for (const f of d.findings.filter((x) => x.id === 'known-vulnerability')) {
    const ev = f.evidence as { cve?: string };
    add({ key: `kev:${ev.cve ?? f.title}`, priority: 85, text: f.advice });
  }
  if (d.findings.some((f) => f.id === 'plaintext-credentials')) {
    const protos = [...new Set(d.findings.filter((f) => f.id === 'plaintext-credentials').map((f) => String((f.evidence as { protocol?: string }).protocol ?? 'a cleartext protocol')))];
    add({
      key: 'plaintext-credentials',
      priority: 75,
      text: `Its password crosses the network in clear (${protos.join(', ')}): anyone on the path can read it. Change that password, use the encrypted option (TLS) if the device has one, and isolate the device.`,
    });
  }
  if (d.findings.some((f) => f.id === 'tls-no-cert-validation')) {
    add({
      key: 'tls-no-cert-validation',
      priority: 75,
      text: 'It accepts forged TLS certificates: its cloud traffic can be read and altered by anyone on the path. Update its firmware, report it to the vendor, and isolate it until then.',
    });
  }
  if (d.findings.some((f) => f.id === 'plaintext-firmware')) {
    add({
      key: 'plaintext-firmware',
      priority: 65,
      text: 'Its vendor ships firmware over plain HTTP: an update can be swapped by anyone on the path. Keep it isolated, apply updates only from a trusted network, and ask the vendor for signed HTTPS updates.',
    });
  }
  if (d.findings.some((f) => f.id === 'insecure-service')) {
    add({ key: 'insecure-service', priority: 55, text: 'Turn off the cleartext services it runs (telnet, FTP, unauthenticated MQTT) in its settings; if it has no switch, isolate it.' });
  }
  if (d.findings.some((f) => f.id === 'tls-weak')) {
    add({ key: 'tls-weak', priority: 40, text: 'It uses outdated or broken TLS: update its firmware; if none fixes it, keep it off the internet.' });
  }
  if (d.findings.some((f) => f.id === 'remote-access')) {
    add({ key: 'remote-access', priority: 30, text: 'It keeps a connection open to a cloud relay, so it is reachable from the internet through your router. If you do not use its app from outside, block its internet (its app will then work only at home).' });
  }
  if (d.findings.some((f) => f.id === 'dns-bypass')) {
    add({ key: 'dns-bypass', priority: 30, text: 'It ignores your router\'s DNS: block outbound DNS (53/853) except to the router so your filtering and logs see it.' });
  }
  const needsIsolation = d.findings.some((f) => severityRank(f.severity) >= severityRank('medium')) || d.mappings.length > 0;
  if (needsIsolation) {
    add({
      key: 'isolate',
      priority: 35,
      text: 'Isolate it: allow only what it needs (its vendor cloud, DNS, DHCP), block it from your other devices. Learn its profile from a capture, then render the rules for your router.',
      command: `${cmds.learn} && ${cmds.render}`,
    });
  }
  if (d.findings.some((f) => f.id === 'beaconing')) {
    add({ key: 'beaconing', priority: 20, text: 'It contacts one destination on a machine-like schedule: check the destination in the evidence; if you do not recognise it, block it and watch whether the device still works.' });
  }
  if (d.findings.some((f) => f.id === 'policy-violation')) {
    add({ key: 'policy-violation', priority: 45, text: 'It talks to something outside its allowlist: check the new destination; if it is not a vendor change you expect, quarantine the device.' });
  }
  if (compromised.length > 0 || d.findings.some((f) => f.id === 'known-vulnerability' && /no fix|replace/i.test(f.advice))) {
    add({ key: 'replace', priority: 10, text: 'If the vendor no longer ships updates for it, replace it: nothing else fixes an unmaintained device.' });
  }
  return [...out.values()].sort((a, b) => b.priority - a.priority || a.key.localeCompare(b.key));
}
