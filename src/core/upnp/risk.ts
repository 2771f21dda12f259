// Mapping risk: how bad it is that the internet reaches a given port on a
// device. The table is data (data/port-risk.json), validated here with zod so
// a broken file is one clear error at load time, not a wrong verdict later.
import { z } from 'zod';
import { ErrorCodes, IotguardError } from '../model/errors.js';
import { SEVERITIES, severityRank, type Severity } from '../model/finding.js';

const portSpec = z.union([
  z.number().int().min(0).max(65535),
  z.string().regex(/^\d{1,5}-\d{1,5}$/, 'a port range like "3478-3479"'),
]);

/** What disabling UPnP means for a mapping of this kind. */
export const IMPACT_KINDS = ['dangerous', 'needed', 'optional', 'unknown'] as const;
export type ImpactKind = (typeof IMPACT_KINDS)[number];

const entry = z.object({
  service: z.string().min(1).max(64),
  protocol: z.enum(['tcp', 'udp', 'both']),
  ports: z.array(portSpec).min(1),
  severity: z.enum(SEVERITIES),
  /** dangerous: nobody should expose it; needed: the device works worse without it; optional: convenience. */
  impact: z.enum(IMPACT_KINDS),
  why: z.string().min(1).max(400),
  /** What the user loses if UPnP goes away and what to do instead (one or two sentences). */
  instead: z.string().min(1).max(400),
});

export const portRiskTableSchema = z.object({
  version: z.literal(1),
  default: z.object({
    tcp: z.object({ severity: z.enum(SEVERITIES), why: z.string(), instead: z.string() }),
    udp: z.object({ severity: z.enum(SEVERITIES), why: z.string(), instead: z.string() }),
  }),
  entries: z.array(entry).min(1),
});

export type PortRiskTable = z.infer<typeof portRiskTableSchema>;
export type PortRiskEntry = z.infer<typeof entry>;

export function validatePortRiskTable(raw: unknown, source = 'port-risk table'): PortRiskTable {
  const r = portRiskTableSchema.safeParse(raw);
  if (!r.success) {
    const first = r.error.issues[0];
    throw new IotguardError(ErrorCodes.DATA_INVALID, `${source}: ${first?.path.join('.') || '(root)'}: ${first?.message ?? 'invalid'}`);
  }
  for (const [i, e] of r.data.entries.entries()) {
    for (const p of e.ports) {
      if (typeof p === 'string') {
        const [a, b] = p.split('-').map(Number);
        if (a > b || b > 65535) throw new IotguardError(ErrorCodes.DATA_INVALID, `${source}: entries.${i}.ports: bad range ${p}`);
      }
    }
  }
  return r.data;
}

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
