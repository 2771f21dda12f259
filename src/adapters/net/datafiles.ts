// The data files discovery ships with (data/ at the package root), read and
// validated once: the top-100 port table here (checked by hand: it is needed
// before the first packet, so it must not wait for a schema library), the
// fingerprint rules in fingerprint-data.ts (zod, loaded while the scan runs).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ErrorCodes, IotguardError } from '../../core/model/errors.js';

export function dataPath(name: string): string {
  return fileURLToPath(new URL(`../../../data/${name}`, import.meta.url));
}

export function readJson(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new IotguardError(ErrorCodes.FILE_NOT_FOUND, `cannot read data file ${path}: ${(e as Error).message}`, { cause: e });
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new IotguardError(ErrorCodes.DATA_INVALID, `${path}: not JSON: ${(e as Error).message}`, { cause: e });
  }
}

/** Checks the port table's shape: version 1, exactly 100 unique ports 1-65535, each with a service name. */
export function validatePortTable(json: unknown, source: string): PortEntry[] {
  const fail = (why: string): never => {
    throw new IotguardError(ErrorCodes.DATA_INVALID, `${source}: ${why}`);
  };
  const doc = json as { version?: unknown; ports?: unknown };
  if (!doc || typeof doc !== 'object' || doc.version !== 1) fail('version: expected 1');
  if (!Array.isArray(doc.ports)) return fail('ports: expected an array');
  if (doc.ports.length !== 100) fail(`ports: expected exactly 100 entries, found ${doc.ports.length}`);
  const seen = new Set<number>();
  return doc.ports.map((e: unknown, i: number) => {
    const p = e as { port?: unknown; service?: unknown; why?: unknown };
    if (!p || typeof p !== 'object') fail(`ports.${i}: expected an object`);
    if (typeof p.port !== 'number' || !Number.isInteger(p.port) || p.port < 1 || p.port > 65535) fail(`ports.${i}.port: expected 1-65535`);
    if (typeof p.service !== 'string' || !p.service) fail(`ports.${i}.service: expected a name`);
    if (seen.has(p.port as number)) fail(`ports.${i}.port: ${p.port} appears twice`);
    seen.add(p.port as number);
    return { port: p.port as number, service: p.service as string, why: typeof p.why === 'string' ? p.why : '' };
  });
}

export interface PortEntry {
  port: number;
  service: string;
  why: string;
}

let topCache: PortEntry[] | undefined;
export function loadTopPorts(path = dataPath('ports-top100.json')): PortEntry[] {
  if (topCache && path === dataPath('ports-top100.json')) return topCache;
  const ports = validatePortTable(readJson(path), path);
  if (path === dataPath('ports-top100.json')) topCache = ports;
  return ports;
}

