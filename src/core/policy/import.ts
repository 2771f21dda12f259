// Reading a MUD file: validate the JSON against the zod model, check what the
// schema cannot (ACL references, YANG choices, protocol/port consistency), and
// normalize it into a MudProfile. A file is either imported (with warnings for
// tolerated quirks) or rejected with a reason that names the offending JSON
// path (RFC 6901 pointer).
import type { z } from 'zod';
import { isIpv4, mudFile, type AceJson, type AclJson, type MudDirection, type PortMatchJson } from './mud-schema.js';
import { normalizeDnsName, type MudAbstraction, type MudProfile, type PolicyRule, type PortSpec, type RuleEndpoint } from './profile.js';

export interface ImportIssue {
  /** RFC 6901 JSON pointer, e.g. /ietf-access-control-list:acls/acl/0/aces/ace/2/matches/ipv4/protocol */
  path: string;
  message: string;
}

/** The device a learned file was made for (iotguard's `iotguard:device` extension node). */
export interface LearnedDevice {
  mac: string;
  ip?: string;
}

export const IOTGUARD_EXTENSION = 'iotguard-device';
export const IOTGUARD_DEVICE_NODE = 'iotguard:device';

export type ImportResult =
  | { ok: true; profile: MudProfile; warnings: ImportIssue[]; device?: LearnedDevice }
  | { ok: false; reason: string; errors: ImportIssue[]; warnings: ImportIssue[] };

export function jsonPointer(path: ReadonlyArray<PropertyKey>): string {
  if (path.length === 0) return '/';
  return path.map((p) => `/${String(p).replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
}

/** What older MUD / ACL drafts called things, so a rejection can say what RFC 8520 expects instead. */
const DRAFT_HINTS: Record<string, string> = {
  'access-list-entries': "pre-RFC 8519 draft layout; RFC 8519 names this container 'aces'",
  'rule-name': "pre-RFC 8519 draft layout; RFC 8519 names an ACE by 'name'",
  'acl-name': "pre-RFC 8520 draft layout; RFC 8520 names an access list by 'name'",
  'acl-type': "pre-RFC 8519 draft layout; RFC 8519 uses 'type'",
  'ipv4-acl': "pre-RFC 8519 draft layout; RFC 8519 uses 'ipv4'",
  'ipv6-acl': "pre-RFC 8519 draft layout; RFC 8519 uses 'ipv6'",
  'ietf-mud:mud-acl': "pre-RFC 8520 draft layout; RFC 8520 uses 'ietf-mud:mud'",
  'ietf-mud:same-manufacturer': "pre-RFC 8520 draft layout; RFC 8520 puts same-manufacturer inside 'ietf-mud:mud'",
  'destination-port-range': "pre-RFC 8519 draft layout; RFC 8519 puts ports in tcp/udp 'destination-port'",
  'source-port-range': "pre-RFC 8519 draft layout; RFC 8519 puts ports in tcp/udp 'source-port'",
  'destination-port-range-or-operator': "pre-RFC 8519 draft layout; RFC 8519 puts ports in tcp/udp 'destination-port'",
  'source-port-range-or-operator': "pre-RFC 8519 draft layout; RFC 8519 puts ports in tcp/udp 'source-port'",
};

function valueAt(json: unknown, path: ReadonlyArray<PropertyKey>): unknown {
  let v: unknown = json;
  for (const k of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[k as string];
  }
  return v;
}

function zodIssues(error: z.ZodError, json: unknown): ImportIssue[] {
  const out: ImportIssue[] = [];
  for (const i of error.issues) {
    if (i.code === 'unrecognized_keys') {
      for (const k of i.keys) {
        const hint = DRAFT_HINTS[k];
        out.push({ path: jsonPointer([...i.path, k]), message: `unknown node '${k}'${hint ? ` (${hint})` : ''}` });
      }
    } else if (i.code !== 'custom' && valueAt(json, i.path) === undefined) {
      out.push({ path: jsonPointer(i.path), message: 'required node is missing' });
    } else {
      out.push({ path: jsonPointer(i.path), message: i.message });
    }
  }
  return out;
}

function portSpec(p: PortMatchJson | undefined): PortSpec | undefined {
  if (!p) return undefined;
  if (p['lower-port'] !== undefined && p['upper-port'] !== undefined) return { lo: p['lower-port'], hi: p['upper-port'] };
  const port = p.port as number;
  switch (p.operator ?? 'eq') {
    case 'lte':
      return { lo: 0, hi: port };
    case 'gte':
      return { lo: port, hi: 65535 };
    case 'neq':
      return { neq: port };
    default:
      return { lo: port, hi: port };
  }
}

function abstraction(m: AceJson['matches']['ietf-mud:mud']): MudAbstraction | undefined {
  if (!m) return undefined;
  if (m.manufacturer !== undefined) return { kind: 'manufacturer', authority: m.manufacturer.toLowerCase() };
  if (m['same-manufacturer'] !== undefined) return { kind: 'same-manufacturer' };
  if (m.model !== undefined) return { kind: 'model', url: m.model };
  if (m['local-networks'] !== undefined) return { kind: 'local-networks' };
  if (m.controller !== undefined) return { kind: 'controller', uri: m.controller };
  if (m['my-controller'] !== undefined) return { kind: 'my-controller' };
  return undefined;
}

function isMulticastOrBroadcastV4(net: string): boolean {
  const ip = net.split('/')[0];
  if (!isIpv4(ip)) return false;
  const first = Number(ip.split('.')[0]);
  return (first >= 224 && first <= 239) || ip === '255.255.255.255';
}

interface AceContext {
  aclPath: Array<string | number>;
  aclType: string | undefined;
  draft: boolean;
  errors: ImportIssue[];
  warnings: ImportIssue[];
}

function checkAce(a: AceJson, idx: number, ctx: AceContext): boolean {
  const p = (...rest: Array<string | number>) => jsonPointer([...ctx.aclPath, 'aces', 'ace', idx, 'matches', ...rest]);
  const m = a.matches;
  const before = ctx.errors.length;
  if (m.ipv4 && m.ipv6) ctx.errors.push({ path: p('ipv6'), message: 'an ACE matches ipv4 or ipv6, not both (RFC 8519 choice l3)' });
  const l4 = (['tcp', 'udp', 'icmp'] as const).filter((k) => m[k] !== undefined);
  if (l4.length > 1) ctx.errors.push({ path: p(l4[1]), message: `an ACE matches one of tcp, udp, icmp, not ${l4.join(' and ')} (RFC 8519 choice l4)` });
  const l3 = m.ipv4 ?? m.ipv6;
  const l3Key = m.ipv4 ? 'ipv4' : 'ipv6';
  if (l4.length === 1 && !l3) {
    ctx.errors.push({ path: p(l4[0]), message: `a ${l4[0]} match needs an ipv4 or ipv6 match beside it to say which IP version` });
  }
  if (l3 && l4.length === 1 && l3.protocol !== undefined) {
    const want = l4[0] === 'tcp' ? [6] : l4[0] === 'udp' ? [17] : m.ipv4 ? [1] : [58];
    if (!want.includes(l3.protocol)) ctx.errors.push({ path: p(l3Key, 'protocol'), message: `protocol ${l3.protocol} contradicts the ${l4[0]} match beside it (expected ${want.join(' or ')})` });
  }
  if (l3) {
    const dstNet = m.ipv4?.['destination-ipv4-network'] ?? m.ipv6?.['destination-ipv6-network'];
    const srcNet = m.ipv4?.['source-ipv4-network'] ?? m.ipv6?.['source-ipv6-network'];
    if (dstNet !== undefined && l3['ietf-acldns:dst-dnsname'] !== undefined) ctx.errors.push({ path: p(l3Key, 'ietf-acldns:dst-dnsname'), message: 'dst-dnsname and a destination network are alternatives of one choice (RFC 8520 s8.1); use one' });
    if (srcNet !== undefined && l3['ietf-acldns:src-dnsname'] !== undefined) ctx.errors.push({ path: p(l3Key, 'ietf-acldns:src-dnsname'), message: 'src-dnsname and a source network are alternatives of one choice (RFC 8520 s8.1); use one' });
  }
  const t = ctx.aclType;
  const typeErr = (key: string, why: string) => ctx.errors.push({ path: p(key), message: `${why} in an ACL of type ${t}` });
  if (t === 'ipv4-acl-type') {
    if (m.ipv6) typeErr('ipv6', 'ipv6 match');
    if (m.eth) {
      if (ctx.draft) ctx.warnings.push({ path: p('eth'), message: `eth match in an ACL of type ${t}: tolerated (MUDgee writes this), the eth condition is ignored` });
      else typeErr('eth', 'eth match');
    }
  } else if (t === 'ipv6-acl-type') {
    if (m.ipv4) typeErr('ipv4', 'ipv4 match');
    if (m.eth) {
      if (ctx.draft) ctx.warnings.push({ path: p('eth'), message: `eth match in an ACL of type ${t}: tolerated, the eth condition is ignored` });
      else typeErr('eth', 'eth match');
    }
  } else if (t === 'eth-acl-type' || t === 'ethernet-acl-type') {
    if (m.ipv4 || m.ipv6 || l4.length) typeErr(m.ipv4 ? 'ipv4' : m.ipv6 ? 'ipv6' : l4[0], 'an IP or transport match');
  } else if (t === 'mixed-eth-ipv4-acl-type' && m.ipv6) typeErr('ipv6', 'ipv6 match');
  else if (t === 'mixed-eth-ipv6-acl-type' && m.ipv4) typeErr('ipv4', 'ipv4 match');
  if (m['egress-interface'] !== undefined || m['ingress-interface'] !== undefined) {
    ctx.warnings.push({ path: p(m['egress-interface'] !== undefined ? 'egress-interface' : 'ingress-interface'), message: 'interface matches are device-local in RFC 8519 and meaningless in a MUD file; the ACE is kept without them' });
  }
  return ctx.errors.length === before;
}

function buildRule(a: AceJson, acl: AclJson, aceIdx: number, aclPath: Array<string | number>, direction: MudDirection, warnings: ImportIssue[]): PolicyRule {
  const m = a.matches;
  const path = jsonPointer([...aclPath, 'aces', 'ace', aceIdx]);
  const fromDevice = direction === 'from-device';
  const l3 = m.ipv4 ?? m.ipv6;
  const family: PolicyRule['family'] = m.ipv4 ? 'ipv4' : m.ipv6 ? 'ipv6' : m.eth ? 'eth' : acl.type === 'ipv6-acl-type' ? 'ipv6' : 'ipv4';
  const dst: RuleEndpoint = {};
  const src: RuleEndpoint = {};
  if (l3) {
    const dn = l3['ietf-acldns:dst-dnsname'];
    const sn = l3['ietf-acldns:src-dnsname'];
    // inet:host allows an address where a name is expected: treat it as the /32 (/128) it is
    const host = (h: string, ep: RuleEndpoint) => {
      if (isIpv4(h)) ep.net = `${h}/32`;
      else if (h.includes(':')) ep.net = `${h}/128`;
      else ep.name = normalizeDnsName(h);
    };
    if (dn) host(dn, dst);
    if (sn) host(sn, src);
    const dnet = m.ipv4?.['destination-ipv4-network'] ?? m.ipv6?.['destination-ipv6-network'];
    const snet = m.ipv4?.['source-ipv4-network'] ?? m.ipv6?.['source-ipv6-network'];
    if (dnet) dst.net = dnet.includes('/') ? dnet : `${dnet}/128`;
    if (snet) src.net = snet.includes('/') ? snet : `${snet}/128`;
  }
  const remote = fromDevice ? dst : src;
  const local = fromDevice ? src : dst;
  const abs = abstraction(m['ietf-mud:mud']);
  if (abs) {
    // MUDgee pairs local-networks with the multicast/broadcast group it saw:
    // the group is the sharper condition and is link-local by nature.
    if (abs.kind === 'local-networks' && remote.net && isMulticastOrBroadcastV4(remote.net)) {
      /* keep the group only */
    } else remote.mud = abs;
  }
  const l4 = m.tcp ?? m.udp;
  const dport = portSpec(l4?.['destination-port']);
  const sport = portSpec(l4?.['source-port']);
  let protocol = l3?.protocol;
  if (protocol === undefined) protocol = m.tcp ? 6 : m.udp ? 17 : m.icmp ? (m.ipv6 ? 58 : 1) : undefined;
  const rule: PolicyRule = {
    id: `${acl.name}/${a.name}`,
    path,
    direction,
    family,
    remote,
    action: a.actions.forwarding,
  };
  if (protocol !== undefined) rule.protocol = protocol;
  if (Object.keys(local).length) {
    rule.local = local;
    warnings.push({ path, message: `the ACE restricts the device's own ${fromDevice ? 'source' : 'destination'} (${local.name ?? local.net}); iotguard identifies devices by MAC, so that condition is ignored` });
  }
  const remotePort = fromDevice ? dport : sport;
  const localPort = fromDevice ? sport : dport;
  if (remotePort) rule.remotePort = remotePort;
  if (localPort) rule.localPort = localPort;
  if (m.icmp && (m.icmp.type !== undefined || m.icmp.code !== undefined)) {
    rule.icmp = {};
    if (m.icmp.type !== undefined) rule.icmp.type = m.icmp.type;
    if (m.icmp.code !== undefined) rule.icmp.code = m.icmp.code;
  }
  const init = m.tcp?.['ietf-mud:direction-initiated'];
  if (init) rule.initiatedBy = init;
  if (m.eth && family === 'eth') {
    rule.eth = {};
    if (m.eth.ethertype !== undefined) rule.eth.ethertype = m.eth.ethertype;
    const mac = fromDevice ? m.eth['destination-mac-address'] : m.eth['source-mac-address'];
    if (mac) rule.eth.remoteMac = mac.toLowerCase();
  }
  return rule;
}

/** Validate and normalize one parsed MUD document. Never throws. */
export function importMud(json: unknown): ImportResult {
  const warnings: ImportIssue[] = [];
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    return { ok: false, reason: '/: a MUD file is a JSON object with an ietf-mud:mud member', errors: [{ path: '/', message: 'a MUD file is a JSON object with an ietf-mud:mud member' }], warnings };
  }
  const parsed = mudFile.safeParse(json);
  if (!parsed.success) {
    const errors = zodIssues(parsed.error, json);
    return { ok: false, reason: `${errors[0].path}: ${errors[0].message}`, errors, warnings };
  }
  const doc = parsed.data;
  const errors: ImportIssue[] = [];
  const rfc = doc['ietf-access-control-list:acls'];
  const draft = doc['ietf-access-control-list:access-lists'];
  if (rfc && draft) errors.push({ path: '/ietf-access-control-list:access-lists', message: "both 'acls' and the draft 'access-lists' container; keep only 'ietf-access-control-list:acls'" });
  const container = rfc ? 'ietf-access-control-list:acls' : 'ietf-access-control-list:access-lists';
  const aclList = (rfc ?? draft)?.acl ?? [];
  if (draft && !rfc) {
    warnings.push({ path: '/ietf-access-control-list:access-lists', message: "pre-RFC 8519 container name 'access-lists' (written by MUDgee/osMUD): read as 'acls'" });
  }
  const mud = doc['ietf-mud:mud'];
  let device: LearnedDevice | undefined;
  const dev = (mud as Record<string, unknown>)[IOTGUARD_DEVICE_NODE];
  if (dev !== undefined) {
    const d = dev as { mac?: unknown; ip?: unknown };
    if (typeof d.mac === 'string' && /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i.test(d.mac)) {
      device = { mac: d.mac.toLowerCase() };
      if (typeof d.ip === 'string' && isIpv4(d.ip)) device.ip = d.ip;
    } else warnings.push({ path: jsonPointer(['ietf-mud:mud', IOTGUARD_DEVICE_NODE, 'mac']), message: 'not a MAC address; the device binding is ignored' });
  }
  for (const k of Object.keys(mud)) {
    if (k === IOTGUARD_DEVICE_NODE) continue;
    if (k.includes(':')) warnings.push({ path: jsonPointer(['ietf-mud:mud', k]), message: `extension node '${k}' is not understood and is ignored` });
  }
  for (const k of ['systeminfo', 'mfg-name', 'model-name', 'firmware-rev', 'software-rev'] as const) {
    const v = mud[k];
    if (v !== undefined && v.length > 60) warnings.push({ path: jsonPointer(['ietf-mud:mud', k]), message: `longer than the 60 characters RFC 8520 allows; shown truncated` });
  }
  for (const ext of (mud.extensions ?? []).filter((x) => x !== IOTGUARD_EXTENSION)) warnings.push({ path: '/ietf-mud:mud/extensions', message: `extension '${ext}' is not implemented; its nodes are ignored` });

  // ACL names are list keys: unique (RFC 8519); so are ACE names within an ACL.
  const byName = new Map<string, number>();
  aclList.forEach((a, i) => {
    if (byName.has(a.name)) errors.push({ path: jsonPointer([container, 'acl', i, 'name']), message: `duplicate ACL name '${a.name}'` });
    else byName.set(a.name, i);
    const seen = new Set<string>();
    (a.aces?.ace ?? []).forEach((e, j) => {
      if (seen.has(e.name)) errors.push({ path: jsonPointer([container, 'acl', i, 'aces', 'ace', j, 'name']), message: `duplicate ACE name '${e.name}' in ACL '${a.name}'` });
      seen.add(e.name);
    });
  });

  const refs: Array<{ direction: MudDirection; aclIdx: number }> = [];
  for (const direction of ['from-device', 'to-device'] as const) {
    const pol = mud[`${direction}-policy`];
    (pol?.['access-lists']['access-list'] ?? []).forEach((ref, i) => {
      const idx = byName.get(ref.name);
      if (idx === undefined) {
        errors.push({ path: jsonPointer(['ietf-mud:mud', `${direction}-policy`, 'access-lists', 'access-list', i, 'name']), message: `names ACL '${ref.name}', which the file does not define` });
      } else refs.push({ direction, aclIdx: idx });
    });
  }
  const used = new Set(refs.map((r) => r.aclIdx));
  aclList.forEach((a, i) => {
    if (!used.has(i)) warnings.push({ path: jsonPointer([container, 'acl', i]), message: `ACL '${a.name}' is not named by either policy and is ignored` });
    if (a.type === 'ethernet-acl-type') {
      if (rfc) errors.push({ path: jsonPointer([container, 'acl', i, 'type']), message: "unknown ACL type 'ethernet-acl-type' (RFC 8519 calls it 'eth-acl-type')" });
      else warnings.push({ path: jsonPointer([container, 'acl', i, 'type']), message: "draft ACL type 'ethernet-acl-type' read as eth-acl-type" });
    }
  });
  if (refs.length === 0) warnings.push({ path: '/ietf-mud:mud', message: 'the file names no access lists: the device is allowed nothing beyond DHCP and DNS' });

  const rules: PolicyRule[] = [];
  for (const { direction, aclIdx } of refs) {
    const a = aclList[aclIdx];
    const aclPath = [container, 'acl', aclIdx];
    const ctx: AceContext = { aclPath, aclType: a.type, draft: !rfc, errors, warnings };
    (a.aces?.ace ?? []).forEach((e, j) => {
      if (checkAce(e, j, ctx)) rules.push(buildRule(e, a, j, aclPath, direction, warnings));
    });
  }
  if (errors.length) return { ok: false, reason: `${errors[0].path}: ${errors[0].message}`, errors, warnings };

  const url = mud['mud-url'];
  const profile: MudProfile = {
    url,
    authority: new URL(url).host.toLowerCase(),
    lastUpdate: mud['last-update'],
    cacheValidity: mud['cache-validity'] ?? 48,
    isSupported: mud['is-supported'],
    extensions: mud.extensions ?? [],
    dialect: rfc || !draft ? 'rfc8520' : 'draft',
    rules,
  };
  if (mud.systeminfo !== undefined) profile.systeminfo = mud.systeminfo.slice(0, 60);
  if (mud['mfg-name'] !== undefined) profile.mfgName = mud['mfg-name'].slice(0, 60);
  if (mud['model-name'] !== undefined) profile.modelName = mud['model-name'].slice(0, 60);
  return device ? { ok: true, profile, warnings, device } : { ok: true, profile, warnings };
}

/** Parse text, then import. A JSON syntax error is a rejection too, with the offset in the reason. */
export function importMudText(text: string): ImportResult {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    const msg = `not JSON: ${(e as Error).message}`;
    return { ok: false, reason: `/: ${msg}`, errors: [{ path: '/', message: msg }], warnings: [] };
  }
  return importMud(json);
}
