// The fingerprint rule set (data/fingerprints.json): the schema it must meet
// and the compiled form the classifier uses. Rules are data, validated on
// load, so adding a device family is an edit to the JSON, not to code.
import { z } from 'zod';
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

const ruleSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/),
    type: z.enum(DEVICE_TYPES),
    weight: z.number().positive().max(10),
    field: z.enum(FACT_FIELDS),
    /** Case-insensitive regular expression for text fields. */
    pattern: z.string().min(1).optional(),
    /** Port numbers for the `port` field. */
    ports: z.array(z.number().int().min(1).max(65535)).min(1).optional(),
    note: z.string().optional(),
  })
  .strict()
  .refine((r) => (r.field === 'port' ? r.ports !== undefined && r.pattern === undefined : r.pattern !== undefined && r.ports === undefined), {
    message: 'port rules take `ports`, every other field takes `pattern`',
  });

export const fingerprintFileSchema = z
  .object({
    version: z.literal(1),
    description: z.string().optional(),
    rules: z.array(ruleSchema).min(1),
  })
  .strict();

export type FingerprintRule = z.infer<typeof ruleSchema>;

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
  const parsed = fingerprintFileSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new IotguardError(ErrorCodes.DATA_INVALID, `${source}: ${issue.path.join('.')}: ${issue.message}`);
  }
  const seen = new Set<string>();
  const rules = parsed.data.rules.map((r): CompiledRule => {
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
