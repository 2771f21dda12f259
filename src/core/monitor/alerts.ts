// The monitor's alerts and the pure logic that makes them: change detection
// between snapshots (devices, UPnP mappings, destinations), findings and policy
// violations turned into alerts, and the gate that deduplicates and
// rate-limits them. No I/O and no clock: callers pass `now` in milliseconds.
import { severityRank, type Finding, type Severity } from '../model/finding.js';

export const ALERT_KINDS = [
  'new-device',
  'device-gone',
  'upnp-mapping-new',
  'upnp-mapping-changed',
  'upnp-mapping-removed',
  'new-destination',
  'finding',
  'policy-violation',
  'capture-down',
  'store-full',
] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];

export interface AlertDevice {
  mac: string | null;
  ip: string | null;
}

/** An alert before the store gives it an id. */
export interface AlertDraft {
  kind: AlertKind;
  severity: Severity;
  /** What makes two alerts "the same" for deduplication (kind + subject). */
  key: string;
  title: string;
  device: AlertDevice | null;
  details: Record<string, unknown>;
}

export interface Alert extends AlertDraft {
  id: number;
  /** ISO time the alert was committed. */
  ts: string;
  ackedAt: string | null;
}

/** The device key the monitor uses everywhere: the MAC when known, else `ip:<address>`. */
export function deviceKey(d: { mac?: string | null; ip?: string | null }): string {
  if (d.mac) return d.mac.toLowerCase();
  return `ip:${d.ip ?? '?'}`;
}

// ---------------------------------------------------------------------------
// devices

export interface DeviceSighting {
  mac: string | null;
  ip: string | null;
  vendor?: string | null;
  hostname?: string | null;
  type?: string | null;
  /** 'discovery' (active scan) or 'traffic' (seen on the wire). */
  via: 'discovery' | 'traffic';
}

export interface KnownDevice {
  key: string;
  mac: string | null;
  ip: string | null;
  vendor: string | null;
  hostname: string | null;
  type: string | null;
  firstSeen: number;
  lastSeen: number;
  gone: boolean;
}

export interface DeviceDiff {
  alerts: AlertDraft[];
  /** Rows to write back: new devices, refreshed ones, and those now marked gone. */
  changed: KnownDevice[];
}

function label(d: { ip: string | null; mac: string | null; hostname?: string | null }): string {
  const who = [d.hostname, d.ip, d.mac].filter(Boolean);
  return who.length ? who.join(' / ') : 'unknown device';
}

/**
 * Merges sightings into the known devices. A device never seen before raises
 * `new-device` (unless `baseline` is set: the very first pass only learns); a
 * device seen again after being gone raises `new-device` again, marked as a
 * return. Devices unseen for `goneAfterMs` raise `device-gone` once.
 */
export function diffDevices(
  known: ReadonlyMap<string, KnownDevice>,
  seen: DeviceSighting[],
  now: number,
  opts: { goneAfterMs: number; baseline?: boolean; self?: ReadonlySet<string> },
): DeviceDiff {
  const alerts: AlertDraft[] = [];
  const changed = new Map<string, KnownDevice>();
  for (const s of seen) {
    if (!s.mac && !s.ip) continue;
    if (s.ip && opts.self?.has(s.ip)) continue;
    if (s.mac && opts.self?.has(s.mac.toLowerCase())) continue;
    const key = deviceKey(s);
    const prev = changed.get(key) ?? known.get(key);
    const next: KnownDevice = {
      key,
      mac: s.mac ? s.mac.toLowerCase() : (prev?.mac ?? null),
      ip: s.ip ?? prev?.ip ?? null,
      vendor: s.vendor ?? prev?.vendor ?? null,
      hostname: s.hostname ?? prev?.hostname ?? null,
      type: s.type && s.type !== 'unknown' ? s.type : (prev?.type ?? s.type ?? null),
      firstSeen: prev?.firstSeen ?? now,
      lastSeen: now,
      gone: false,
    };
    changed.set(key, next);
    if (!opts.baseline && (!prev || prev.gone) && !alerts.some((a) => a.key === `new-device:${key}`)) {
      alerts.push({
        kind: 'new-device',
        severity: prev ? 'low' : 'medium',
        key: `new-device:${key}`,
        title: prev ? `Device back on the network: ${label(next)}` : `New device on the network: ${label(next)}`,
        device: { mac: next.mac, ip: next.ip },
        details: { via: s.via, vendor: next.vendor, hostname: next.hostname, type: next.type, returning: Boolean(prev) },
      });
    }
  }
  for (const d of known.values()) {
    if (d.gone || changed.has(d.key)) continue;
    if (now - d.lastSeen >= opts.goneAfterMs) {
      changed.set(d.key, { ...d, gone: true });
      alerts.push({
        kind: 'device-gone',
        severity: 'info',
        key: `device-gone:${d.key}:${d.lastSeen}`,
        title: `Device left the network: ${label(d)}`,
        device: { mac: d.mac, ip: d.ip },
        details: { lastSeen: new Date(d.lastSeen).toISOString() },
      });
    }
  }
  return { alerts, changed: [...changed.values()] };
}

// ---------------------------------------------------------------------------
// UPnP mappings

export interface MappingSnap {
  protocol: string;
  externalPort: number;
  internalClient: string;
  internalPort: number;
  description: string;
  enabled: boolean;
  /** Risk of exposing the port (data/port-risk.json via the UPnP audit). */
  risk?: Severity;
  service?: string;
  device?: AlertDevice;
}

export const mappingKey = (m: { protocol: string; externalPort: number }): string => `${m.protocol.toUpperCase()}/${m.externalPort}`;

/** New, changed (same external port, other target or description) and removed port mappings. */
export function diffMappings(prev: readonly MappingSnap[], cur: readonly MappingSnap[], opts: { baseline?: boolean } = {}): AlertDraft[] {
  if (opts.baseline) return [];
  const before = new Map(prev.map((m) => [mappingKey(m), m]));
  const after = new Map(cur.map((m) => [mappingKey(m), m]));
  const out: AlertDraft[] = [];
  const sev = (m: MappingSnap): Severity => (m.risk && severityRank(m.risk) >= severityRank('medium') ? m.risk : 'medium');
  const dev = (m: MappingSnap): AlertDevice => m.device ?? { mac: null, ip: m.internalClient };
  const what = (m: MappingSnap) => `${mappingKey(m)} → ${m.internalClient}:${m.internalPort}`;
  for (const [k, m] of after) {
    const p = before.get(k);
    if (!p) {
      out.push({
        kind: 'upnp-mapping-new',
        severity: sev(m),
        key: `upnp-mapping-new:${k}:${m.internalClient}:${m.internalPort}`,
        title: `New UPnP port mapping ${what(m)}${m.description ? ` (${m.description})` : ''}`,
        device: dev(m),
        details: { ...m },
      });
    } else if (p.internalClient !== m.internalClient || p.internalPort !== m.internalPort || p.description !== m.description || p.enabled !== m.enabled) {
      out.push({
        kind: 'upnp-mapping-changed',
        severity: sev(m),
        key: `upnp-mapping-changed:${k}:${m.internalClient}:${m.internalPort}:${m.description}:${m.enabled}`,
        title: `UPnP port mapping changed: ${what(p)} is now ${what(m)}`,
        device: dev(m),
        details: { before: { ...p }, after: { ...m } },
      });
    }
  }
  for (const [k, p] of before) {
    if (after.has(k)) continue;
    out.push({
      kind: 'upnp-mapping-removed',
      severity: 'info',
      key: `upnp-mapping-removed:${k}:${p.internalClient}:${p.internalPort}`,
      title: `UPnP port mapping removed: ${what(p)}`,
      device: dev(p),
      details: { ...p },
    });
  }
  return out;
}

// ---------------------------------------------------------------------------
// destinations

export interface DestinationSnap {
  name: string | null;
  ip: string;
  port: number | null;
  proto: string;
  direction: 'out' | 'in';
}

/** A destination's identity: the name when the device looked one up (addresses behind a CDN change), else the address. */
export const destinationKey = (d: DestinationSnap): string => `${d.direction}:${d.proto}:${d.port ?? '-'}:${(d.name ?? d.ip).toLowerCase()}`;

/**
 * Destinations a device has not used before. While the device is still being
 * learnt (first seen less than `learnMs` ago) new destinations are recorded
 * without an alert: every device's normal traffic would otherwise alert.
 * Only outbound destinations outside the LAN count (`isLocal`).
 */
export function newDestinations(
  device: AlertDevice & { firstSeen: number },
  known: ReadonlySet<string>,
  dests: readonly DestinationSnap[],
  now: number,
  opts: { learnMs: number; isLocal: (ip: string) => boolean },
): { alerts: AlertDraft[]; learnt: string[] } {
  const learning = now - device.firstSeen < opts.learnMs;
  const alerts: AlertDraft[] = [];
  const learnt: string[] = [];
  for (const d of dests) {
    if (d.direction !== 'out' || opts.isLocal(d.ip)) continue;
    const k = destinationKey(d);
    if (known.has(k) || learnt.includes(k)) continue;
    learnt.push(k);
    if (learning) continue;
    const dk = deviceKey(device);
    alerts.push({
      kind: 'new-destination',
      severity: 'low',
      key: `new-destination:${dk}:${k}`,
      title: `${device.ip ?? device.mac} talks to a new destination: ${d.name ?? d.ip}${d.port !== null ? ` port ${d.port}/${d.proto}` : ` (${d.proto})`}`,
      device: { mac: device.mac, ip: device.ip },
      details: { ...d },
    });
  }
  return { alerts, learnt };
}

// ---------------------------------------------------------------------------
// findings and policy violations

/** What a finding is about, from its evidence (the parts that do not change from one epoch to the next: no frame numbers or counts). */
export function evidenceSubject(f: Finding): string {
  const e = f.evidence ?? {};
  const pick = ['domain', 'name', 'host', 'url', 'server', 'port', 'destination', 'target', 'service', 'protocol'];
  const parts: string[] = [];
  for (const k of pick) {
    const v = e[k];
    if (typeof v === 'string' || typeof v === 'number') parts.push(`${k}=${String(v)}`);
  }
  return parts.join(',');
}

/** High (and critical) findings become alerts; policy violations always do. Others are recorded on the device only. */
export function findingAlerts(findings: readonly Finding[], minSeverity: Severity = 'high'): AlertDraft[] {
  const out: AlertDraft[] = [];
  for (const f of findings) {
    const policy = f.id === 'policy-violation';
    if (!policy && severityRank(f.severity) < severityRank(minSeverity)) continue;
    const dk = deviceKey(f.device);
    out.push({
      kind: policy ? 'policy-violation' : 'finding',
      severity: f.severity,
      key: `${policy ? 'policy-violation' : 'finding'}:${f.id}:${dk}:${evidenceSubject(f)}`,
      title: f.title,
      device: f.device.mac || f.device.ip ? { mac: f.device.mac ?? null, ip: f.device.ip ?? null } : null,
      details: { findingId: f.id, evidence: f.evidence, advice: f.advice },
    });
  }
  return out;
}

/** One key per finding subject on a device, to keep a device's findings unique across epochs. */
export const findingKey = (f: Finding): string => `${f.id}|${deviceKey(f.device)}|${evidenceSubject(f)}|${evidenceSubject(f) ? '' : f.title}`;

// ---------------------------------------------------------------------------
// deduplication and rate limiting

export type GateVerdict = 'pass' | 'duplicate' | 'rate-limited';

export interface GateOptions {
  /** The same key within this window is a duplicate. */
  dedupWindowMs: number;
  /** Token bucket: sustained alerts per minute and burst size. */
  perMinute: number;
  burst: number;
  /** Keys remembered at most (oldest forgotten first) so memory stays bounded. */
  maxKeys?: number;
}

/**
 * Deduplicates by key within a window and rate-limits with a token bucket.
 * `seed` restores the keys already committed (after a restart) so a restarted
 * daemon does not alert again on what it already said.
 */
export class AlertGate {
  private readonly seen = new Map<string, number>();
  private tokens: number;
  private last: number | undefined;
  suppressed = 0;
  duplicates = 0;

  constructor(private readonly o: GateOptions) {
    this.tokens = o.burst;
  }

  seed(key: string, at: number): void {
    this.remember(key, at);
  }

  private remember(key: string, at: number): void {
    this.seen.delete(key);
    this.seen.set(key, at);
    const max = this.o.maxKeys ?? 100_000;
    while (this.seen.size > max) {
      const oldest = this.seen.keys().next().value;
      if (oldest === undefined) break;
      this.seen.delete(oldest);
    }
  }

  admit(a: Pick<AlertDraft, 'key' | 'severity'>, now: number): GateVerdict {
    const at = this.seen.get(a.key);
    if (at !== undefined && now - at < this.o.dedupWindowMs) {
      this.duplicates++;
      return 'duplicate';
    }
    if (this.last !== undefined) this.tokens = Math.min(this.o.burst, this.tokens + ((now - this.last) / 60_000) * this.o.perMinute);
    this.last = now;
    // critical alerts are never rate-limited away
    if (this.tokens < 1 && a.severity !== 'critical') {
      this.suppressed++;
      return 'rate-limited';
    }
    this.tokens = Math.max(0, this.tokens - 1);
    this.remember(a.key, now);
    return 'pass';
  }
}
