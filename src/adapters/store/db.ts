// Opens the SQLite store (better-sqlite3, WAL) and brings its schema up to
// date. Everything persistent in iotguard (inventory, and later audits,
// findings, alerts) lives in this one file.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { ErrorCodes, IotguardError } from '../../core/model/errors.js';
import { migrate, type Migration } from './migrate.js';
import { MIGRATIONS } from './migrations/index.js';

export interface Store {
  db: Database.Database;
  path: string;
  close(): void;
}

export { defaultStorePath } from './path.js';

export interface OpenStoreOptions {
  /** Defaults to every migration in migrations/index.ts; tests may pass their own. */
  migrations?: Migration[];
  readonly?: boolean;
}

export function openStore(path: string, opts: OpenStoreOptions = {}): Store {
  let db: Database.Database;
  try {
    if (path !== ':memory:' && !opts.readonly) mkdirSync(dirname(path), { recursive: true });
    db = new Database(path, { readonly: opts.readonly ?? false, fileMustExist: opts.readonly ?? false });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why = err.code === 'EACCES' || err.code === 'EPERM' ? 'permission denied' : err.message;
    throw new IotguardError(ErrorCodes.STORE, `cannot open the store ${path}: ${why}`, { cause: e });
  }
  try {
    db.pragma('busy_timeout = 5000');
    if (!opts.readonly) {
      if (path !== ':memory:') db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
    }
    db.pragma('foreign_keys = ON');
    if (!opts.readonly) migrate(db, opts.migrations ?? MIGRATIONS);
  } catch (e) {
    db.close();
    if (e instanceof IotguardError) throw e;
    throw new IotguardError(ErrorCodes.STORE, `cannot use the store ${path}: ${(e as Error).message}`, { cause: e });
  }
  return { db, path, close: () => db.close() };
}
