// `iotguard discover`: find the devices on the LAN, their open ports and
// banners, names, announced services and type; merge them into the inventory
// (CONTRACT.md: { devices: [ { ip, mac, vendor, hostname, type, openPorts, services } ] }).
import { Option } from 'commander';
import { newCommand, parse } from '../command.js';
import { color, createProgress, info, printJson, table, warn } from '../ui.js';
import { runDiscovery, type Phase } from '../../core/inventory/discover.js';
import type { Device } from '../../core/model/device.js';
import { ErrorCodes, IotguardError } from '../../core/model/errors.js';
import { cidrContains, ipv4ToInt } from '../../core/model/net.js';
import { loadTopPorts } from '../../adapters/net/datafiles.js';
import { createDiscoveryComponents, readLeaseFile, resolveTargets } from '../../adapters/net/discovery.js';
import { defaultGateway, defaultRouteDevice } from '../../adapters/net/neighbours.js';
import { checkStorePath, defaultStorePath } from '../../adapters/store/path.js';

function bad(msg: string): IotguardError {
  return new IotguardError(ErrorCodes.DATA_INVALID, msg);
}

/** `top100`, or a list such as `22,80,8000-8010`. */
export function parsePortSpec(spec: string, top: number[]): number[] {
  const s = spec.trim().toLowerCase();
  if (s === 'top100' || s === 'top') return [...top];
  const out = new Set<number>();
  for (const part of s.split(',').map((x) => x.trim()).filter(Boolean)) {
    const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(part);
    if (!m) throw bad(`--ports: '${part.slice(0, 40)}' is not a port or range (use top100 or e.g. 22,80,8000-8010)`);
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    if (a < 1 || b > 65535 || a > b) throw bad(`--ports: '${part}' is outside 1-65535`);
    for (let p = a; p <= b; p++) out.add(p);
  }
  if (out.size === 0) throw bad('--ports is empty');
  return [...out].sort((x, y) => x - y);
}

function num(name: string, min: number, max: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!/^\d+$/.test(v) || n < min || n > max) throw bad(`${name} must be a whole number from ${min} to ${max}`);
    return n;
  };
}

const TYPE_COLOR: Partial<Record<Device['type'], (s: string) => string>> = {
  camera: color.magenta,
  dvr: color.magenta,
  router: color.cyan,
  unknown: color.dim,
};

function render(devices: Device[]): string {
  const short = (s: string | null, n: number) => (s ? (s.length > n ? `${s.slice(0, n - 1)}…` : s) : color.dim('-'));
  const rows = devices.map((d) => [
    d.self ? `${d.ip}${color.dim('*')}` : d.ip,
    d.mac ?? color.dim('-'),
    d.macLocallyAdministered ? color.yellow('random MAC') : short(d.vendor?.replace(/[,.]?\s*(co\.?,?\s*ltd\.?|inc\.?|corporation|llc|gmbh|ltd\.?)$/i, '') ?? null, 26),
    short(d.hostname, 24),
    (TYPE_COLOR[d.type] ?? color.green)(d.type),
    d.openPorts.map((p) => `${p.port}/${p.service}`).join(' ') || color.dim('-'),
  ]);
  const lines = [table(['IP', 'MAC', 'VENDOR', 'HOSTNAME', 'TYPE', 'OPEN PORTS'], rows)];
  const details: string[] = [];
  for (const d of devices) {
    const bits: string[] = [];
    for (const p of d.openPorts) if (p.banner) bits.push(`  ${color.dim(`${p.port}/${p.service}`)} ${p.banner}`);
    for (const s of d.services) {
      if (s.via === 'mdns') bits.push(`  ${color.dim('mdns')} ${s.type}${s.name ? ` "${s.name}"` : ''}${s.port ? ` port ${s.port}` : ''}`);
      if (s.via === 'ssdp') {
        const what = [s.manufacturer, s.model, s.modelNumber, s.firmwareVersion ? `fw ${s.firmwareVersion}` : undefined].filter(Boolean).join(' ');
        if (s.searched) bits.push(`  ${color.dim('ssdp')} searches ${s.searched}`);
        else bits.push(`  ${color.dim('ssdp')} ${what || s.server || ''}${s.type ? color.dim(` (${s.type})`) : ''}`);
      }
      if (s.via === 'dhcp' && s.vendorClass) bits.push(`  ${color.dim('dhcp')} vendor class ${s.vendorClass}`);
      if (s.via === 'http' && s.userAgent) bits.push(`  ${color.dim('http')} User-Agent ${s.userAgent}`);
    }
    if (d.typeEvidence?.length) bits.push(`  ${color.dim('type')} ${d.type} ← ${d.typeEvidence.slice(0, 3).map((e) => `${e.field} "${e.value}"`).join(', ')}`);
    if (d.previousIps?.length) bits.push(`  ${color.dim('was')} ${d.previousIps.join(', ')}`);
    if (bits.length) details.push(`${color.bold(d.ip)}${d.hostname ? ` ${d.hostname}` : ''}\n${bits.join('\n')}`);
  }
  if (details.length) lines.push('', ...details);
  return lines.join('\n');
}

/** `discover --pcap`: the same device list, from what the devices said in a capture. Sends nothing. */
async function runPassive(files: string[], o: { json: boolean; store: boolean; db?: string; cidrs?: string[] }): Promise<number> {
  const { existsSync } = await import('node:fs');
  for (const f of files) if (!existsSync(f)) throw new IotguardError(ErrorCodes.FILE_NOT_FOUND, `no such capture file: ${f}`);
  const storePath = o.store ? (o.db ?? defaultStorePath()) : undefined;
  if (storePath) checkStorePath(storePath);
  const [{ analyzeFiles }, { createIdentityObserver }, { loadFingerprints }, { preloadOui, vendorOf }] = await Promise.all([
    import('../../adapters/capture/analyze-files.js'),
    import('../../core/inventory/passive.js'),
    import('../../adapters/net/fingerprint-data.js'),
    import('../../adapters/net/oui.js'),
  ]);
  const started = new Date().toISOString();
  const observer = createIdentityObserver();
  const bar = createProgress('reading', 0, { quiet: o.json });
  let shown = 0;
  const { result, failures } = await analyzeFiles(files, {
    detectors: [observer],
    onProgress: (done, total) => {
      bar.setTotal(total);
      bar.tick(done - shown);
      shown = done;
    },
  });
  bar.done();
  for (const f of failures) warn(f.message);
  await preloadOui();
  let devices = observer.devices(loadFingerprints(), vendorOf);
  // Passive identity is per MAC: hosts behind the router (one MAC, many IPs) are not devices of this LAN.
  devices = devices.filter((d) => d.ip === '' || /^(10|127|169\.254|172\.(1[6-9]|2\d|3[01])|192\.168)\./.test(d.ip) || d.ip.includes(':'));
  const finished = new Date().toISOString();
  if (storePath) {
    const [{ openStore }, { saveDiscovery }] = await Promise.all([import('../../adapters/store/db.js'), import('../../adapters/store/inventory.js')]);
    const store = openStore(storePath);
    try {
      devices = saveDiscovery(store, devices.filter((d) => d.ip), { kind: 'discover-pcap', startedAt: started, finishedAt: finished, params: { files } });
    } finally {
      store.close();
    }
  }
  const scan = { mode: 'passive', files, packets: result.summary.packets, startedAt: started, finishedAt: finished, store: storePath ?? null };
  if (o.json) printJson({ devices, scan });
  else {
    process.stdout.write(`${devices.length ? render(devices) : color.dim('no devices found')}\n`);
    info(color.dim(`${devices.length} device(s) from ${result.summary.packets} packets in ${files.length} file(s)` + (storePath ? `; inventory: ${storePath}` : '')));
  }
  return 0;
}

export async function run(argv: string[]): Promise<number> {
  const cmd = newCommand('discover', 'find the devices on the LAN and say what they are: MAC, vendor, names, open ports, banners, mDNS/SSDP services, type')
    .option('--cidr <cidr...>', 'IPv4 ranges to scan (each /16 or smaller; default: the subnets of the interface)')
    .option('--iface <if>', 'interface whose subnets to scan (default: the one with the default route)')
    .option('--ports <spec>', 'top100 (data/ports-top100.json) or a list such as 22,80,8000-8010', 'top100')
    .option('--allow-public', 'allow scanning a range that is not private (only with its owner\'s permission)')
    .option('--db <path>', `inventory database (default ${defaultStorePath()})`)
    .option('--no-store', 'do not merge the results into the inventory')
    .option('--leases <file>', 'a DHCP lease file (dnsmasq or ISC dhcpd) for host names')
    .option('--dns <server>', 'server for reverse DNS (default: the gateway, when it is inside the range; "none" to skip)')
    .addOption(new Option('--concurrency <n>', 'TCP connects at once').default(256).argParser(num('--concurrency', 1, 4096)))
    .addOption(new Option('--timeout <ms>', 'TCP connect timeout').default(1500).argParser(num('--timeout', 50, 60000)))
    .addOption(new Option('--sweep-wait <ms>', 'longest wait for ARP answers after each sweep chunk (stops early once the LAN is quiet)').default(1500).argParser(num('--sweep-wait', 50, 60000)))
    .option('--no-banners', 'only list open ports, do not probe them')
    .option('--no-mdns', 'skip the mDNS/DNS-SD browse')
    .option('--no-ssdp', 'skip the SSDP search')
    .option('--pcap <files...>', 'passive: identify the devices in capture files (pcap/pcapng, gzip allowed) instead of scanning')
    .option('--json', 'one JSON document on stdout')
    .addHelpText(
      'after',
      [
        '',
        'Finds hosts with a neighbour sweep (one UDP datagram per address, then the kernel\'s ARP table: no raw',
        'sockets, no root), scans TCP ports with connect(), reads banners with harmless probes (no logins), browses',
        'mDNS and SSDP, and guesses each device\'s type from data/fingerprints.json, with the evidence.',
        'Ranges larger than /16 are refused; public ranges need --allow-public. Exit: 0 ran, 1 could not, 2 bad usage.',
      ].join('\n'),
    );
  await parse(cmd, argv);
  const o = cmd.opts<{
    cidr?: string[];
    iface?: string;
    ports: string;
    allowPublic?: boolean;
    db?: string;
    store: boolean;
    leases?: string;
    dns?: string;
    concurrency: number;
    timeout: number;
    sweepWait: number;
    banners: boolean;
    mdns: boolean;
    ssdp: boolean;
    pcap?: string[];
    json?: boolean;
  }>();
  const json = o.json === true;
  if (o.pcap?.length) return runPassive(o.pcap, { json, store: o.store, db: o.db, cidrs: o.cidr });
  const top = loadTopPorts();
  const ports = parsePortSpec(o.ports, top.map((p) => p.port));
  const portNames = new Map(top.map((p) => [p.port, p.service]));
  const cidrs = o.cidr?.flatMap((c) => c.split(',')).map((c) => c.trim()).filter(Boolean);
  const iface = o.iface ?? (cidrs?.length ? undefined : await defaultRouteDevice());
  const resolved = resolveTargets({ cidrs, iface, allowPublic: o.allowPublic });
  const leases = o.leases ? readLeaseFile(o.leases) : undefined;
  if (o.dns && o.dns !== 'none' && ipv4ToInt(o.dns) === undefined) throw bad(`--dns: not an IPv4 address: ${o.dns.slice(0, 60)}`);
  let dnsServer: string | undefined;
  if (o.dns && o.dns !== 'none') dnsServer = o.dns;
  else if (!o.dns && resolved.iface) {
    const gw = await defaultGateway(resolved.iface.iface);
    if (gw && resolved.targets.some((t) => cidrContains(t.cidr, gw))) dnsServer = gw;
  }
  // Check the store first (a store we cannot write is reported before the scan, not after);
  // SQLite itself loads in the background while the scan runs.
  const storePath = o.store ? (o.db ?? defaultStorePath()) : undefined;
  if (storePath) checkStorePath(storePath);
  const storeMods = storePath ? Promise.all([import('../../adapters/store/db.js'), import('../../adapters/store/inventory.js')]) : undefined;
  storeMods?.catch(() => {});
  let store: import('../../adapters/store/db.js').Store | undefined;
  try {
    const addresses = resolved.targets.reduce((n, t) => n + 2 ** (32 - t.cidr.prefix), 0);
    const offLink = resolved.targets.filter((t) => !t.onLink);
    if (!json) {
      info(`${color.bold('discover')} ${resolved.targets.map((t) => t.cidr.text).join(', ')} (${addresses} addresses, ${ports.length} ports${resolved.iface ? `, via ${resolved.iface.iface}` : ''})`);
    }
    if (offLink.length && offLink.reduce((n, t) => n + 2 ** (32 - t.cidr.prefix), 0) > 4096) {
      warn(`${offLink.map((t) => t.cidr.text).join(', ')} is not on a directly attached subnet: every address is port-scanned (slow)`);
    }
    // One bar per phase, in order; the sweep overlaps the first port scans, so a
    // late update for an earlier phase is dropped rather than reopening its bar.
    const order: Phase[] = ['sweep', 'ports', 'banners', 'names'];
    const labels: Record<Phase, string> = { sweep: 'sweep  ', ports: 'ports  ', banners: 'banners', names: 'names  ' };
    let current = -1;
    let bar: ReturnType<typeof createProgress> | undefined;
    let shown = 0;
    const progress = (phase: Phase, done: number, total: number) => {
      const idx = order.indexOf(phase);
      if (idx < current) return;
      if (idx > current) {
        bar?.done();
        current = idx;
        shown = 0;
        bar = createProgress(labels[phase], total, { quiet: json });
      }
      bar!.setTotal(total);
      bar!.tick(done - shown);
      shown = done;
    };
    const components = createDiscoveryComponents({
      resolved,
      concurrency: o.concurrency,
      timeoutMs: o.timeout,
      sweepWaitMs: o.sweepWait,
      mdns: o.mdns,
      ssdp: o.ssdp,
      dnsServer,
      progress,
    });
    const result = await runDiscovery(components, {
      targets: resolved.targets,
      ports,
      portNames,
      self: resolved.self,
      leases,
      noBanners: !o.banners,
    });
    bar?.done();
    let devices = result.devices;
    if (storeMods && storePath) {
      const [{ openStore }, { saveDiscovery }] = await storeMods;
      store = openStore(storePath);
      devices = saveDiscovery(store, devices, {
        kind: 'discover',
        startedAt: result.startedAt,
        finishedAt: result.finishedAt,
        params: { cidrs: resolved.targets.map((t) => t.cidr.text), iface: resolved.iface?.iface ?? null, ports: o.ports },
      });
    }
    const scan = {
      cidrs: resolved.targets.map((t) => t.cidr.text),
      iface: resolved.iface?.iface ?? null,
      ports: ports.length,
      startedAt: result.startedAt,
      finishedAt: result.finishedAt,
      ...result.stats,
      store: storePath ?? null,
    };
    if (json) {
      printJson({ devices, scan });
    } else {
      process.stdout.write(`${devices.length ? render(devices) : color.dim('no devices found')}\n`);
      info(
        color.dim(
          `${devices.length} device(s), ${result.stats.openPorts} open port(s) in ${result.stats.seconds} s` +
            (storePath ? `; inventory: ${storePath}` : '') +
            (devices.some((d) => d.self) ? '; * = this host' : ''),
        ),
      );
    }
    return 0;
  } finally {
    store?.close();
  }
}
