// The kernel's neighbour table (ARP for IPv4, NDP for IPv6) through
// `ip -j neigh`: after the sweep provokes resolution, this is where the MACs
// of every host on the link show up, without raw sockets.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { ErrorCodes, IotguardError } from '../../core/model/errors.js';
import { normalizeMac } from '../../core/model/net.js';

const run = promisify(execFile);

export interface Neighbour {
  ip: string;
  dev: string;
  mac: string | null;
  /** Kernel NUD states, e.g. ['REACHABLE'], ['STALE'], ['FAILED'], ['INCOMPLETE']. */
  state: string[];
  family: 4 | 6;
  router: boolean;
}

/** States in which the entry holds a MAC the host answered with (or that an admin set). */
const USABLE = new Set(['REACHABLE', 'STALE', 'DELAY', 'PROBE', 'PERMANENT', 'NOARP']);

export function isResolved(n: Neighbour): boolean {
  return n.mac !== null && n.mac !== '00:00:00:00:00:00' && n.state.some((s) => USABLE.has(s));
}

/** Parses `ip -j neigh` output; ignores anything malformed. */
export function parseNeighJson(text: string, family: 4 | 6, dev?: string): Neighbour[] {
  let raw: unknown;
  try {
    raw = JSON.parse(text || '[]');
  } catch {
    return [];
  }
  if (!Array.isArray(raw)) return [];
  const out: Neighbour[] = [];
  for (const e of raw) {
    if (!e || typeof e !== 'object') continue;
    const r = e as Record<string, unknown>;
    // `ip neigh show dev X` leaves the dev field out of each entry.
    const entryDev = typeof r.dev === 'string' ? r.dev : dev;
    if (typeof r.dst !== 'string' || entryDev === undefined) continue;
    const isV6 = r.dst.includes(':');
    if ((family === 6) !== isV6) continue;
    const mac = typeof r.lladdr === 'string' && /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i.test(r.lladdr) ? normalizeMac(r.lladdr) : null;
    const state = Array.isArray(r.state) ? r.state.filter((s): s is string => typeof s === 'string') : [];
    out.push({ ip: r.dst, dev: entryDev, mac, state, family, router: 'router' in r });
  }
  return out;
}

/**
 * Parses /proc/net/arp (the same IPv4 neighbour table, as text). Flags 0x2
 * (ATF_COM) means resolved; the kernel's finer NUD state is not in this file.
 */
export function parseProcArp(text: string, dev?: string): Neighbour[] {
  const out: Neighbour[] = [];
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 6 || !/^\d{1,3}(\.\d{1,3}){3}$/.test(f[0])) continue;
    if (dev && f[5] !== dev) continue;
    const flags = parseInt(f[2], 16);
    const mac = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i.test(f[3]) ? normalizeMac(f[3]) : null;
    const complete = Number.isFinite(flags) && (flags & 0x2) !== 0;
    const permanent = Number.isFinite(flags) && (flags & 0x4) !== 0;
    out.push({ ip: f[0], dev: f[5], mac: complete ? mac : null, state: [permanent ? 'PERMANENT' : complete ? 'REACHABLE' : 'INCOMPLETE'], family: 4, router: false });
  }
  return out;
}

/**
 * The IPv4 neighbour table, cheaply: /proc/net/arp of this network namespace
 * (no process to spawn, so it can be polled), else `ip -j -4 neigh`.
 */
export async function readArpTable(dev?: string): Promise<Neighbour[]> {
  try {
    return parseProcArp(await readFile('/proc/net/arp', 'utf8'), dev);
  } catch {
    return readNeighbours({ dev, family: 4 });
  }
}

export async function readNeighbours(opts: { dev?: string; family?: 4 | 6 } = {}): Promise<Neighbour[]> {
  const family = opts.family ?? 4;
  const args = ['-j', family === 6 ? '-6' : '-4', 'neigh', 'show'];
  if (opts.dev) args.push('dev', opts.dev);
  try {
    const { stdout } = await run('ip', args, { maxBuffer: 64 * 1024 * 1024 });
    return parseNeighJson(stdout, family, opts.dev);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOENT') {
      throw new IotguardError(ErrorCodes.DEPENDENCY_MISSING, "the 'ip' command (iproute2) is needed to read the neighbour table", { cause: e });
    }
    throw new IotguardError(ErrorCodes.NET_UNREACHABLE, `cannot read the neighbour table: ${err.message}`, { cause: e });
  }
}

/** The IPv4 default gateway (for the reverse-DNS server), if one is configured. */
export async function defaultGateway(dev?: string): Promise<string | undefined> {
  try {
    const { stdout } = await run('ip', ['-j', '-4', 'route', 'show', 'default', ...(dev ? ['dev', dev] : [])]);
    const routes = JSON.parse(stdout || '[]') as Array<{ gateway?: string }>;
    return routes.find((r) => typeof r.gateway === 'string')?.gateway;
  } catch {
    return undefined;
  }
}

/** The interface of the IPv4 default route, if any. */
export async function defaultRouteDevice(): Promise<string | undefined> {
  try {
    const { stdout } = await run('ip', ['-j', '-4', 'route', 'show', 'default']);
    const routes = JSON.parse(stdout || '[]') as Array<{ dev?: string }>;
    return routes.find((r) => typeof r.dev === 'string')?.dev;
  } catch {
    return undefined;
  }
}
