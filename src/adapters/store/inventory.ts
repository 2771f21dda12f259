// The device inventory in the store: merge what one discovery run saw into
// the devices table, keyed by MAC, keeping first/last seen and every address a
// device has had. A host seen without a MAC (routed or loopback scans) is kept
// by IP until a run learns its MAC, then that row is adopted.
import type { Device, DeviceService, OpenPort, TypeEvidence } from '../../core/model/device.js';
import { isDeviceType } from '../../core/model/device.js';
import type { Store } from './db.js';

interface DeviceRow {
  id: number;
  mac: string | null;
  ip: string | null;
  vendor: string | null;
  hostname: string | null;
  type: string;
  type_confidence: number | null;
  type_evidence: string;
  mac_local: number;
  names: string;
  first_seen: string;
  last_seen: string;
}

export interface ScanInfo {
  kind: string;
  startedAt: string;
  finishedAt: string;
  params: Record<string, unknown>;
}

/** A stable key for one service of a device, so a re-announced service updates its row. */
export function serviceKey(s: DeviceService): string {
  return [s.type ?? '', s.name ?? '', s.location ?? '', s.port ?? ''].join('|');
}

function parseJson<T>(text: string, fallback: T): T {
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
}

/**
 * Records one discovery run and merges its devices into the inventory.
 * Returns the devices with firstSeen, lastSeen and previousIps filled in.
 */
export function saveDiscovery(store: Store, devices: Device[], scan: ScanInfo): Device[] {
  const { db } = store;
  const byMac = db.prepare('SELECT * FROM devices WHERE mac = ?');
  const byIpNoMac = db.prepare('SELECT * FROM devices WHERE mac IS NULL AND ip = ?');
  const insert = db.prepare(`INSERT INTO devices (mac, ip, vendor, hostname, type, type_confidence, type_evidence, mac_local, names, first_seen, last_seen)
    VALUES (@mac, @ip, @vendor, @hostname, @type, @type_confidence, @type_evidence, @mac_local, @names, @now, @now)`);
  const update = db.prepare(`UPDATE devices SET mac = @mac, ip = @ip, vendor = @vendor, hostname = @hostname, type = @type,
    type_confidence = @type_confidence, type_evidence = @type_evidence, mac_local = @mac_local, names = @names, last_seen = @now WHERE id = @id`);
  const upAddr = db.prepare(`INSERT INTO device_addresses (device_id, address, family, first_seen, last_seen) VALUES (?, ?, ?, ?, ?)
    ON CONFLICT (device_id, address) DO UPDATE SET last_seen = excluded.last_seen`);
  const upPort = db.prepare(`INSERT INTO device_ports (device_id, proto, port, service, banner, details, first_seen, last_seen) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (device_id, proto, port) DO UPDATE SET service = excluded.service, banner = excluded.banner, details = excluded.details, last_seen = excluded.last_seen`);
  const upService = db.prepare(`INSERT INTO device_services (device_id, via, key, data, first_seen, last_seen) VALUES (?, ?, ?, ?, ?, ?)
    ON CONFLICT (device_id, via, key) DO UPDATE SET data = excluded.data, last_seen = excluded.last_seen`);
  const prevIps = db.prepare(`SELECT address FROM device_addresses WHERE device_id = ? AND family = 4 AND address != ? ORDER BY last_seen DESC`);
  const insScan = db.prepare('INSERT INTO scans (kind, started_at, finished_at, params, device_count) VALUES (?, ?, ?, ?, ?)');
  const insScanDev = db.prepare('INSERT OR IGNORE INTO scan_devices (scan_id, device_id, ip) VALUES (?, ?, ?)');
  const getRow = db.prepare('SELECT * FROM devices WHERE id = ?');

  const now = scan.finishedAt;
  const run = db.transaction((list: Device[]) => {
    const scanId = Number(insScan.run(scan.kind, scan.startedAt, scan.finishedAt, JSON.stringify(scan.params), list.length).lastInsertRowid);
    return list.map((d) => {
      let row = (d.mac ? byMac.get(d.mac) : byIpNoMac.get(d.ip)) as DeviceRow | undefined;
      // A MAC learnt now for a host the store only knew by IP: adopt that row.
      if (!row && d.mac) row = byIpNoMac.get(d.ip) as DeviceRow | undefined;
      const names = { ...(row ? parseJson<Record<string, string>>(row.names, {}) : {}), ...(d.names ?? {}) };
      const keepOldType = d.type === 'unknown' && row && isDeviceType(row.type) && row.type !== 'unknown';
      const values = {
        mac: d.mac ?? row?.mac ?? null,
        ip: d.ip,
        vendor: d.vendor ?? row?.vendor ?? null,
        hostname: d.hostname ?? row?.hostname ?? null,
        type: keepOldType ? row!.type : d.type,
        type_confidence: keepOldType ? row!.type_confidence : (d.typeConfidence ?? null),
        type_evidence: keepOldType ? row!.type_evidence : JSON.stringify(d.typeEvidence ?? []),
        mac_local: d.macLocallyAdministered ? 1 : 0,
        names: JSON.stringify(names),
        now,
      };
      let id: number;
      if (row) {
        id = row.id;
        update.run({ ...values, id });
      } else {
        id = Number(insert.run(values).lastInsertRowid);
      }
      upAddr.run(id, d.ip, 4, now, now);
      for (const a of d.ipv6 ?? []) upAddr.run(id, a, 6, now, now);
      for (const p of d.openPorts) upPort.run(id, p.proto, p.port, p.service, p.banner, JSON.stringify(p.details ?? {}), now, now);
      for (const s of d.services) upService.run(id, s.via, serviceKey(s), JSON.stringify(s), now, now);
      insScanDev.run(scanId, id, d.ip);
      const saved = getRow.get(id) as DeviceRow;
      const previousIps = (prevIps.all(id, d.ip) as Array<{ address: string }>).map((r) => r.address);
      const out: Device = {
        ...d,
        mac: saved.mac,
        vendor: saved.vendor,
        hostname: saved.hostname,
        firstSeen: saved.first_seen,
        lastSeen: saved.last_seen,
      };
      if (keepOldType && isDeviceType(saved.type)) {
        out.type = saved.type;
        out.typeEvidence = parseJson<TypeEvidence[]>(saved.type_evidence, []);
        if (saved.type_confidence !== null) out.typeConfidence = saved.type_confidence;
      }
      if (previousIps.length > 0) out.previousIps = previousIps;
      return out;
    });
  });
  return run(devices);
}

/** Every device in the inventory, with the ports and services last seen on it. */
export function listInventory(store: Store): Device[] {
  const { db } = store;
  const rows = db.prepare('SELECT * FROM devices ORDER BY last_seen DESC').all() as DeviceRow[];
  const ports = db.prepare('SELECT proto, port, service, banner, details FROM device_ports WHERE device_id = ? ORDER BY port');
  const services = db.prepare('SELECT data FROM device_services WHERE device_id = ? ORDER BY via, key');
  const addrs = db.prepare('SELECT address, family FROM device_addresses WHERE device_id = ? ORDER BY last_seen DESC');
  return rows.map((r) => {
    const a = addrs.all(r.id) as Array<{ address: string; family: number }>;
    const d: Device = {
      ip: r.ip ?? '',
      mac: r.mac,
      vendor: r.vendor,
      hostname: r.hostname,
      type: isDeviceType(r.type) ? r.type : 'unknown',
      openPorts: (ports.all(r.id) as Array<{ proto: string; port: number; service: string; banner: string; details: string }>).map(
        (p): OpenPort => ({ port: p.port, proto: p.proto === 'udp' ? 'udp' : 'tcp', service: p.service, banner: p.banner, details: parseJson(p.details, {}) }),
      ),
      services: (services.all(r.id) as Array<{ data: string }>).map((s) => parseJson<DeviceService>(s.data, { via: 'capture' })),
      typeEvidence: parseJson<TypeEvidence[]>(r.type_evidence, []),
      macLocallyAdministered: r.mac_local === 1,
      names: parseJson<Record<string, string>>(r.names, {}),
      firstSeen: r.first_seen,
      lastSeen: r.last_seen,
    };
    if (r.type_confidence !== null) d.typeConfidence = r.type_confidence;
    const v6 = a.filter((x) => x.family === 6).map((x) => x.address);
    if (v6.length) d.ipv6 = v6;
    const prev = a.filter((x) => x.family === 4 && x.address !== r.ip).map((x) => x.address);
    if (prev.length) d.previousIps = prev;
    return d;
  });
}

/** The inventory row id for a MAC (for other tables that reference devices). */
export function deviceIdByMac(store: Store, mac: string): number | undefined {
  const r = store.db.prepare('SELECT id FROM devices WHERE mac = ?').get(mac) as { id: number } | undefined;
  return r?.id;
}
