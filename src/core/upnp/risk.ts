// Mapping risk: how bad it is that the internet reaches a given port on a
// device. The table is data (data/port-risk.json), validated on load with the
// schema in risk-schema.ts so a broken file is one clear error at load time,
// not a wrong verdict later. This module does not load zod: the detectors use
// it, and the shipped table is checked when the package is built (see
// src/adapters/data/stamps.ts).
import { severityRank, type Severity } from '../model/finding.js';
import type { PortRiskEntry, PortRiskTable } from './risk-schema.js';

export type { PortRiskEntry, PortRiskTable } from './risk-schema.js';

/** What disabling UPnP means for a mapping of this kind. */
export const IMPACT_KINDS = ['dangerous', 'needed', 'optional', 'unknown'] as const;
export type ImpactKind = (typeof IMPACT_KINDS)[number];


export interface MappingRisk {
  severity: Severity;
  service: string;
  impact: ImpactKind;
  why: string;
  instead: string;
  /** Which port matched the table: the internal one (the real service) or the external one. */
  matchedOn: 'internal' | 'external' | 'default';
}

function matches(e: PortRiskEntry, protocol: 'TCP' | 'UDP', port: number): boolean {
  if (e.protocol !== 'both' && e.protocol !== protocol.toLowerCase()) return false;
  return e.ports.some((p) => {
    if (typeof p === 'number') return p === port;
    const [a, b] = p.split('-').map(Number);
    return port >= a && port <= b;
  });
}

function lookup(table: PortRiskTable, protocol: 'TCP' | 'UDP', port: number): PortRiskEntry | undefined {
  // Most severe match wins, so an overlapping benign entry never hides a dangerous one.
  let best: PortRiskEntry | undefined;
  for (const e of table.entries) {
    if (matches(e, protocol, port) && (!best || severityRank(e.severity) > severityRank(best.severity))) best = e;
  }
  return best;
}

/**
 * Rate a mapping. The internal port says what service the internet really
 * reaches (2323→23 is telnet); the external port is only used when the
 * internal one is unknown.
 */
export function rateMapping(table: PortRiskTable, protocol: 'TCP' | 'UDP', externalPort: number, internalPort: number): MappingRisk {
  const internal = lookup(table, protocol, internalPort);
  if (internal) return { severity: internal.severity, service: internal.service, impact: internal.impact, why: internal.why, instead: internal.instead, matchedOn: 'internal' };
  const external = lookup(table, protocol, externalPort);
  if (external) return { severity: external.severity, service: external.service, impact: external.impact, why: external.why, instead: external.instead, matchedOn: 'external' };
  const d = protocol === 'TCP' ? table.default.tcp : table.default.udp;
  return { severity: d.severity, service: 'unknown', impact: 'unknown', why: d.why, instead: d.instead, matchedOn: 'default' };
}
