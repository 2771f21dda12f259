// Schema migrations for the SQLite store: a list of numbered steps, each
// applied once inside a transaction and recorded in schema_migrations.
import type Database from 'better-sqlite3';
import { ErrorCodes, IotguardError } from '../../core/model/errors.js';

export interface Migration {
  /** Unique, increasing; see migrations/index.ts for the id blocks. */
  id: number;
  name: string;
  /** SQL run with exec(), or a function for steps SQL alone cannot express. */
  up: string | ((db: Database.Database) => void);
}

export function validateMigrations(list: Migration[]): Migration[] {
  const seen = new Map<number, string>();
  for (const m of list) {
    if (!Number.isInteger(m.id) || m.id <= 0) {
      throw new IotguardError(ErrorCodes.STORE, `migration ${m.name}: id must be a positive integer`);
    }
    const prev = seen.get(m.id);
    if (prev !== undefined) throw new IotguardError(ErrorCodes.STORE, `migrations ${prev} and ${m.name} share id ${m.id}`);
    seen.set(m.id, m.name);
  }
  return [...list].sort((a, b) => a.id - b.id);
}

/** Applies the pending migrations; returns the ids applied now. */
export function migrate(db: Database.Database, list: Migration[]): number[] {
  const ordered = validateMigrations(list);
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    id INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`);
  const done = new Set((db.prepare('SELECT id FROM schema_migrations').all() as Array<{ id: number }>).map((r) => r.id));
  const record = db.prepare('INSERT INTO schema_migrations (id, name, applied_at) VALUES (?, ?, ?)');
  const applied: number[] = [];
  for (const m of ordered) {
    if (done.has(m.id)) continue;
    const step = db.transaction(() => {
      if (typeof m.up === 'string') db.exec(m.up);
      else m.up(db);
      record.run(m.id, m.name, new Date().toISOString());
    });
    try {
      step();
    } catch (e) {
      throw new IotguardError(ErrorCodes.STORE, `store migration ${m.id} (${m.name}) failed: ${(e as Error).message}`, { cause: e });
    }
    applied.push(m.id);
  }
  return applied;
}
