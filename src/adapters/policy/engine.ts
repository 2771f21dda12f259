// From captures to what learn/check need: run the traffic engine (with the
// default detectors and a DNS-query collector) over the files, then turn each
// device's destinations into ObservedFlows, marking the ones a detector's
// finding points at so they are never learned.
import { analyzeFiles } from '../capture/analyze-files.js';
import { defaultDetectors } from '../../core/detect/index.js';
import type { AnalyzeDevice, AnalyzeResult } from '../../core/engine/events.js';
import type { Finding } from '../../core/model/finding.js';
import { ipv4ToInt, normalizeMac } from '../../core/model/net.js';
import { createQueryCollector } from '../../core/policy/dns-queries.js';
import type { DeviceTraffic, NetworkContext, ObservedFlow } from '../../core/policy/traffic.js';
import { ErrorCodes, IotguardError } from '../../core/model/errors.js';

/** Findings whose evidence marks traffic as an attack, not a need. */
const SUSPICIOUS = new Set(['dns-tunnel', 'lateral-scan', 'login-brute-force', 'dns-bypass', 'known-vulnerability', 'beaconing']);

function evidenceStrings(v: unknown, out: Set<string>, depth = 0): void {
  if (depth > 6) return;
  if (typeof v === 'string') out.add(v.toLowerCase().replace(/\.$/, ''));
  else if (Array.isArray(v)) for (const x of v.slice(0, 500)) evidenceStrings(x, out, depth + 1);
  else if (v && typeof v === 'object') for (const x of Object.values(v).slice(0, 200)) evidenceStrings(x, out, depth + 1);
}

function deviceMatches(d: AnalyzeDevice, ref: { mac?: string; ip?: string }): boolean {
  if (ref.mac && d.mac && normalizeMac(ref.mac) === normalizeMac(d.mac)) return true;
  if (ref.ip && (d.ip === ref.ip || d.ips.includes(ref.ip))) return true;
  return false;
}

export function toDeviceTraffic(d: AnalyzeDevice, findings: Finding[], queries: Set<string> | undefined): DeviceTraffic {
  const marks = new Map<string, string>();
  for (const f of findings) {
    if (!SUSPICIOUS.has(f.id) || !deviceMatches(d, f.device)) continue;
    const s = new Set<string>();
    evidenceStrings(f.evidence, s);
    for (const x of s) if (!marks.has(x)) marks.set(x, f.id);
  }
  const markFor = (ip: string, name: string | null): string | undefined => {
    if (marks.has(ip)) return marks.get(ip);
    if (!name) return undefined;
    for (const [k, id] of marks) if (k.includes('.') && (name === k || name.endsWith(`.${k}`))) return id;
    return undefined;
  };
  const flows: ObservedFlow[] = d.destinations.map((x) => {
    const f: ObservedFlow = {
      initiator: x.direction === 'out' ? 'device' : 'remote',
      proto: x.proto,
      family: x.ip.includes(':') ? 'ipv6' : 'ipv4',
      remoteIp: x.ip,
      flows: x.flows,
      bytes: x.bytes,
      packets: x.packets,
      firstTs: x.firstSeen,
    };
    if (x.name) f.remoteName = x.name;
    if (x.port !== null) {
      if (x.direction === 'out') f.remotePort = x.port;
      else f.localPort = x.port;
    }
    const m = markFor(x.ip, x.name ? x.name.toLowerCase() : null);
    if (m) f.suspicious = m;
    return f;
  });
  const names = [...(queries ?? [])].sort();
  const t: DeviceTraffic = {
    flows,
    queries: names.map((name) => {
      const m = markFor('', name);
      return m ? { name, suspicious: m } : { name };
    }),
  };
  if (d.mac) t.mac = normalizeMac(d.mac);
  if (d.ip) t.ip = d.ip;
  return t;
}

export interface CaptureTraffic {
  result: AnalyzeResult;
  devices: DeviceTraffic[];
  failures: IotguardError[];
}

export async function trafficFromCaptures(files: string[], onProgress?: (done: number, total: number) => void): Promise<CaptureTraffic> {
  const collector = createQueryCollector();
  const opts: Parameters<typeof analyzeFiles>[1] = { detectors: [...defaultDetectors(), collector] };
  if (onProgress) opts.onProgress = onProgress;
  const { result, failures } = await analyzeFiles(files, opts);
  const devices = result.devices.map((d) => {
    const q = new Set<string>();
    for (const key of [d.mac?.toLowerCase(), d.ip, ...d.ips].filter(Boolean) as string[]) for (const n of collector.log.byDevice.get(key) ?? []) q.add(n);
    return toDeviceTraffic(d, result.findings, q);
  });
  return { result, devices, failures };
}

/** The device a `--device MAC|IP` names, or a clear error listing what the captures hold. */
export function pickDevice(ct: CaptureTraffic, spec: string): DeviceTraffic {
  const isMac = /^[0-9a-f]{2}([:-][0-9a-f]{2}){5}$/i.test(spec);
  const ref = isMac ? { mac: normalizeMac(spec) } : { ip: spec };
  const i = ct.result.devices.findIndex((d) => deviceMatches(d, ref));
  if (i < 0) {
    const seen = ct.result.devices.slice(0, 12).map((d) => d.mac ?? d.ip).join(', ');
    throw new IotguardError(ErrorCodes.USAGE, `no device ${spec} in the captures (seen: ${seen || 'none'})`, { exitCode: 1 });
  }
  return ct.devices[i];
}

/**
 * The LAN and router as the captures show them, unless given: the /24 of the
 * device, and the LAN address the device sends its DNS queries to (else .1).
 */
export function inferNetwork(dev: DeviceTraffic, given: Partial<NetworkContext>): NetworkContext {
  const ip = dev.ip ?? given.router;
  const lan = given.lan ?? (ip && ipv4ToInt(ip) !== undefined ? `${ip.split('.').slice(0, 3).join('.')}.0/24` : undefined);
  if (!lan) throw new IotguardError(ErrorCodes.USAGE, 'cannot tell the LAN from the captures: give --lan CIDR', { exitCode: 1 });
  let router = given.router;
  if (!router) {
    const prefix = `${lan.split('/')[0].split('.').slice(0, 3).join('.')}.`;
    const dnsServers = dev.flows
      .filter((f) => f.initiator === 'device' && f.remotePort === 53 && f.remoteIp.startsWith(prefix))
      .sort((a, b) => (b.flows ?? 0) - (a.flows ?? 0));
    router = dnsServers[0]?.remoteIp ?? `${prefix}1`;
  }
  return { lan, router };
}
