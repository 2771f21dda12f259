// Loads the known-exploited-vulnerability catalog (data/kev/iot-kev.json
// unless a path is given), validated and compiled once.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ErrorCodes, IotguardError } from '../../core/model/errors.js';
import { compileKevCatalogData, type KevCatalog } from '../../core/vuln/catalog.js';
import type { KevCatalogData } from '../../core/vuln/schema.js';
import { checkedAtBuild } from './data-stamps.js';

export const KEV_CATALOG_PATH = fileURLToPath(new URL('../../../data/kev/iot-kev.json', import.meta.url));

let cached: KevCatalog | undefined;

/**
 * Read, validate and compile the catalog. The shipped one, unchanged since the
 * build validated it, is compiled without loading the schema (data-stamps.ts).
 */
export async function loadKevCatalog(path = KEV_CATALOG_PATH): Promise<KevCatalog> {
  if (cached && path === KEV_CATALOG_PATH) return cached;
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new IotguardError(ErrorCodes.FILE_NOT_FOUND, `cannot read vulnerability catalog ${path}: ${(e as Error).message}`, { cause: e });
  }
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch (e) {
    throw new IotguardError(ErrorCodes.DATA_INVALID, `${path}: not JSON: ${(e as Error).message}`, { cause: e });
  }
  const catalog = checkedAtBuild(path, bytes)
    ? compileKevCatalogData(json as KevCatalogData, path)
    : (await import('../../core/vuln/schema.js')).compileKevCatalog(json, path);
  if (path === KEV_CATALOG_PATH) cached = catalog;
  return catalog;
}
