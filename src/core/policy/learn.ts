// Learning a device's profile from its traffic and writing it as an RFC 8520
// MUD file. What the device did becomes what it may do, except traffic that
// was part of an attack: flows a detector flagged, and what the heuristics
// here recognise on their own (DNS tunnel names, scans of the LAN, login
// brute force, a private resolver) are left out and reported.
// Remotes are named the way the MUD model wants: the DNS name the device
// looked up (ietf-acldns), the router through controller URNs (RFC 8520 s8),
// multicast groups and LAN peers by address.
import { cidrContains, parseCidr } from '../model/net.js';
import { importMud, IOTGUARD_DEVICE_NODE, IOTGUARD_EXTENSION } from './import.js';
import { isIpv4, mudFileStrict, type AceJson, type MudFileJson } from './mud-schema.js';
import { normalizeDnsName, type MudProfile } from './profile.js';
import type { DeviceTraffic, NetworkContext, ObservedFlow } from './traffic.js';

export interface LearnOptions extends NetworkContext {
  /** When the profile was made (last-update). */
  now: Date;
  /** Distinct LAN peers on one port that make a scan. Default 5. */
  scanPeers?: number;
  /** Connections to one LAN peer's login port that make a brute force. Default 10. */
  bruteForceFlows?: number;
}

export interface Excluded {
  reason: string;
  remote: string;
  port?: number;
  proto: string;
  flows: number;
}

export interface LearnReport {
  device: { mac?: string; ip?: string };
  mud: MudFileJson;
  profile: MudProfile;
  names: string[];
  excluded: Excluded[];
  excludedNames: Array<{ name: string; reason: string }>;
  rules: number;
}

const LOGIN_PORTS = new Set([21, 22, 23, 2323, 3389, 5900]);
const PROTO_NUM: Record<string, number> = { tcp: 6, udp: 17, icmp: 1, icmpv6: 58 };

function isMulticastOrBroadcast(ip: string): boolean {
  if (isIpv4(ip)) {
    const f = Number(ip.split('.')[0]);
    return (f >= 224 && f <= 239) || ip === '255.255.255.255' || ip.endsWith('.255');
  }
  return /^ff/i.test(ip);
}

/** Names that look like a DNS tunnel's: many distinct long labels under one parent. */
export function tunnelLikeParents(names: string[], minNames = 10, minLabel = 16): Set<string> {
  const byParent = new Map<string, Set<string>>();
  for (const raw of names) {
    const n = normalizeDnsName(raw);
    const labels = n.split('.');
    if (labels.length < 3) continue;
    // a tunnel may split data over several labels: take the longest suffix of short labels as the parent
    let i = 0;
    while (i < labels.length - 2 && labels[i].length >= minLabel / 2) i++;
    if (i === 0) continue;
    const parent = labels.slice(i).join('.');
    const data = labels.slice(0, i).join('.');
    let s = byParent.get(parent);
    if (!s) byParent.set(parent, (s = new Set()));
    s.add(data);
  }
  const out = new Set<string>();
  for (const [parent, datas] of byParent) {
    if (datas.size < minNames) continue;
    const lens = [...datas].map((d) => d.length).sort((a, b) => a - b);
    if (lens[Math.floor(lens.length / 2)] >= minLabel) out.add(parent);
  }
  return out;
}

function underAny(name: string, parents: Set<string>): string | undefined {
  for (const p of parents) if (name === p || name.endsWith(`.${p}`)) return p;
  return undefined;
}

type Remote =
  | { kind: 'name'; name: string }
  | { kind: 'net'; net: string }
  | { kind: 'controller'; uri: string };

function remoteOf(f: ObservedFlow, ctx: NetworkContext, lan: ReturnType<typeof parseCidr>): Remote {
  if (f.remoteIp === ctx.router) {
    const port = f.initiator === 'device' ? f.remotePort : undefined;
    if (port === 53) return { kind: 'controller', uri: 'urn:ietf:params:mud:dns' };
    if (port === 123) return { kind: 'controller', uri: 'urn:ietf:params:mud:ntp' };
    return { kind: 'controller', uri: 'urn:ietf:params:mud:gateway' };
  }
  const v4 = isIpv4(f.remoteIp);
  const host = `${f.remoteIp}/${v4 ? 32 : 128}`;
  if (isMulticastOrBroadcast(f.remoteIp) || (v4 && cidrContains(lan, f.remoteIp))) return { kind: 'net', net: host };
  if (f.remoteName) return { kind: 'name', name: normalizeDnsName(f.remoteName) };
  return { kind: 'net', net: host };
}

interface RuleKey {
  initiator: 'device' | 'remote';
  family: 'ipv4' | 'ipv6';
  proto: 'tcp' | 'udp' | 'icmp' | 'icmpv6';
  remote: Remote;
  /** Port on the side that was opened (remote port if the device opened, device port otherwise). */
  port?: number;
  icmpType?: number;
}

function remoteSort(r: Remote): string {
  return r.kind === 'controller' ? `0${r.uri}` : r.kind === 'net' ? `1${r.net}` : `2${r.name}`;
}

function l3(family: 'ipv4' | 'ipv6', proto: number, remote: Remote, side: 'dst' | 'src'): Record<string, unknown> {
  const o: Record<string, unknown> = { protocol: proto };
  if (remote.kind === 'name') o[`ietf-acldns:${side}-dnsname`] = remote.name;
  else if (remote.kind === 'net') o[`${side === 'dst' ? 'destination' : 'source'}-${family === 'ipv4' ? 'ipv4' : 'ipv6'}-network`] = remote.net;
  return o;
}

/** The pair of ACEs (one per policy) that allow a flow and its answers. */
function aces(k: RuleKey): { from: Omit<AceJson, 'name'>; to: Omit<AceJson, 'name'> } {
  const proto = PROTO_NUM[k.proto];
  const accept = { forwarding: 'accept' as const };
  const mud = k.remote.kind === 'controller' ? { 'ietf-mud:mud': { controller: k.remote.uri } } : {};
  const byDevice = k.initiator === 'device';
  const from: Record<string, unknown> = { ...mud, [k.family]: l3(k.family, proto, k.remote, 'dst') };
  const to: Record<string, unknown> = { ...mud, [k.family]: l3(k.family, proto, k.remote, 'src') };
  if (k.proto === 'tcp' || k.proto === 'udp') {
    const port = k.port === undefined ? undefined : { operator: 'eq', port: k.port };
    const dir = k.proto === 'tcp' ? { 'ietf-mud:direction-initiated': byDevice ? 'from-device' : 'to-device' } : {};
    // the opened port is the remote's when the device opened the flow, the device's otherwise
    from[k.proto] = { ...(port ? { [byDevice ? 'destination-port' : 'source-port']: port } : {}), ...dir };
    to[k.proto] = { ...(port ? { [byDevice ? 'source-port' : 'destination-port']: port } : {}), ...dir };
  } else if (k.icmpType !== undefined) {
    const reply = k.icmpType === 8 ? 0 : k.icmpType === 128 ? 129 : undefined;
    (byDevice ? from : to).icmp = { type: k.icmpType };
    if (reply !== undefined) (byDevice ? to : from).icmp = { type: reply };
  }
  return { from: { matches: from as AceJson['matches'], actions: accept }, to: { matches: to as AceJson['matches'], actions: accept } };
}

export function learnProfile(traffic: DeviceTraffic, opts: LearnOptions): LearnReport {
  const lan = parseCidr(opts.lan);
  const scanPeers = opts.scanPeers ?? 5;
  const bruteFlows = opts.bruteForceFlows ?? 10;
  const excluded: Excluded[] = [];
  const excludedNames: Array<{ name: string; reason: string }> = [];

  // names: detector-flagged and tunnel-shaped ones are out
  const tunnelParents = tunnelLikeParents(traffic.queries.map((q) => q.name));
  const badName = (n: string): string | undefined => {
    const flagged = traffic.queries.find((q) => normalizeDnsName(q.name) === n && q.suspicious);
    if (flagged) return flagged.suspicious;
    const p = underAny(n, tunnelParents);
    return p ? `dns-tunnel (many long random names under ${p})` : undefined;
  };
  for (const n of [...new Set(traffic.queries.map((q) => normalizeDnsName(q.name)))].sort()) {
    const why = badName(n);
    if (why) excludedNames.push({ name: n, reason: why });
  }
  // LAN scans and login brute force: per (proto, port), how many LAN peers; per peer, how many connections
  const lanPeer = (f: ObservedFlow) => f.initiator === 'device' && f.remoteIp !== opts.router && isIpv4(f.remoteIp) && cidrContains(lan, f.remoteIp) && !isMulticastOrBroadcast(f.remoteIp);
  const peersByPort = new Map<string, Set<string>>();
  for (const f of traffic.flows) {
    if (!lanPeer(f)) continue;
    const k = `${f.proto}/${f.remotePort}`;
    let s = peersByPort.get(k);
    if (!s) peersByPort.set(k, (s = new Set()));
    s.add(f.remoteIp);
  }
  const why = (f: ObservedFlow): string | undefined => {
    if (f.suspicious) return f.suspicious;
    if (f.remoteName) {
      const n = badName(normalizeDnsName(f.remoteName));
      if (n) return n;
    }
    if (lanPeer(f)) {
      const peers = peersByPort.get(`${f.proto}/${f.remotePort}`)?.size ?? 0;
      if (peers >= scanPeers) return `lateral-scan (${peers} LAN peers on ${f.proto}/${f.remotePort})`;
      if (f.remotePort !== undefined && LOGIN_PORTS.has(f.remotePort) && (f.flows ?? 1) >= bruteFlows) return `login-brute-force (${f.flows} connections)`;
    }
    if (f.initiator === 'device' && f.remotePort === 53 && f.remoteIp !== opts.router && !isMulticastOrBroadcast(f.remoteIp)) return 'dns-bypass (its own resolver instead of the router)';
    if (f.proto === 'other') return 'not TCP, UDP or ICMP';
    return undefined;
  };

  const keys = new Map<string, RuleKey>();
  const excl = new Map<string, Excluded>();
  for (const f of traffic.flows) {
    const reason = why(f);
    if (reason) {
      const remote = f.remoteName ? `${normalizeDnsName(f.remoteName)} (${f.remoteIp})` : f.remoteIp;
      const port = f.initiator === 'device' ? f.remotePort : f.localPort;
      // traffic to LAN peers (scans above all) is summarised per port, not per peer
      const peerScope = lanPeer(f) ? lan.text : remote;
      const ek = `${reason}|${peerScope}|${f.proto}|${port}`;
      const e = excl.get(ek) ?? { reason, remote: peerScope, proto: f.proto, flows: 0, ...(port !== undefined ? { port } : {}) };
      e.flows += f.flows ?? 1;
      excl.set(ek, e);
      continue;
    }
    const proto = f.proto as RuleKey['proto'];
    const k: RuleKey = { initiator: f.initiator, family: f.family, proto, remote: remoteOf(f, opts, lan) };
    const port = f.initiator === 'device' ? f.remotePort : f.localPort;
    if ((proto === 'tcp' || proto === 'udp') && port !== undefined) k.port = port;
    if ((proto === 'icmp' || proto === 'icmpv6') && f.icmpType !== undefined) k.icmpType = f.icmpType;
    keys.set(JSON.stringify([k.initiator, k.family, k.proto, remoteSort(k.remote), k.port ?? -1, k.icmpType ?? -1]), k);
  }
  excluded.push(...[...excl.values()].sort((a, b) => a.reason.localeCompare(b.reason) || a.remote.localeCompare(b.remote) || (a.port ?? 0) - (b.port ?? 0)));

  const sorted = [...keys.entries()].sort((a, b) => a[0].localeCompare(b[0])).map(([, k]) => k);
  const id = (traffic.mac ?? traffic.ip ?? 'device').replace(/[^0-9A-Za-z]/g, '').toLowerCase();
  const acl: Record<string, Array<{ name: string; matches: AceJson['matches']; actions: AceJson['actions'] }>> = {};
  for (const k of sorted) {
    const pair = aces(k);
    for (const [dir, ace] of [['from', pair.from], ['to', pair.to]] as const) {
      const aclName = `${dir}-${k.family}-${id}`;
      const list = (acl[aclName] ??= []);
      list.push({ name: `${aclName}-${list.length}`, matches: ace.matches, actions: ace.actions });
    }
  }
  const aclNames = Object.keys(acl).sort();
  const device: Record<string, string> = {};
  if (traffic.mac) device.mac = traffic.mac.toLowerCase();
  if (traffic.ip) device.ip = traffic.ip;
  const doc = {
    'ietf-mud:mud': {
      'mud-version': 1 as const,
      'mud-url': `https://iotguard.invalid/learned/${id}`,
      'last-update': opts.now.toISOString().replace(/\.\d{3}Z$/, 'Z'),
      'cache-validity': 48,
      'is-supported': true,
      systeminfo: `learned by iotguard from traffic of ${traffic.mac ?? traffic.ip ?? 'a device'}`.slice(0, 60),
      extensions: [IOTGUARD_EXTENSION],
      [IOTGUARD_DEVICE_NODE]: device,
      'from-device-policy': { 'access-lists': { 'access-list': aclNames.filter((n) => n.startsWith('from-')).map((name) => ({ name })) } },
      'to-device-policy': { 'access-lists': { 'access-list': aclNames.filter((n) => n.startsWith('to-')).map((name) => ({ name })) } },
    },
    'ietf-access-control-list:acls': {
      acl: aclNames.map((name) => ({ name, type: name.includes('-ipv6-') ? 'ipv6-acl-type' : 'ipv4-acl-type', aces: { ace: acl[name] } })),
    },
  };
  // what we write must pass our own model, strictly, and import back
  const strict = mudFileStrict.safeParse(doc);
  if (!strict.success) throw new Error(`learned MUD file fails the schema: ${strict.error.issues[0]?.path.join('/')}: ${strict.error.issues[0]?.message}`);
  const back = importMud(doc);
  if (!back.ok) throw new Error(`learned MUD file does not import: ${back.reason}`);
  const names = [...new Set(sorted.filter((k) => k.remote.kind === 'name').map((k) => (k.remote as { name: string }).name))].sort();
  return { device, mud: doc as unknown as MudFileJson, profile: back.profile, names, excluded, excludedNames, rules: back.profile.rules.length };
}
