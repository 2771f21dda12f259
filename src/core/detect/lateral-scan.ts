// lateral-scan: a device that scans — many addresses on one port (Mirai's
// telnet 23/2323 sweep, SSH, TR-069, ADB...), many ports on one address, an
// ARP sweep of the LAN, or a ping sweep. Horizontal scans of internet
// addresses count too (a worm spreading outward), but only towards addresses
// the device never looked up in DNS: real clients connect to names.
import type { DetectorConfig } from './config.js';
import type { Detector, DeviceRef, EngineEvent, EventKind, FlowInfo } from '../engine/events.js';
import type { Finding, Severity } from '../model/finding.js';
import { deviceKey, deviceOf } from './util.js';

const WANTS: readonly EventKind[] = ['flow-close', 'arp'];

const TELNET_PORTS = new Set([23, 2323]);
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

export function lateralScanDetector(cfg: DetectorConfig): Detector {
  const c = cfg.lateralScan;
  const wormPorts = new Set(c.wormPorts);
  const groups = new Map<string, Group>();

  const add = (device: DeviceRef, kind: Group['kind'], what: string, scope: Group['scope'], at: Attempt, file: string) => {
    const k = `${deviceKey(device)}|${kind}|${what}|${scope}`;
    let g = groups.get(k);
    if (!g) {
      g = { device, kind, what, scope, attempts: [], file };
      groups.set(k, g);
    }
    if (g.attempts.length < MAX_ATTEMPTS) g.attempts.push(at);
  };

  const onFlow = (e: EngineEvent & { kind: 'flow-close' }, ctx: Parameters<Detector['finish']>[0]) => {
    const f: FlowInfo = e.flow;
    if (!f.client.local || f.client.ip === f.server.ip) return;
    const dst = f.server.ip;
    // multicast, broadcast and the all-zero address are not neighbours
    if (/^(?:22[4-9]|23\d|255)\./.test(dst) || dst.endsWith('.255') || dst.toLowerCase().startsWith('ff') || dst === '0.0.0.0') return;
    const device = deviceOf(e, f.client, f.server);
    const failed =
      f.proto === 'tcp'
        ? f.tcpState === 'syn' || f.tcpState === 'rejected' || (f.packetsToClient === 0)
        : f.packetsToClient === 0;
    const scope: Group['scope'] = f.server.local ? 'lan' : 'internet';
    const named = f.serverName !== undefined || ctx.nameFor(device, dst) !== undefined;
    const at: Attempt = { ts: f.firstTs, frame: f.firstFrame, target: dst, failed };
    if (f.proto === 'icmp' || f.proto === 'icmpv6') {
      if (scope === 'lan' || !named) add(device, 'icmp', f.proto, scope, at, e.file);
      return;
    }
    if ((f.proto !== 'tcp' && f.proto !== 'udp') || f.server.port === undefined) return;
    // well-known chatty UDP (DNS, DHCP, NTP, SSDP, mDNS, NetBIOS, LLMNR) fans out by design
    if (f.proto === 'udp' && [53, 67, 68, 123, 137, 138, 1900, 5353, 5355, 3702].includes(f.server.port)) return;
    if (scope === 'lan' || !named) add(device, 'horizontal', `${f.server.port}/${f.proto}`, scope, at, e.file);
    if (scope === 'lan' || !named) add(device, 'vertical', dst, scope, { ...at, target: `${f.server.port}/${f.proto}` }, e.file);
  };

  return {
    name: 'lateral-scan',
    wants: WANTS,
    onEvent(e: EngineEvent, ctx): void {
      if (e.kind === 'flow-close') onFlow(e, ctx);
      else if (e.kind === 'arp') {
        if (e.op !== 1 || e.gratuitous || e.senderIp === '0.0.0.0' || e.targetIp === e.senderIp) return;
        const device: DeviceRef = e.device && (e.device.mac || e.device.ip) ? { ...e.device } : { mac: e.senderMac, ip: e.senderIp };
        add(device, 'arp', 'arp', 'lan', { ts: e.ts, frame: e.frame, target: e.targetIp, failed: false }, e.file);
      }
    },
    finish(): Finding[] {
      const out: Finding[] = [];
      // one finding per device and kind of scan: the strongest group wins, the others are listed
      const best = new Map<string, { g: Group; count: number; failedShare: number; window: Attempt[]; severity: Severity; ports: Set<string> }>();
      for (const g of groups.values()) {
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
