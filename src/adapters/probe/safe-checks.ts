// Opt-in "safe" vulnerability checks (nmap category `safe`). The loader of the
// known-exploited-vulnerability catalog lives in kev-catalog.ts (re-exported
// here).
//
// A safe check is a plain HTTP GET of a page whose answer tells which product
// (and often which firmware) a device is: the home page (Server header,
// <title>), a path the catalog names for an entry (e.g. D-Link's /HNAP1/
// device settings), and the UPnP device description the device announced.
// Never an exploit payload, never a POST, never a state change; only the
// addresses the caller passes, only private or loopback ones unless the
// caller names extra CIDRs.
import http from 'node:http';
import { ErrorCodes, IotguardError } from '../../core/model/errors.js';
import { cidrContains, isPrivateIpv4, parseCidr } from '../../core/model/net.js';
import {
  htmlTitle,
  parseUpnpDescription,
  type DeviceEvidence,
  type HttpProbeEvidence,
  type KevCatalog,
} from '../../core/vuln/index.js';

export { KEV_CATALOG_PATH, loadKevCatalog } from './kev-catalog.js';

export interface SafeGetResult {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** latin1-decoded body, at most maxBytes */
  body: string;
}

export interface SafeGetOptions {
  timeoutMs: number;
  maxBytes: number;
}

/** One plain GET, no redirects followed, a hard deadline and a byte cap. */
export function safeGet(host: string, port: number, path: string, opts: SafeGetOptions): Promise<SafeGetResult> {
  return new Promise((resolve, reject) => {
    let done = false;
    const chunks: Buffer[] = [];
    let size = 0;
    const req = http.request(
      { host, port, path, method: 'GET', headers: { 'User-Agent': 'iotguard-safe-check', Accept: '*/*', Connection: 'close' }, agent: false },
      (res) => {
        const finish = () => {
          if (done) return;
          done = true;
          clearTimeout(timer);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('latin1') });
        };
        res.on('data', (c: Buffer) => {
          if (size >= opts.maxBytes) return;
          const take = c.subarray(0, opts.maxBytes - size);
          chunks.push(take);
          size += take.length;
          if (size >= opts.maxBytes) {
            finish();
            req.destroy();
          }
        });
        res.on('end', finish);
        res.on('error', finish);
        res.on('close', finish);
      },
    );
    const timer = setTimeout(() => {
      if (done) return;
      done = true;
      req.destroy();
      reject(new IotguardError(ErrorCodes.NET_TIMEOUT, `GET http://${host}:${port}${path} timed out after ${opts.timeoutMs} ms`));
    }, opts.timeoutMs);
    req.on('error', (e) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      reject(new IotguardError(ErrorCodes.NET_UNREACHABLE, `GET http://${host}:${port}${path}: ${e.message}`, { cause: e }));
    });
    req.end();
  });
}

export interface SafeCheckOptions {
  /** Per request deadline (default 3000 ms). */
  timeoutMs?: number;
  /** Largest body read per request (default 64 KiB). */
  maxBytes?: number;
  /** Extra CIDRs besides private/loopback ranges that may be probed (e.g. a lab's own ranges). */
  allowCidrs?: string[];
  /** Ports to treat as HTTP when the evidence names none (default: open ports whose service looks like http, else 80). */
  httpPorts?: number[];
  /** UPnP description URLs announced by the device (SSDP LOCATION), fetched with a plain GET. */
  upnpLocations?: string[];
  /** Test seam: replaces the HTTP GET. */
  get?: typeof safeGet;
}

export interface SafeCheckReport {
  /** Every request made, for the record: what was asked and what came back. */
  requests: { url: string; status?: number; error?: string }[];
}

function assertAllowed(ip: string, allow: string[]): void {
  const ok = isPrivateIpv4(ip) || allow.some((c) => cidrContains(parseCidr(c), ip));
  if (!ok) {
    throw new IotguardError(ErrorCodes.NET_PUBLIC_RANGE, `refusing to probe ${ip}: safe checks only reach private or loopback addresses (or --allow CIDRs)`);
  }
}

function headerText(h: http.IncomingHttpHeaders, name: string): string | undefined {
  const v = h[name];
  if (Array.isArray(v)) return v[0];
  return typeof v === 'string' && v.trim() ? v.trim() : undefined;
}

function httpPortsOf(ev: DeviceEvidence, fallback: number[] | undefined): number[] {
  const fromEvidence = ev.openPorts
    .filter((p) => (p.proto ?? 'tcp') === 'tcp' && (/http/i.test(p.service ?? '') || p.http !== undefined || [80, 8080, 8000, 81, 8081].includes(p.port)))
    .map((p) => p.port);
  const ports = fromEvidence.length ? fromEvidence : (fallback ?? [80]);
  return [...new Set(ports)];
}

/**
 * Run the opt-in safe checks against one device and return its evidence
 * enriched with what the answers said (httpProbes, HTTP server/title on the
 * probed ports, UPnP descriptions). Unreachable ports are recorded, not thrown.
 */
export async function runSafeChecks(
  ev: DeviceEvidence,
  catalog: KevCatalog,
  opts: SafeCheckOptions = {},
): Promise<{ evidence: DeviceEvidence; report: SafeCheckReport }> {
  assertAllowed(ev.ip, opts.allowCidrs ?? []);
  const get = opts.get ?? safeGet;
  const getOpts = { timeoutMs: opts.timeoutMs ?? 3000, maxBytes: opts.maxBytes ?? 64 * 1024 };
  const out: DeviceEvidence = {
    ...ev,
    openPorts: ev.openPorts.map((p) => ({ ...p, http: p.http ? { ...p.http } : undefined })),
    httpProbes: [...(ev.httpProbes ?? [])],
    upnp: [...(ev.upnp ?? [])],
  };
  const report: SafeCheckReport = { requests: [] };
  const ports = httpPortsOf(ev, opts.httpPorts);

  // Which paths to ask on which ports: "/" everywhere, plus each entry's safe-check path.
  const wanted = new Map<string, { port: number; path: string }>();
  for (const port of ports) wanted.set(`${port} /`, { port, path: '/' });
  for (const e of catalog.entries) {
    if (!e.safeCheck) continue;
    for (const port of e.safeCheck.ports ?? ports) {
      if (e.safeCheck.ports && !ev.openPorts.some((p) => p.port === port)) continue;
      wanted.set(`${port} ${e.safeCheck.path}`, { port, path: e.safeCheck.path });
    }
  }

  const dead = new Set<number>();
  for (const { port, path } of wanted.values()) {
    if (dead.has(port)) continue;
    const url = `http://${ev.ip}:${port}${path}`;
    try {
      const r = await get(ev.ip, port, path, getOpts);
      report.requests.push({ url, status: r.status });
      const probe: HttpProbeEvidence = { port, path, status: r.status, body: r.body };
      const server = headerText(r.headers, 'server');
      const title = htmlTitle(r.body);
      if (server) probe.server = server;
      if (title) probe.title = title;
      out.httpProbes!.push(probe);
      if (path === '/') {
        let op = out.openPorts.find((p) => p.port === port && (p.proto ?? 'tcp') === 'tcp');
        if (!op) {
          op = { port, proto: 'tcp', service: 'http' };
          out.openPorts.push(op);
        }
        op.http = { ...(op.http ?? {}) };
        if (server && !op.http.server) op.http.server = server;
        if (title && !op.http.title) op.http.title = title;
        const realm = /realm="([^"]*)"/i.exec(headerText(r.headers, 'www-authenticate') ?? '');
        if (realm && !op.http.realm) op.http.realm = realm[1];
      }
    } catch (e) {
      report.requests.push({ url, error: (e as Error).message });
      if ((e as IotguardError).code === ErrorCodes.NET_UNREACHABLE || (e as IotguardError).code === ErrorCodes.NET_TIMEOUT) dead.add(port);
    }
  }

  for (const loc of opts.upnpLocations ?? []) {
    let u: URL;
    try {
      u = new URL(loc);
    } catch {
      report.requests.push({ url: loc, error: 'not a URL' });
      continue;
    }
    // A device's description must live on the device itself.
    if (u.protocol !== 'http:' || u.hostname !== ev.ip) {
      report.requests.push({ url: loc, error: 'description URL is not on the device; not fetched' });
      continue;
    }
    const port = u.port ? Number(u.port) : 80;
    try {
      const path = `${u.pathname}${u.search}`;
      const r = await get(ev.ip, port, path, getOpts);
      report.requests.push({ url: loc, status: r.status });
      // The description's own HTTP answer is evidence too (Server header, open port).
      const server = headerText(r.headers, 'server');
      out.httpProbes!.push({ port, path, status: r.status, body: r.body, ...(server ? { server } : {}) });
      if (!out.openPorts.some((p) => p.port === port && (p.proto ?? 'tcp') === 'tcp')) out.openPorts.push({ port, proto: 'tcp', service: 'upnp' });
      if (r.status >= 200 && r.status < 300) {
        const d = parseUpnpDescription(r.body, headerText(r.headers, 'server'));
        if (d) out.upnp!.push({ ...d, location: loc });
      }
    } catch (e) {
      report.requests.push({ url: loc, error: (e as Error).message });
    }
  }
  if (!out.upnp!.length) delete out.upnp;
  return { evidence: out, report };
}
