// The compiled form of the known-exploited-vulnerability catalog, and the
// field lists its schema (schema.ts) is built from. Nothing here loads zod:
// the detectors use this module, and the shipped catalog, checked when the
// package is built, is compiled without loading the schema library (see
// src/adapters/data/stamps.ts).
import { ErrorCodes, IotguardError } from '../model/errors.js';
import type { ConditionData, KevCatalogData, KevEntryData } from './schema.js';

/** What a signature condition can look at; see evidence.ts for where each value comes from. */
export const EVIDENCE_FIELDS = [
  'httpServer', // HTTP `Server:` header of any open port
  'httpTitle', // <title> of the page an HTTP port serves
  'httpRealm', // realm of a WWW-Authenticate challenge
  'httpBody', // body of a page fetched by an opt-in safe check (condition names the `path`)
  'banner', // raw banner text of any open port (telnet, FTP, SSH, HTTP head...)
  'ssdpServer', // SERVER header of SSDP answers / NOTIFY
  'upnpManufacturer', // UPnP device description <manufacturer>
  'upnpModel', // <modelName>, <modelNumber>, <friendlyName>, <modelDescription>
  'upnpFirmware', // firmware / software version the description carries
  'upnpServer', // Server header of the description's HTTP answer
  'tlsSubject', // subject DN of a certificate the device presents
  'tlsIssuer',
  'vendor', // IEEE OUI organisation of the MAC
  'deviceType', // the classifier's device type (camera, dvr, router...)
  'openPort', // one of `ports` is open
] as const;
export type EvidenceField = (typeof EVIDENCE_FIELDS)[number];

/** Fields that on their own never identify a product: a signature needs at least one other condition. */
export const WEAK_FIELDS: readonly EvidenceField[] = ['openPort', 'deviceType'];

export const CONFIDENCES = ['exact-version', 'product-family'] as const;
export type Confidence = (typeof CONFIDENCES)[number];

export interface CompiledCondition extends ConditionData {
  regex?: RegExp;
}

export interface CompiledSignature {
  name: string;
  all: CompiledCondition[];
  version?: { field: EvidenceField; regex: RegExp; ports?: number[]; path?: string };
  family?: boolean;
  note?: string;
}

export interface KevEntry extends Omit<KevEntryData, 'signatures'> {
  signatures: CompiledSignature[];
  rangeModels: (RegExp | undefined)[];
}

export interface KevCatalog {
  entries: KevEntry[];
  /** Where the catalog was read from, for messages. */
  source: string;
}

function compileRegex(pattern: string, where: string, source: string): RegExp {
  try {
    return new RegExp(pattern, 'i');
  } catch (e) {
    throw new IotguardError(ErrorCodes.DATA_INVALID, `${source}: ${where}: bad regular expression ${JSON.stringify(pattern)}: ${(e as Error).message}`);
  }
}

/**
 * Compile the patterns of a catalog that has passed the schema
 * (`validateKevCatalog` in schema.ts, or the build's check of the shipped
 * file). Throws IOTGUARD_ERR_DATA_INVALID for a pattern that does not compile.
 */
export function compileKevCatalogData(data: KevCatalogData, source = 'kev catalog'): KevCatalog {
  const entries: KevEntry[] = data.entries.map((e) => {
    const signatures = e.signatures.map((s, si): CompiledSignature => {
      const all = s.all.map((c, ci) => ({
        ...c,
        regex: c.pattern ? compileRegex(c.pattern, `${e.id}.signatures.${si}.all.${ci}`, source) : undefined,
      }));
      let version: CompiledSignature['version'];
      if (s.version) {
        const regex = compileRegex(s.version.pattern, `${e.id}.signatures.${si}.version`, source);
        if (!/\(\?<v>/.test(s.version.pattern)) {
          throw new IotguardError(ErrorCodes.DATA_INVALID, `${source}: ${e.id}.signatures.${si}.version: the pattern needs a named group (?<v>...)`);
        }
        version = { field: s.version.field, regex, ports: s.version.ports, path: s.version.path };
      }
      return { name: s.name, all, version, family: s.family, note: s.note };
    });
    const rangeModels = (e.affected.ranges ?? []).map((r, ri) => (r.model ? compileRegex(r.model, `${e.id}.affected.ranges.${ri}.model`, source) : undefined));
    return { ...e, signatures, rangeModels };
  });
  return { entries, source };
}
