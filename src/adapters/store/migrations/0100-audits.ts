// Stored audits: one row per `iotguard audit`, the whole result as JSON, so
// `audit --diff` can say what changed since the last one.
import type { Migration } from '../migrate.js';

export const audits0100: Migration = {
  id: 100,
  name: 'audits',
  up: `CREATE TABLE audits (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    started_at TEXT NOT NULL,
    finished_at TEXT NOT NULL,
    scope TEXT NOT NULL,
    devices INTEGER NOT NULL,
    findings INTEGER NOT NULL,
    result TEXT NOT NULL
  );
  CREATE INDEX audits_finished ON audits (finished_at);`,
};
