// The normalized form of a MUD profile that learn, check and the renderers
// share. A rule is written from the device's point of view: `remote` is the
// other end (the destination of from-device traffic, the source of to-device
// traffic), so the same rule reads the same way in both policies.
import type { MudDirection } from './mud-schema.js';

export type { MudDirection };

/** A port condition: an inclusive range (eq is lo = hi) or "anything but". */
export type PortSpec = { lo: number; hi: number } | { neq: number };

/** RFC 8520 s8 abstractions, resolved against the local network at render/check time. */
export type MudAbstraction =
  | { kind: 'manufacturer'; authority: string }
  | { kind: 'same-manufacturer' }
  | { kind: 'model'; url: string }
  | { kind: 'local-networks' }
  | { kind: 'controller'; uri: string }
  | { kind: 'my-controller' };

export interface RuleEndpoint {
  /** ietf-acldns name (exact; lower case, no trailing dot). */
  name?: string;
  /** Literal prefix, e.g. 203.0.113.5/32 or 2001:db8::/64. */
  net?: string;
  mud?: MudAbstraction;
}

export interface PolicyRule {
  /** `<acl name>/<ace name>`, unique in a profile. */
  id: string;
  /** JSON pointer of the ACE in the source file. */
  path: string;
  direction: MudDirection;
  family: 'ipv4' | 'ipv6' | 'eth';
  /** IP protocol number (6 tcp, 17 udp, 1 icmp, 58 icmpv6...). */
  protocol?: number;
  remote: RuleEndpoint;
  /** A condition on the device's own side (rare: src-dnsname in a from-device ACE). */
  local?: RuleEndpoint;
  remotePort?: PortSpec;
  localPort?: PortSpec;
  icmp?: { type?: number; code?: number };
  /** RFC 8520 direction-initiated (TCP only): who may open the connection. */
  initiatedBy?: MudDirection;
  eth?: { ethertype?: number; remoteMac?: string };
  action: 'accept' | 'drop' | 'reject';
}

export interface MudProfile {
  url: string;
  /** Host part of the MUD URL: what same-manufacturer and manufacturer compare (RFC 8520 s8). */
  authority: string;
  systeminfo?: string;
  mfgName?: string;
  modelName?: string;
  lastUpdate: string;
  cacheValidity: number;
  isSupported: boolean;
  extensions: string[];
  /** rfc8520: `ietf-access-control-list:acls`; draft: the pre-RFC `access-lists` container (MUDgee, osMUD). */
  dialect: 'rfc8520' | 'draft';
  rules: PolicyRule[];
}

export function portMatches(spec: PortSpec | undefined, port: number | undefined): boolean {
  if (!spec) return true;
  if (port === undefined) return false;
  if ('neq' in spec) return port !== spec.neq;
  return port >= spec.lo && port <= spec.hi;
}

export function portText(spec: PortSpec): string {
  if ('neq' in spec) return `!=${spec.neq}`;
  return spec.lo === spec.hi ? String(spec.lo) : `${spec.lo}-${spec.hi}`;
}

export function protocolName(p: number | undefined): string {
  switch (p) {
    case 6:
      return 'tcp';
    case 17:
      return 'udp';
    case 1:
      return 'icmp';
    case 58:
      return 'icmpv6';
    case undefined:
      return 'any';
    default:
      return `proto-${p}`;
  }
}

/** The names a profile allows (either direction), sorted. */
export function profileNames(p: MudProfile): string[] {
  const s = new Set<string>();
  for (const r of p.rules) if (r.action === 'accept' && r.remote.name) s.add(r.remote.name);
  return [...s].sort();
}

export function normalizeDnsName(n: string): string {
  return n.trim().toLowerCase().replace(/\.$/, '');
}
