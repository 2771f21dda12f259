// lateral-scan: a device that scans — many addresses on one port (Mirai's
// telnet 23/2323 sweep, SSH, TR-069, ADB...), many ports on one address, an
// ARP sweep of the LAN, or a ping sweep. Horizontal scans of internet
// addresses count too (a worm spreading outward), but only towards addresses
// the device never looked up in DNS: real clients connect to names.
import type { DetectorConfig } from './config.js';
import type { Detector, DeviceRef, Endpoint, EngineEvent, EventKind, FlowInfo } from '../engine/events.js';
import type { Finding, Severity } from '../model/finding.js';
import { deviceKey, deviceKeyOf, deviceOf } from './util.js';
import { isGroupAddress } from '../flows/local.js';

const WANTS: readonly EventKind[] = ['flow-close', 'arp'];

const TELNET_PORTS = new Set([23, 2323]);
/** Well-known chatty UDP (DNS, DHCP, NTP, NetBIOS, SSDP, mDNS, LLMNR, WS-Discovery): fans out by design. */
const CHATTY_UDP = new Set([53, 67, 68, 123, 137, 138, 1900, 5353, 5355, 3702]);

/** "port/proto" strings, made once per service. */
const serviceNames = new Map<number, string>();
function serviceName(port: number, proto: 'tcp' | 'udp'): string {
  const k = proto === 'tcp' ? port : -1 - port;
  let s = serviceNames.get(k);
  if (s === undefined) {
    s = `${port}/${proto}`;
    if (serviceNames.size < 200_000) serviceNames.set(k, s);
  }
  return s;
}
const MAX_ATTEMPTS = 20_000;

export interface Attempt {
  ts: number;
  frame: number;
  target: string;
  failed: boolean;
}

interface Group {
  device: DeviceRef;
  kind: 'horizontal' | 'vertical' | 'arp' | 'icmp';
  /** port/proto for horizontal, address for vertical. */
  what: string;
  scope: 'lan' | 'internet';
  attempts: Attempt[];
  file: string;
}

/** The largest number of distinct targets inside any window of `w` seconds over attempts sorted by time, and its index range. */
export function maxDistinctInWindow(a: Attempt[], w: number): { count: number; from: number; to: number } {
  const counts = new Map<string, number>();
  let best = { count: 0, from: 0, to: -1 };
  let lo = 0;
  for (let hi = 0; hi < a.length; hi++) {
    counts.set(a[hi].target, (counts.get(a[hi].target) ?? 0) + 1);
    while (a[hi].ts - a[lo].ts > w) {
      const t = a[lo].target;
      const n = (counts.get(t) ?? 1) - 1;
      if (n === 0) counts.delete(t);
      else counts.set(t, n);
      lo++;
    }
    if (counts.size > best.count) best = { count: counts.size, from: lo, to: hi };
  }
  return best;
}

/**
 * Per device, the first attempt to each distinct target, grouped as each scan
 * kind counts them: by service (horizontal: targets are addresses), by address
 * (vertical: targets are services), ICMP and ARP (targets are addresses).
 * Repeated contact with a known target only updates `failed` (it stays true
 * only while the target never answered), so an ordinary device costs a few
 * map lookups per flow and no allocation.
 */
interface ScanGroup {
  kind: Group['kind'];
  what: string;
  scope: Group['scope'];
  targets: Map<string, Attempt>;
}

const KIND_INDEX: Record<Group['kind'], number> = { horizontal: 0, vertical: 2, arp: 4, icmp: 6 };

interface PerDevice {
  device: DeviceRef;
  file: string;
  groups: Map<string, ScanGroup>;
  /** The same groups by kind and scope, then by `what`: found without making a key string per flow. */
  index: Array<Map<string, ScanGroup> | undefined>;
  total: number;
}

export function lateralScanDetector(cfg: DetectorConfig): Detector {
  const c = cfg.lateralScan;
  const wormPorts = new Set(c.wormPorts);
  const devices = new Map<string, PerDevice>();
  // a group with fewer distinct targets than this can never reach its kind's threshold
  const minHorizontal = Math.min(c.telnetPortHosts, c.wormPortHosts, c.wormPortInternetHosts, c.otherPortHosts);
  const minOf = (kind: Group['kind']): number => (kind === 'horizontal' ? minHorizontal : kind === 'vertical' ? c.verticalPorts : kind === 'arp' ? c.arpTargets : c.icmpHosts);

  const per = (e: { device?: DeviceRef }, client: { ip: string; mac?: string; local: boolean } | undefined, file: string, fallback?: DeviceRef): PerDevice => {
    const k = fallback ? deviceKey(fallback) : deviceKeyOf(e, client as Endpoint);
    let d = devices.get(k);
    if (!d) {
      d = { device: fallback ?? deviceOf(e, client as Endpoint), file, groups: new Map(), index: [], total: 0 };
      devices.set(k, d);
    }
    return d;
  };

  const note = (d: PerDevice, kind: Group['kind'], what: string, scope: Group['scope'], target: string, ts: number, frame: number, failed: boolean) => {
    const ix = KIND_INDEX[kind] + (scope === 'lan' ? 0 : 1);
    let byWhat = d.index[ix];
    let g = byWhat?.get(what);
    if (!g) {
      if (d.total >= MAX_ATTEMPTS) return;
      g = { kind, what, scope, targets: new Map() };
      d.groups.set(`${kind}|${what}|${scope}`, g);
      if (byWhat === undefined) d.index[ix] = byWhat = new Map();
      byWhat.set(what, g);
    }
    const a = g.targets.get(target);
    if (a) {
      if (!failed) a.failed = false;
      return;
    }
    if (d.total >= MAX_ATTEMPTS) return;
    d.total++;
    g.targets.set(target, { ts, frame, target, failed });
  };

  /** The gateway's MAC(s): what internet hosts appear behind. Routers ARP for many LAN hosts (client lists, forwarding). */
  const gatewayMacs = new Set<string>();

  const onFlow = (e: EngineEvent & { kind: 'flow-close' }, ctx: Parameters<Detector['finish']>[0]) => {
    const f: FlowInfo = e.flow;
    if (!f.server.local && f.server.mac !== undefined && gatewayMacs.size < 8) gatewayMacs.add(f.server.mac);
    if (!f.client.local || f.client.ip === f.server.ip) return;
    const lan = f.server.local;
    // an answered connection to a name the device looked up is ordinary client traffic
    if (!lan && (f.serverName !== undefined || ctx.nameFor(e.device, f.server.ip) !== undefined)) return;
    const dst = f.server.ip;
    // multicast, broadcast and the all-zero address are not neighbours
    if (isGroupAddress(dst) || dst === '0.0.0.0') return;
    const scope: Group['scope'] = lan ? 'lan' : 'internet';
    const failed = f.proto === 'tcp' ? f.tcpState === 'syn' || f.tcpState === 'rejected' || f.packetsToClient === 0 : f.packetsToClient === 0;
    if (f.proto === 'icmp' || f.proto === 'icmpv6') {
      note(per(e, f.client, e.file), 'icmp', f.proto, scope, dst, f.firstTs, f.firstFrame, failed);
      return;
    }
    if ((f.proto !== 'tcp' && f.proto !== 'udp') || f.server.port === undefined) return;
    if (f.proto === 'udp' && CHATTY_UDP.has(f.server.port)) return;
    const svc = serviceName(f.server.port, f.proto);
    const d = per(e, f.client, e.file);
    note(d, 'horizontal', svc, scope, dst, f.firstTs, f.firstFrame, failed);
    note(d, 'vertical', dst, scope, svc, f.firstTs, f.firstFrame, failed);
  };

  return {
    name: 'lateral-scan',
    wants: WANTS,
    onEvent(e: EngineEvent, ctx): void {
      if (e.kind === 'flow-close') onFlow(e, ctx);
      else if (e.kind === 'arp') {
        if (e.op !== 1 || e.gratuitous || e.senderIp === '0.0.0.0' || e.targetIp === e.senderIp) return;
        const device: DeviceRef = e.device && (e.device.mac || e.device.ip) ? e.device : { mac: e.senderMac, ip: e.senderIp };
        const d = per(e, undefined, e.file, device);
        note(d, 'arp', 'arp', 'lan', e.targetIp, e.ts, e.frame, false);
      }
    },
    finish(): Finding[] {
      const out: Finding[] = [];
      // one finding per device and kind of scan: the strongest group wins, the others are listed
      const best = new Map<string, { g: Group; count: number; failedShare: number; window: Attempt[]; severity: Severity; ports: Set<string> }>();
      const candidates: Group[] = [];
      for (const d of devices.values()) {
        const gateway = d.device.mac !== undefined && gatewayMacs.has(d.device.mac);
        for (const g of d.groups.values()) {
          // a router resolving many LAN addresses is doing its job, not sweeping
          if (gateway && g.kind === 'arp') continue;
          if (g.targets.size >= minOf(g.kind)) candidates.push({ device: d.device.mac || d.device.ip ? { ...d.device } : d.device, kind: g.kind, what: g.what, scope: g.scope, attempts: [...g.targets.values()], file: d.file });
        }
      }
      for (const g of candidates) {
        const sorted = [...g.attempts].sort((a, b) => a.ts - b.ts);
        const m = maxDistinctInWindow(sorted, c.windowSeconds);
        const window = sorted.slice(m.from, m.to + 1);
        const failedShare = window.length > 0 ? window.filter((a) => a.failed).length / window.length : 0;
        let hit = false;
        let severity: Severity = 'medium';
        if (g.kind === 'horizontal') {
          const port = Number(g.what.split('/')[0]);
          const isTcp = g.what.endsWith('/tcp');
          if (g.scope === 'lan') {
            if (isTcp && TELNET_PORTS.has(port)) hit = m.count >= c.telnetPortHosts;
            else if (isTcp && wormPorts.has(port)) hit = m.count >= c.wormPortHosts && failedShare >= 0.3;
            else hit = m.count >= c.otherPortHosts && failedShare >= c.minFailedShare;
          } else if (isTcp && wormPorts.has(port)) {
            hit = m.count >= c.wormPortInternetHosts && failedShare >= 0.5;
          } else {
            hit = m.count >= c.otherPortHosts * 2 && failedShare >= c.minFailedShare;
          }
          if (hit && isTcp && wormPorts.has(port)) severity = 'high';
        } else if (g.kind === 'vertical') {
          hit = m.count >= c.verticalPorts && failedShare >= c.minFailedShare;
        } else if (g.kind === 'arp') {
          hit = m.count >= c.arpTargets;
        } else {
          hit = m.count >= c.icmpHosts;
        }
        if (!hit) continue;
        const k = `${deviceKey(g.device)}|${g.kind}|${g.scope}`;
        const prev = best.get(k);
        if (!prev) best.set(k, { g, count: m.count, failedShare, window, severity, ports: new Set([g.what]) });
        else {
          prev.ports.add(g.what);
          if (m.count > prev.count || (severity === 'high' && prev.severity !== 'high')) {
            best.set(k, { g, count: m.count, failedShare, window, severity: severity === 'high' || prev.severity === 'high' ? 'high' : severity, ports: prev.ports });
          }
        }
      }
      for (const b of best.values()) {
        const g = b.g;
        const who = g.device.ip ?? g.device.mac ?? 'a device';
        const targets = [...new Set(b.window.map((a) => a.target))];
        const portsList = [...b.ports].sort((x, y) => parseInt(x, 10) - parseInt(y, 10));
        const where = g.scope === 'lan' ? 'LAN' : 'internet';
        const title =
          g.kind === 'horizontal'
            ? `${who} scans ${b.count} ${where} addresses on ${portsList.join(', ')}`
            : g.kind === 'vertical'
              ? `${who} scans ${b.count} ports on ${g.what}`
              : g.kind === 'arp'
                ? `${who} sweeps the LAN with ARP (${b.count} addresses)`
                : `${who} pings ${b.count} ${where} addresses`;
        const span = b.window.length > 0 ? b.window[b.window.length - 1].ts - b.window[0].ts : 0;
        out.push({
          id: 'lateral-scan',
          severity: b.severity,
          title,
          device: g.device,
          evidence: {
            kind: g.kind,
            scope: g.scope,
            ...(g.kind === 'horizontal' ? { ports: portsList } : {}),
            ...(g.kind === 'vertical' ? { target: g.what, ports: targets.slice(0, cfg.maxEvidence) } : { targets: targets.slice(0, cfg.maxEvidence) }),
            distinct: b.count,
            attempts: b.window.length,
            unansweredShare: Math.round(b.failedShare * 100) / 100,
            seconds: Math.round(span * 10) / 10,
            file: g.file,
            frames: b.window.slice(0, cfg.maxEvidence).map((a) => a.frame),
          },
          advice:
            'A device that scans its neighbours is usually infected (Mirai and similar worms do this): unplug it, reset it to factory settings, change its password, and update its firmware before reconnecting it.',
        });
      }
      return out;
    },
  };
}
