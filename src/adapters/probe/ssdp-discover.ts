// SSDP discovery of every UPnP device (ST ssdp:all, not only gateways), then
// each device's description for manufacturer, model and firmware. The IGD
// audit has its own search in ssdp.ts; this one is for the inventory.
import dgram from 'node:dgram';
import http from 'node:http';
import { mSearch, parseSsdpResponse, type UpnpDeviceDescription } from '../../core/inventory/ssdp.js';

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
  // Responders answer within MX seconds (UDA 2.0 §1.3.2): MX 1 and a little slack.
  const timeoutMs = opts.timeoutMs ?? 1000;
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
  const fetchTimeout = opts.fetchTimeoutMs ?? 2000;
  const fetches = new Map<string, Promise<void>>();
  // Descriptions are fetched as answers arrive, while the search window is still open.
  const describe = (d: SsdpDevice) => {
    const loc = d.location;
    if (!loc || fetches.has(loc)) return;
    let host: string;
    try {
      host = new URL(loc).hostname;
    } catch {
      return;
    }
    // A description URL pointing outside the scanned networks is not fetched (house rule 4).
    if (opts.accept && !opts.accept(host)) return;
    fetches.set(
      loc,
      Promise.all([fetchText(loc, fetchTimeout), import('../../core/inventory/upnp-description.js')]).then(([xml, { parseDeviceDescription }]) => {
        const desc = xml ? parseDeviceDescription(xml) : undefined;
        if (desc && (!d.description || d.location === loc)) d.description = desc;
      }),
    );
  };
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
    describe(d);
  });
  const q = Buffer.from(mSearch('ssdp:all', Math.max(1, Math.min(5, Math.floor(timeoutMs / 1000)))));
  // (MX is whole seconds: a window under 2 s asks for MX 1.)
  sock.send(q, port, address);
  const again = setTimeout(() => sock.send(q, port, address), Math.min(300, timeoutMs / 3));
  await new Promise((r) => setTimeout(r, timeoutMs));
  clearTimeout(again);
  sock.close();
  // A root-device location learnt late replaces an earlier one: make sure it was fetched too.
  for (const d of byHost.values()) describe(d);
  await Promise.all(fetches.values());
  return [...byHost.values()];
}
