// A hardened wrapper around fast-xml-parser for everything an IGD sends us:
// device descriptions, SOAP responses and the IGDv2 port listing. The input
// is hostile by assumption: size is capped by the caller, DOCTYPE/ENTITY
// declarations are refused outright (billion-laughs and external entities have
// no place in UPnP, UDA 2.0 §2.3), and parsing never throws to the caller.
import { XMLParser, XMLValidator } from './fxp.js';

export type XmlResult = { ok: true; value: Record<string, unknown> } | { ok: false; reason: string };

/** Tags that may repeat in UPnP documents and must always come back as arrays. */
const ARRAY_TAGS = new Set(['device', 'service', 'icon', 'PortMappingEntry']);

const parser = new XMLParser({
  ignoreAttributes: true,
  removeNSPrefix: true,
  parseTagValue: false,
  trimValues: true,
  processEntities: true,
  htmlEntities: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
  maxNestedTags: 64,
  isArray: (name) => ARRAY_TAGS.has(name),
});

export const MAX_XML_CHARS = 4 * 1024 * 1024;

export function parseXml(text: string): XmlResult {
  if (typeof text !== 'string') return { ok: false, reason: 'not text' };
  if (text.length > MAX_XML_CHARS) return { ok: false, reason: `XML too large (${text.length} chars)` };
  if (/<!DOCTYPE|<!ENTITY/i.test(text)) return { ok: false, reason: 'XML with a DOCTYPE or ENTITY declaration is refused' };
  try {
    const valid = XMLValidator.validate(text);
    if (valid !== true) return { ok: false, reason: `malformed XML: ${valid.err.msg} (line ${valid.err.line})` };
    const value = parser.parse(text) as unknown;
    if (value === null || typeof value !== 'object') return { ok: false, reason: 'empty XML document' };
    return { ok: true, value: value as Record<string, unknown> };
  } catch (e) {
    return { ok: false, reason: `malformed XML: ${e instanceof Error ? e.message : String(e)}` };
  }
}

/** A child value as a trimmed string (fast-xml-parser gives '' for empty tags, objects for nested ones). */
export function text(node: unknown, key: string, maxLen = 1024): string | undefined {
  if (node === null || typeof node !== 'object') return undefined;
  const v = (node as Record<string, unknown>)[key];
  if (typeof v === 'string') return v.slice(0, maxLen);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (v && typeof v === 'object' && typeof (v as Record<string, unknown>)['#text'] === 'string') {
    return ((v as Record<string, unknown>)['#text'] as string).slice(0, maxLen);
  }
  if (v === '' || (v && typeof v === 'object' && Object.keys(v).length === 0)) return '';
  return undefined;
}

export function child(node: unknown, key: string): unknown {
  if (node === null || typeof node !== 'object') return undefined;
  return (node as Record<string, unknown>)[key];
}

export function asArray(v: unknown): unknown[] {
  if (v === undefined || v === null || v === '') return [];
  return Array.isArray(v) ? v : [v];
}

/** Escape a value for an XML text node (SOAP arguments). */
export function escapeXml(s: string): string {
  return s.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c] as string);
}
