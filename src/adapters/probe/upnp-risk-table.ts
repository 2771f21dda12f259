// Loads data/port-risk.json (shipped in the package), validated once.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ErrorCodes, IotguardError } from '../../core/model/errors.js';
import type { PortRiskTable } from '../../core/upnp/risk.js';
import { checkedAtBuild } from './data-stamps.js';

/** src/adapters/probe and dist/adapters/probe are both three levels below the package root. */
export const DEFAULT_PORT_RISK_PATH = fileURLToPath(new URL('../../../data/port-risk.json', import.meta.url));

const cache = new Map<string, PortRiskTable>();

/**
 * Read and validate a port risk table. The shipped one, unchanged since the
 * build validated it, is used without loading the schema (data-stamps.ts).
 */
export async function loadPortRiskTable(path = DEFAULT_PORT_RISK_PATH): Promise<PortRiskTable> {
  const hit = cache.get(path);
  if (hit) return hit;
  let bytes: Buffer;
  let raw: unknown;
  try {
    bytes = readFileSync(path);
    raw = JSON.parse(bytes.toString('utf8'));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code === 'ENOENT' ? ErrorCodes.FILE_NOT_FOUND : ErrorCodes.DATA_INVALID;
    throw new IotguardError(code, `cannot read the port risk table ${path}: ${(e as Error).message}`, { cause: e });
  }
  const table = checkedAtBuild(path, bytes) ? (raw as PortRiskTable) : (await import('../../core/upnp/risk-schema.js')).validatePortRiskTable(raw, path);
  cache.set(path, table);
  return table;
}
