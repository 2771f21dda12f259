// The monitor's view of the store: alerts (commit first, deliver after — the
// `delivered` column is an outbox replayed on restart), watched devices,
// destinations, mappings, per-minute traffic, settings, and the retention /
// size bound. Every write is one transaction, so a SIGKILL leaves either the
// whole change or none of it (SQLite WAL).
import type { Store } from '../store/db.js';
import type { Alert, AlertDraft, DestinationSnap, KnownDevice, MappingSnap } from '../../core/monitor/alerts.js';
import { destinationKey, mappingKey } from '../../core/monitor/alerts.js';
import type { Finding, Severity } from '../../core/model/finding.js';

interface AlertRow {
  id: number;
  ts: string;
  kind: string;
  severity: string;
  key: string;
  title: string;
  device_mac: string | null;
  device_ip: string | null;
  details: string;
  acked_at: string | null;
  delivered: string;
}

export interface DeviceView extends KnownDevice {
  openPorts: Array<{ port: number; service: string }>;
  findings: Finding[];
  riskScore: number;
  riskLevel: string;
  profile: unknown;
  alerts: number;
}

export interface DestinationView {
  name: string | null;
  ip: string;
  port: number | null;
  proto: string;
  firstSeen: number;
  lastSeen: number;
  bytes: number;
  packets: number;
}

function parse<T>(s: string | null, fallback: T): T {
  if (s === null) return fallback;
  try {
    return JSON.parse(s) as T;
  } catch {
    return fallback;
  }
}

const toAlert = (r: AlertRow): Alert & { delivered: Record<string, string> } => ({
  id: r.id,
  ts: r.ts,
  kind: r.kind as Alert['kind'],
  severity: r.severity as Severity,
  key: r.key,
  title: r.title,
  device: r.device_mac || r.device_ip ? { mac: r.device_mac, ip: r.device_ip } : null,
  details: parse(r.details, {}),
  ackedAt: r.acked_at,
  delivered: parse(r.delivered, {}),
});

/** True for SQLite's "database or disk is full" (max_page_count reached or the disk is). */
export function isStoreFull(e: unknown): boolean {
  const code = (e as { code?: string })?.code;
  return code === 'SQLITE_FULL' || /database or disk is full/i.test(String((e as Error)?.message));
}

export class MonitorStore {
  constructor(readonly store: Store) {}

  get db() {
    return this.store.db;
  }

  /** Caps the database at `maxBytes` (SQLite then fails writes with SQLITE_FULL, which the daemon answers by pruning). */
  setMaxBytes(maxBytes: number): void {
    const page = Number(this.db.pragma('page_size', { simple: true }));
    const pages = Math.max(Math.ceil(maxBytes / page), Number(this.db.pragma('page_count', { simple: true })) + 16);
    this.db.pragma(`max_page_count = ${Math.floor(pages)}`);
  }

  sizeBytes(): number {
    return Number(this.db.pragma('page_count', { simple: true })) * Number(this.db.pragma('page_size', { simple: true }));
  }

  // -------------------------------------------------------------------------
  // alerts

  /** Commits the alerts in one transaction (and their counters); returns them with ids. */
  insertAlerts(drafts: AlertDraft[], now: Date): Alert[] {
    if (drafts.length === 0) return [];
    const ins = this.db.prepare(`INSERT INTO monitor_alerts (ts, kind, severity, key, title, device_mac, device_ip, details) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`);
    const count = this.db.prepare(`INSERT INTO monitor_alert_counts (kind, n) VALUES (?, 1) ON CONFLICT (kind) DO UPDATE SET n = n + 1`);
    const ts = now.toISOString();
    return this.db.transaction(() =>
      drafts.map((d) => {
        const id = Number(ins.run(ts, d.kind, d.severity, d.key, d.title.slice(0, 500), d.device?.mac ?? null, d.device?.ip ?? null, JSON.stringify(d.details)).lastInsertRowid);
        count.run(d.kind);
        return { ...d, id, ts, ackedAt: null };
      }),
    )();
  }

  markDelivered(id: number, channel: string, at: Date): void {
    this.db.prepare(`UPDATE monitor_alerts SET delivered = json_set(delivered, '$.' || ?, ?) WHERE id = ?`).run(channel, at.toISOString(), id);
  }

  /** Alerts not yet delivered on `channel` (the outbox), oldest first. */
  undelivered(channel: string, limit = 500): Alert[] {
    const rows = this.db.prepare(`SELECT * FROM monitor_alerts WHERE json_extract(delivered, '$.' || ?) IS NULL ORDER BY id LIMIT ?`).all(channel, limit) as AlertRow[];
    return rows.map(toAlert);
  }

  alerts(o: { limit?: number; unackedOnly?: boolean; deviceMac?: string | null; deviceIp?: string | null; afterId?: number } = {}): Array<Alert & { delivered: Record<string, string> }> {
    const where: string[] = [];
    const args: unknown[] = [];
    if (o.unackedOnly) where.push('acked_at IS NULL');
    if (o.deviceMac) {
      where.push('device_mac = ?');
      args.push(o.deviceMac);
    } else if (o.deviceIp) {
      where.push('device_ip = ?');
      args.push(o.deviceIp);
    }
    if (o.afterId !== undefined) {
      where.push('id > ?');
      args.push(o.afterId);
    }
    const sql = `SELECT * FROM monitor_alerts ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`;
    return (this.db.prepare(sql).all(...args, o.limit ?? 200) as AlertRow[]).map(toAlert);
  }

  alert(id: number): (Alert & { delivered: Record<string, string> }) | undefined {
    const r = this.db.prepare('SELECT * FROM monitor_alerts WHERE id = ?').get(id) as AlertRow | undefined;
    return r ? toAlert(r) : undefined;
  }

  ack(id: number, at: Date): boolean {
    return this.db.prepare('UPDATE monitor_alerts SET acked_at = ? WHERE id = ? AND acked_at IS NULL').run(at.toISOString(), id).changes > 0;
  }

  /** Keys committed within the window, to seed the dedup gate after a restart. */
  recentKeys(sinceIso: string): Array<{ key: string; ts: string }> {
    return this.db.prepare('SELECT key, MAX(ts) AS ts FROM monitor_alerts WHERE ts >= ? GROUP BY key').all(sinceIso) as Array<{ key: string; ts: string }>;
  }

  alertCounts(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const r of this.db.prepare('SELECT kind, n FROM monitor_alert_counts').all() as Array<{ kind: string; n: number }>) out[r.kind] = r.n;
    return out;
  }

  unackedCount(): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM monitor_alerts WHERE acked_at IS NULL').get() as { n: number }).n;
  }

  // -------------------------------------------------------------------------
  // devices

  knownDevices(): Map<string, KnownDevice> {
    const rows = this.db.prepare('SELECT key, mac, ip, vendor, hostname, type, first_seen, last_seen, gone FROM monitor_devices').all() as Array<{
      key: string;
      mac: string | null;
      ip: string | null;
      vendor: string | null;
      hostname: string | null;
      type: string | null;
      first_seen: number;
      last_seen: number;
      gone: number;
    }>;
    return new Map(rows.map((r) => [r.key, { key: r.key, mac: r.mac, ip: r.ip, vendor: r.vendor, hostname: r.hostname, type: r.type, firstSeen: r.first_seen, lastSeen: r.last_seen, gone: r.gone === 1 }]));
  }

  upsertDevices(list: KnownDevice[], extra?: Map<string, { openPorts?: Array<{ port: number; service: string }> }>): void {
    const up = this.db.prepare(`INSERT INTO monitor_devices (key, mac, ip, vendor, hostname, type, first_seen, last_seen, gone, open_ports)
      VALUES (@key, @mac, @ip, @vendor, @hostname, @type, @firstSeen, @lastSeen, @gone, @openPorts)
      ON CONFLICT (key) DO UPDATE SET mac = excluded.mac, ip = excluded.ip, vendor = excluded.vendor, hostname = excluded.hostname, type = excluded.type,
        last_seen = excluded.last_seen, gone = excluded.gone, open_ports = CASE WHEN @hasPorts THEN excluded.open_ports ELSE monitor_devices.open_ports END`);
    this.db.transaction(() => {
      for (const d of list) {
        const ports = extra?.get(d.key)?.openPorts;
        up.run({ ...d, gone: d.gone ? 1 : 0, openPorts: JSON.stringify(ports ?? []), hasPorts: ports ? 1 : 0 });
      }
    })();
  }

  /** Adds findings to a device (kept unique by id + evidence subject, newest first, capped) and stores its risk. */
  setDeviceRisk(key: string, findings: Finding[], risk: { score: number; level: string }): void {
    this.db.prepare('UPDATE monitor_devices SET findings = ?, risk_score = ?, risk_level = ? WHERE key = ?').run(JSON.stringify(findings.slice(0, 100)), risk.score, risk.level, key);
  }

  setProfile(key: string, profile: unknown): void {
    this.db.prepare('UPDATE monitor_devices SET profile = ? WHERE key = ?').run(JSON.stringify(profile), key);
  }

  devices(): DeviceView[] {
    const counts = new Map(
      (this.db.prepare('SELECT COALESCE(device_mac, \'ip:\' || device_ip) AS k, COUNT(*) AS n FROM monitor_alerts WHERE acked_at IS NULL GROUP BY k').all() as Array<{ k: string; n: number }>).map((r) => [r.k, r.n]),
    );
    const rows = this.db.prepare('SELECT * FROM monitor_devices ORDER BY gone, risk_score DESC, ip').all() as Array<Record<string, unknown>>;
    return rows.map((r) => ({
      key: r.key as string,
      mac: r.mac as string | null,
      ip: r.ip as string | null,
      vendor: r.vendor as string | null,
      hostname: r.hostname as string | null,
      type: r.type as string | null,
      firstSeen: r.first_seen as number,
      lastSeen: r.last_seen as number,
      gone: r.gone === 1,
      openPorts: parse(r.open_ports as string, []),
      findings: parse(r.findings as string, []),
      riskScore: r.risk_score as number,
      riskLevel: r.risk_level as string,
      profile: parse(r.profile as string | null, null),
      alerts: counts.get(r.key as string) ?? 0,
    }));
  }

  device(key: string): DeviceView | undefined {
    return this.devices().find((d) => d.key === key);
  }

  // -------------------------------------------------------------------------
  // destinations, traffic, mappings

  destinationKeys(deviceKey: string): Set<string> {
    return new Set((this.db.prepare('SELECT dest FROM monitor_destinations WHERE device_key = ?').all(deviceKey) as Array<{ dest: string }>).map((r) => r.dest));
  }

  recordDestinations(deviceKey: string, list: Array<DestinationSnap & { bytes: number; packets: number }>, now: number): void {
    const up = this.db.prepare(`INSERT INTO monitor_destinations (device_key, dest, name, ip, port, proto, first_seen, last_seen, bytes, packets) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (device_key, dest) DO UPDATE SET last_seen = excluded.last_seen, ip = excluded.ip, bytes = bytes + excluded.bytes, packets = packets + excluded.packets`);
    this.db.transaction(() => {
      for (const d of list) up.run(deviceKey, destinationKey(d), d.name, d.ip, d.port, d.proto, now, now, d.bytes, d.packets);
    })();
  }

  destinations(deviceKey: string, limit = 200): DestinationView[] {
    return (
      this.db.prepare('SELECT name, ip, port, proto, first_seen, last_seen, bytes, packets FROM monitor_destinations WHERE device_key = ? ORDER BY bytes DESC LIMIT ?').all(deviceKey, limit) as Array<
        Record<string, unknown>
      >
    ).map((r) => ({
      name: r.name as string | null,
      ip: r.ip as string,
      port: r.port as number | null,
      proto: r.proto as string,
      firstSeen: r.first_seen as number,
      lastSeen: r.last_seen as number,
      bytes: r.bytes as number,
      packets: r.packets as number,
    }));
  }

  addTraffic(rows: Array<{ deviceKey: string; minute: number; bytes: number; packets: number }>): void {
    const up = this.db.prepare(`INSERT INTO monitor_traffic (device_key, minute, bytes, packets) VALUES (?, ?, ?, ?)
      ON CONFLICT (device_key, minute) DO UPDATE SET bytes = bytes + excluded.bytes, packets = packets + excluded.packets`);
    this.db.transaction(() => {
      for (const r of rows) up.run(r.deviceKey, r.minute, r.bytes, r.packets);
    })();
  }

  traffic(deviceKey: string, sinceMinute: number): Array<{ minute: number; bytes: number; packets: number }> {
    return this.db.prepare('SELECT minute, bytes, packets FROM monitor_traffic WHERE device_key = ? AND minute >= ? ORDER BY minute').all(deviceKey, sinceMinute) as Array<{
      minute: number;
      bytes: number;
      packets: number;
    }>;
  }

  mappings(): MappingSnap[] {
    return (this.db.prepare('SELECT * FROM monitor_mappings ORDER BY protocol, external_port').all() as Array<Record<string, unknown>>).map((r) => ({
      protocol: r.protocol as string,
      externalPort: r.external_port as number,
      internalClient: r.internal_client as string,
      internalPort: r.internal_port as number,
      description: r.description as string,
      enabled: r.enabled === 1,
      ...(r.risk ? { risk: r.risk as Severity } : {}),
      ...(r.service ? { service: r.service as string } : {}),
    }));
  }

  /** Replaces the mapping table with what the gateway lists now (first_seen kept for mappings still there). */
  replaceMappings(list: MappingSnap[], now: number): void {
    const keep = this.db.prepare('SELECT mkey, first_seen FROM monitor_mappings');
    const ins = this.db.prepare(`INSERT INTO monitor_mappings (mkey, protocol, external_port, internal_client, internal_port, description, enabled, risk, service, first_seen, last_seen)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    this.db.transaction(() => {
      const first = new Map((keep.all() as Array<{ mkey: string; first_seen: number }>).map((r) => [r.mkey, r.first_seen]));
      this.db.prepare('DELETE FROM monitor_mappings').run();
      for (const m of list) {
        const k = mappingKey(m);
        ins.run(k, m.protocol.toUpperCase(), m.externalPort, m.internalClient, m.internalPort, m.description, m.enabled ? 1 : 0, m.risk ?? null, m.service ?? null, first.get(k) ?? now, now);
      }
    })();
  }

  // -------------------------------------------------------------------------
  // settings and retention

  getSetting(k: string): string | undefined {
    return (this.db.prepare('SELECT v FROM monitor_settings WHERE k = ?').get(k) as { v: string } | undefined)?.v;
  }

  setSetting(k: string, v: string): void {
    this.db.prepare('INSERT INTO monitor_settings (k, v) VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v').run(k, v);
  }

  /**
   * Drops what is older than the retention window: acknowledged alerts,
   * traffic minutes, destinations and devices not seen since. Unacknowledged
   * alerts are kept (nothing unacknowledged is lost) unless `force` (store full).
   */
  prune(cutoffMs: number, o: { force?: boolean } = {}): { alerts: number; traffic: number; destinations: number; devices: number } {
    const iso = new Date(cutoffMs).toISOString();
    return this.db.transaction(() => {
      const alerts = this.db.prepare(`DELETE FROM monitor_alerts WHERE ts < ? ${o.force ? '' : 'AND acked_at IS NOT NULL'}`).run(iso).changes;
      const traffic = this.db.prepare('DELETE FROM monitor_traffic WHERE minute < ?').run(Math.floor(cutoffMs / 60_000)).changes;
      const destinations = this.db.prepare('DELETE FROM monitor_destinations WHERE last_seen < ?').run(cutoffMs).changes;
      const devices = this.db.prepare('DELETE FROM monitor_devices WHERE last_seen < ? AND gone = 1').run(cutoffMs).changes;
      return { alerts, traffic, destinations, devices };
    })();
  }

  /** Oldest traffic/destination/acknowledged-alert time, to prune by halves when the store is full. */
  oldestMs(): number | undefined {
    const r = this.db.prepare(`SELECT MIN(t) AS t FROM (SELECT MIN(minute) * 60000 AS t FROM monitor_traffic UNION ALL SELECT MIN(last_seen) FROM monitor_destinations
      UNION ALL SELECT MIN(CAST(strftime('%s', ts) AS INTEGER) * 1000) FROM monitor_alerts)`).get() as { t: number | null };
    return r.t ?? undefined;
  }
}
