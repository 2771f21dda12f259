// The matcher: device evidence + the KEV catalog -> known-vulnerability
// findings. Pure and passive: it only reads what discovery, banners, SSDP/UPnP,
// TLS and (opt-in) safe checks already collected.
//
// Confidence: `exact-version` when a firmware version was read and falls in an
// affected range (or every version is affected); `product-family` when the
// product was recognised but its version is unknown or its model is outside
// the listed ranges. A version read and found outside every applicable range
// clears the entry (the device runs fixed firmware).
import type { DeviceRef, Finding, Severity } from '../model/finding.js';
import type { DeviceEvidence } from './evidence.js';
import type { CompiledCondition, CompiledSignature, Confidence, EvidenceField, KevCatalog, KevEntry } from './catalog.js';
import { inRange } from './version.js';

export interface MatchedFact {
  field: EvidenceField;
  value: string;
  port?: number;
  path?: string;
}

export interface VulnMatch {
  entry: KevEntry;
  signature: string;
  confidence: Confidence;
  facts: MatchedFact[];
  /** firmware version read from the evidence */
  version?: string;
}

/** An entry whose product matched but whose observed version is fixed. */
export interface VulnCleared {
  entry: KevEntry;
  signature: string;
  version: string;
}

export interface MatchResult {
  matches: VulnMatch[];
  cleared: VulnCleared[];
}

interface Valued {
  value: string;
  port?: number;
  path?: string;
}

function portOk(ports: number[] | undefined, port: number | undefined): boolean {
  return !ports || (port !== undefined && ports.includes(port));
}

function push(out: Valued[], value: unknown, port?: number, path?: string): void {
  if (typeof value === 'string' && value.length) out.push({ value, port, path });
}

/** Every observed value of a field (restricted to the condition's ports / path). */
function valuesOf(ev: DeviceEvidence, field: EvidenceField, ports?: number[], path?: string): Valued[] {
  const out: Valued[] = [];
  const open = ev.openPorts ?? [];
  const probes = ev.httpProbes ?? [];
  const upnp = ev.upnp ?? [];
  switch (field) {
    case 'httpServer':
      for (const p of open) if (portOk(ports, p.port)) push(out, p.http?.server, p.port);
      for (const h of probes) if (portOk(ports, h.port)) push(out, h.server, h.port, h.path);
      break;
    case 'httpTitle':
      for (const p of open) if (portOk(ports, p.port)) push(out, p.http?.title, p.port);
      for (const h of probes) if (portOk(ports, h.port)) push(out, h.title, h.port, h.path);
      break;
    case 'httpRealm':
      for (const p of open) if (portOk(ports, p.port)) push(out, p.http?.realm, p.port);
      break;
    case 'httpBody':
      for (const h of probes) if (portOk(ports, h.port) && h.path === path && h.status >= 200 && h.status < 300) push(out, h.body, h.port, h.path);
      break;
    case 'banner':
      for (const p of open) if (portOk(ports, p.port)) push(out, p.banner, p.port);
      break;
    case 'ssdpServer':
      for (const s of ev.ssdpServer ?? []) push(out, s);
      break;
    case 'upnpManufacturer':
      for (const u of upnp) push(out, u.manufacturer);
      break;
    case 'upnpModel':
      for (const u of upnp) {
        push(out, u.modelName);
        push(out, u.modelNumber);
        push(out, u.friendlyName);
        push(out, u.modelDescription);
      }
      break;
    case 'upnpFirmware':
      for (const u of upnp) push(out, u.firmware);
      break;
    case 'upnpServer':
      for (const u of upnp) push(out, u.server);
      break;
    case 'tlsSubject':
      for (const t of ev.tls ?? []) if (portOk(ports, t.port)) push(out, t.subject, t.port);
      break;
    case 'tlsIssuer':
      for (const t of ev.tls ?? []) if (portOk(ports, t.port)) push(out, t.issuer, t.port);
      break;
    case 'vendor':
      push(out, ev.vendor ?? undefined);
      break;
    case 'deviceType':
      push(out, ev.type);
      break;
    case 'openPort':
      break;
  }
  return out;
}

function clip(s: string): string {
  const one = s.replace(/\s+/g, ' ').trim();
  return one.length > 200 ? `${one.slice(0, 197)}...` : one;
}

function checkCondition(ev: DeviceEvidence, c: CompiledCondition): MatchedFact | undefined {
  if (c.field === 'openPort') {
    const hit = (ev.openPorts ?? []).find((p) => c.ports!.includes(p.port) && (!c.proto || (p.proto ?? 'tcp') === c.proto));
    return hit ? { field: 'openPort', value: `${hit.port}/${hit.proto ?? 'tcp'}`, port: hit.port } : undefined;
  }
  for (const v of valuesOf(ev, c.field, c.ports, c.path)) {
    if (c.regex!.test(v.value)) {
      const fact: MatchedFact = { field: c.field, value: clip(v.value) };
      if (v.port !== undefined) fact.port = v.port;
      if (v.path !== undefined) fact.path = v.path;
      return fact;
    }
  }
  return undefined;
}

function extractVersion(ev: DeviceEvidence, s: CompiledSignature): string | undefined {
  if (!s.version) return undefined;
  for (const v of valuesOf(ev, s.version.field, s.version.ports, s.version.path)) {
    const m = s.version.regex.exec(v.value);
    const got = m?.groups?.v?.trim();
    if (got) return got;
  }
  return undefined;
}

/** Texts that name the device's model: UPnP model fields, titles, realms, banners, server headers, safe-check pages. */
function modelTexts(ev: DeviceEvidence): string[] {
  const fields: EvidenceField[] = ['upnpModel', 'httpTitle', 'httpRealm', 'httpServer', 'banner', 'ssdpServer'];
  const texts = fields.flatMap((f) => valuesOf(ev, f).map((v) => v.value));
  for (const h of ev.httpProbes ?? []) if (h.status >= 200 && h.status < 300) texts.push(h.body);
  return texts;
}

type SigOutcome = { kind: 'match'; m: VulnMatch } | { kind: 'cleared'; c: VulnCleared } | { kind: 'none' };

function evaluate(ev: DeviceEvidence, entry: KevEntry, s: CompiledSignature): SigOutcome {
  const facts: MatchedFact[] = [];
  for (const c of s.all) {
    const f = checkCondition(ev, c);
    if (!f) return { kind: 'none' };
    facts.push(f);
  }
  const version = extractVersion(ev, s);
  let confidence: Confidence = 'product-family';
  if (entry.affected.allVersions) {
    // Every version of the named models is affected: no version question is left,
    // unless the signature only names a product family.
    if (!s.family) confidence = 'exact-version';
  } else if (version !== undefined) {
    const texts = modelTexts(ev);
    const ranges = (entry.affected.ranges ?? []).filter((_, i) => {
      const re = entry.rangeModels[i];
      return !re || texts.some((t) => re.test(t));
    });
    if (ranges.length) {
      if (ranges.some((r) => inRange(version, r))) confidence = 'exact-version';
      else return { kind: 'cleared', c: { entry, signature: s.name, version } };
    }
  }
  const m: VulnMatch = { entry, signature: s.name, confidence, facts };
  if (version !== undefined) m.version = version;
  return { kind: 'match', m };
}

/** Match one device against the catalog: at most one match per entry, the strongest signature. */
export function matchDevice(ev: DeviceEvidence, catalog: KevCatalog): MatchResult {
  const matches: VulnMatch[] = [];
  const cleared: VulnCleared[] = [];
  for (const entry of catalog.entries) {
    let best: VulnMatch | undefined;
    let clear: VulnCleared | undefined;
    for (const s of entry.signatures) {
      const o = evaluate(ev, entry, s);
      if (o.kind === 'cleared') clear ??= o.c;
      else if (o.kind === 'match') {
        const better =
          !best ||
          (o.m.confidence === 'exact-version' && best.confidence !== 'exact-version') ||
          (o.m.confidence === best.confidence && o.m.facts.length > best.facts.length);
        if (better) best = o.m;
      }
    }
    if (best?.confidence === 'exact-version') matches.push(best);
    else if (clear) cleared.push(clear);
    else if (best) matches.push(best);
  }
  return { matches, cleared };
}

const LOWER: Record<Severity, Severity> = { critical: 'high', high: 'medium', medium: 'low', low: 'low', info: 'info' };

export function adviceFor(entry: KevEntry, confidence: Confidence): string {
  const what = `${entry.vendor} ${entry.product}`;
  const check = confidence === 'product-family' ? `This device looks like a ${what}; check its exact model and firmware version, and ` : '';
  const start = (s: string) => (check ? s.charAt(0).toLowerCase() + s.slice(1) : s);
  let act: string;
  if (entry.fix.available === undefined && !entry.fix.endOfLife) {
    act = `Look on ${entry.vendor}'s support site for firmware that fixes ${entry.cve ?? entry.id} and install it; if there is none, replace the device or isolate it on a separate IoT network with no port forwards.`;
  } else if (entry.fix.available) {
    act = entry.fix.version
      ? `Update the firmware to ${entry.fix.version} or later from ${entry.vendor}'s support site, and until then keep it unreachable from the internet (no port forwards, UPnP off).`
      : `Install the latest firmware from ${entry.vendor}'s support site, and until then keep it unreachable from the internet (no port forwards, UPnP off).`;
  } else {
    act = `No fixed firmware exists${entry.fix.endOfLife ? ' (the vendor ended support)' : ''}: replace the device, or isolate it on a separate IoT network with no port forwards and no access to your other devices.`;
  }
  return check + start(act);
}

export function findingFor(device: DeviceRef, m: VulnMatch): Finding {
  const e = m.entry;
  const evidence: Record<string, unknown> = {
    cve: e.cve,
    vulnerability: e.id,
    vendor: e.vendor,
    product: e.product,
    confidence: m.confidence,
    signature: m.signature,
    matched: m.facts,
    affected: e.affected.text,
    fixAvailable: e.fix.available ?? null,
    botnets: e.botnets,
    sources: e.sources,
  };
  if (m.version !== undefined) evidence.version = m.version;
  if (e.fix.version) evidence.fixedIn = e.fix.version;
  if (e.fix.endOfLife) evidence.endOfLife = true;
  if (e.cisaKev !== undefined) evidence.cisaKev = e.cisaKev;
  if (e.aliases) evidence.aliases = e.aliases;
  return {
    id: 'known-vulnerability',
    severity: m.confidence === 'exact-version' ? e.severity : LOWER[e.severity],
    title: `${e.cve ?? e.id}: ${e.name}${m.confidence === 'product-family' ? ' (product family match)' : ''}`,
    device,
    evidence,
    advice: adviceFor(e, m.confidence),
  };
}

/** `known-vulnerability` findings for one device. */
export function vulnFindings(ev: DeviceEvidence, catalog: KevCatalog): Finding[] {
  const device: DeviceRef = { ip: ev.ip };
  if (ev.mac) device.mac = ev.mac;
  return matchDevice(ev, catalog).matches.map((m) => findingFor(device, m));
}
