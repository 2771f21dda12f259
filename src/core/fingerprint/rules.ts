// The fingerprint rule set (data/fingerprints.json): the schema it must meet
// and the compiled form the classifier uses. Rules are data, validated on
// load, so adding a device family is an edit to the JSON, not to code.
import { DEVICE_TYPES, type DeviceType } from '../model/device.js';
import { ErrorCodes, IotguardError } from '../model/errors.js';

/** The facts a rule can look at; see facts.ts for where each comes from. */
export const FACT_FIELDS = [
  'vendor',
  'hostname',
  'dhcpVendorClass',
  'mdnsService',
  'mdnsName',
  'ssdpDeviceType',
  'ssdpManufacturer',
  'ssdpModel',
  'ssdpServer',
  'httpServer',
  'httpTitle',
  'banner',
  'userAgent',
  'dnsQuery',
  'port',
] as const;
export type FactField = (typeof FACT_FIELDS)[number];

export interface FingerprintRule {
  id: string;
  type: DeviceType;
  weight: number;
  field: FactField;
  /** Case-insensitive regular expression for text fields. */
  pattern?: string;
  /** Port numbers for the `port` field. */
  ports?: number[];
  note?: string;
}

const RULE_KEYS = new Set(['id', 'type', 'weight', 'field', 'pattern', 'ports', 'note']);

/**
 * Checks the file's shape (version 1; each rule: id, type from DEVICE_TYPES,
 * weight in (0, 10], field from FACT_FIELDS, `ports` for port rules and
 * `pattern` otherwise, no unknown keys). Hand-written rather than a schema
 * library: this runs on every discovery, and loading one costs more than the scan.
 */
function validate(json: unknown, fail: (path: string, why: string) => never): FingerprintRule[] {
  const doc = json as { version?: unknown; rules?: unknown };
  if (!doc || typeof doc !== 'object') fail('', 'expected an object');
  if (doc.version !== 1) fail('version', 'expected 1');
  for (const k of Object.keys(doc)) if (!['version', 'description', 'rules'].includes(k)) fail(k, 'unknown key');
  if (!Array.isArray(doc.rules) || doc.rules.length === 0) fail('rules', 'expected a non-empty array');
  return (doc.rules as unknown[]).map((raw, i) => {
    const r = raw as Record<string, unknown>;
    const at = (k: string) => `rules.${i}.${k}`;
    if (!r || typeof r !== 'object' || Array.isArray(r)) fail(`rules.${i}`, 'expected an object');
    for (const k of Object.keys(r)) if (!RULE_KEYS.has(k)) fail(at(k), 'unknown key');
    if (typeof r.id !== 'string' || !/^[a-z0-9][a-z0-9._-]*$/.test(r.id)) fail(at('id'), 'expected a lower-case id');
    if (typeof r.type !== 'string' || !(DEVICE_TYPES as readonly string[]).includes(r.type)) fail(at('type'), `expected one of ${DEVICE_TYPES.join(', ')}`);
    if (typeof r.weight !== 'number' || !(r.weight > 0 && r.weight <= 10)) fail(at('weight'), 'expected a number in (0, 10]');
    if (typeof r.field !== 'string' || !(FACT_FIELDS as readonly string[]).includes(r.field)) fail(at('field'), `expected one of ${FACT_FIELDS.join(', ')}`);
    if (r.note !== undefined && typeof r.note !== 'string') fail(at('note'), 'expected text');
    const isPort = r.field === 'port';
    if (isPort ? r.ports === undefined || r.pattern !== undefined : r.pattern === undefined || r.ports !== undefined) {
      fail(`rules.${i}`, 'port rules take `ports`, every other field takes `pattern`');
    }
    if (r.pattern !== undefined && (typeof r.pattern !== 'string' || r.pattern.length === 0)) fail(at('pattern'), 'expected a regular expression');
    if (r.ports !== undefined && (!Array.isArray(r.ports) || r.ports.length === 0 || !r.ports.every((p) => Number.isInteger(p) && p >= 1 && p <= 65535))) {
      fail(at('ports'), 'expected port numbers 1-65535');
    }
    return r as unknown as FingerprintRule;
  });
}

export interface CompiledRule {
  id: string;
  type: DeviceType;
  weight: number;
  field: FactField;
  regex?: RegExp;
  ports?: Set<number>;
}

export interface RuleSet {
  rules: CompiledRule[];
}

/** Validates parsed JSON and compiles the patterns; throws IOTGUARD_ERR_DATA_INVALID with the first problem. */
export function compileRules(json: unknown, source = 'fingerprints.json'): RuleSet {
  const fail = (path: string, why: string): never => {
    throw new IotguardError(ErrorCodes.DATA_INVALID, `${source}: ${path}${path ? ': ' : ''}${why}`);
  };
  const parsed = validate(json, fail);
  const seen = new Set<string>();
  const rules = parsed.map((r): CompiledRule => {
    if (seen.has(r.id)) throw new IotguardError(ErrorCodes.DATA_INVALID, `${source}: duplicate rule id ${r.id}`);
    seen.add(r.id);
    const out: CompiledRule = { id: r.id, type: r.type, weight: r.weight, field: r.field };
    if (r.pattern !== undefined) {
      try {
        out.regex = new RegExp(r.pattern, 'i');
      } catch (e) {
        throw new IotguardError(ErrorCodes.DATA_INVALID, `${source}: rule ${r.id}: bad pattern: ${(e as Error).message}`);
      }
    }
    if (r.ports) out.ports = new Set(r.ports);
    return out;
  });
  return { rules };
}
