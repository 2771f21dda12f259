// `iotguard upnp`: audit the router's UPnP IGD — every port mapping, which
// device holds it and how risky it is, the gateway's misconfigurations
// (--authorized), its WAN side (--wan), what disabling UPnP would break, and
// removing one mapping (--remove).
import { createInterface } from 'node:readline/promises';
import { newCommand, parse } from '../command.js';
import { color, info, printJson, severityColor, table, warn } from '../ui.js';
import { ErrorCodes, IotguardError, isIotguardError } from '../../core/model/errors.js';
import { parseProtoPort } from '../../core/upnp/soap.js';
import { interfaceAddress } from '../../adapters/probe/ssdp.js';
import { createNeighbourResolver } from '../../adapters/probe/upnp-devices.js';
import { loadPortRiskTable } from '../../adapters/probe/upnp-risk-table.js';
import {
  DEFAULT_WAN_PORTS,
  discoverGateways,
  probeWanExposure,
  removeMapping,
  runUpnpAudit,
  wanFindings,
  type UpnpAuditInit,
  type UpnpAuditResult,
} from '../../adapters/probe/upnp-audit.js';
import type { Finding } from '../../core/model/finding.js';

interface Opts {
  json?: boolean;
  authorized?: boolean;
  remove?: string;
  yes?: boolean;
  iface?: string;
  source?: string;
  location?: string[];
  ssdpTarget?: string;
  wait: string;
  timeout: string;
  maxMappings: string;
  natpmp: boolean;
  natpmpPort?: string;
  wan?: string;
  wanPorts?: string;
  riskTable?: string;
  neigh: boolean;
}

function int(name: string, v: string, min: number, max: number): number {
  if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) throw new IotguardError(ErrorCodes.USAGE, `${name} must be a whole number from ${min} to ${max}, not ${v}`, { exitCode: 1 });
  return Number(v);
}

function ipv4(name: string, v: string): string {
  if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(v) || v.split('.').some((p) => Number(p) > 255)) throw new IotguardError(ErrorCodes.USAGE, `${name} needs an IPv4 address, not ${v}`, { exitCode: 1 });
  return v;
}

const collect = (v: string, prev: string[] = []) => [...prev, v];

async function confirm(question: string): Promise<boolean> {
  if (!process.stdin.isTTY) {
    throw new IotguardError(ErrorCodes.USAGE, 'refusing to remove a mapping without confirmation: run in a terminal or add --yes', { exitCode: 1 });
  }
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(`${question} [y/N] `)).trim());
  } finally {
    rl.close();
  }
}

function deviceLabel(d: { mac: string | null; vendor: string | null; hostname?: string }): string {
  const parts = [d.hostname, d.vendor, d.mac].filter(Boolean) as string[];
  return parts.length ? parts.join(' · ') : color.dim('unknown');
}

function lease(s: number): string {
  if (s === 0) return 'permanent';
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.round(s / 60)}m`;
  return `${Math.round(s / 3600)}h`;
}

function printFindings(findings: Finding[]): void {
  if (findings.length === 0) return;
  process.stdout.write(`\n${color.bold('Findings')}\n`);
  for (const f of findings) {
    process.stdout.write(`  ${severityColor(f.severity)(f.severity.padEnd(8))} ${f.id.padEnd(18)} ${f.title}\n  ${' '.repeat(28)}${color.dim(f.advice)}\n`);
  }
}

function printAudit(r: UpnpAuditResult): void {
  if (r.gateways.length === 0) {
    process.stdout.write(`${color.green('No UPnP Internet Gateway Device answered')}: UPnP looks off (or blocked) on this network.\n`);
    if (r.natPmp) process.stdout.write(`NAT-PMP on ${r.natPmp.gateway}: ${r.natPmp.natPmp ? color.yellow('yes') : 'no'}   PCP: ${r.natPmp.pcp ? color.yellow('yes') : 'no'}\n`);
  }
  for (const g of r.gateways) {
    const name = [g.friendlyName, g.modelName, g.server].filter(Boolean).join(' · ');
    process.stdout.write(`${color.bold(`Gateway ${g.host}`)}  ${color.dim(name)}\n`);
    process.stdout.write(
      `  description ${g.location}\n  control     ${g.controlUrl ?? '-'} ${color.dim(g.serviceType ?? '')}\n  external IP ${g.externalIp ?? '-'}   NAT-PMP ${g.natPmp === undefined ? '-' : g.natPmp ? color.yellow('yes') : 'no'}   PCP ${g.pcp === undefined ? '-' : g.pcp ? color.yellow('yes') : 'no'}\n`,
    );
    for (const e of g.errors) process.stdout.write(`  ${color.red('error')} ${e}\n`);
    for (const w of g.warnings) process.stdout.write(`  ${color.yellow('warning')} ${w}\n`);
    if (g.mappings.length === 0) process.stdout.write(`  ${color.green('no port mappings')}\n`);
    else {
      const rows = g.mappings.map((m) => [
        m.protocol,
        String(m.externalPort),
        `${m.internalClient}:${m.internalPort}`,
        deviceLabel(m.device),
        m.description,
        lease(m.leaseSeconds),
        severityColor(m.risk)(m.risk),
        m.service,
      ]);
      process.stdout.write(`\n${table(['proto', 'ext', 'internal', 'device', 'description', 'lease', 'risk', 'service'], rows).replace(/^/gm, '  ')}\n`);
    }
    if (g.permissive) {
      const p = g.permissive;
      const verdict = p.accepted ? color.red('ACCEPTED (secure mode is off)') : color.green('refused');
      process.stdout.write(`\n  permissive test: mapping TCP ${p.externalPort} for ${p.otherClient} from ${p.requester}: ${verdict}${p.fault && !p.accepted ? color.dim(` — ${p.fault}`) : ''}; removed: ${p.removed ? 'yes' : color.red('NO')}\n`);
    }
    process.stdout.write('\n');
  }
  printFindings(r.findings);
  if (r.disableImpact.length > 0) {
    process.stdout.write(`\n${color.bold('What breaks if you disable UPnP')}\n`);
    for (const d of r.disableImpact) {
      const who = d.device.hostname ?? d.device.vendor ?? d.device.ip;
      process.stdout.write(`  ${severityColor(d.severity)('●')} ${color.bold(who)} ${color.dim([d.device.ip, d.device.hostname ? d.device.vendor : undefined, d.device.mac].filter(Boolean).join(' · '))}\n`);
      for (const l of d.loses) process.stdout.write(`      loses ${l.what}\n`);
      process.stdout.write(`      ${color.cyan('instead:')} ${d.instead}\n`);
      for (const s of d.staticForwards) process.stdout.write(`        ${color.dim(s)}\n`);
    }
    if (r.miniupnpdAcl.length > 0) process.stdout.write(`\n  ${color.dim('miniupnpd.conf rules keeping only what is needed:')}\n${r.miniupnpdAcl.map((l) => `    ${l}`).join('\n')}\n`);
  }
}

export async function run(argv: string[]): Promise<number> {
  const cmd = newCommand('upnp', "audit the router's UPnP IGD: every port mapping, who made it, what breaks without it")
    .option('--json', 'one JSON document on stdout (CONTRACT.md)')
    .option('--authorized', 'also run the intrusive check: ask the IGD to map a port for another LAN address (short lease, removed at once)')
    .option('--remove <PROTO/PORT>', 'delete the mapping on this external port, e.g. tcp/2323 (asks first unless --yes)')
    .option('-y, --yes', 'do not ask before --remove')
    .option('--iface <IF>', 'send from this interface (its IPv4 address)')
    .option('--source <IP>', 'send from this local address')
    .option('--location <URL>', 'skip SSDP and read this IGD description URL (repeatable)', collect)
    .option('--ssdp-target <HOST[:PORT]>', 'send M-SEARCH to this address instead of the multicast group')
    .option('--wait <MS>', 'how long to listen for SSDP answers', '2500')
    .option('--timeout <MS>', 'deadline for each HTTP/SOAP exchange', '5000')
    .option('--max-mappings <N>', 'stop reading mappings after this many', '1024')
    .option('--no-natpmp', 'do not probe NAT-PMP/PCP on UDP 5351')
    .option('--natpmp-port <PORT>', 'NAT-PMP port (tests)')
    .option('--wan <IP>', "probe this router's internet side instead (run it from outside, e.g. in the lab's ig-inet namespace)")
    .option('--wan-ports <LIST>', `TCP ports to try for the IGD on the WAN side (default ${DEFAULT_WAN_PORTS.join(',')})`)
    .option('--risk-table <FILE>', 'port risk table (default data/port-risk.json)')
    .option('--no-neigh', 'do not look up MACs (neighbour table) or names (reverse DNS) of mapped devices')
    .addHelpText(
      'after',
      `
Examples:
  iotguard upnp                          list every mapping, its device and risk
  iotguard upnp --authorized             also test whether the IGD maps ports for other addresses
  iotguard upnp --remove tcp/2323        delete one mapping (asks first)
  ip netns exec ig-inet iotguard upnp --wan 5.45.0.2   is the lab router's UPnP reachable from the internet?

Exit codes: 0 ran (whatever it found, also "no IGD"), 1 could not do its job, 2 bad usage.`,
    );
  cmd.action(async () => {});
  await parse(cmd, argv);
  if (argv.includes('--help') || argv.includes('-h')) return 0;
  const o = cmd.opts<Opts>();
  const json = o.json === true;
  const log = (m: string) => {
    if (!json) info(color.dim(m));
  };

  if (o.iface && o.source) throw new IotguardError(ErrorCodes.USAGE, 'use --iface or --source, not both', { exitCode: 1 });
  const bindAddress = o.iface ? interfaceAddress(o.iface) : o.source ? ipv4('--source', o.source) : undefined;
  const timeoutMs = int('--timeout', o.timeout, 100, 120_000);
  const ssdpWaitMs = int('--wait', o.wait, 100, 30_000);

  if (o.wan) {
    if (o.remove !== undefined || o.authorized || (o.location && o.location.length > 0)) {
      throw new IotguardError(ErrorCodes.USAGE, '--wan probes a router from outside; it does not combine with --remove, --authorized or --location', { exitCode: 1 });
    }
    const target = ipv4('--wan', o.wan);
    const ports = o.wanPorts ? o.wanPorts.split(',').map((p) => int('--wan-ports', p.trim(), 1, 65535)) : undefined;
    log(`probing ${target} from the WAN side (SSDP, IGD HTTP/SOAP, NAT-PMP)...`);
    const wan = await probeWanExposure(target, {
      bindAddress,
      timeoutMs: Math.min(timeoutMs, 3000),
      waitMs: ssdpWaitMs,
      ...(ports ? { ports } : {}),
      ...(o.natpmpPort ? { natPmpPort: int('--natpmp-port', o.natpmpPort, 1, 65535) } : {}),
      ...(o.ssdpTarget?.includes(':') ? { ssdpPort: int('--ssdp-target port', o.ssdpTarget.split(':')[1], 1, 65535) } : {}),
    }, { log });
    const findings = wanFindings(wan);
    if (json) printJson({ gateways: [], wan, findings });
    else {
      const yes = (b: boolean) => (b ? color.red('yes') : color.green('no'));
      process.stdout.write(`${color.bold(`WAN side of ${target}`)}\n  SSDP answers         ${yes(wan.ssdp.length > 0)} ${color.dim(wan.ssdp.map((s) => s.location ?? s.st ?? '').join(' '))}\n  IGD description      ${yes(wan.descriptions.length > 0)} ${color.dim(wan.descriptions.join(' '))}\n  SOAP control         ${yes(wan.soap.length > 0)} ${color.dim(wan.soap.map((s) => `${s.controlUrl} → ${s.result}`).join(' '))}\n  NAT-PMP              ${yes(wan.natPmp)}\n`);
      if (findings.length === 0) process.stdout.write(`\n${color.green('Not exposed')}: nothing UPnP answers on the internet side.\n`);
      printFindings(findings);
    }
    return 0;
  }

  const riskTable = await loadPortRiskTable(o.riskTable);
  const maxMappings = int('--max-mappings', o.maxMappings, 1, 65535);
  let ssdpHost: string | undefined;
  let ssdpPort: number | undefined;
  if (o.ssdpTarget) {
    const [h, p] = o.ssdpTarget.split(':');
    ssdpHost = ipv4('--ssdp-target', h);
    if (p !== undefined) ssdpPort = int('--ssdp-target port', p, 1, 65535);
  }
  for (const l of o.location ?? []) {
    let u: URL | undefined;
    try {
      u = new URL(l);
    } catch {
      u = undefined;
    }
    if (!u || u.protocol !== 'http:') throw new IotguardError(ErrorCodes.USAGE, `--location needs an http:// URL, not ${l}`, { exitCode: 1 });
  }
  const removeTarget = o.remove !== undefined ? parseProtoPort(o.remove) : undefined;
  if (o.remove !== undefined && !removeTarget) throw new IotguardError(ErrorCodes.USAGE, `--remove needs PROTO/PORT such as tcp/2323, not ${o.remove}`, { exitCode: 1 });

  const init: UpnpAuditInit = {
    bindAddress,
    ...(o.location && o.location.length > 0 ? { locations: o.location } : {}),
    ...(ssdpHost ? { ssdpHost } : {}),
    ...(ssdpPort ? { ssdpPort } : {}),
    ssdpWaitMs,
    timeoutMs,
    maxMappings,
    // A named SSDP target is also the NAT-PMP gateway: never wander to the default route's router then.
    natPmpGateway: o.natpmp ? (ssdpHost ?? undefined) : false,
    ...(o.natpmpPort ? { natPmpPort: int('--natpmp-port', o.natpmpPort, 1, 65535) } : {}),
    authorized: o.authorized === true,
  };
  const components = { resolver: createNeighbourResolver({ nudge: o.neigh, inventory: true, reverseDns: o.neigh }), riskTable, log };
  if (!o.neigh) components.resolver = { resolve: async (ips: string[]) => new Map(ips.map((ip) => [ip, { ip }])) };

  log(init.locations ? `reading ${init.locations.join(', ')}` : `searching for UPnP gateways (SSDP ${ssdpHost ?? 'multicast'}, ${ssdpWaitMs} ms)...`);
  const audit = async (i: UpnpAuditInit): Promise<UpnpAuditResult> => {
    try {
      return await runUpnpAudit(i, components);
    } catch (e) {
      // No IGD on the network is an answer (UPnP is off), not a failure — unless the user named one or wants to remove a mapping.
      if (isIotguardError(e) && e.code === ErrorCodes.UPNP_NO_GATEWAY && !i.locations && !removeTarget) {
        return { gateways: [], findings: [], disableImpact: [], miniupnpdAcl: [] };
      }
      throw e;
    }
  };

  if (removeTarget) {
    const found = await discoverGateways(init, components);
    if (found.length === 0) throw new IotguardError(ErrorCodes.UPNP_NO_GATEWAY, 'no UPnP gateway answered: nothing to remove from');
    const first = await audit({ ...init, locations: found.map((g) => g.location), authorized: false });
    const holders = first.gateways.filter((g) => g.mappings.some((m) => m.protocol === removeTarget.protocol && m.externalPort === removeTarget.port));
    if (holders.length === 0) {
      throw new IotguardError(ErrorCodes.UPNP_BAD_RESPONSE, `no ${removeTarget.protocol}/${removeTarget.port} mapping on ${first.gateways.map((g) => g.host).join(', ') || 'any gateway'}`);
    }
    for (const g of holders) {
      const m = g.mappings.find((x) => x.protocol === removeTarget.protocol && x.externalPort === removeTarget.port)!;
      if (!o.yes && !(await confirm(`Remove ${m.protocol} ${m.externalPort} → ${m.internalClient}:${m.internalPort} (${m.description || 'no description'}) on ${g.host}?`))) {
        if (json) printJson({ ...first, removed: [] });
        else info('nothing removed');
        return 0;
      }
    }
    const removed = [];
    for (const g of holders) removed.push(await removeMapping(g.location, removeTarget.protocol, removeTarget.port, init));
    const after = await audit({ ...init, locations: found.map((g) => g.location), authorized: false });
    if (json) printJson({ ...after, removed });
    else {
      for (const r of removed) {
        process.stdout.write(r.removed ? `${color.green('removed')} ${removeTarget.protocol}/${removeTarget.port} from ${r.location}\n` : `${color.red('not removed')} ${removeTarget.protocol}/${removeTarget.port} from ${r.location}: ${r.error ?? 'still listed'}\n`);
      }
      process.stdout.write('\n');
      printAudit(after);
    }
    if (removed.some((r) => !r.removed)) {
      const bad = removed.find((r) => !r.removed)!;
      const msg = `could not remove ${removeTarget.protocol}/${removeTarget.port}: ${bad.error ?? 'still listed'}`;
      if (json) process.stderr.write(`${JSON.stringify({ error: { code: ErrorCodes.UPNP_SOAP_FAULT, message: msg } })}\n`);
      else warn(msg);
      return 1;
    }
    return 0;
  }

  const result = await audit(init);
  if (result.gateways.length > 0 && result.gateways.every((g) => !g.controlUrl)) {
    throw new IotguardError(ErrorCodes.UPNP_BAD_RESPONSE, `could not talk to ${result.gateways.length === 1 ? 'the gateway' : 'any gateway'}: ${result.gateways[0].errors[0] ?? 'no WAN connection service'}`);
  }
  if (json) printJson(result);
  else printAudit(result);
  return 0;
}
