// The known-exploited-vulnerability catalog (data/kev/iot-kev.json): the
// schema every entry must meet (its compiled form is in catalog.ts). Entries
// are data, validated on load, so adding a vulnerability is an edit to the
// JSON only.
//
// An entry says which CVE, which product, how to recognise an affected device
// (signatures: every condition of one signature must hold on the same device;
// any one signature is enough), which firmware versions are affected, whether
// a fix exists, which botnets use it and where each fact comes from.
import { z } from 'zod';
import { ErrorCodes, IotguardError } from '../model/errors.js';
import { EVIDENCE_FIELDS, WEAK_FIELDS, compileKevCatalogData, type KevCatalog } from './catalog.js';

const MAX_PATTERN = 300;

const conditionSchema = z
  .object({
    field: z.enum(EVIDENCE_FIELDS),
    /** Case-insensitive regular expression (JavaScript syntax). */
    pattern: z.string().min(1).max(MAX_PATTERN).optional(),
    /** For `openPort`: any of these ports open. For other fields: only look at these ports. */
    ports: z.array(z.number().int().min(1).max(65535)).min(1).optional(),
    proto: z.enum(['tcp', 'udp']).optional(),
    /** For `httpBody`: the URL path the safe check fetched. */
    path: z.string().startsWith('/').optional(),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.field === 'openPort') {
      if (!c.ports) ctx.addIssue({ code: 'custom', message: 'openPort conditions take `ports`' });
      if (c.pattern) ctx.addIssue({ code: 'custom', message: 'openPort conditions take no `pattern`' });
    } else if (!c.pattern) {
      ctx.addIssue({ code: 'custom', message: `${c.field} conditions need a \`pattern\`` });
    }
    if (c.field === 'httpBody' && !c.path) ctx.addIssue({ code: 'custom', message: 'httpBody conditions name the safe-check `path`' });
    if (c.path && c.field !== 'httpBody') ctx.addIssue({ code: 'custom', message: '`path` is only for httpBody' });
  });

const versionSchema = z
  .object({
    field: z.enum(EVIDENCE_FIELDS).refine((f) => !WEAK_FIELDS.includes(f), 'a version comes from a text field'),
    /** Regular expression with a named group `v` that captures the version. */
    pattern: z.string().min(1).max(MAX_PATTERN),
    ports: z.array(z.number().int().min(1).max(65535)).min(1).optional(),
    path: z.string().startsWith('/').optional(),
  })
  .strict();

const signatureSchema = z
  .object({
    name: z.string().min(3),
    all: z.array(conditionSchema).min(1),
    version: versionSchema.optional(),
    /** The evidence names a product family, never one model: matches stay `product-family`. */
    family: z.boolean().optional(),
    note: z.string().optional(),
  })
  .strict()
  .refine((s) => s.all.some((c) => !WEAK_FIELDS.includes(c.field)), {
    message: 'a signature needs at least one condition that names the product (an open port or a device type alone is not evidence)',
  });

const rangeSchema = z
  .object({
    /** Case-insensitive regex on the observed model text; the range applies only to matching models. */
    model: z.string().min(1).max(MAX_PATTERN).optional(),
    introduced: z.string().min(1).optional(),
    /** First version that is no longer affected. */
    fixed: z.string().min(1).optional(),
    /** Last version known affected (when no fixed version is published). */
    lastAffected: z.string().min(1).optional(),
  })
  .strict()
  .refine((r) => r.fixed !== undefined || r.lastAffected !== undefined || r.introduced !== undefined, {
    message: 'a range needs introduced, fixed or lastAffected',
  });

const safeCheckSchema = z
  .object({
    /** A plain GET of this path; never a payload, never a state change. */
    path: z
      .string()
      .startsWith('/')
      .max(200)
      .refine((p) => !/[;`$|&<>]|%(?:3b|60|24|7c|26|3c|3e)/i.test(p), 'a safe-check path carries no shell metacharacters'),
    ports: z.array(z.number().int().min(1).max(65535)).min(1).optional(),
    why: z.string().min(10),
  })
  .strict();

const cveRe = /^CVE-\d{4}-\d{4,7}$/;

const entrySchema = z
  .object({
    /** Stable id: the CVE, or VENDOR-PRODUCT-WHAT for a flaw that never got one. */
    id: z.string().regex(/^[A-Z0-9][A-Z0-9._-]+$/),
    cve: z.string().regex(cveRe).nullable(),
    aliases: z.array(z.string().min(1)).optional(),
    name: z.string().min(5),
    vendor: z.string().min(1),
    product: z.string().min(1),
    deviceTypes: z.array(z.string().min(1)).min(1),
    severity: z.enum(['medium', 'high', 'critical']),
    /** What the flaw lets an attacker do, in one sentence. */
    impact: z.string().min(10),
    /** Listed in CISA's Known Exploited Vulnerabilities catalog; absent when not checked. */
    cisaKev: z.boolean().optional(),
    botnets: z.array(z.string().min(1)),
    affected: z
      .object({
        /** Human-readable statement of the affected models/versions, as the source puts it. */
        text: z.string().min(5),
        ranges: z.array(rangeSchema).optional(),
        /** Every version of the matched models is affected (no fixed firmware). */
        allVersions: z.boolean().optional(),
      })
      .strict(),
    fix: z
      .object({
        /** A fixed firmware exists (true) or the vendor says none will come (false); absent when the sources do not say. */
        available: z.boolean().optional(),
        /** e.g. "firmware 1.0.7.6 or later"; omitted when the source gives none. */
        version: z.string().min(1).optional(),
        /** Vendor says end of life: replace the device. */
        endOfLife: z.boolean().optional(),
      })
      .strict(),
    signatures: z.array(signatureSchema).min(1),
    safeCheck: safeCheckSchema.optional(),
    sources: z.array(z.string().url()).min(1),
    note: z.string().optional(),
  })
  .strict()
  .superRefine((e, ctx) => {
    if (e.cve !== null && e.id !== e.cve) ctx.addIssue({ code: 'custom', message: 'an entry with a CVE uses it as its id' });
    if (e.fix.endOfLife && e.fix.available) ctx.addIssue({ code: 'custom', message: 'an end-of-life product has no fix available' });
    if (e.fix.version && e.fix.available !== true) ctx.addIssue({ code: 'custom', message: 'a fixed version implies fix.available: true' });
    for (const s of e.signatures) {
      if (s.version && !e.affected.ranges && !e.affected.allVersions) {
        ctx.addIssue({ code: 'custom', message: `signature "${s.name}" extracts a version but the entry has no affected ranges` });
      }
    }
  });

export const kevCatalogSchema = z
  .object({
    version: z.literal(1),
    description: z.string().optional(),
    entries: z.array(entrySchema).min(1),
  })
  .strict()
  .superRefine((c, ctx) => {
    const seen = new Set<string>();
    for (const [i, e] of c.entries.entries()) {
      if (seen.has(e.id)) ctx.addIssue({ code: 'custom', path: ['entries', i, 'id'], message: `duplicate id ${e.id}` });
      seen.add(e.id);
    }
  });

export type KevEntryData = z.infer<typeof entrySchema>;
export type SignatureData = z.infer<typeof signatureSchema>;
export type ConditionData = z.infer<typeof conditionSchema>;
export type VersionRange = z.infer<typeof rangeSchema>;

export type KevCatalogData = z.infer<typeof kevCatalogSchema>;

/**
 * Validate a parsed catalog file against the schema. Throws
 * IOTGUARD_ERR_DATA_INVALID naming the first bad field.
 */
export function validateKevCatalog(json: unknown, source = 'kev catalog'): KevCatalogData {
  const parsed = kevCatalogSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const at = issue.path.length ? issue.path.join('.') : '(root)';
    const entryIdx = issue.path[0] === 'entries' && typeof issue.path[1] === 'number' ? issue.path[1] : undefined;
    const id =
      entryIdx !== undefined && json && typeof json === 'object'
        ? ((json as { entries?: { id?: unknown }[] }).entries?.[entryIdx]?.id as string | undefined)
        : undefined;
    throw new IotguardError(ErrorCodes.DATA_INVALID, `${source}: ${at}${id ? ` (${id})` : ''}: ${issue.message}`, {
      details: { path: issue.path, source },
    });
  }
  return parsed.data;
}

/**
 * Validate a parsed catalog file and compile its patterns. Throws
 * IOTGUARD_ERR_DATA_INVALID naming the first bad field.
 */
export function compileKevCatalog(json: unknown, source = 'kev catalog'): KevCatalog {
  return compileKevCatalogData(validateKevCatalog(json, source), source);
}
