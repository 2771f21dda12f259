// The schema of the UPnP port risk table (data/port-risk.json): every entry
// a service, its ports, how bad exposing it is and what to do instead.
import { z } from 'zod';
import { ErrorCodes, IotguardError } from '../model/errors.js';
import { SEVERITIES } from '../model/finding.js';
import { IMPACT_KINDS } from './risk.js';

const portSpec = z.union([
  z.number().int().min(0).max(65535),
  z.string().regex(/^\d{1,5}-\d{1,5}$/, 'a port range like "3478-3479"'),
]);

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

