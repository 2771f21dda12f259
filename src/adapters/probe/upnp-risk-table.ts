// Loads data/port-risk.json (shipped in the package) and validates it once.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ErrorCodes, IotguardError } from '../../core/model/errors.js';
import { validatePortRiskTable, type PortRiskTable } from '../../core/upnp/risk.js';

/** src/adapters/probe and dist/adapters/probe are both three levels below the package root. */
export const DEFAULT_PORT_RISK_PATH = fileURLToPath(new URL('../../../data/port-risk.json', import.meta.url));

const cache = new Map<string, PortRiskTable>();

export function loadPortRiskTable(path = DEFAULT_PORT_RISK_PATH): PortRiskTable {
  const hit = cache.get(path);
  if (hit) return hit;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code === 'ENOENT' ? ErrorCodes.FILE_NOT_FOUND : ErrorCodes.DATA_INVALID;
    throw new IotguardError(code, `cannot read the port risk table ${path}: ${(e as Error).message}`, { cause: e });
  }
  const table = validatePortRiskTable(raw, path);
  cache.set(path, table);
  return table;
}
