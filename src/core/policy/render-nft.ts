// Renders the MUD profiles of a whole LAN into one nftables ruleset for a
// Linux router whose LAN is a bridge:
//   table inet iotguard    stateful: what each device may send through the
//                          router (routed egress, new inbound connections to
//                          it) and to the router itself (DHCP, DNS, controllers)
//   table bridge iotguard  client isolation between bridge ports: a frame from
//                          one device to another passes only if the sender's
//                          profile allows the peer and the receiver's allows
//                          the sender. The bridge family has no conntrack here
//                          (CONFIG_NF_CONNTRACK_BRIDGE is often off), so replies
//                          are allowed statelessly: reverse ports, and for TCP
//                          no bare SYN against the allowed direction.
// plus the dnsmasq `nftset=` lines that fill the name sets from DNS answers.
// Output is a pure function of the input: devices sorted by MAC, rules in
// profile order, sets and names sorted.
import { cidrContains, ipv4ToInt, normalizeMac, parseCidr } from '../model/net.js';
import { isIpv4, isIpv6 } from './mud-schema.js';
import type { MudProfile, PolicyRule, PortSpec } from './profile.js';
import { portText } from './profile.js';

export type DeviceMode = 'enforce' | 'no-internet' | 'quarantine';

export interface DeviceBinding {
  mac: string;
  /** IPv4 address, when known: needed to police new inbound connections (port mappings). */
  ip?: string;
  label?: string;
  /** Required in enforce mode; optional otherwise (then LAN peers are isolated). */
  profile?: MudProfile;
  mode: DeviceMode;
}

export interface RenderOptions {
  /** The LAN, e.g. 192.168.77.0/24. */
  lan: string;
  /** The router's LAN address (DHCP/DNS server). Default: the LAN's first host. */
  router?: string;
  /** Extra routed local prefixes that count as local-networks (the LAN always does). */
  localNetworks?: string[];
  /** Controller URI -> addresses (RFC 8520 `controller`). urn:ietf:params:mud:{dns,ntp,gateway} default to the router. */
  controllers?: Record<string, string[]>;
  /** MUD URL -> addresses of that device's controller (RFC 8520 `my-controller`). */
  myControllers?: Record<string, string[]>;
  /** nftables table name (both families). Default iotguard. */
  table?: string;
  /** Drop DNS queries to the router larger than this (UDP length, bytes): DNS-tunnel guard. 0 disables. Default 200. */
  dnsMaxUdpLength?: number;
  /** Per-device DNS query rate limit (packets/second) before drops. 0 disables. Default 20. */
  dnsRatePerSecond?: number;
  /** Answer only DNS queries for the names in the device's profile (exact, lower-case QNAME on the wire). */
  dnsAllowlist?: boolean;
}

export interface NameSet {
  table: 'inet';
  name: string;
  family: 'ipv4' | 'ipv6';
  device: string;
  names: string[];
}

export interface RenderResult {
  /** The nftables script (`nft -f`). */
  nft: string;
  /** dnsmasq configuration lines (nftset=) that keep the name sets in step with DNS answers. */
  dnsmasq: string;
  sets: NameSet[];
  /** Rules that could not be enforced as written (they fail closed) and other notes. */
  notes: string[];
  table: string;
}

const WELL_KNOWN_ROUTER_CONTROLLERS = ['urn:ietf:params:mud:dns', 'urn:ietf:params:mud:ntp', 'urn:ietf:params:mud:gateway'];

/** Where the far end of a rule lives, from the router's point of view. */
interface Targets {
  router: boolean;
  /** LAN-side prefixes (bridge table). */
  lanNets: string[];
  /** LAN peers by MAC (bridge table). */
  lanMacs: string[];
  /** Routed prefixes (inet forward). */
  routedNets: string[];
  /** Name sets (inet forward). */
  names: string[];
  /** No address condition at all: everywhere. */
  any: boolean;
  unresolved?: string;
}

/** Text from a MUD file is untrusted: keep printable ASCII only, without quotes or backslashes. */
function clean(s: string): string {
  return s.replace(/[^\x20-\x7e]/g, '?').replace(/["\\]/g, '');
}

function q(s: string): string {
  return `"${clean(s)}"`;
}

function isMulticastOrBroadcast(net: string): boolean {
  const ip = net.split('/')[0];
  if (isIpv4(ip)) {
    const first = Number(ip.split('.')[0]);
    return (first >= 224 && first <= 239) || ip === '255.255.255.255';
  }
  return /^ff/i.test(ip);
}

function v6IsLocal(net: string): boolean {
  return /^(fe[89ab]|f[cd]|ff)/i.test(net.split('/')[0]);
}

/** True when the IPv4 prefix `inner` lies inside `outer`. */
function v4Within(inner: string, outer: string): boolean {
  const a = parseCidr(inner);
  const b = parseCidr(outer);
  return a.prefix >= b.prefix && cidrContains(b, inner.split('/')[0]);
}

function setElems(items: string[]): string {
  return items.length === 1 ? items[0] : `{ ${items.join(', ')} }`;
}

function portExpr(spec: PortSpec): string {
  return 'neq' in spec ? `!= ${spec.neq}` : portText(spec);
}

interface Ctx {
  opts: Required<Pick<RenderOptions, 'lan' | 'router' | 'table' | 'dnsMaxUdpLength' | 'dnsRatePerSecond'>> & RenderOptions;
  devices: Array<DeviceBinding & { id: string; mac: string }>;
  notes: string[];
  sets: NameSet[];
}

function resolveTargets(ctx: Ctx, dev: Ctx['devices'][number], r: PolicyRule): Targets {
  const t: Targets = { router: false, lanNets: [], lanMacs: [], routedNets: [], names: [], any: false };
  const { lan, router } = ctx.opts;
  const addIp = (net: string) => {
    const ip = net.split('/')[0];
    if (isIpv4(ip)) {
      if (net === `${router}/32` || net === router) t.router = true;
      else if (isMulticastOrBroadcast(net)) {
        t.lanNets.push(net);
        t.router = true;
      } else if (v4Within(net.includes('/') ? net : `${net}/32`, lan)) t.lanNets.push(net);
      else if (v4Within(lan, net.includes('/') ? net : `${net}/32`)) {
        // a prefix that contains the LAN: both sides
        t.lanNets.push(net);
        t.routedNets.push(net);
      } else t.routedNets.push(net);
    } else if (isIpv6(ip)) {
      if (v6IsLocal(net)) t.lanNets.push(net);
      else t.routedNets.push(net);
    }
  };
  const rm = r.remote;
  if (rm.name) t.names.push(rm.name);
  if (rm.net) addIp(rm.net);
  if (rm.mud) {
    const m = rm.mud;
    const peersWhere = (pred: (p: MudProfile) => boolean) =>
      ctx.devices.filter((d) => d.mac !== dev.mac && d.profile && pred(d.profile)).map((d) => d.mac);
    switch (m.kind) {
      case 'local-networks':
        if (r.family === 'ipv6') {
          t.lanNets.push('fe80::/10', 'fc00::/7');
        } else {
          t.lanNets.push(lan);
          for (const n of ctx.opts.localNetworks ?? []) if (n !== lan) t.routedNets.push(n);
        }
        break;
      case 'same-manufacturer': {
        const macs = peersWhere((p) => p.authority === dev.profile?.authority);
        if (macs.length) t.lanMacs.push(...macs);
        else t.unresolved = `no other device on this LAN has MUD authority ${dev.profile?.authority}`;
        break;
      }
      case 'manufacturer': {
        const macs = peersWhere((p) => p.authority === m.authority);
        if (macs.length) t.lanMacs.push(...macs);
        else t.unresolved = `no device on this LAN has MUD authority ${m.authority}`;
        break;
      }
      case 'model': {
        const macs = peersWhere((p) => p.url === m.url);
        if (macs.length) t.lanMacs.push(...macs);
        else t.unresolved = `no device on this LAN has MUD URL ${m.url}`;
        break;
      }
      case 'controller': {
        const ips = ctx.opts.controllers?.[m.uri] ?? (WELL_KNOWN_ROUTER_CONTROLLERS.includes(m.uri) ? [router] : undefined);
        if (ips?.length) for (const ip of ips) addIp(ip.includes('/') ? ip : `${ip}/${isIpv4(ip) ? 32 : 128}`);
        else t.unresolved = `controller ${m.uri} has no address (give it with --controller ${m.uri}=IP)`;
        break;
      }
      case 'my-controller': {
        const ips = dev.profile ? ctx.opts.myControllers?.[dev.profile.url] : undefined;
        if (ips?.length) for (const ip of ips) addIp(ip.includes('/') ? ip : `${ip}/${isIpv4(ip) ? 32 : 128}`);
        else t.unresolved = `my-controller of ${dev.profile?.url} has no address (give it with --my-controller ${dev.profile?.url}=IP)`;
        break;
      }
    }
  }
  if (!rm.name && !rm.net && !rm.mud) t.any = true;
  if (rm.mud && rm.net && t.unresolved === undefined && rm.mud.kind !== 'local-networks') {
    // both an abstraction and a prefix: keep the prefix's side only (intersection is not expressible per side)
  }
  t.lanNets = [...new Set(t.lanNets)].sort();
  t.routedNets = [...new Set(t.routedNets)].sort();
  t.lanMacs = [...new Set(t.lanMacs)].sort();
  return t;
}

/** Match text for the protocol/port/icmp part of a rule. `outbound` = packet leaves the device. */
function l4Match(r: PolicyRule, outbound: boolean, reply: boolean): string[] {
  const parts: string[] = [];
  const v6 = r.family === 'ipv6';
  const p = r.protocol;
  // the packet's destination port is the remote port when it leaves the device (and not a reply)
  const leaving = outbound !== reply;
  const toRemote = leaving; // packet direction relative to the remote end
  const rp = r.remotePort;
  const lp = r.localPort;
  if (p === 6 || p === 17) {
    const proto = p === 6 ? 'tcp' : 'udp';
    const dport = toRemote ? rp : lp;
    const sport = toRemote ? lp : rp;
    if (!dport && !sport) parts.push(v6 ? `ip6 nexthdr ${proto}` : `ip protocol ${proto}`);
    if (sport) parts.push(`${proto} sport ${portExpr(sport)}`);
    if (dport) parts.push(`${proto} dport ${portExpr(dport)}`);
  } else if (p === 1 || p === 58) {
    const proto = p === 1 ? 'icmp' : 'icmpv6';
    if (reply) {
      // echo-request <-> echo-reply; other ICMP gets no stateless reverse
      if (r.icmp?.type === 8) parts.push('icmp type echo-reply');
      else if (r.icmp?.type === 128) parts.push('icmpv6 type echo-reply');
      else return ['#noreverse'];
    } else if (r.icmp?.type !== undefined) {
      parts.push(`${proto} type ${r.icmp.type}`);
      if (r.icmp.code !== undefined) parts.push(`${proto} code ${r.icmp.code}`);
    } else parts.push(v6 ? `ip6 nexthdr ${proto === 'icmp' ? 'icmp' : 'ipv6-icmp'}` : 'ip protocol icmp');
  } else if (p !== undefined) {
    parts.push(v6 ? `ip6 nexthdr ${p}` : `ip protocol ${p}`);
  } else if (r.family === 'ipv4') {
    parts.push('ether type ip');
  } else if (r.family === 'ipv6') parts.push('ether type ip6');
  return parts;
}

/** Does this rule, read in its own direction, only describe replies (TCP initiated the other way)? */
function replyOnly(r: PolicyRule): boolean {
  return r.protocol === 6 && r.initiatedBy !== undefined && r.initiatedBy !== r.direction;
}

/** May the reverse direction of this rule (the replies) pass statelessly? */
function hasReverse(r: PolicyRule): boolean {
  if (r.protocol === 6) return !replyOnly(r);
  if (r.protocol === 17) return true;
  if (r.protocol === 1) return r.icmp?.type === 8;
  if (r.protocol === 58) return r.icmp?.type === 128;
  return false;
}

function synGuard(r: PolicyRule, reply: boolean): string[] {
  if (r.protocol !== 6) return [];
  // a reply, or a rule that only describes replies, must not open a connection
  if (reply || replyOnly(r)) return ['tcp flags & (syn | ack) != syn'];
  return [];
}

function addrExpr(family: PolicyRule['family'], field: 'saddr' | 'daddr', nets: string[]): string {
  const v6 = family === 'ipv6' || nets.some((n) => isIpv6(n.split('/')[0]));
  return `${v6 ? 'ip6' : 'ip'} ${field} ${setElems(nets)}`;
}

function ruleComment(r: PolicyRule): string {
  return `comment ${q(r.id.slice(0, 120))}`;
}

interface DeviceChains {
  input: string[];
  out: string[];
  wan: string[];
  lanOut: string[];
  lanIn: string[];
}

function renderDevice(ctx: Ctx, dev: Ctx['devices'][number], setDefs: string[]): DeviceChains {
  const c: DeviceChains = { input: [], out: [], wan: [], lanOut: [], lanIn: [] };
  const { dnsMaxUdpLength, dnsRatePerSecond } = ctx.opts;
  // --- to the router. Checked before any conntrack shortcut: a DNS tunnel is
  // one long-lived "established" UDP flow to the resolver.
  c.input.push('ct direction reply accept comment "flows the router opened"');
  c.input.push('udp sport 68 udp dport 67 accept comment "DHCP"');
  if (dev.mode !== 'quarantine') {
    if (dnsMaxUdpLength > 0) c.input.push(`udp dport 53 udp length > ${dnsMaxUdpLength} counter drop comment "DNS query too large: tunnel guard"`);
    if (dnsRatePerSecond > 0) c.input.push(`meta l4proto { tcp, udp } th dport 53 limit rate over ${dnsRatePerSecond}/second burst ${dnsRatePerSecond * 3} packets counter drop comment "DNS rate: tunnel guard"`);
    const names = dev.profile && ctx.opts.dnsAllowlist ? [...new Set(dev.profile.rules.filter((r) => r.remote.name && r.action === 'accept').map((r) => r.remote.name!))].sort() : undefined;
    if (names) {
      for (const n of names) {
        const m = qnameMatch(n);
        if (m) c.input.push(`udp dport 53 ${m} accept comment ${q(`DNS ${n}`.slice(0, 120))}`);
        else ctx.notes.push(`${dev.mac}: DNS name ${n} cannot be matched on the wire; its queries are blocked`);
      }
      c.input.push('meta l4proto { tcp, udp } th dport 53 counter drop comment "DNS name not in the allowlist"');
    } else c.input.push('meta l4proto { tcp, udp } th dport 53 accept comment "DNS"');
    c.input.push('icmp type echo-request accept');
  }
  if (dev.mode === 'quarantine' || !dev.profile) {
    c.input.push('counter drop');
    c.out.push(`counter drop comment ${q(dev.mode === 'quarantine' ? 'quarantined' : 'no internet')}`);
    c.lanOut.push(`counter drop comment ${q(dev.mode === 'quarantine' ? 'quarantined' : 'isolated: no profile')}`);
    c.lanIn.push(`counter drop comment ${q(dev.mode === 'quarantine' ? 'quarantined' : 'isolated: no profile')}`);
    if (dev.ip) c.wan.push('counter drop');
    return c;
  }
  const profile = dev.profile;
  const internet = dev.mode === 'enforce';
  if (internet) {
    c.out.push('ct direction reply accept comment "answers in connections opened towards the device"');
    c.out.push('ct state related accept');
  }
  if (!dev.ip && internet && profile.rules.some((r) => r.direction === 'to-device' && !replyOnly(r))) {
    ctx.notes.push(`${dev.mac}: no IP given, so new inbound connections from outside the LAN (port mappings) to it are not policed`);
  }
  // group name-based rules so one set serves every name with the same conditions
  const groups = new Map<string, { set: NameSet; rules: PolicyRule[] }>();
  const setFor = (r: PolicyRule): string => {
    const key = JSON.stringify([r.direction, r.family, r.protocol, r.remotePort, r.localPort, r.icmp, r.initiatedBy, r.action]);
    let g = groups.get(key);
    if (!g) {
      const name = `${dev.id}_n${groups.size}_${r.family === 'ipv6' ? 'v6' : 'v4'}`;
      g = { set: { table: 'inet', name, family: r.family === 'ipv6' ? 'ipv6' : 'ipv4', device: dev.mac, names: [] }, rules: [] };
      groups.set(key, g);
    }
    if (r.remote.name && !g.set.names.includes(r.remote.name)) g.set.names.push(r.remote.name);
    return g.set.name;
  };
  const emitted = new Set<string>();
  // several ACEs often differ only in the name they allow: they share a set, so one line serves them all
  const push = (list: string[], line: string) => {
    const k = `${list === c.input ? 'i' : list === c.out ? 'o' : list === c.wan ? 'w' : list === c.lanOut ? 'lo' : 'li'}|${line.replace(/ comment ".*"$/, '')}`;
    if (emitted.has(k)) return;
    emitted.add(k);
    list.push(line);
  };
  for (const r of profile.rules) {
    if (r.family === 'eth') {
      // Layer-2 rules (EAPOL, LLDP...) never leave the link; ARP is always allowed.
      continue;
    }
    const t = resolveTargets(ctx, dev, r);
    if (t.unresolved) {
      ctx.notes.push(`${dev.mac} ${r.id}: not enforced (stays blocked): ${t.unresolved}`);
      continue;
    }
    const verdict = r.action === 'accept' ? 'accept' : 'drop';
    const fromDevice = r.direction === 'from-device';
    const cm = ruleComment(r);
    const fwd = l4Match(r, fromDevice, false);
    const rev = hasReverse(r) ? l4Match(r, fromDevice, true) : ['#noreverse'];
    const syn = synGuard(r, false);
    const synRev = synGuard(r, true);
    const remoteField: 'saddr' | 'daddr' = fromDevice ? 'daddr' : 'saddr';
    const revField: 'saddr' | 'daddr' = fromDevice ? 'saddr' : 'daddr';
    const join = (...p: string[]) => p.filter(Boolean).join(' ');
    // ---- the router itself (input): from-device traffic only; the router's own output is not filtered
    if ((t.router || t.any) && fromDevice && !replyOnly(r)) push(c.input, join(...fwd, verdict, cm));
    // ---- routed (inet forward): stateful, so only new connections in the rule's direction
    if (internet && !replyOnly(r)) {
      const where: string[] = [];
      if (t.names.length) where.push(`${r.family === 'ipv6' ? 'ip6' : 'ip'} ${remoteField} @${setFor(r)}`);
      if (t.routedNets.length) where.push(addrExpr(r.family, remoteField, t.routedNets));
      if (t.any) where.push('');
      for (const w of where) {
        if (fromDevice) push(c.out, join(w, ...fwd, verdict, cm));
        else if (dev.ip) push(c.wan, join(w, ...fwd, verdict, cm));
      }
    } else if (!internet && (t.names.length || t.routedNets.length) && fromDevice) {
      // no-internet: routed destinations stay blocked
    }
    if (!internet && t.routedNets.length && t.lanNets.length === 0 && !t.any) continue;
    // ---- LAN peers (bridge forward): stateless, both the rule's direction and its replies
    const lanWhere: Array<{ fwd: string; rev: string }> = [];
    if (t.lanNets.length) lanWhere.push({ fwd: addrExpr(r.family, remoteField, t.lanNets), rev: addrExpr(r.family, revField, t.lanNets) });
    if (t.lanMacs.length) lanWhere.push({ fwd: `ether ${remoteField} ${setElems(t.lanMacs)}`, rev: `ether ${revField} ${setElems(t.lanMacs)}` });
    if (t.any) lanWhere.push({ fwd: '', rev: '' });
    for (const w of lanWhere) {
      const out = fromDevice ? c.lanOut : c.lanIn;
      const back = fromDevice ? c.lanIn : c.lanOut;
      const retVerdict = r.action === 'accept' ? 'return' : 'drop';
      if (!fwd.includes('#noreverse')) push(out, join(w.fwd, ...fwd, ...syn, retVerdict, cm));
      if (!rev.includes('#noreverse') && r.action === 'accept') push(back, join(w.rev, ...rev, ...synRev, 'return', comment(`${r.id} (replies)`)));
    }
  }
  for (const g of [...groups.values()]) {
    g.set.names.sort();
    ctx.sets.push(g.set);
    setDefs.push(`\tset ${g.set.name} {`, `\t\ttype ${g.set.family === 'ipv6' ? 'ipv6_addr' : 'ipv4_addr'}`, `\t\tcomment ${q(`${dev.mac}: ${g.set.names.join(' ').slice(0, 100)}`)}`, '\t}');
  }
  c.input.push('counter drop');
  c.out.push(`counter drop comment ${q(internet ? 'not in the allowlist' : 'no internet')}`);
  if (dev.ip) c.wan.push('counter drop');
  c.lanOut.push('counter drop comment "isolation"');
  c.lanIn.push('counter drop comment "isolation"');
  return c;
}

/**
 * Raw payload match of a DNS question name at its fixed offset (UDP header 8 +
 * DNS header 12 bytes, RFC 1035 s4.1). The wire form with its root label is
 * prefix-free, so matching it whole is an exact name match. nft compares at
 * most 128 bits per expression, so long names take several.
 */
export function qnameMatch(name: string): string | undefined {
  const labels = name.toLowerCase().replace(/\.$/, '').split('.');
  const bytes: number[] = [];
  for (const l of labels) {
    if (l.length === 0 || l.length > 63 || !/^[\x21-\x7e]+$/.test(l)) return undefined;
    bytes.push(l.length, ...[...l].map((ch) => ch.charCodeAt(0)));
  }
  bytes.push(0);
  if (bytes.length > 255) return undefined;
  const parts: string[] = [];
  for (let off = 0; off < bytes.length; off += 16) {
    const chunk = bytes.slice(off, off + 16);
    const hex = chunk.map((b) => b.toString(16).padStart(2, '0')).join('');
    parts.push(`@th,${160 + off * 8},${chunk.length * 8} 0x${hex}`);
  }
  return parts.join(' ');
}

function comment(s: string): string {
  return `comment ${q(s.slice(0, 120))}`;
}

function chain(name: string, lines: string[], hook?: string): string[] {
  return [`\tchain ${name} {`, ...(hook ? [`\t\t${hook}`] : []), ...lines.map((l) => `\t\t${l}`), '\t}'];
}

/** Render the whole LAN. Throws only on unusable options (bad LAN CIDR, duplicate MAC). */
export function renderNftables(bindings: DeviceBinding[], options: RenderOptions): RenderResult {
  const lanCidr = parseCidr(options.lan);
  const router = options.router ?? `${lanCidr.text.split('/')[0].replace(/\d+$/, (d) => String(Number(d) + 1))}`;
  if (ipv4ToInt(router) === undefined) throw new Error(`router address is not IPv4: ${router}`);
  const table = options.table ?? 'iotguard';
  if (!/^[A-Za-z][A-Za-z0-9_]{0,30}$/.test(table)) throw new Error(`bad nftables table name: ${table}`);
  const seen = new Set<string>();
  const devices = [...bindings]
    .map((b) => ({ ...b, mac: normalizeMac(b.mac) }))
    .sort((a, b) => a.mac.localeCompare(b.mac))
    .map((b, i) => {
      if (!/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/.test(b.mac)) throw new Error(`not a MAC address: ${clean(b.mac)}`);
      if (b.ip !== undefined && !isIpv4(b.ip)) throw new Error(`device ${b.mac}: not an IPv4 address: ${clean(b.ip)}`);
      if (seen.has(b.mac)) throw new Error(`device ${b.mac} given twice`);
      seen.add(b.mac);
      if (b.mode === 'enforce' && !b.profile) throw new Error(`device ${b.mac}: enforce mode needs a MUD profile`);
      return { ...b, id: `d${i + 1}` };
    });
  const ctx: Ctx = {
    opts: { ...options, lan: lanCidr.text, router, table, dnsMaxUdpLength: options.dnsMaxUdpLength ?? 200, dnsRatePerSecond: options.dnsRatePerSecond ?? 20 },
    devices,
    notes: [],
    sets: [],
  };
  const setDefs: string[] = [];
  const perDev = devices.map((d) => ({ d, c: renderDevice(ctx, d, setDefs) }));

  const header = [
    '#!/usr/sbin/nft -f',
    '# iotguard policy: per-device allowlists (RFC 8520 MUD) and client isolation.',
    '# Generated by `iotguard policy render`; edit the MUD files, not this file.',
    `# LAN ${lanCidr.text}, router ${router}, ${devices.length} device(s):`,
    ...devices.map((d) => `#   ${d.id} ${d.mac}${d.ip ? ` ${d.ip}` : ''} ${d.mode}${d.profile ? ` ${clean(d.profile.url)}` : ''}${d.label ? ` (${clean(d.label)})` : ''}`),
    '',
    '# replace our tables atomically, leave every other table alone',
    `table inet ${table}`,
    `delete table inet ${table}`,
    `table bridge ${table}`,
    `delete table bridge ${table}`,
    '',
  ];
  const macs = (list: typeof perDev, pick: (c: DeviceChains) => string[], chainName: (id: string) => string) =>
    list.filter(({ c }) => pick(c).length).map(({ d }) => `${d.mac} : jump ${chainName(d.id)}`);

  const inet: string[] = [`table inet ${table} {`, ...setDefs];
  const inVmap = macs(perDev, (c) => c.input, (id) => `${id}_to_router`);
  inet.push(...chain('input', [
    ...(inVmap.length ? [`ether saddr vmap { ${inVmap.join(', ')} }`] : []),
  ], 'type filter hook input priority filter - 5; policy accept;'));
  const outVmap = macs(perDev, (c) => c.out, (id) => `${id}_out`);
  const wanRules = perDev.filter(({ d, c }) => d.ip && c.wan.length).map(({ d }) => `ip daddr ${d.ip} ct state new jump ${d.id}_in`);
  // device-originated packets are checked on every packet, not only on new
  // flows, so applying a policy also cuts flows opened before it
  inet.push(...chain('forward', [
    ...(outVmap.length ? [`ether saddr vmap { ${outVmap.join(', ')} }`] : []),
    'ct state established,related accept',
    ...wanRules,
  ], 'type filter hook forward priority filter - 5; policy accept;'));
  for (const { d, c } of perDev) {
    inet.push(...chain(`${d.id}_to_router`, c.input));
    inet.push(...chain(`${d.id}_out`, c.out));
    if (d.ip && c.wan.length) inet.push(...chain(`${d.id}_in`, c.wan));
  }
  inet.push('}');

  const bridge: string[] = [`table bridge ${table} {`];
  const loVmap = macs(perDev, (c) => c.lanOut, (id) => `${id}_lan_out`);
  const liVmap = macs(perDev, (c) => c.lanIn, (id) => `${id}_lan_in`);
  bridge.push(...chain('forward', [
    'ether type arp accept',
    'icmpv6 type { nd-router-solicit, nd-router-advert, nd-neighbor-solicit, nd-neighbor-advert } accept',
    ...(loVmap.length ? [`ether saddr vmap { ${loVmap.join(', ')} }`] : []),
    ...(liVmap.length ? [`ether daddr vmap { ${liVmap.join(', ')} }`] : []),
  ], 'type filter hook forward priority filter - 5; policy accept;'));
  for (const { d, c } of perDev) {
    bridge.push(...chain(`${d.id}_lan_out`, c.lanOut));
    bridge.push(...chain(`${d.id}_lan_in`, c.lanIn));
  }
  bridge.push('}');

  const nft = [...header, ...inet, '', ...bridge, ''].join('\n');
  ctx.sets.sort((a, b) => a.name.localeCompare(b.name, 'en', { numeric: true }));
  return { nft, dnsmasq: renderDnsmasq(ctx.sets, table), sets: ctx.sets, notes: ctx.notes, table };
}

/** dnsmasq >= 2.87 `nftset=/name/4#inet#table#set,...`: one line per name, every set that wants it. */
export function renderDnsmasq(sets: NameSet[], table: string): string {
  const byName = new Map<string, string[]>();
  for (const s of sets) {
    for (const n of s.names) {
      const list = byName.get(n) ?? [];
      list.push(`${s.family === 'ipv6' ? 6 : 4}#inet#${table}#${s.name}`);
      byName.set(n, list);
    }
  }
  const lines = [
    '# iotguard: fill the nftables name sets from DNS answers (dnsmasq >= 2.87 built with nftset).',
    '# Note: dnsmasq matches the name and all its subdomains.',
  ];
  for (const n of [...byName.keys()].sort()) lines.push(`nftset=/${n}/${byName.get(n)!.sort((a, b) => a.localeCompare(b, 'en', { numeric: true })).join(',')}`);
  return `${lines.join('\n')}\n`;
}
