// Checking traffic against a profile: every flow the profile does not allow
// becomes a policy violation (a new destination, a known destination on a new
// port, a LAN peer the profile does not name, a connection opened towards the
// device), reported as `policy-violation` findings. The semantics are the
// renderer's: DHCP and DNS to the router are always allowed; a rule allows
// connections in its direction and their answers.
import { cidrContains, parseCidr } from '../model/net.js';
import type { Finding } from '../model/finding.js';
import { isIpv4, isIpv6 } from './mud-schema.js';
import { normalizeDnsName, portMatches, type MudProfile, type PolicyRule } from './profile.js';
import type { DeviceTraffic, NetworkContext, ObservedFlow } from './traffic.js';

export type ViolationKind = 'new-destination' | 'new-port' | 'lan-peer' | 'inbound';

export interface Violation {
  kind: ViolationKind;
  device: { mac?: string; ip?: string };
  remote: { ip: string; name: string | null };
  proto: string;
  port: number | null;
  initiator: 'device' | 'remote';
  flows: number;
  bytes: number;
  /** A detector's label for the flow, when it had one. */
  suspicious: string | null;
}

export interface CheckOptions extends NetworkContext {
  /** MUD URLs / authorities of other devices by IP, to resolve same-manufacturer/model/manufacturer. */
  peers?: Array<{ ip: string; profile: MudProfile }>;
  /** Addresses of controller classes (RFC 8520 controller), e.g. urn:ietf:params:mud:ntp. */
  controllers?: Record<string, string[]>;
}

const ROUTER_URNS = ['urn:ietf:params:mud:dns', 'urn:ietf:params:mud:ntp', 'urn:ietf:params:mud:gateway'];
const PROTO_NUM: Record<string, number> = { tcp: 6, udp: 17, icmp: 1, icmpv6: 58 };

function netContains(net: string, ip: string): boolean {
  const [base, len] = net.split('/');
  if (isIpv4(base) && isIpv4(ip)) return cidrContains(parseCidr(`${base}/${len ?? 32}`), ip);
  if (isIpv6(base) && isIpv6(ip)) {
    // exact host match, or the link-local / unique-local / multicast prefixes the renderer uses
    const bits = Number(len ?? 128);
    if (bits === 128) return base.toLowerCase() === ip.toLowerCase();
    const pre = base.toLowerCase().replace(/::.*$/, '').replace(/:$/, '');
    return ip.toLowerCase().startsWith(pre.slice(0, Math.max(1, Math.floor(bits / 4))));
  }
  return false;
}

function isLocal(ip: string, ctx: NetworkContext): boolean {
  if (isIpv4(ip)) return cidrContains(parseCidr(ctx.lan), ip) || /^(22[4-9]|23\d)\./.test(ip) || ip === '255.255.255.255';
  return /^(fe[89ab]|f[cd]|ff)/i.test(ip);
}

function remoteMatches(r: PolicyRule, f: ObservedFlow, self: MudProfile, o: CheckOptions): boolean {
  const rm = r.remote;
  if (rm.name) {
    if (!f.remoteName || normalizeDnsName(f.remoteName) !== rm.name) return false;
  }
  if (rm.net && !netContains(rm.net, f.remoteIp)) return false;
  if (rm.mud) {
    const m = rm.mud;
    const peer = o.peers?.find((p) => p.ip === f.remoteIp)?.profile;
    switch (m.kind) {
      case 'local-networks':
        if (!isLocal(f.remoteIp, o) || f.remoteIp === o.router) return false;
        break;
      case 'controller': {
        const ips = o.controllers?.[m.uri] ?? (ROUTER_URNS.includes(m.uri) ? [o.router] : []);
        if (!ips.includes(f.remoteIp)) return false;
        break;
      }
      case 'my-controller':
        return false;
      case 'same-manufacturer':
        if (!peer || peer.authority !== self.authority) return false;
        break;
      case 'manufacturer':
        if (!peer || peer.authority !== m.authority) return false;
        break;
      case 'model':
        if (!peer || peer.url !== m.url) return false;
        break;
    }
  }
  return true;
}

function l4Matches(r: PolicyRule, f: ObservedFlow, direction: 'from-device' | 'to-device'): boolean {
  if (r.protocol !== undefined && PROTO_NUM[f.proto] !== r.protocol) return false;
  if (r.family !== 'eth' && r.family !== f.family) return false;
  // the flow's opened port: the remote's when the device opened it, the device's otherwise
  const remotePort = f.initiator === 'device' ? f.remotePort : undefined;
  const localPort = f.initiator === 'remote' ? f.localPort : undefined;
  if (r.direction === direction) {
    // a rule in the flow's opening direction: its ports describe the opening packet
    if (r.remotePort && !portMatches(r.remotePort, remotePort)) return false;
    if (r.localPort && !portMatches(r.localPort, localPort)) return false;
    if (r.protocol === 6 && r.initiatedBy && r.initiatedBy !== direction) return false;
  } else return false;
  if (r.icmp?.type !== undefined && f.icmpType !== undefined && r.icmp.type !== f.icmpType) return false;
  return true;
}

export function flowAllowed(profile: MudProfile, f: ObservedFlow, o: CheckOptions): boolean {
  if (f.initiator === 'device' && f.remoteIp === o.router) {
    if (f.proto === 'udp' && f.remotePort === 67) return true;
    if ((f.proto === 'udp' || f.proto === 'tcp') && f.remotePort === 53) return true;
  }
  if (f.initiator === 'device' && f.proto === 'udp' && f.remotePort === 67 && f.remoteIp === '255.255.255.255') return true;
  const direction = f.initiator === 'device' ? 'from-device' : 'to-device';
  let verdict: boolean | undefined;
  for (const r of profile.rules) {
    if (r.family === 'eth') continue;
    if (!l4Matches(r, f, direction) || !remoteMatches(r, f, profile, o)) continue;
    verdict = r.action === 'accept';
    break;
  }
  return verdict === true;
}

function classify(profile: MudProfile, f: ObservedFlow, o: CheckOptions): ViolationKind {
  if (f.initiator === 'remote') return 'inbound';
  if (isIpv4(f.remoteIp) && cidrContains(parseCidr(o.lan), f.remoteIp) && f.remoteIp !== o.router) return 'lan-peer';
  const known = profile.rules.some((r) => r.direction === 'from-device' && remoteMatches(r, f, profile, o));
  return known ? 'new-port' : 'new-destination';
}

export function checkTraffic(profile: MudProfile, traffic: DeviceTraffic, o: CheckOptions): Violation[] {
  const out = new Map<string, Violation>();
  for (const f of traffic.flows) {
    if (flowAllowed(profile, f, o)) continue;
    const kind = classify(profile, f, o);
    const port = (f.initiator === 'device' ? f.remotePort : f.localPort) ?? null;
    const name = f.remoteName ? normalizeDnsName(f.remoteName) : null;
    const k = `${kind}|${f.remoteIp}|${name}|${f.proto}|${port}|${f.initiator}`;
    const v = out.get(k);
    if (v) {
      v.flows += f.flows ?? 1;
      v.bytes += f.bytes ?? 0;
      continue;
    }
    const device: Violation['device'] = {};
    if (traffic.mac) device.mac = traffic.mac;
    if (traffic.ip) device.ip = traffic.ip;
    out.set(k, { kind, device, remote: { ip: f.remoteIp, name }, proto: f.proto, port, initiator: f.initiator, flows: f.flows ?? 1, bytes: f.bytes ?? 0, suspicious: f.suspicious ?? null });
  }
  return [...out.values()].sort((a, b) => a.kind.localeCompare(b.kind) || a.remote.ip.localeCompare(b.remote.ip) || (a.port ?? 0) - (b.port ?? 0) || a.proto.localeCompare(b.proto));
}

const TITLES: Record<ViolationKind, string> = {
  'new-destination': 'contacts a destination outside its allowlist',
  'new-port': 'uses a port its allowlist does not give for this destination',
  'lan-peer': 'talks to a LAN device its profile does not allow',
  inbound: 'receives a connection its profile does not allow',
};

export function violationFindings(vs: Violation[], profileUrl: string): Finding[] {
  return vs.map((v) => {
    const target = `${v.remote.name ? `${v.remote.name} (${v.remote.ip})` : v.remote.ip}${v.port !== null ? ` ${v.proto}/${v.port}` : ` ${v.proto}`}`;
    return {
      id: 'policy-violation',
      severity: v.kind === 'lan-peer' || v.kind === 'inbound' || v.suspicious ? 'high' : 'medium',
      title: `${TITLES[v.kind]}: ${target}`,
      device: v.device,
      evidence: { kind: v.kind, remote: v.remote, proto: v.proto, port: v.port, initiator: v.initiator, flows: v.flows, bytes: v.bytes, profile: profileUrl, ...(v.suspicious ? { suspicious: v.suspicious } : {}) },
      advice:
        v.kind === 'lan-peer'
          ? 'Keep this device isolated from the rest of the LAN; if the connection is expected, add the peer to its profile and re-apply.'
          : 'If you did not expect this, keep the allowlist enforced and check the device; if it is a legitimate new service, re-learn the profile.',
    } satisfies Finding;
  });
}
