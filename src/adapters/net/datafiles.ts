// The data files discovery ships with (data/ at the package root), read and
// validated once: the top-100 port table and the fingerprint rules.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { compileRules, type RuleSet } from '../../core/fingerprint/rules.js';
import { ErrorCodes, IotguardError } from '../../core/model/errors.js';

export function dataPath(name: string): string {
  return fileURLToPath(new URL(`../../../data/${name}`, import.meta.url));
}

function readJson(path: string): unknown {
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

const portTableSchema = z
  .object({
    version: z.literal(1),
    description: z.string().optional(),
    ports: z
      .array(z.object({ port: z.number().int().min(1).max(65535), service: z.string().min(1), why: z.string() }).strict())
      .length(100)
      .refine((ps) => new Set(ps.map((p) => p.port)).size === ps.length, { message: 'ports must be unique' }),
  })
  .strict();

export interface PortEntry {
  port: number;
  service: string;
  why: string;
}

let topCache: PortEntry[] | undefined;
export function loadTopPorts(path = dataPath('ports-top100.json')): PortEntry[] {
  if (topCache && path === dataPath('ports-top100.json')) return topCache;
  const parsed = portTableSchema.safeParse(readJson(path));
  if (!parsed.success) {
    const i = parsed.error.issues[0];
    throw new IotguardError(ErrorCodes.DATA_INVALID, `${path}: ${i.path.join('.')}: ${i.message}`);
  }
  if (path === dataPath('ports-top100.json')) topCache = parsed.data.ports;
  return parsed.data.ports;
}

let rulesCache: RuleSet | undefined;
export function loadFingerprints(path = dataPath('fingerprints.json')): RuleSet {
  if (rulesCache && path === dataPath('fingerprints.json')) return rulesCache;
  const rules = compileRules(readJson(path), path);
  if (path === dataPath('fingerprints.json')) rulesCache = rules;
  return rules;
}
