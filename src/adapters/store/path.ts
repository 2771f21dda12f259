// Where the store lives, and an early check that it can be written — cheap,
// without loading SQLite, so a bad --db fails before a scan rather than after.
import { accessSync, constants, existsSync, mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { ErrorCodes, IotguardError } from '../../core/model/errors.js';

/** `$IOTGUARD_HOME/iotguard.db`, else `$XDG_DATA_HOME/iotguard/iotguard.db`, else `~/.local/share/iotguard/iotguard.db`. */
export function defaultStorePath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.IOTGUARD_HOME) return join(env.IOTGUARD_HOME, 'iotguard.db');
  const data = env.XDG_DATA_HOME || join(homedir(), '.local', 'share');
  return join(data, 'iotguard', 'iotguard.db');
}

/** Creates the store's folder if needed and checks it (and the file, if present) can be written. */
export function checkStorePath(path: string): void {
  if (path === ':memory:') return;
  try {
    mkdirSync(dirname(path), { recursive: true });
    accessSync(dirname(path), constants.W_OK);
    if (existsSync(path)) accessSync(path, constants.R_OK | constants.W_OK);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why = err.code === 'EACCES' || err.code === 'EPERM' ? 'permission denied' : err.code === 'ENOTDIR' ? 'a parent is not a directory' : err.message;
    throw new IotguardError(ErrorCodes.STORE, `cannot open the store ${path}: ${why}`, { cause: e });
  }
}
