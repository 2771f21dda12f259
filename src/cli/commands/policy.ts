// `iotguard policy`: RFC 8520 MUD allowlists.
//   import FILE...                 read vendor MUD files: imported, or rejected with the JSON path at fault
//   render --mud ... --format F    one ruleset for the LAN (nftables, or OpenWrt fw4 + UCI)
//   apply  --mud ... --authorized  load it on this Linux router (or in --netns), keeping the old ruleset
//   rollback                       put the saved ruleset back, byte for byte
//   learn FILE... --device D       write the MUD profile a capture shows for one device
//   check --mud FILE FILE...       policy-violation findings for traffic outside a profile
import { writeFileSync } from 'node:fs';
import { Command } from 'commander';
import { newCommand, parse } from '../command.js';
import { color, createProgress, info, printJson, severityColor, table, warn } from '../ui.js';
import { ErrorCodes, IotguardError } from '../../core/model/errors.js';
import { ipv4ToInt, normalizeMac, parseCidr } from '../../core/model/net.js';
import type { ImportResult } from '../../core/policy/import.js';
import { profileNames, type MudProfile } from '../../core/policy/profile.js';
import { renderNftables, type DeviceBinding, type DeviceMode, type RenderOptions } from '../../core/policy/render-nft.js';
import { renderOpenWrt } from '../../core/policy/render-openwrt.js';
import { applyPolicy, createExec, createNetnsResolver, defaultStateDir, rollbackPolicy } from '../../adapters/policy/nft.js';
import { readMudFile } from '../../adapters/policy/files.js';
import { inferNetwork, pickDevice, trafficFromCaptures, type CaptureTraffic } from '../../adapters/policy/engine.js';
import { learnProfile } from '../../core/policy/learn.js';
import { checkTraffic, violationFindings, type Violation } from '../../core/policy/check.js';
import type { Finding } from '../../core/model/finding.js';
import type { DeviceTraffic } from '../../core/policy/traffic.js';

const MAC_RE = /^[0-9a-f]{2}([:-][0-9a-f]{2}){5}$/i;
const collect = (v: string, prev: string[] = []) => [...prev, v];
const usage = (msg: string) => new IotguardError(ErrorCodes.USAGE, msg, { exitCode: 1 });

function ipv4(name: string, v: string): string {
  if (ipv4ToInt(v) === undefined) throw usage(`${name} needs an IPv4 address, not ${v}`);
  return v;
}

/** `[MAC[@IP]=]FILE` */
export function parseMudSpec(spec: string): { mac?: string; ip?: string; file: string } {
  const m = /^([0-9A-Fa-f:-]{17})(?:@([\d.]+))?=(.+)$/.exec(spec);
  if (!m) return { file: spec };
  if (!MAC_RE.test(m[1])) throw usage(`--mud ${spec}: ${m[1]} is not a MAC address`);
  const out: { mac: string; ip?: string; file: string } = { mac: normalizeMac(m[1]), file: m[3] };
  if (m[2]) out.ip = ipv4('--mud', m[2]);
  return out;
}

/** `MAC[@IP]` */
function parseDeviceSpec(spec: string): { mac: string; ip?: string } {
  const [mac, ip] = spec.split('@');
  if (!MAC_RE.test(mac)) throw usage(`not a MAC address: ${mac} (expected aa:bb:cc:dd:ee:ff[@IP])`);
  return ip ? { mac: normalizeMac(mac), ip: ipv4('device', ip) } : { mac: normalizeMac(mac) };
}

function uriMap(name: string, list: string[] | undefined): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const item of list ?? []) {
    const i = item.lastIndexOf('=');
    if (i <= 0) throw usage(`${name} ${item}: expected URI=IP`);
    const uri = item.slice(0, i);
    const ip = item.slice(i + 1);
    if (ipv4ToInt(ip) === undefined && !ip.includes(':')) throw usage(`${name} ${item}: ${ip} is not an IP address`);
    (out[uri] ??= []).push(ip);
  }
  return out;
}

interface RenderCliOpts {
  mud?: string[];
  device?: string[];
  lan?: string;
  router?: string;
  mode: string;
  offline?: string[];
  quarantine?: string[];
  controller?: string[];
  myController?: string[];
  dnsAllowlist?: boolean;
  dnsMaxUdpLength: string;
  dnsRate: string;
  table: string;
  json?: boolean;
}

function addRenderOptions(c: Command): Command {
  return c
    .option('--mud <[MAC[@IP]=]FILE>', 'a device and its MUD file (repeatable); a file learned by iotguard names its device itself', collect)
    .option('--device <MAC[@IP]>', 'a device with no MUD file (isolated from the LAN and, unless --mode says otherwise, the internet)', collect)
    .option('--lan <CIDR>', 'the LAN behind the router, e.g. 192.168.1.0/24 (default: the /24 of the devices given)')
    .option('--router <IP>', "the router's LAN address (default: the LAN's first host)")
    .option('--mode <MODE>', 'enforce | no-internet | quarantine, for every device', 'enforce')
    .option('--offline <MAC[@IP]>', '"no internet" mode for this device: it may not leave the LAN (still gets DHCP and DNS); repeatable', collect)
    .option('--quarantine <MAC[@IP]>', 'this device gets DHCP only: no DNS, no LAN, no internet; repeatable', collect)
    .option('--controller <URI=IP>', 'address of a MUD controller class, e.g. urn:ietf:params:mud:ntp=192.168.1.5 (repeatable)', collect)
    .option('--my-controller <MUDURL=IP>', "address of the controller of devices with this MUD URL (repeatable)", collect)
    .option('--dns-allowlist', "answer only DNS queries for names in the device's profile (exact names)")
    .option('--dns-max-udp-length <BYTES>', 'drop larger DNS queries from managed devices (DNS-tunnel guard; 0 = off)', '200')
    .option('--dns-rate <N>', 'DNS queries per second per managed device before drops (0 = off)', '20')
    .option('--table <NAME>', 'nftables table name (inet and bridge)', 'iotguard')
    .option('--json', 'one JSON document on stdout (CONTRACT.md)');
}

function int(name: string, v: string, min: number, max: number): number {
  if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) throw usage(`${name} must be a whole number from ${min} to ${max}, not ${v}`);
  return Number(v);
}

function mustImport(file: string): { profile: MudProfile; device?: { mac: string; ip?: string } } {
  const { result, device } = readMudFile(file);
  if (!result.ok) throw new IotguardError(ErrorCodes.POLICY_INVALID, `${file} is not a usable MUD file: ${result.reason}`);
  return device ? { profile: result.profile, device } : { profile: result.profile };
}

export function bindingsFromOptions(o: RenderCliOpts): { bindings: DeviceBinding[]; options: RenderOptions; warnings: string[] } {
  const warnings: string[] = [];
  const modes = ['enforce', 'no-internet', 'quarantine'];
  if (!modes.includes(o.mode)) throw usage(`--mode must be one of ${modes.join(', ')}, not ${o.mode}`);
  const byMac = new Map<string, DeviceBinding>();
  for (const spec of o.mud ?? []) {
    const s = parseMudSpec(spec);
    const { profile, device } = mustImport(s.file);
    const mac = s.mac ?? device?.mac;
    if (!mac) throw usage(`--mud ${spec}: which device? write it as MAC[@IP]=${s.file}`);
    if (byMac.has(mac)) throw usage(`device ${mac} is given twice`);
    const b: DeviceBinding = { mac, profile, mode: o.mode as DeviceMode, label: profile.systeminfo ?? profile.url };
    const ip = s.ip ?? device?.ip;
    if (ip) b.ip = ip;
    byMac.set(mac, b);
  }
  for (const spec of o.device ?? []) {
    const d = parseDeviceSpec(spec);
    if (byMac.has(d.mac)) throw usage(`device ${d.mac} is given twice`);
    byMac.set(d.mac, { ...d, mode: o.mode === 'enforce' ? 'no-internet' : (o.mode as DeviceMode) });
  }
  for (const [list, mode] of [[o.offline, 'no-internet'], [o.quarantine, 'quarantine']] as const) {
    for (const spec of list ?? []) {
      const d = parseDeviceSpec(spec);
      const b = byMac.get(d.mac) ?? { mac: d.mac, mode };
      b.mode = mode;
      if (d.ip) b.ip = d.ip;
      byMac.set(d.mac, b);
    }
  }
  if (byMac.size === 0) throw usage('no devices: give at least one --mud [MAC[@IP]=]FILE or --device MAC');
  const bindings = [...byMac.values()];
  let lan = o.lan;
  if (!lan) {
    const nets = new Set(bindings.filter((b) => b.ip).map((b) => `${b.ip!.split('.').slice(0, 3).join('.')}.0/24`));
    if (nets.size !== 1) throw usage('--lan CIDR is needed (the devices given do not show one /24)');
    lan = [...nets][0];
    warnings.push(`--lan not given: using ${lan}`);
  }
  parseCidr(lan);
  const options: RenderOptions = {
    lan,
    controllers: uriMap('--controller', o.controller),
    myControllers: uriMap('--my-controller', o.myController),
    table: o.table,
    dnsMaxUdpLength: int('--dns-max-udp-length', o.dnsMaxUdpLength, 0, 65535),
    dnsRatePerSecond: int('--dns-rate', o.dnsRate, 0, 100000),
    dnsAllowlist: o.dnsAllowlist === true,
  };
  if (o.router) options.router = ipv4('--router', o.router);
  return { bindings, options, warnings };
}

function render(o: RenderCliOpts) {
  const { bindings, options, warnings } = bindingsFromOptions(o);
  try {
    return { result: renderNftables(bindings, options), bindings, options, warnings };
  } catch (e) {
    throw usage((e as Error).message);
  }
}

// --- import ------------------------------------------------------------------

async function runImport(files: string[], o: { json?: boolean }): Promise<number> {
  const rows: Array<{ file: string; result: ImportResult }> = files.map((f) => ({ file: f, result: readMudFile(f).result }));
  if (o.json) {
    printJson({
      files: rows.map(({ file, result: r }) =>
        r.ok
          ? { file, status: 'imported', url: r.profile.url, systeminfo: r.profile.systeminfo ?? null, dialect: r.profile.dialect, rules: r.profile.rules.length, names: profileNames(r.profile), warnings: r.warnings }
          : { file, status: 'rejected', reason: r.reason, errors: r.errors, warnings: r.warnings },
      ),
    });
    return 0;
  }
  process.stdout.write(
    `${table(
      ['FILE', 'STATUS', 'RULES', 'DETAIL'],
      rows.map(({ file, result: r }) =>
        r.ok
          ? [file, color.green('imported'), String(r.profile.rules.length), `${r.profile.url}${r.warnings.length ? color.yellow(` (${r.warnings.length} warning${r.warnings.length > 1 ? 's' : ''})`) : ''}`]
          : [file, color.red('rejected'), '-', r.reason],
      ),
    )}\n`,
  );
  const ok = rows.filter((r) => r.result.ok).length;
  info(`${ok} of ${rows.length} imported`);
  return 0;
}

// --- render ------------------------------------------------------------------

async function runRender(o: RenderCliOpts & { format: string; out?: string; dnsmasqOut?: string }): Promise<number> {
  if (o.format !== 'nftables' && o.format !== 'openwrt') throw usage(`--format must be nftables or openwrt, not ${o.format}`);
  const { bindings, options, warnings } = bindingsFromOptions(o);
  let text: string;
  let extra: Record<string, unknown>;
  let notes: string[];
  let dnsmasq: string;
  try {
    if (o.format === 'openwrt') {
      const r = renderOpenWrt(bindings, options);
      text = r.bundle;
      notes = r.notes;
      dnsmasq = r.dnsmasq;
      extra = { files: r.files, sets: r.sets };
    } else {
      const r = renderNftables(bindings, options);
      text = r.nft;
      notes = r.notes;
      dnsmasq = r.dnsmasq;
      extra = { ruleset: r.nft, dnsmasq: r.dnsmasq, sets: r.sets };
    }
  } catch (e) {
    throw usage((e as Error).message);
  }
  if (o.out) writeFileSync(o.out, text);
  if (o.dnsmasqOut) writeFileSync(o.dnsmasqOut, dnsmasq);
  for (const w of [...warnings, ...notes]) warn(w);
  if (o.json) printJson({ format: o.format, devices: bindings.map((b) => ({ mac: b.mac, ip: b.ip ?? null, mode: b.mode, mud: b.profile?.url ?? null })), ...extra, notes });
  else if (!o.out) process.stdout.write(text);
  else info(`wrote ${o.out}`);
  return 0;
}

// --- apply / rollback --------------------------------------------------------------

async function runApply(o: RenderCliOpts & { authorized?: boolean; netns?: string; stateDir?: string; resolve: boolean; resolver?: string; dnsmasqOut?: string }): Promise<number> {
  if (!o.authorized) throw new IotguardError(ErrorCodes.NOT_AUTHORIZED, 'policy apply changes the firewall of this router: add --authorized to confirm', { exitCode: 1 });
  const { result, options, warnings } = render(o);
  for (const w of [...warnings, ...result.notes]) warn(w);
  const exec = createExec(o.netns);
  const stateDir = o.stateDir ?? defaultStateDir(o.netns);
  const router = options.router ?? result.nft.match(/router ([\d.]+),/)?.[1];
  const resolverIp = o.resolver ?? router ?? '127.0.0.1';
  const apply: Parameters<typeof applyPolicy>[0] = { exec, stateDir, ruleset: result.nft, table: result.table };
  if (o.netns) apply.netns = o.netns;
  if (o.resolve && result.sets.length) {
    apply.resolveSets = result.sets.map((s) => ({ set: s.name, family: s.family, names: s.names }));
    apply.resolve = createNetnsResolver(exec, ipv4('--resolver', resolverIp));
  }
  if (o.dnsmasqOut) writeFileSync(o.dnsmasqOut, result.dnsmasq);
  const report = await applyPolicy(apply);
  if (o.json) {
    printJson({ applied: true, table: result.table, netns: o.netns ?? null, ...report, notes: result.notes });
    return 0;
  }
  info(`${color.green('applied')} table inet/bridge ${result.table}${o.netns ? ` in netns ${o.netns}` : ''}`);
  info(`previous ruleset ${report.snapshotTaken ? 'saved to' : 'kept (from the first apply) in'} ${report.savedFile}; undo with: iotguard policy rollback${o.netns ? ` --netns ${o.netns}` : ''}${o.stateDir ? ` --state-dir ${o.stateDir}` : ''}`);
  for (const f of report.filled) {
    info(`  set ${f.set}: ${f.addresses.length} address(es)${f.unresolved.length ? color.yellow(`, unresolved: ${f.unresolved.join(' ')}`) : ''}`);
  }
  return 0;
}

async function runRollback(o: { netns?: string; stateDir?: string; full?: boolean; json?: boolean }): Promise<number> {
  const exec = createExec(o.netns);
  const stateDir = o.stateDir ?? defaultStateDir(o.netns);
  const r = await rollbackPolicy({ exec, stateDir, forceFullRestore: o.full === true });
  if (o.json) printJson({ rolledBack: r.ownTablesRemoved || r.identical, ...r });
  else {
    info(`${color.green('rolled back')} (${r.method})`);
    if (r.identical) info('the ruleset is byte for byte the one saved before apply');
    else if (r.ownTablesRemoved) {
      warn(`iotguard's tables are gone, but the rest of the ruleset changed after apply, not by iotguard (${r.changedByOthers.join(', ')}); --full puts the saved copy back over those changes`);
    }
  }
  if (!r.identical && !r.ownTablesRemoved) throw new IotguardError(ErrorCodes.POLICY_INVALID, 'rollback could not restore the saved ruleset');
  return 0;
}

// --- learn / check ---------------------------------------------------------------

async function readCaptures(files: string[], quiet: boolean): Promise<CaptureTraffic> {
  const progress = createProgress('reading captures', 0, { quiet });
  let last = 0;
  const ct = await trafficFromCaptures(files, (done, total) => {
    progress.setTotal(total);
    progress.tick(done - last);
    last = done;
  });
  progress.done();
  for (const f of ct.failures) warn(f.message);
  if (ct.result.summary.packets === 0) throw new IotguardError(ErrorCodes.CAPTURE_FORMAT, `no packets in ${files.join(', ')}`);
  return ct;
}

async function runLearn(files: string[], o: { device: string; out?: string; lan?: string; router?: string; json?: boolean }): Promise<number> {
  if (o.lan) parseCidr(o.lan);
  if (o.router) ipv4('--router', o.router);
  const ct = await readCaptures(files, o.json === true);
  const dev = pickDevice(ct, o.device);
  const net = inferNetwork(dev, { ...(o.lan ? { lan: o.lan } : {}), ...(o.router ? { router: o.router } : {}) });
  const r = learnProfile(dev, { ...net, now: new Date() });
  const text = `${JSON.stringify(r.mud, null, 2)}\n`;
  if (o.out) writeFileSync(o.out, text);
  if (o.json) {
    printJson({ device: r.device, lan: net.lan, router: net.router, out: o.out ?? null, rules: r.rules, names: r.names, excluded: r.excluded, excludedNames: r.excludedNames, mud: r.mud });
    return 0;
  }
  if (!o.out) {
    process.stdout.write(text);
  } else info(`wrote ${o.out}: ${r.rules} rules`);
  info(`device ${r.device.mac ?? ''} ${r.device.ip ?? ''} (LAN ${net.lan}, router ${net.router})`);
  info(`names allowed: ${r.names.join(', ') || 'none'}`);
  for (const e of r.excluded) info(color.yellow(`left out: ${e.reason}: ${e.remote} ${e.proto}${e.port !== undefined ? `/${e.port}` : ''} (${e.flows} flow${e.flows > 1 ? 's' : ''})`));
  if (r.excludedNames.length) info(color.yellow(`left out ${r.excludedNames.length} DNS name(s): ${[...new Set(r.excludedNames.map((n) => n.reason))].join('; ')}`));
  return 0;
}

async function runCheck(files: string[], o: { mud: string[]; device?: string; lan?: string; router?: string; json?: boolean }): Promise<number> {
  const profiles = o.mud.map((spec) => {
    const s = parseMudSpec(spec);
    const { profile, device } = mustImport(s.file);
    const who = s.mac ?? device?.mac ?? s.ip ?? device?.ip;
    return { profile, who };
  });
  if (o.device && profiles.length === 1) profiles[0].who = o.device;
  for (const p of profiles) if (!p.who) throw usage('which device does the profile belong to? give --device MAC|IP (or --mud MAC=FILE)');
  const ct = await readCaptures(files, o.json === true);
  const violations: Violation[] = [];
  const findings: Finding[] = [];
  const peers = profiles.flatMap((p) => {
    try {
      const d: DeviceTraffic = pickDevice(ct, p.who!);
      return d.ip ? [{ ip: d.ip, profile: p.profile }] : [];
    } catch {
      return [];
    }
  });
  for (const p of profiles) {
    const dev = pickDevice(ct, p.who!);
    const net = inferNetwork(dev, { ...(o.lan ? { lan: o.lan } : {}), ...(o.router ? { router: o.router } : {}) });
    const v = checkTraffic(p.profile, dev, { ...net, peers });
    violations.push(...v);
    findings.push(...violationFindings(v, p.profile.url));
  }
  if (o.json) {
    printJson({ violations, findings });
    return 0;
  }
  if (findings.length === 0) info(color.green('no traffic outside the profiles'));
  else {
    process.stdout.write(
      `${table(
        ['SEVERITY', 'DEVICE', 'VIOLATION', 'REMOTE', 'PORT', 'FLOWS'],
        violations.map((v, i) => [
          severityColor(findings[i].severity)(findings[i].severity),
          v.device.mac ?? v.device.ip ?? '',
          v.kind,
          v.remote.name ? `${v.remote.name} (${v.remote.ip})` : v.remote.ip,
          `${v.proto}${v.port !== null ? `/${v.port}` : ''}`,
          String(v.flows),
        ]),
      )}\n`,
    );
  }
  return 0;
}

export async function run(argv: string[]): Promise<number> {
  let code = 0;
  const cmd = newCommand('policy', 'learn, check, render and apply RFC 8520 MUD allowlists');
  cmd
    .command('import')
    .description('read MUD files: each is imported or rejected with the JSON path at fault')
    .argument('<FILE...>', 'MUD files (JSON)')
    .option('--json', 'one JSON document on stdout (CONTRACT.md)')
    .action(async (files: string[], o: { json?: boolean }) => {
      code = await runImport(files, o);
    });
  addRenderOptions(
    cmd
      .command('render')
      .description('print one nftables ruleset (or OpenWrt fw4 files) for the whole LAN')
      .option('--format <FORMAT>', 'nftables | openwrt', 'nftables')
      .option('--out <FILE>', 'write the ruleset (or the OpenWrt bundle) to FILE')
      .option('--dnsmasq-out <FILE>', 'write the dnsmasq nftset= lines to FILE'),
  ).action(async (o: RenderCliOpts & { format: string; out?: string; dnsmasqOut?: string }) => {
    code = await runRender(o);
  });
  addRenderOptions(
    cmd
      .command('apply')
      .description('load the ruleset on this Linux router, atomically, keeping the previous one (needs root)')
      .option('--authorized', 'confirm: this changes the firewall')
      .option('--netns <NS>', 'run nft inside this network namespace (the lab router: ig-router)')
      .option('--state-dir <DIR>', 'where the saved ruleset and state live (default /var/lib/iotguard/policy/<netns|host>)')
      .option('--no-resolve', 'do not fill the name sets now (leave it to dnsmasq nftset)')
      .option('--resolver <IP>', "DNS server to resolve the allowed names with (default: the router's LAN address)")
      .option('--dnsmasq-out <FILE>', 'also write the dnsmasq nftset= lines to FILE'),
  ).action(async (o: RenderCliOpts & { authorized?: boolean; netns?: string; stateDir?: string; resolve: boolean; resolver?: string; dnsmasqOut?: string }) => {
    code = await runApply(o);
  });
  cmd
    .command('rollback')
    .description('restore the ruleset saved by policy apply, byte for byte')
    .option('--netns <NS>', 'run nft inside this network namespace')
    .option('--state-dir <DIR>', 'state directory used by apply')
    .option('--full', 'if the rest of the ruleset changed since apply, load the whole saved copy back over it (flush ruleset + saved)')
    .option('--json', 'one JSON document on stdout (CONTRACT.md)')
    .action(async (o: { netns?: string; stateDir?: string; full?: boolean; json?: boolean }) => {
      code = await runRollback(o);
    });
  cmd
    .command('learn')
    .description('write the RFC 8520 MUD profile that captures show for one device')
    .argument('<FILE...>', 'pcap / pcapng captures (gzip allowed)')
    .requiredOption('--device <MAC|IP>', 'the device to learn')
    .option('--out <FILE>', 'write the MUD file here (default: stdout)')
    .option('--lan <CIDR>', 'the LAN (default: the /24 of the device)')
    .option('--router <IP>', 'the router (default: where the device sends its DNS queries)')
    .option('--json', 'one JSON document on stdout: the profile, names, what was left out and why')
    .action(async (files: string[], o: { device: string; out?: string; lan?: string; router?: string; json?: boolean }) => {
      code = await runLearn(files, o);
    });
  cmd
    .command('check')
    .description('policy-violation findings for traffic outside the profiles')
    .argument('<FILE...>', 'pcap / pcapng captures (gzip allowed)')
    .requiredOption('--mud <[MAC[@IP]=]FILE>', 'a device profile (repeatable)', collect)
    .option('--device <MAC|IP>', 'the device, when one profile is given and it does not name its device')
    .option('--lan <CIDR>', 'the LAN (default: the /24 of the device)')
    .option('--router <IP>', 'the router (default: where the device sends its DNS queries)')
    .option('--json', 'one JSON document on stdout: { violations, findings }')
    .action(async (files: string[], o: { mud: string[]; device?: string; lan?: string; router?: string; json?: boolean }) => {
      code = await runCheck(files, o);
    });
  if (argv.length === 0) {
    process.stdout.write(cmd.helpInformation());
    return 2;
  }
  await parse(cmd, argv);
  return code;
}

