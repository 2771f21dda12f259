// The UPnP audit use case: find the IGDs, read every mapping, attribute and
// rate each one, test the gateway's misconfigurations when authorized, probe
// its WAN side when asked, and say what disabling UPnP would break. I/O comes
// in as components so tests can hand in fakes (libp2p style); the CLI and
// `audit` call runUpnpAudit with the real ones.
import { execFile } from 'node:child_process';
import os from 'node:os';
import net from 'node:net';
import { ErrorCodes, IotguardError } from '../../core/model/errors.js';
import { sortFindings, type Finding, type Severity } from '../../core/model/finding.js';
import { cidrContains, intToIpv4, ipv4ToInt, parseCidr } from '../../core/model/net.js';
import type { AttributedDevice, DeviceResolver } from '../../core/upnp/attribution.js';
import { parseDescription, wanServiceVersion, type IgdDescription } from '../../core/upnp/description.js';
import {
  upnpEnabledFinding,
  upnpMappingFinding,
  upnpPermissiveFinding,
  upnpWanExposedFinding,
  type GatewayRef,
  type PermissiveEvidence,
  type WanExposure,
} from '../../core/upnp/findings.js';
import { combinedMiniupnpdAcl, disableImpact, type DeviceImpact } from '../../core/upnp/impact.js';
import { rateMapping, type PortRiskTable } from '../../core/upnp/risk.js';
import { mappingKey, UPNP_ERRORS, type PortMapping } from '../../core/upnp/soap.js';
import { IGD_SEARCH_TARGETS, isIgdTarget } from '../../core/upnp/ssdp.js';
import { createIgdClient, fetchDescription, SoapFaultError, type EnumerationResult, type IgdClient, type IgdInit } from './igd.js';
import { ssdpSearch, sourceAddressFor, type SsdpAnswer, type SsdpSearchOptions } from './ssdp.js';
import { probeNatPmp, type NatPmpPresence } from './upnp-natpmp.js';
import { httpRequest } from './upnp-http.js';

export interface MappingReport {
  protocol: 'TCP' | 'UDP';
  externalPort: number;
  internalClient: string;
  internalPort: number;
  description: string;
  leaseSeconds: number;
  enabled: boolean;
  remoteHost: string;
  /** Severity of exposing this port (data/port-risk.json). */
  risk: Severity;
  service: string;
  why: string;
  device: { mac: string | null; ip: string; vendor: string | null; hostname?: string };
}

export interface GatewayReport {
  location: string;
  server: string | null;
  host: string;
  friendlyName?: string;
  manufacturer?: string;
  modelName?: string;
  igdVersion?: number;
  serviceType?: string;
  controlUrl?: string;
  externalIp: string | null;
  connectionStatus?: string;
  natPmp?: boolean;
  pcp?: boolean;
  mappings: MappingReport[];
  enumeration: {
    generic?: { count: number; stoppedBy: EnumerationResult['stoppedBy']; detail?: string; invalidEntries: number; duplicates: number };
    list?: { count: number; stoppedBy: EnumerationResult['stoppedBy']; detail?: string; invalidEntries: number };
    /** True when some mappings may be missing (a cap, deadline or error stopped both walks). */
    incomplete: boolean;
  };
  permissive?: PermissiveEvidence;
  /** True when at least one SOAP action succeeded: the IGD accepts control from here. */
  controlAccepted: boolean;
  warnings: string[];
  errors: string[];
}

export interface UpnpAuditResult {
  gateways: GatewayReport[];
  findings: Finding[];
  disableImpact: DeviceImpact[];
  miniupnpdAcl: string[];
  natPmp?: NatPmpPresence;
  wan?: WanExposure;
}

export interface UpnpAuditInit {
  /** Source address for every probe (from --iface or --source). */
  bindAddress?: string;
  /** Skip SSDP and read this description URL (repeatable). */
  locations?: string[];
  /** SSDP destination: multicast by default; a unicast address for tests or a known router. */
  ssdpHost?: string;
  ssdpPort?: number;
  ssdpWaitMs?: number;
  timeoutMs?: number;
  maxMappings?: number;
  enumerationDeadlineMs?: number;
  /** NAT-PMP/PCP gateway (default: the IGD's host); false to skip. */
  natPmpGateway?: string | false;
  natPmpPort?: number;
  /** Run the intrusive upnp-permissive test (adds and deletes one short-lived mapping). */
  authorized?: boolean;
  permissiveLeaseSeconds?: number;
}

export interface UpnpAuditComponents {
  resolver: DeviceResolver;
  /** The default route's gateway, for NAT-PMP when no IGD answers (default: `ip -json route`). */
  defaultGateway?: () => Promise<string | undefined>;
  riskTable: PortRiskTable;
  search?: (o: SsdpSearchOptions) => Promise<SsdpAnswer[]>;
  natPmp?: typeof probeNatPmp;
  log?: (msg: string) => void;
}

/** The IPv4 default gateway of this host (or namespace), from `ip -json -4 route show default`. */
export function defaultGateway(): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile('ip', ['-json', '-4', 'route', 'show', 'default'], { timeout: 3000 }, (err, stdout) => {
      if (err) return resolve(undefined);
      try {
        const rows = JSON.parse(stdout) as Array<{ gateway?: string }>;
        const gw = rows.find((r) => typeof r.gateway === 'string' && ipv4ToInt(r.gateway) !== undefined)?.gateway;
        resolve(gw);
      } catch {
        resolve(undefined);
      }
    });
  });
}

function natPmpOnlyFinding(gw: string, mac: string | undefined, np: NatPmpPresence): Finding {
  const f = upnpEnabledFinding({ location: '', host: gw, ...(mac ? { mac } : {}) }, { mappingCount: 0, natPmp: np.natPmp, pcp: np.pcp, ...(np.externalIp ? { externalIp: np.externalIp } : {}) });
  return {
    ...f,
    title: `The router at ${gw} opens ports to the internet for any LAN device that asks (${[np.natPmp ? 'NAT-PMP' : '', np.pcp ? 'PCP' : ''].filter(Boolean).join(' and ')}; no UPnP IGD)`,
    evidence: { igd: false, natPmp: np.natPmp, pcp: np.pcp, externalIp: np.externalIp },
    advice: 'Turn NAT-PMP/PCP off in the router unless a device needs it; it lets any LAN device open ports to itself.',
  };
}

function igdInit(init: UpnpAuditInit): IgdInit {
  return { localAddress: init.bindAddress, timeoutMs: init.timeoutMs ?? 5000 };
}

export async function discoverGateways(init: UpnpAuditInit, c: Pick<UpnpAuditComponents, 'search' | 'log'>): Promise<Array<{ location: string; server: string | null; st?: string }>> {
  if (init.locations && init.locations.length > 0) return init.locations.map((location) => ({ location, server: null }));
  const answers = await (c.search ?? ssdpSearch)({
    host: init.ssdpHost,
    port: init.ssdpPort,
    bindAddress: init.bindAddress,
    waitMs: init.ssdpWaitMs ?? 2500,
    targets: IGD_SEARCH_TARGETS,
  });
  const byLocation = new Map<string, { location: string; server: string | null; st?: string }>();
  for (const a of answers) {
    if (!a.location || !isIgdTarget(a.st)) continue;
    let loc: URL;
    try {
      loc = new URL(a.location);
    } catch {
      continue;
    }
    // An answer that points its description at another host is ignored: we only talk to the device that answered.
    if (loc.protocol !== 'http:' || loc.hostname !== a.from) {
      c.log?.(`ignoring SSDP answer from ${a.from}: LOCATION ${a.location.slice(0, 200)} is not on that host`);
      continue;
    }
    if (!byLocation.has(loc.href)) byLocation.set(loc.href, { location: loc.href, server: a.server ?? null, ...(a.st ? { st: a.st } : {}) });
  }
  return [...byLocation.values()];
}

function mergeMappings(a: PortMapping[], b: PortMapping[]): PortMapping[] {
  const out = new Map<string, PortMapping>();
  for (const m of [...a, ...b]) if (!out.has(mappingKey(m))) out.set(mappingKey(m), m);
  return [...out.values()].sort((x, y) => x.protocol.localeCompare(y.protocol) || x.externalPort - y.externalPort);
}

export async function enumerateMappings(client: IgdClient, init: UpnpAuditInit): Promise<{ mappings: PortMapping[]; enumeration: GatewayReport['enumeration'] }> {
  const max = init.maxMappings ?? 1024;
  const deadlineMs = init.enumerationDeadlineMs ?? 30_000;
  const generic = await client.listMappingsGeneric({ max, deadlineMs });
  const enumeration: GatewayReport['enumeration'] = {
    generic: { count: generic.mappings.length, stoppedBy: generic.stoppedBy, invalidEntries: generic.invalidEntries, duplicates: generic.duplicates, ...(generic.detail ? { detail: generic.detail } : {}) },
    incomplete: generic.stoppedBy !== 'end',
  };
  let mappings = generic.mappings;
  if (wanServiceVersion(client.service.serviceType) >= 2) {
    const list = await client.listMappingsV2({ max, deadlineMs });
    enumeration.list = { count: list.mappings.length, stoppedBy: list.stoppedBy, invalidEntries: list.invalidEntries, ...(list.detail ? { detail: list.detail } : {}) };
    mappings = mergeMappings(mappings, list.mappings).slice(0, max);
    enumeration.incomplete = generic.stoppedBy !== 'end' && list.stoppedBy !== 'end';
  }
  return { mappings, enumeration };
}

async function localCidrFor(address: string): Promise<string | undefined> {
  for (const addrs of Object.values(os.networkInterfaces())) {
    for (const a of addrs ?? []) if (a.family === 'IPv4' && a.address === address && a.cidr) return a.cidr;
  }
  return undefined;
}

/** An address on our subnet that is neither us, the gateway, nor any mapped client: the "other device" of the permissive test. */
export async function pickOtherClient(self: string, gateway: string, taken: Set<string>): Promise<string> {
  const cidr = parseCidr((await localCidrFor(self)) ?? `${self}/24`);
  const broadcast = (cidr.network + 2 ** (32 - cidr.prefix) - 1) >>> 0;
  for (let n = broadcast - 1; n > cidr.network; n--) {
    const ip = intToIpv4(n >>> 0);
    if (ip !== self && ip !== gateway && !taken.has(ip) && cidrContains(cidr, ip)) return ip;
  }
  const s = ipv4ToInt(self) ?? 0;
  return intToIpv4((s ^ 1) >>> 0);
}

async function permissiveTest(client: IgdClient, self: string, gateway: string, existing: PortMapping[], leaseSeconds: number): Promise<PermissiveEvidence> {
  const usedPorts = new Set(existing.filter((m) => m.protocol === 'TCP').map((m) => m.externalPort));
  const freePort = () => {
    for (let i = 0; i < 100; i++) {
      const p = 49152 + Math.floor(Math.random() * 16000);
      if (!usedPorts.has(p)) {
        usedPorts.add(p);
        return p;
      }
    }
    return 65000;
  };
  const other = await pickOtherClient(self, gateway, new Set(existing.map((m) => m.internalClient)));
  const tryMap = async (client_: string) => {
    const port = freePort();
    const r: { accepted: boolean; removed: boolean; fault?: string; port: number; verifiedClient?: string } = { accepted: false, removed: false, port };
    try {
      await client.addPortMapping({ protocol: 'TCP', externalPort: port, internalClient: client_, internalPort: port, description: 'iotguard-test (removed at once)', leaseSeconds });
      r.accepted = true;
    } catch (e) {
      r.fault = e instanceof Error ? e.message : String(e);
      return r;
    }
    // Some IGDs accept the call but silently map to the requester: check who got the port.
    try {
      const v = await client.call('GetSpecificPortMappingEntry', [['NewRemoteHost', ''], ['NewExternalPort', port], ['NewProtocol', 'TCP']]);
      if (v.NewInternalClient) r.verifiedClient = v.NewInternalClient.slice(0, 64);
    } catch {
      // not fatal; the add was accepted
    }
    try {
      await client.deletePortMapping('TCP', port);
      r.removed = true;
    } catch (e) {
      r.fault = `added but could not delete: ${e instanceof Error ? e.message : String(e)}`;
    }
    return r;
  };
  const selfTry = await tryMap(self);
  const otherTry = await tryMap(other);
  const accepted = otherTry.accepted && (otherTry.verifiedClient === undefined || otherTry.verifiedClient === other);
  return {
    gateway,
    requester: self,
    otherClient: other,
    protocol: 'TCP',
    externalPort: otherTry.port,
    leaseSeconds,
    accepted,
    removed: otherTry.removed || !otherTry.accepted,
    ...(otherTry.fault ? { fault: otherTry.fault } : {}),
    selfMapping: { accepted: selfTry.accepted, removed: selfTry.removed, ...(selfTry.fault ? { fault: selfTry.fault } : {}) },
  };
}

function toMappingReport(m: PortMapping, table: PortRiskTable, d: AttributedDevice | undefined): MappingReport {
  const risk = rateMapping(table, m.protocol, m.externalPort, m.internalPort);
  return {
    protocol: m.protocol,
    externalPort: m.externalPort,
    internalClient: m.internalClient,
    internalPort: m.internalPort,
    description: m.description,
    leaseSeconds: m.leaseSeconds,
    enabled: m.enabled,
    remoteHost: m.remoteHost,
    risk: risk.severity,
    service: risk.service,
    why: risk.why,
    device: { mac: d?.mac ?? null, ip: m.internalClient, vendor: d?.vendor ?? null, ...(d?.hostname ? { hostname: d.hostname } : {}) },
  };
}

export async function auditGateway(
  g: { location: string; server: string | null },
  init: UpnpAuditInit,
): Promise<{ report: GatewayReport; client?: IgdClient; description?: IgdDescription; rawMappings: PortMapping[] }> {
  const host = new URL(g.location).hostname;
  const report: GatewayReport = { location: g.location, server: g.server, host, externalIp: null, mappings: [], enumeration: { incomplete: true }, controlAccepted: false, warnings: [], errors: [] };
  let desc: IgdDescription;
  try {
    desc = await fetchDescription(g.location, igdInit(init));
  } catch (e) {
    report.errors.push(e instanceof Error ? e.message : String(e));
    return { report, rawMappings: [] };
  }
  report.warnings.push(...desc.warnings);
  for (const k of ['friendlyName', 'manufacturer', 'modelName', 'igdVersion'] as const) if (desc[k] !== undefined) (report as unknown as Record<string, unknown>)[k] = desc[k];
  const service = desc.wanConnections[0];
  if (!service) {
    report.errors.push('the description has no WANIPConnection or WANPPPConnection service');
    return { report, description: desc, rawMappings: [] };
  }
  report.serviceType = service.serviceType;
  report.controlUrl = service.controlUrl;
  const client = createIgdClient(service, igdInit(init));
  try {
    report.externalIp = await client.getExternalIp();
    report.controlAccepted = true;
  } catch (e) {
    report.errors.push(e instanceof Error ? e.message : String(e));
  }
  try {
    report.connectionStatus = (await client.getStatusInfo()).connectionStatus;
    report.controlAccepted = true;
  } catch (e) {
    report.warnings.push(e instanceof Error ? e.message : String(e));
  }
  const { mappings, enumeration } = await enumerateMappings(client, init);
  report.enumeration = enumeration;
  if (mappings.length > 0 || enumeration.generic?.stoppedBy === 'end' || enumeration.list?.stoppedBy === 'end') report.controlAccepted = true;
  if (enumeration.incomplete) {
    const why = [enumeration.generic?.detail, enumeration.list?.detail].filter(Boolean).join('; ');
    report.warnings.push(`the mapping list may be incomplete${why ? `: ${why}` : ''}`);
  }
  return { report, client, description: desc, rawMappings: mappings };
}

export async function runUpnpAudit(init: UpnpAuditInit, c: UpnpAuditComponents): Promise<UpnpAuditResult> {
  const log = c.log ?? (() => {});
  const found = await discoverGateways(init, c);
  if (found.length === 0) {
    // No IGD; a NAT-PMP/PCP-only router (Apple AirPort style) still opens ports on request.
    if (init.natPmpGateway !== false && !init.locations) {
      const gw = init.natPmpGateway ?? (await (c.defaultGateway ?? defaultGateway)());
      if (gw) {
        const np = await (c.natPmp ?? probeNatPmp)(gw, { bindAddress: init.bindAddress, port: init.natPmpPort });
        if (np.natPmp || np.pcp) {
          const devices = await c.resolver.resolve([gw]);
          const mac = devices.get(gw)?.mac;
          return {
            gateways: [],
            findings: [natPmpOnlyFinding(gw, mac, np)],
            disableImpact: [],
            miniupnpdAcl: [],
            natPmp: np,
          };
        }
      }
    }
    throw new IotguardError(
      ErrorCodes.UPNP_NO_GATEWAY,
      `no UPnP Internet Gateway Device answered SSDP ${init.ssdpHost ?? 'multicast'} within ${init.ssdpWaitMs ?? 2500} ms${init.bindAddress ? ` from ${init.bindAddress}` : ''} (UPnP is off, or blocked)`,
    );
  }
  const findings: Finding[] = [];
  const gateways: GatewayReport[] = [];
  const impactRows: Parameters<typeof disableImpact>[0] = [];
  let natPmpResult: NatPmpPresence | undefined;
  for (const g of found) {
    log(`reading ${g.location}`);
    const { report, client, rawMappings } = await auditGateway(g, init);
    const devices = await c.resolver.resolve([report.host, ...rawMappings.map((m) => m.internalClient)]);
    const gwDev = devices.get(report.host);
    const ref: GatewayRef = {
      location: report.location,
      host: report.host,
      ...(gwDev?.mac ? { mac: gwDev.mac } : {}),
      ...(report.server ? { server: report.server } : {}),
      ...(report.friendlyName ? { friendlyName: report.friendlyName } : {}),
      ...(report.controlUrl ? { controlUrl: report.controlUrl } : {}),
      ...(report.serviceType ? { serviceType: report.serviceType } : {}),
    };
    if (init.natPmpGateway !== false && !natPmpResult) {
      const gw = init.natPmpGateway ?? report.host;
      natPmpResult = await (c.natPmp ?? probeNatPmp)(gw, { bindAddress: init.bindAddress, port: init.natPmpPort });
      if (gw === report.host) {
        report.natPmp = natPmpResult.natPmp;
        report.pcp = natPmpResult.pcp;
      }
    }
    report.mappings = rawMappings.map((m) => toMappingReport(m, c.riskTable, devices.get(m.internalClient)));
    for (const m of rawMappings) {
      const risk = rateMapping(c.riskTable, m.protocol, m.externalPort, m.internalPort);
      const d = devices.get(m.internalClient);
      findings.push(upnpMappingFinding(ref, m, risk, d));
      impactRows.push({ mapping: m, risk, device: d });
    }
    if (client && report.controlAccepted) {
      findings.push(
        upnpEnabledFinding(ref, {
          mappingCount: rawMappings.length,
          ...(report.externalIp ? { externalIp: report.externalIp } : {}),
          ...(report.natPmp !== undefined ? { natPmp: report.natPmp } : {}),
          ...(report.pcp !== undefined ? { pcp: report.pcp } : {}),
        }),
      );
      if (init.authorized) {
        const self = init.bindAddress ?? (await sourceAddressFor(report.host));
        if (!self) report.errors.push('permissive test skipped: no local address towards the gateway');
        else {
          log(`upnp-permissive: asking ${report.host} to map a port to another LAN address (removed at once)`);
          report.permissive = await permissiveTest(client, self, report.host, rawMappings, init.permissiveLeaseSeconds ?? 60);
          const f = upnpPermissiveFinding(ref, report.permissive);
          if (f) findings.push(f);
        }
      }
    }
    gateways.push(report);
  }
  const impact = disableImpact(impactRows);
  return {
    gateways,
    findings: sortFindings(findings),
    disableImpact: impact,
    miniupnpdAcl: combinedMiniupnpdAcl(impact),
    ...(natPmpResult ? { natPmp: natPmpResult } : {}),
  };
}

export async function removeMapping(
  location: string,
  protocol: 'TCP' | 'UDP',
  externalPort: number,
  init: UpnpAuditInit,
): Promise<{ location: string; removed: boolean; stillPresent: boolean; error?: string }> {
  const desc = await fetchDescription(location, igdInit(init));
  const service = desc.wanConnections[0];
  if (!service) return { location, removed: false, stillPresent: false, error: 'no WAN connection service' };
  const client = createIgdClient(service, igdInit(init));
  const before = await enumerateMappings(client, init);
  const target = before.mappings.find((m) => m.protocol === protocol && m.externalPort === externalPort);
  if (!target) return { location, removed: false, stillPresent: false, error: `no ${protocol}/${externalPort} mapping on this gateway` };
  try {
    await client.deletePortMapping(protocol, externalPort, target.remoteHost);
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    const notAllowed = e instanceof SoapFaultError && e.upnpCode === UPNP_ERRORS.NOT_AUTHORIZED;
    return { location, removed: false, stillPresent: true, error: notAllowed ? `${msg} (the router only lets the device that made a mapping delete it: secure mode)` : msg };
  }
  const after = await enumerateMappings(client, init);
  const stillPresent = after.mappings.some((m) => m.protocol === protocol && m.externalPort === externalPort);
  return { location, removed: !stillPresent, stillPresent };
}

// ---------------------------------------------------------------- WAN side

export const DEFAULT_WAN_PORTS = [1900, 2189, 2869, 5000, 5431, 49000, 49152, 49153, 52869, 80, 8080];
const DESCRIPTION_PATHS = ['/rootDesc.xml', '/gatedesc.xml', '/igd.xml', '/description.xml', '/upnp/IGD.xml', '/DeviceDescription.xml'];

function tcpOpen(host: string, port: number, timeoutMs: number, localAddress?: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port, localAddress, timeout: timeoutMs });
    const done = (v: boolean) => {
      s.destroy();
      resolve(v);
    };
    s.once('connect', () => done(true));
    s.once('timeout', () => done(false));
    s.once('error', () => done(false));
  });
}

/**
 * From the internet side: does the router at `target` answer SSDP, serve its
 * description, execute a harmless SOAP action (GetExternalIPAddress) or answer
 * NAT-PMP? Sends only to `target`.
 */
export async function probeWanExposure(
  target: string,
  init: { bindAddress?: string; ports?: number[]; ssdpPort?: number; waitMs?: number; timeoutMs?: number; natPmpPort?: number },
  c: { search?: (o: SsdpSearchOptions) => Promise<SsdpAnswer[]>; natPmp?: typeof probeNatPmp; log?: (m: string) => void } = {},
): Promise<WanExposure> {
  if (ipv4ToInt(target) === undefined) throw new IotguardError(ErrorCodes.USAGE, `--wan needs an IPv4 address, not ${target}`, { exitCode: 1 });
  const timeoutMs = init.timeoutMs ?? 3000;
  const out: WanExposure = { target, ssdp: [], descriptions: [], soap: [], natPmp: false };
  const answers = await (c.search ?? ssdpSearch)({
    host: target,
    port: init.ssdpPort ?? 1900,
    bindAddress: init.bindAddress,
    waitMs: init.waitMs ?? 2500,
    targets: ['ssdp:all', 'upnp:rootdevice', ...IGD_SEARCH_TARGETS],
  });
  const candidates = new Set<string>();
  for (const a of answers.filter((x) => x.from === target).slice(0, 16)) {
    out.ssdp.push({ from: a.from, ...(a.st ? { st: a.st } : {}), ...(a.location ? { location: a.location } : {}), ...(a.server ? { server: a.server } : {}) });
    // The LOCATION usually names the LAN address; the same port and path on the WAN address is what matters.
    try {
      const u = new URL(a.location ?? '');
      if (u.protocol === 'http:') candidates.add(`http://${target}:${u.port || 80}${u.pathname}`);
    } catch {
      // no usable location
    }
  }
  const ports = init.ports ?? DEFAULT_WAN_PORTS;
  const open = (await Promise.all(ports.map(async (p) => ((await tcpOpen(target, p, Math.min(timeoutMs, 2000), init.bindAddress)) ? p : undefined)))).filter(
    (p): p is number => p !== undefined,
  );
  c.log?.(`WAN ${target}: SSDP answers ${out.ssdp.length}, open TCP ports ${open.join(', ') || 'none'}`);
  for (const p of open) for (const path of DESCRIPTION_PATHS) candidates.add(`http://${target}:${p}${path}`);
  for (const url of [...candidates].slice(0, 80)) {
    let body: string;
    try {
      const r = await httpRequest(url, { localAddress: init.bindAddress, timeoutMs, maxBytes: 256 * 1024 });
      if (r.status !== 200) continue;
      body = r.body;
    } catch {
      continue;
    }
    const d = parseDescription(body, url);
    if (!d.ok) continue;
    out.descriptions.push(url);
    const svc = d.value.wanConnections[0];
    if (!svc) continue;
    try {
      const ip = await createIgdClient(svc, { localAddress: init.bindAddress, timeoutMs }).getExternalIp();
      out.soap.push({ controlUrl: svc.controlUrl, action: 'GetExternalIPAddress', result: ip });
    } catch (e) {
      // A fault still proves the control URL executes SOAP from the WAN side; a refused/failed connection does not.
      if (e instanceof SoapFaultError) out.soap.push({ controlUrl: svc.controlUrl, action: 'GetExternalIPAddress', result: `fault: ${e.message}` });
    }
    if (out.descriptions.length >= 4) break;
  }
  const np = await (c.natPmp ?? probeNatPmp)(target, { bindAddress: init.bindAddress, port: init.natPmpPort, tries: 2 });
  out.natPmp = np.natPmp;
  return out;
}

export function wanFindings(e: WanExposure): Finding[] {
  const f = upnpWanExposedFinding(e);
  return f ? [f] : [];
}
