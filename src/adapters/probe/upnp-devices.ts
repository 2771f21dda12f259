// Device attribution for mapping internal clients: the kernel neighbour table
// (`ip -json neigh`) gives the MAC of each address now, the OUI registry
// (oui-data) the vendor, and the discovery inventory store, when it exists,
// the hostname and a vendor it learnt better. Addresses missing from the
// neighbour table get one empty UDP datagram (discard port) so the kernel
// resolves them — only for addresses on a directly attached subnet.
import { execFile } from 'node:child_process';
import dgram from 'node:dgram';
import dns from 'node:dns';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { cidrContains, isPrivateIpv4, parseCidr } from '../../core/model/net.js';
import { ouiKey, parseIpNeighJson, parseIpNeighText, vendorFromOuiRecord, type AttributedDevice, type DeviceResolver } from '../../core/upnp/attribution.js';
import { defaultStorePath, openStore } from '../store/db.js';

function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: 3000, maxBuffer: 4 * 1024 * 1024 }, (err, stdout) => resolve(err ? '' : stdout));
  });
}

export async function readNeighbours(): Promise<Map<string, string>> {
  const json = await run('ip', ['-json', '-4', 'neigh', 'show']);
  if (json.trim().startsWith('[')) return parseIpNeighJson(json);
  return parseIpNeighText(await run('ip', ['-4', 'neigh', 'show']));
}

let ouiTable: Record<string, string> | undefined;
export function vendorForMac(mac: string): string | undefined {
  const key = ouiKey(mac);
  if (!key) return undefined;
  if (!ouiTable) {
    try {
      ouiTable = createRequire(import.meta.url)('oui-data') as Record<string, string>;
    } catch {
      ouiTable = {};
    }
  }
  return vendorFromOuiRecord(ouiTable[key]);
}

/** Local interface addresses and their subnets, to know which clients are on-link and which one is us. */
function localNets(): Array<{ address: string; mac: string; cidr: string }> {
  const out: Array<{ address: string; mac: string; cidr: string }> = [];
  for (const addrs of Object.values(os.networkInterfaces())) {
    for (const a of addrs ?? []) if (a.family === 'IPv4' && !a.internal && a.cidr) out.push({ address: a.address, mac: a.mac, cidr: a.cidr });
  }
  return out;
}

async function nudge(ips: string[]): Promise<void> {
  if (ips.length === 0) return;
  const sock = dgram.createSocket('udp4');
  sock.on('error', () => {});
  await Promise.all(ips.map((ip) => new Promise<void>((resolve) => sock.send(Buffer.alloc(0), 9, ip, () => resolve()))));
  await new Promise((r) => setTimeout(r, 400));
  sock.close();
}

function lookupInventory(ips: string[], macs: Map<string, string>): Map<string, { mac?: string; vendor?: string; hostname?: string }> {
  const out = new Map<string, { mac?: string; vendor?: string; hostname?: string }>();
  const path = defaultStorePath();
  if (!existsSync(path)) return out;
  try {
    const store = openStore(path, { readonly: true });
    try {
      const byMac = store.db.prepare('SELECT mac, vendor, hostname FROM devices WHERE mac = ?');
      const byIp = store.db.prepare('SELECT mac, vendor, hostname FROM devices WHERE ip = ? ORDER BY last_seen DESC LIMIT 1');
      for (const ip of ips) {
        const mac = macs.get(ip);
        const row = (mac ? byMac.get(mac) : byIp.get(ip)) as { mac: string | null; vendor: string | null; hostname: string | null } | undefined;
        if (row) out.set(ip, { ...(row.mac ? { mac: row.mac } : {}), ...(row.vendor ? { vendor: row.vendor } : {}), ...(row.hostname ? { hostname: row.hostname } : {}) });
      }
    } finally {
      store.close();
    }
  } catch {
    // an unreadable or older store only means less detail
  }
  return out;
}

/**
 * Hostnames by reverse DNS, as home routers (dnsmasq) answer them from their
 * DHCP leases. Only asked when every configured resolver is a private
 * address, so LAN addresses are never sent to a public resolver; 1.5 s cap.
 */
export async function reverseNames(ips: string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const servers = dns.getServers();
  if (servers.length === 0 || !servers.every((s) => isPrivateIpv4(s.replace(/:\d+$/, '')))) return out;
  const resolver = new dns.promises.Resolver({ timeout: 1500, tries: 1 });
  resolver.setServers(servers);
  await Promise.all(
    ips.map(async (ip) => {
      try {
        const names = await resolver.reverse(ip);
        const name = names.find((n) => /^[A-Za-z0-9.-]{1,253}$/.test(n));
        if (name) out.set(ip, name.replace(/\.(lan|local|home|localdomain|home\.arpa)$/i, ''));
      } catch {
        // no PTR: no name
      }
    }),
  );
  return out;
}

export function createNeighbourResolver(opts: { nudge?: boolean; inventory?: boolean; reverseDns?: boolean } = {}): DeviceResolver {
  return {
    async resolve(ips) {
      const wanted = [...new Set(ips)].filter((ip) => /^\d+\.\d+\.\d+\.\d+$/.test(ip));
      const nets = localNets();
      let neigh = await readNeighbours();
      const onLink = (ip: string) => nets.some((n) => cidrContains(parseCidr(n.cidr), ip));
      const missing = wanted.filter((ip) => !neigh.has(ip) && onLink(ip) && !nets.some((n) => n.address === ip));
      if (missing.length > 0 && opts.nudge !== false) {
        await nudge(missing);
        neigh = await readNeighbours();
      }
      const inv = opts.inventory === false ? new Map() : lookupInventory(wanted, neigh);
      const names = opts.reverseDns === false ? new Map<string, string>() : await reverseNames(wanted.filter((ip) => isPrivateIpv4(ip) && !inv.get(ip)?.hostname));
      const out = new Map<string, AttributedDevice>();
      for (const ip of wanted) {
        const self = nets.find((n) => n.address === ip);
        const mac = neigh.get(ip) ?? (self ? self.mac.toLowerCase() : undefined) ?? inv.get(ip)?.mac;
        const d: AttributedDevice = { ip };
        if (mac) {
          d.mac = mac;
          d.source = neigh.has(ip) ? 'neigh' : self ? 'self' : 'inventory';
          const v = inv.get(ip)?.vendor ?? vendorForMac(mac);
          if (v) d.vendor = v;
        }
        const h = inv.get(ip)?.hostname ?? names.get(ip);
        if (h) d.hostname = h;
        out.set(ip, d);
      }
      return out;
    },
  };
}
