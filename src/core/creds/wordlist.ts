// Wordlists as data: the shipped Mirai and vendor-default lists and the
// services table (data/credentials/), a user's own list, and the per-service
// order in which pairs are tried. Pure: callers read the files and pass text.
// Errors about a user's file cite line numbers only, never the line, since it
// may hold a password the user typed.
import { ErrorCodes, IotguardError } from '../model/errors.js';
import { CRED_SERVICES, type CredService, type Credential, isCredService } from './types.js';

const MAX_LIST = 100_000;

/** Split one CSV line (RFC 4180 quoting) into fields. */
export function splitCsvLine(line: string): string[] | undefined {
  const out: string[] = [];
  let cur = '';
  let i = 0;
  let quoted = false;
  let fieldStart = true;
  while (i < line.length) {
    const c = line[i];
    if (quoted) {
      if (c === '"') {
        if (line[i + 1] === '"') {
          cur += '"';
          i += 2;
          continue;
        }
        quoted = false;
        i++;
        continue;
      }
      cur += c;
      i++;
      continue;
    }
    if (c === '"' && fieldStart) {
      quoted = true;
      fieldStart = false;
      i++;
      continue;
    }
    if (c === ',') {
      out.push(cur);
      cur = '';
      fieldStart = true;
      i++;
      continue;
    }
    cur += c;
    fieldStart = false;
    i++;
  }
  if (quoted) return undefined;
  out.push(cur);
  return out;
}

function dataLines(text: string): Array<{ n: number; line: string }> {
  const out: Array<{ n: number; line: string }> = [];
  text.split(/\r?\n/).forEach((line, idx) => {
    if (line.trim() === '' || line.startsWith('#')) return;
    out.push({ n: idx + 1, line });
  });
  return out;
}

function invalid(what: string, msg: string): IotguardError {
  return new IotguardError(ErrorCodes.DATA_INVALID, `${what}: ${msg}`);
}

const fieldOk = (v: string | undefined): v is string => typeof v === 'string' && v.length <= 256;

/** data/credentials/mirai.csv: `username,password,weight`. */
export function parseMiraiCsv(text: string, what = 'mirai.csv'): Credential[] {
  const lines = dataLines(text);
  const header = lines.shift();
  if (!header || header.line.trim() !== 'username,password,weight') throw invalid(what, 'expected the header username,password,weight');
  return lines.map(({ n, line }) => {
    const f = splitCsvLine(line);
    if (!f || f.length !== 3 || !fieldOk(f[0]) || !fieldOk(f[1]) || !/^\d+$/.test(f[2])) {
      throw invalid(what, `line ${n} is not username,password,weight`);
    }
    return { username: f[0], password: f[1], public: true, source: 'mirai' };
  });
}

export interface VendorCredential extends Credential {
  service: CredService;
}

/** data/credentials/vendor-defaults.csv: `service,vendor,username,password`. */
export function parseVendorCsv(text: string, what = 'vendor-defaults.csv'): VendorCredential[] {
  const lines = dataLines(text);
  const header = lines.shift();
  if (!header || header.line.trim() !== 'service,vendor,username,password') throw invalid(what, 'expected the header service,vendor,username,password');
  return lines.map(({ n, line }) => {
    const f = splitCsvLine(line);
    if (!f || f.length !== 4 || !isCredService(f[0]) || !/^[a-z0-9_-]+$/i.test(f[1]) || f[2].length > 256 || f[3].length > 256) {
      throw invalid(what, `line ${n} is not service,vendor,username,password with a known service`);
    }
    return { service: f[0] as CredService, username: f[2], password: f[3], public: true, source: f[1] === '-' ? 'vendor' : `vendor:${f[1]}` };
  });
}

export type ServiceTable = Record<CredService, { ports: number[]; mirai: 'first' | 'after' | 'no' }>;

// Hand-checked rather than with zod: this file loads on every `creds` run and
// zod's import alone costs more than the whole check.
export function parseServicesJson(text: string, what = 'services.json'): ServiceTable {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new IotguardError(ErrorCodes.DATA_INVALID, `${what}: not JSON`, { cause: e });
  }
  const services = (raw as { services?: unknown })?.services;
  if (typeof services !== 'object' || services === null || Array.isArray(services)) throw invalid(what, 'services: expected an object');
  const out = {} as ServiceTable;
  for (const [name, v] of Object.entries(services as Record<string, unknown>)) {
    if (!isCredService(name)) throw invalid(what, `services.${name}: unknown service`);
    const e = v as { ports?: unknown; mirai?: unknown };
    const ports = e?.ports;
    if (!Array.isArray(ports) || ports.length === 0 || !ports.every((p) => Number.isInteger(p) && p >= 1 && p <= 65535)) {
      throw invalid(what, `services.${name}.ports: expected a non-empty list of ports 1-65535`);
    }
    if (e.mirai !== 'first' && e.mirai !== 'after' && e.mirai !== 'no') throw invalid(what, `services.${name}.mirai: expected first, after or no`);
    out[name] = { ports: ports as number[], mirai: e.mirai };
  }
  for (const s of CRED_SERVICES) if (!out[s]) throw invalid(what, `service ${s} missing`);
  return out;
}

/**
 * A user's wordlist: either CSV with a `username,password` header, or one
 * `login:password` pair a line (hydra -C style; split at the first colon).
 * The pairs are private: never shown, logged or stored.
 */
export function parseUserWordlist(text: string, what = 'wordlist'): Credential[] {
  const lines = dataLines(text);
  if (lines.length === 0) throw invalid(what, 'no credentials in the file');
  if (lines.length > MAX_LIST) throw invalid(what, `more than ${MAX_LIST} lines`);
  const head = lines[0].line.trim().toLowerCase();
  const csv = head.startsWith('username,password');
  if (csv) lines.shift();
  const out: Credential[] = [];
  for (const { n, line } of lines) {
    let user: string;
    let pass: string;
    if (csv) {
      const f = splitCsvLine(line);
      if (!f || f.length < 2) throw invalid(what, `line ${n} is not username,password`);
      [user, pass] = f;
    } else {
      const at = line.indexOf(':');
      if (at < 0) throw invalid(what, `line ${n} has no ':' (expected login:password)`);
      user = line.slice(0, at);
      pass = line.slice(at + 1);
    }
    if (user.length > 256 || pass.length > 256) throw invalid(what, `line ${n} is longer than 256 characters`);
    if (/[\x00-\x1f\x7f]/.test(user) || /[\x00-\x1f\x7f]/.test(pass)) throw invalid(what, `line ${n} holds a control character`);
    out.push({ username: user, password: pass, public: false, source: 'user' });
  }
  return out;
}

function dedupe(list: Credential[]): Credential[] {
  const seen = new Set<string>();
  return list.filter((c) => {
    const k = `${c.username}\u0000${c.password}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

export const NAMED_WORDLISTS = ['defaults', 'mirai', 'vendor'] as const;
export type NamedWordlist = (typeof NAMED_WORDLISTS)[number];

export interface ShippedLists {
  mirai: Credential[];
  vendor: VendorCredential[];
  services: ServiceTable;
}

/**
 * The pairs to try on one service, in order, without duplicates.
 * `defaults`: vendor defaults for the service and Mirai's pairs (first on
 * telnet, after the vendor ones elsewhere, not on MQTT); `mirai`: Mirai's
 * only; `vendor`: the service's vendor defaults only. An MQTT list always
 * starts with an anonymous connect when it has one.
 */
export function listFor(service: CredService, name: NamedWordlist, lists: ShippedLists): Credential[] {
  const vendor: Credential[] = lists.vendor
    .filter((v) => v.service === service)
    .map(({ username, password, source }) => ({ username, password, public: true, source }));
  if (name === 'vendor') return dedupe(vendor);
  if (name === 'mirai') return dedupe(lists.mirai);
  const where = lists.services[service].mirai;
  if (where === 'first') return dedupe([...lists.mirai, ...vendor]);
  if (where === 'after') return dedupe([...vendor, ...lists.mirai]);
  return dedupe(vendor);
}

/** A user's list applies to every service as is. */
export function userListFor(list: Credential[]): Credential[] {
  return dedupe(list);
}
