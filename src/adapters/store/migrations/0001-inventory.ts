// The device inventory: one row per device keyed by MAC (so a device keeps its
// identity when DHCP hands it a new address), its addresses over time, the
// ports and services seen on it, and one row per discovery run.
import type { Migration } from '../migrate.js';

export const inventory0001: Migration = {
  id: 1,
  name: 'inventory',
  up: `
    CREATE TABLE devices (
      id INTEGER PRIMARY KEY,
      -- lower-case colon form; NULL only for hosts whose MAC was never learnt (routed or loopback scans)
      mac TEXT UNIQUE,
      ip TEXT,
      vendor TEXT,
      hostname TEXT,
      type TEXT NOT NULL DEFAULT 'unknown',
      type_confidence REAL,
      type_evidence TEXT NOT NULL DEFAULT '[]',
      mac_local INTEGER NOT NULL DEFAULT 0,
      names TEXT NOT NULL DEFAULT '{}',
      first_seen TEXT NOT NULL,
      last_seen TEXT NOT NULL
    );
    CREATE INDEX devices_ip ON devices(ip);

    CREATE TABLE device_addresses (
      device_id INTEGER NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
      address TEXT NOT NULL,
      family INTEGER NOT NULL,
      first_seen TEXT NOT NULL,
      last_seen TEXT NOT NULL,
      PRIMARY KEY (device_id, address)
    );
    CREATE INDEX device_addresses_address ON device_addresses(address);

    CREATE TABLE device_ports (
      device_id INTEGER NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
      proto TEXT NOT NULL,
      port INTEGER NOT NULL,
      service TEXT NOT NULL,
      banner TEXT NOT NULL DEFAULT '',
      details TEXT NOT NULL DEFAULT '{}',
      first_seen TEXT NOT NULL,
      last_seen TEXT NOT NULL,
      PRIMARY KEY (device_id, proto, port)
    );

    CREATE TABLE device_services (
      device_id INTEGER NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
      via TEXT NOT NULL,
      key TEXT NOT NULL,
      data TEXT NOT NULL,
      first_seen TEXT NOT NULL,
      last_seen TEXT NOT NULL,
      PRIMARY KEY (device_id, via, key)
    );

    CREATE TABLE scans (
      id INTEGER PRIMARY KEY,
      kind TEXT NOT NULL,
      started_at TEXT NOT NULL,
      finished_at TEXT,
      params TEXT NOT NULL DEFAULT '{}',
      device_count INTEGER NOT NULL DEFAULT 0
    );

    CREATE TABLE scan_devices (
      scan_id INTEGER NOT NULL REFERENCES scans(id) ON DELETE CASCADE,
      device_id INTEGER NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
      ip TEXT,
      PRIMARY KEY (scan_id, device_id)
    );
  `,
};
