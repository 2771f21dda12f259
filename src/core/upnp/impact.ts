// "What breaks if I disable UPnP?": for each device that holds mappings, what
// it loses (inbound reachability on those ports) and what to do instead
// (a static forward, a per-device UPnP rule, or nothing because the mapping
// should never have existed).
import { severityRank, type Severity } from '../model/finding.js';
import type { AttributedDevice } from './attribution.js';
import type { MappingRisk } from './risk.js';
import type { PortMapping } from './soap.js';

export type Recommendation = 'nothing' | 'static-forward' | 'per-device-upnp' | 'vpn' | 'check';

export interface DeviceImpact {
  device: AttributedDevice;
  /** Highest risk among the device's mappings. */
  severity: Severity;
  loses: Array<{ protocol: 'TCP' | 'UDP'; externalPort: number; internalPort: number; service: string; severity: Severity; what: string }>;
  recommendation: Recommendation;
  /** One or two sentences for a person. */
  instead: string;
  /** Concrete replacement rules for the mappings worth keeping (router-neutral text + miniupnpd ACL lines). */
  staticForwards: string[];
  miniupnpdAcl: string[];
}

export function disableImpact(
  rows: Array<{ mapping: PortMapping; risk: MappingRisk; device: AttributedDevice | undefined }>,
): DeviceImpact[] {
  const byClient = new Map<string, typeof rows>();
  for (const r of rows) {
    const k = r.mapping.internalClient;
    const list = byClient.get(k) ?? [];
    list.push(r);
    byClient.set(k, list);
  }
  const out: DeviceImpact[] = [];
  for (const [ip, list] of byClient) {
    const device = list.find((r) => r.device)?.device ?? { ip };
    const loses = list.map(({ mapping: m, risk }) => ({
      protocol: m.protocol,
      externalPort: m.externalPort,
      internalPort: m.internalPort,
      service: risk.service,
      severity: risk.severity,
      what:
        risk.impact === 'dangerous'
          ? `the internet stops reaching ${risk.service} (${m.protocol} ${m.externalPort}→${m.internalPort}) — which is what you want`
          : `inbound ${m.protocol} ${m.externalPort}→${m.internalPort} (${risk.service}) from the internet`,
    }));
    const severity = list.reduce<Severity>((s, r) => (severityRank(r.risk.severity) > severityRank(s) ? r.risk.severity : s), 'info');
    const keep = list.filter((r) => r.risk.impact === 'needed' || r.risk.impact === 'optional');
    const dangerous = list.filter((r) => r.risk.impact === 'dangerous');
    const unknown = list.filter((r) => r.risk.impact === 'unknown');
    let recommendation: Recommendation;
    let instead: string;
    if (keep.length === 0 && unknown.length === 0) {
      recommendation = 'nothing';
      instead = `Nothing: ${device.hostname ?? ip} loses only exposure it should not have (${dangerous.map((r) => r.risk.service).join(', ')}). If you need to reach it from outside, use a VPN.`;
    } else if (keep.length > 0 && unknown.length === 0) {
      const needed = keep.some((r) => r.risk.impact === 'needed');
      recommendation = needed ? 'static-forward' : 'per-device-upnp';
      const kinds = [...new Set(keep.map((r) => r.risk.service))].join(', ');
      // What each kept service loses in practice, once per service (the table's words).
      const effects = [...new Set(keep.map((r) => r.risk.instead.split(/\. Instead:/)[0].replace(/\.$/, '')))];
      instead =
        `${device.hostname ?? ip} loses inbound ${kinds}: ${effects.join('; ')}. ` +
        (needed
          ? `Give it a fixed address (DHCP reservation) and add static forwards for the ports below, or allow UPnP for this device only.`
          : `Allow UPnP for this device only, or add static forwards if you notice a difference.`) +
        (dangerous.length > 0 ? ` Its ${dangerous.map((r) => r.risk.service).join(', ')} mapping should go in any case.` : '');
    } else {
      recommendation = 'check';
      instead = `Check what ${device.hostname ?? ip} serves on ${unknown.map((r) => `${r.mapping.protocol} ${r.mapping.internalPort}`).join(', ')}; if you use it from outside, add a static forward, otherwise nothing.`;
    }
    const worth = [...keep, ...unknown];
    out.push({
      device,
      severity,
      loses,
      recommendation,
      instead,
      staticForwards: worth.map((r) => `forward ${r.mapping.protocol} ${r.mapping.externalPort} → ${ip}:${r.mapping.internalPort}`),
      miniupnpdAcl: [...new Set(worth.map((r) => `allow ${r.mapping.externalPort} ${ip}/32 ${r.mapping.internalPort}`))],
    });
  }
  return out.sort((a, b) => severityRank(b.severity) - severityRank(a.severity) || a.device.ip.localeCompare(b.device.ip));
}

/** One miniupnpd ACL for the whole router: the allow lines worth keeping, then deny everything else (miniupnpd.conf, first match wins). */
export function combinedMiniupnpdAcl(impacts: DeviceImpact[]): string[] {
  // miniupnpd rules carry no protocol: TCP and UDP on one port are one line.
  const allows = [...new Set(impacts.flatMap((i) => i.miniupnpdAcl))];
  return allows.length > 0 ? [...allows, 'deny 0-65535 0.0.0.0/0 0-65535'] : [];
}
