// The monitor's tables: alerts (committed before they are delivered; the
// `delivered` column is the outbox), the devices it watches with their risk,
// destinations per device, UPnP mappings, traffic per minute, counters that
// outlive the retention window, and small settings (the dashboard password hash).
import type { Migration } from '../migrate.js';

export const monitor0200: Migration = {
  id: 200,
  name: 'monitor',
  up: `
    CREATE TABLE monitor_alerts (
      id INTEGER PRIMARY KEY,
      ts TEXT NOT NULL,
      kind TEXT NOT NULL,
      severity TEXT NOT NULL,
      key TEXT NOT NULL,
      title TEXT NOT NULL,
      device_mac TEXT,
      device_ip TEXT,
      details TEXT NOT NULL DEFAULT '{}',
      acked_at TEXT,
      -- JSON object: channel -> ISO time delivered; a channel missing here is retried
      delivered TEXT NOT NULL DEFAULT '{}'
    );
    CREATE INDEX monitor_alerts_ts ON monitor_alerts(ts);
    CREATE INDEX monitor_alerts_key ON monitor_alerts(key);

    CREATE TABLE monitor_alert_counts (kind TEXT PRIMARY KEY, n INTEGER NOT NULL);

    CREATE TABLE monitor_devices (
      key TEXT PRIMARY KEY,
      mac TEXT,
      ip TEXT,
      vendor TEXT,
      hostname TEXT,
      type TEXT,
      first_seen INTEGER NOT NULL,
      last_seen INTEGER NOT NULL,
      gone INTEGER NOT NULL DEFAULT 0,
      open_ports TEXT NOT NULL DEFAULT '[]',
      findings TEXT NOT NULL DEFAULT '[]',
      risk_score INTEGER NOT NULL DEFAULT 0,
      risk_level TEXT NOT NULL DEFAULT 'none',
      profile TEXT
    );

    CREATE TABLE monitor_destinations (
      device_key TEXT NOT NULL,
      dest TEXT NOT NULL,
      name TEXT,
      ip TEXT NOT NULL,
      port INTEGER,
      proto TEXT NOT NULL,
      first_seen INTEGER NOT NULL,
      last_seen INTEGER NOT NULL,
      bytes INTEGER NOT NULL DEFAULT 0,
      packets INTEGER NOT NULL DEFAULT 0,
      PRIMARY KEY (device_key, dest)
    );

    CREATE TABLE monitor_mappings (
      mkey TEXT PRIMARY KEY,
      protocol TEXT NOT NULL,
      external_port INTEGER NOT NULL,
      internal_client TEXT NOT NULL,
      internal_port INTEGER NOT NULL,
      description TEXT NOT NULL,
      enabled INTEGER NOT NULL,
      risk TEXT,
      service TEXT,
      first_seen INTEGER NOT NULL,
      last_seen INTEGER NOT NULL
    );

    CREATE TABLE monitor_traffic (
      device_key TEXT NOT NULL,
      minute INTEGER NOT NULL,
      bytes INTEGER NOT NULL,
      packets INTEGER NOT NULL,
      PRIMARY KEY (device_key, minute)
    );
    CREATE INDEX monitor_traffic_minute ON monitor_traffic(minute);

    CREATE TABLE monitor_settings (k TEXT PRIMARY KEY, v TEXT NOT NULL);
  `,
};
