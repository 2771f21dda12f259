// `iotguard monitor`: the daemon. Live capture through the traffic engine,
// periodic discovery and UPnP checks, policy checks against MUD profiles,
// alerts (store first, then dashboard, webhook, MQTT), and the dashboard on
// --listen (127.0.0.1:7300 by default; any other address needs a password,
// set with `iotguard monitor --set-password`). Runs until SIGTERM/SIGINT (or
// --duration); with --json, one JSON summary on stdout when it stops.
import { isIP } from 'node:net';
import { newCommand, parse } from '../command.js';
import { color, info, printJson } from '../ui.js';
import { ErrorCodes, IotguardError } from '../../core/model/errors.js';
import { cidrContains, ipv4ToInt } from '../../core/model/net.js';
import type { MudProfile } from '../../core/policy/profile.js';
import type { MappingSnap } from '../../core/monitor/alerts.js';
import { checkStorePath, defaultStorePath } from '../../adapters/store/path.js';

interface Opts {
  iface?: string;
  listen: string;
  cidr?: string[];
  discoverInterval: string;
  upnpInterval: string;
  epoch: string;
  webhook?: string;
  mqtt?: string;
  db?: string;
  retentionDays: string;
  maxDbMb: string;
  captureBufferMb: string;
  ports: string;
  policy?: string[];
  capture: boolean;
  captureWorker: boolean;
  discover: boolean;
  upnp: boolean;
  dashboard: boolean;
  setPassword?: boolean;
  duration?: string;
  learnMinutes: string;
  json?: boolean;
}

function num(name: string, v: string, min: number, max: number): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n < min || n > max) throw new IotguardError(ErrorCodes.USAGE, `${name} must be a number from ${min} to ${max}, not ${String(v).slice(0, 40)}`, { exitCode: 1 });
  return n;
}

export function parseListen(text: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:]+)\]|([0-9.]+|localhost)):(\d{1,5})$/.exec(text.trim());
  if (!m) throw new IotguardError(ErrorCodes.USAGE, `--listen expects ADDRESS:PORT such as 127.0.0.1:7300, not ${text.slice(0, 60)}`, { exitCode: 1 });
  const host = m[1] ?? m[2];
  const port = Number(m[3]);
  if (host !== 'localhost' && !isIP(host)) throw new IotguardError(ErrorCodes.USAGE, `--listen: not an IP address: ${host}`, { exitCode: 1 });
  if (port < 1 || port > 65535) throw new IotguardError(ErrorCodes.USAGE, `--listen: port out of range: ${port}`, { exitCode: 1 });
  return { host, port };
}

export const isLoopbackHost = (h: string): boolean => h === 'localhost' || h === '::1' || /^127\./.test(h);

async function readSecret(prompt: string): Promise<string> {
  const stdin = process.stdin;
  if (!stdin.isTTY) {
    let data = '';
    stdin.setEncoding('utf8');
    for await (const chunk of stdin) {
      data += chunk as string;
      if (data.includes('\n') || data.length > 4096) break;
    }
    return data.split(/\r?\n/)[0];
  }
  process.stderr.write(prompt);
  stdin.setRawMode(true);
  stdin.resume();
  stdin.setEncoding('utf8');
  return new Promise((resolve, reject) => {
    let s = '';
    const onData = (ch: string) => {
      for (const c of ch) {
        if (c === '\r' || c === '\n') {
          stdin.setRawMode(false);
          stdin.pause();
          stdin.off('data', onData);
          process.stderr.write('\n');
          resolve(s);
          return;
        }
        if (c === '\u0003') {
          stdin.setRawMode(false);
          reject(new IotguardError(ErrorCodes.USAGE, 'cancelled', { exitCode: 1 }));
          return;
        }
        if (c === '\u007f') s = s.slice(0, -1);
        else s += c;
      }
    };
    stdin.on('data', onData);
  });
}

export async function run(argv: string[]): Promise<number> {
  const collect = (v: string, prev: string[] = []) => [...prev, ...v.split(',').map((x) => x.trim()).filter(Boolean)];
  const cmd = newCommand('monitor', 'keep watching: live capture, periodic discovery and UPnP checks, alerts, and a local dashboard')
    .option('--iface <if>', 'LAN interface to capture and scan on (e.g. br-lan)')
    .option('--listen <addr:port>', 'dashboard address; anything but loopback needs --set-password first', '127.0.0.1:7300')
    .option('--cidr <cidr>', 'networks to watch (repeatable or comma-separated; default: the interface subnet)', collect)
    .option('--discover-interval <s>', 'seconds between discovery runs', '300')
    .option('--upnp-interval <s>', 'seconds between UPnP mapping checks', '300')
    .option('--epoch <s>', 'seconds of live traffic summarised into the store at a time', '30')
    .option('--webhook <url>', 'POST every alert as JSON to this URL')
    .option('--mqtt <url>', 'publish alerts and device risk to this MQTT broker (mqtt://user:pass@host:1883), with Home Assistant discovery')
    .option('--db <path>', 'the store (default: $IOTGUARD_HOME/iotguard.db or ~/.local/share/iotguard/iotguard.db)')
    .option('--retention-days <n>', 'keep traffic, destinations and acknowledged alerts this many days', '30')
    .option('--max-db-mb <n>', 'upper bound of the store size in MiB (oldest data is pruned when reached)', '512')
    .option('--capture-buffer-mb <n>', 'kernel capture buffer (tcpdump -B) in MiB', '32')
    .option('--ports <spec>', 'TCP ports discovery probes (top100 or a list such as 22,23,80,8000-8010)', 'top100')
    .option('--policy <file>', 'MUD profile(s) to check the traffic against (repeatable)', collect)
    .option('--learn-minutes <n>', 'destinations of a newly seen device are learnt silently this long', '60')
    .option('--no-capture', 'no live capture (discovery and UPnP only)')
    .option('--no-capture-worker', 'decode the capture in the main thread instead of a worker thread')
    .option('--no-discover', 'no active discovery (traffic only)')
    .option('--no-upnp', 'no UPnP mapping checks')
    .option('--no-dashboard', 'do not serve the dashboard')
    .option('--set-password', 'set the dashboard password (read from the terminal, or the first line of stdin) and exit')
    .option('--duration <s>', 'stop after this many seconds (default: run until SIGTERM/SIGINT)')
    .option('--json', 'one JSON summary on stdout when the monitor stops; logs go to stderr');
  await parse(cmd, argv);
  const o = cmd.opts<Opts>();
  const dbPath = o.db ?? defaultStorePath();
  const log = (m: string) => process.stderr.write(`${color.dim(new Date().toISOString())} ${m}\n`);

  if (o.setPassword) {
    checkStorePath(dbPath);
    const pw = await readSecret('dashboard password: ');
    if (pw.length < 8) throw new IotguardError(ErrorCodes.USAGE, 'the password needs at least 8 characters', { exitCode: 1 });
    if (process.stdin.isTTY) {
      const again = await readSecret('again: ');
      if (again !== pw) throw new IotguardError(ErrorCodes.USAGE, 'the two passwords differ', { exitCode: 1 });
    }
    const [{ openStore }, { MonitorStore }, { hashPassword }] = await Promise.all([import('../../adapters/store/db.js'), import('../../adapters/monitor/store.js'), import('../../adapters/monitor/auth.js')]);
    const store = openStore(dbPath);
    try {
      new MonitorStore(store).setSetting('web_password', await hashPassword(pw));
    } finally {
      store.close();
    }
    if (o.json) printJson({ passwordSet: true, db: dbPath });
    else info(`dashboard password set (scrypt hash in ${dbPath})`);
    return 0;
  }

  const listen = parseListen(o.listen);
  const discoverS = num('--discover-interval', o.discoverInterval, 5, 86400);
  const upnpS = num('--upnp-interval', o.upnpInterval, 5, 86400);
  const epochS = num('--epoch', o.epoch, 1, 3600);
  const retentionDays = num('--retention-days', o.retentionDays, 1, 3650);
  const maxDbMb = num('--max-db-mb', o.maxDbMb, 1, 1 << 20);
  const bufferMb = num('--capture-buffer-mb', o.captureBufferMb, 1, 4096);
  const learnMin = num('--learn-minutes', o.learnMinutes, 0, 100000);
  const duration = o.duration !== undefined ? num('--duration', o.duration, 1, 10 ** 7) : undefined;
  for (const [name, u] of [
    ['--webhook', o.webhook],
    ['--mqtt', o.mqtt],
  ] as const) {
    if (u === undefined) continue;
    let url: URL | undefined;
    try {
      url = new URL(u);
    } catch {
      url = undefined;
    }
    const ok = name === '--webhook' ? url && (url.protocol === 'http:' || url.protocol === 'https:') : url && ['mqtt:', 'mqtts:', 'ws:', 'wss:'].includes(url.protocol);
    if (!ok) throw new IotguardError(ErrorCodes.USAGE, `${name}: not a ${name === '--webhook' ? 'http(s)' : 'mqtt(s)'} URL: ${u.slice(0, 80)}`, { exitCode: 1 });
  }
  if (o.capture && !o.iface) throw new IotguardError(ErrorCodes.USAGE, 'live capture needs --iface (or give --no-capture)', { exitCode: 1 });
  checkStorePath(dbPath);

  const [{ openStore }, { MonitorStore }, { Monitor }, delivery] = await Promise.all([
    import('../../adapters/store/db.js'),
    import('../../adapters/monitor/store.js'),
    import('../../adapters/monitor/daemon.js'),
    import('../../adapters/monitor/delivery.js'),
  ]);
  const store = openStore(dbPath);
  const ms = new MonitorStore(store);
  const hasPassword = Boolean(ms.getSetting('web_password'));
  const requireAuth = !isLoopbackHost(listen.host) || hasPassword;
  if (o.dashboard && !isLoopbackHost(listen.host) && !hasPassword) {
    store.close();
    throw new IotguardError(ErrorCodes.NOT_AUTHORIZED, `the dashboard on ${listen.host} would be reachable from the network: set a password first (iotguard monitor --set-password)`, { exitCode: 1 });
  }

  // what to watch
  const { resolveTargets, createDiscoveryComponents } = await import('../../adapters/net/discovery.js');
  const resolved = o.discover || o.upnp || o.cidr ? resolveTargets({ cidrs: o.cidr, iface: o.iface }) : undefined;
  const inScope = resolved ? (ip: string) => ipv4ToInt(ip) === undefined || resolved.targets.some((t) => cidrContains(t.cidr, ip)) : undefined;
  const self = resolved ? resolved.self.flatMap((s) => [s.ip, s.mac]).filter(Boolean) : [];

  const channels: import('../../adapters/monitor/delivery.js').Channel[] = [];
  if (o.webhook) channels.push(delivery.webhookChannel(o.webhook));
  if (o.mqtt) channels.push(await delivery.mqttChannel(o.mqtt, { log }));

  let discover: (() => Promise<import('../../adapters/monitor/daemon.js').DiscoveredDevice[]>) | undefined;
  if (o.discover && resolved) {
    const [{ runDiscovery }, { loadTopPorts }, { parsePortSpec }] = await Promise.all([
      import('../../core/inventory/discover.js'),
      import('../../adapters/net/datafiles.js'),
      import('./discover.js'),
    ]);
    const top = loadTopPorts();
    const ports = parsePortSpec(o.ports, top.map((p) => p.port));
    const portNames = new Map(top.map((p) => [p.port, p.service]));
    discover = async () => {
      const components = createDiscoveryComponents({ resolved, mdns: true, ssdp: true });
      const r = await runDiscovery(components, { targets: resolved.targets, ports, portNames, self: resolved.self, noBanners: false });
      return r.devices.map((d) => ({
        mac: d.mac,
        ip: d.ip,
        vendor: d.vendor,
        hostname: d.hostname,
        type: d.type,
        via: 'discovery' as const,
        openPorts: d.openPorts.map((p) => ({ port: p.port, service: p.service })),
      }));
    };
  }

  let upnp: (() => Promise<MappingSnap[] | undefined>) | undefined;
  if (o.upnp) {
    const [{ runUpnpAudit }, { createNeighbourResolver }, { loadPortRiskTable }, { isIotguardError }] = await Promise.all([
      import('../../adapters/probe/upnp-audit.js'),
      import('../../adapters/probe/upnp-devices.js'),
      import('../../adapters/probe/upnp-risk-table.js'),
      import('../../core/model/errors.js'),
    ]);
    const riskTable = await loadPortRiskTable();
    const resolver = createNeighbourResolver({ nudge: false, inventory: false, reverseDns: false });
    upnp = async () => {
      try {
        const r = await runUpnpAudit({ bindAddress: resolved?.iface?.address, ssdpWaitMs: 2000, timeoutMs: 4000, natPmpGateway: false, authorized: false }, { resolver, riskTable, log: () => {} });
        return r.gateways.flatMap((g) =>
          g.mappings.map((m) => ({
            protocol: m.protocol,
            externalPort: m.externalPort,
            internalClient: m.internalClient,
            internalPort: m.internalPort,
            description: m.description,
            enabled: m.enabled,
            risk: m.risk,
            service: m.service,
            device: { mac: m.device.mac, ip: m.device.ip },
          })),
        );
      } catch (e) {
        if (isIotguardError(e) && e.code === ErrorCodes.UPNP_NO_GATEWAY) return undefined;
        throw e;
      }
    };
  }

  const profiles = new Map<string, MudProfile>();
  if (o.policy?.length) {
    const { readMudFile } = await import('../../adapters/policy/files.js');
    for (const f of o.policy) {
      const { result, device } = readMudFile(f);
      if (!result.ok) throw new IotguardError(ErrorCodes.POLICY_INVALID, `${f}: ${result.reason}`, { exitCode: 1 });
      if (!device?.mac) throw new IotguardError(ErrorCodes.POLICY_INVALID, `${f}: the profile names no device MAC (make it with iotguard policy learn)`, { exitCode: 1 });
      profiles.set(device.mac.toLowerCase(), result.profile);
    }
  }
  const lanTarget = resolved?.targets.find((t) => t.onLink) ?? resolved?.targets[0];
  const network = lanTarget && resolved?.iface ? { lan: lanTarget.cidr.text, router: resolved.iface.address } : undefined;

  // the same detectors as analyze and capture; in the decoding worker by default (it loads them itself)
  const standardDetectors = await (await import('../../adapters/capture/detectors.js')).standardDetectorFactory();
  const monitor = new Monitor(
    { store: ms, discover, upnp, detectors: standardDetectors, channels, log },
    {
      capture: o.capture && o.iface ? { iface: o.iface, bufferKiB: Math.round(bufferMb * 1024) } : undefined,
      worker: o.captureWorker ? {} : undefined,
      discoverIntervalMs: discoverS * 1000,
      upnpIntervalMs: upnpS * 1000,
      epochMs: epochS * 1000,
      retentionDays,
      maxStoreBytes: maxDbMb * 1024 * 1024,
      learnMs: learnMin * 60_000,
      self,
      inScope,
      profiles,
      network,
    },
  );
  for (const [mac] of profiles) ms.db.prepare('UPDATE monitor_devices SET profile = ? WHERE mac = ?').run(JSON.stringify(profiles.get(mac)), mac);

  let app: import('fastify').FastifyInstance | undefined;
  if (o.dashboard) {
    const { buildApp } = await import('../../adapters/web/app.js');
    app = await buildApp({
      store: ms,
      events: monitor,
      requireAuth,
      captureMetrics: () => monitor.captureCounters() ?? { dropped: 0, packets: 0, restarts: 0, up: false },
      status: () => ({ ...monitor.status, pid: process.pid, capturePid: monitor.captureCounters()?.pid ?? null }),
      allowedHosts: [listen.host, ...(isLoopbackHost(listen.host) ? [] : ['*'])],
    });
    try {
      await app.listen({ host: listen.host, port: listen.port });
    } catch (e) {
      store.close();
      const err = e as NodeJS.ErrnoException;
      throw new IotguardError(err.code === 'EADDRINUSE' ? ErrorCodes.NET_UNREACHABLE : ErrorCodes.NET_UNREACHABLE, `cannot listen on ${o.listen}: ${err.code ?? err.message}`, { exitCode: 1 });
    }
    log(`dashboard on http://${listen.host.includes(':') ? `[${listen.host}]` : listen.host}:${listen.port}/${requireAuth ? ' (password required)' : ''}`);
  }
  monitor.start();
  log(`monitoring${o.iface ? ` ${o.iface}` : ''}${resolved ? ` ${resolved.targets.map((t) => t.cidr.text).join(', ')}` : ''}; store ${dbPath}`);

  await new Promise<void>((resolve) => {
    const done = () => resolve();
    process.once('SIGTERM', done);
    process.once('SIGINT', done);
    if (duration !== undefined) setTimeout(done, duration * 1000).unref();
  });
  log('stopping...');
  await monitor.stop();
  await app?.close();
  const summary = {
    stoppedAt: new Date().toISOString(),
    db: dbPath,
    status: monitor.status,
    capture: monitor.captureCounters() ?? null,
    devices: ms.devices().filter((d) => !d.gone).length,
    alerts: ms.alertCounts(),
  };
  store.close();
  if (o.json) printJson(summary);
  else info(`stopped; ${summary.devices} devices, alerts ${JSON.stringify(summary.alerts)}`);
  return 0;
}
