// SSDP discovery of every UPnP device (ST ssdp:all, not only gateways), then
// each device's description for manufacturer, model and firmware. The IGD
// audit has its own search in ssdp.ts; this one is for the inventory.
import dgram from 'node:dgram';
import http from 'node:http';
import { mSearch, parseDeviceDescription, parseSsdpResponse, type UpnpDeviceDescription } from '../../core/inventory/ssdp.js';

export interface SsdpDevice {
  address: string;
  location?: string;
  server?: string;
  /** Search targets / USNs the device answered with. */
  targets: string[];
  description?: UpnpDeviceDescription;
}

export interface SsdpDiscoverOptions {
  bindAddress?: string;
  address?: string;
  port?: number;
  timeoutMs?: number;
  /** Only keep (and fetch descriptions from) addresses this accepts: stay inside the scanned networks. */
  accept?: (ip: string) => boolean;
  fetchTimeoutMs?: number;
}

export const SSDP_GROUP = '239.255.255.250';

/** GETs a description URL (plain HTTP only, bounded size and time); undefined on any failure. */
export function fetchText(url: string, timeoutMs: number, maxBytes = 256 * 1024): Promise<string | undefined> {
  return new Promise((resolve) => {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      return resolve(undefined);
    }
    if (u.protocol !== 'http:') return resolve(undefined);
    const req = http.get(u, { timeout: timeoutMs, headers: { 'user-agent': 'iotguard-discover' } }, (res) => {
      const chunks: Buffer[] = [];
      let n = 0;
      res.on('data', (c: Buffer) => {
        n += c.length;
        if (n > maxBytes) return req.destroy();
        chunks.push(c);
      });
      res.on('end', () => resolve(res.statusCode === 200 ? Buffer.concat(chunks).toString('utf8') : undefined));
      res.on('error', () => resolve(undefined));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
  });
}

export async function ssdpDiscover(opts: SsdpDiscoverOptions = {}): Promise<SsdpDevice[]> {
  const address = opts.address ?? SSDP_GROUP;
  const port = opts.port ?? 1900;
  const timeoutMs = opts.timeoutMs ?? 1500;
  const sock = dgram.createSocket({ type: 'udp4', reuseAddr: true });
  sock.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    sock.once('error', reject);
    sock.bind({ address: opts.bindAddress, port: 0 }, () => {
      sock.off('error', reject);
      resolve();
    });
  });
  if (address === SSDP_GROUP && opts.bindAddress) {
    try {
      sock.setMulticastInterface(opts.bindAddress);
      sock.setMulticastTTL(2);
    } catch {
      // keep defaults
    }
  }
  const byHost = new Map<string, SsdpDevice>();
  sock.on('message', (msg, rinfo) => {
    if (opts.accept && !opts.accept(rinfo.address)) return;
    const r = parseSsdpResponse(msg);
    if (!r) return;
    const d = byHost.get(rinfo.address) ?? { address: rinfo.address, targets: [] };
    // Prefer the root device's location: it names the whole device.
    if (r.location && (!d.location || r.st === 'upnp:rootdevice')) d.location = r.location;
    if (r.server) d.server ??= r.server;
    if (r.st && !d.targets.includes(r.st) && d.targets.length < 32) d.targets.push(r.st);
    byHost.set(rinfo.address, d);
  });
  const q = Buffer.from(mSearch('ssdp:all', Math.max(1, Math.min(5, Math.floor(timeoutMs / 1000)))));
  sock.send(q, port, address);
  const again = setTimeout(() => sock.send(q, port, address), Math.min(600, timeoutMs / 3));
  await new Promise((r) => setTimeout(r, timeoutMs));
  clearTimeout(again);
  sock.close();
  const fetchTimeout = opts.fetchTimeoutMs ?? 2000;
  await Promise.all(
    [...byHost.values()].map(async (d) => {
      if (!d.location) return;
      let host: string;
      try {
        host = new URL(d.location).hostname;
      } catch {
        return;
      }
      // A description URL pointing outside the scanned networks is not fetched (house rule 4).
      if (opts.accept && !opts.accept(host)) return;
      const xml = await fetchText(d.location, fetchTimeout);
      const desc = xml ? parseDeviceDescription(xml) : undefined;
      if (desc) d.description = desc;
    }),
  );
  return [...byHost.values()];
}
