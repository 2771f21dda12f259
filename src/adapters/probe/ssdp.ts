// SSDP search: send M-SEARCH for the IGD search targets (multicast on the LAN,
// or unicast to one address, e.g. a router's WAN side) and collect the answers
// for a bounded time. Binds to a chosen source address so it can run from one
// interface or inside a lab namespace.
import dgram from 'node:dgram';
import os from 'node:os';
import { ErrorCodes, IotguardError } from '../../core/model/errors.js';
import { buildMSearch, IGD_SEARCH_TARGETS, parseSsdp, SSDP_MULTICAST, SSDP_PORT, type SsdpMessage } from '../../core/upnp/ssdp.js';

export interface SsdpAnswer extends SsdpMessage {
  from: string;
  fromPort: number;
}

export interface SsdpSearchOptions {
  /** Where to send: the SSDP multicast group by default, or one address (unicast). */
  host?: string;
  port?: number;
  /** Source address to bind; chooses the interface for multicast. */
  bindAddress?: string;
  targets?: readonly string[];
  /** Total listening time, ms. */
  waitMs?: number;
  /** Stop early after this many distinct answers. */
  maxAnswers?: number;
}

export async function ssdpSearch(opts: SsdpSearchOptions = {}): Promise<SsdpAnswer[]> {
  const host = opts.host ?? SSDP_MULTICAST;
  const port = opts.port ?? SSDP_PORT;
  const waitMs = Math.max(100, Math.min(opts.waitMs ?? 2500, 30_000));
  const maxAnswers = opts.maxAnswers ?? 64;
  const targets = opts.targets ?? IGD_SEARCH_TARGETS;
  const sock = dgram.createSocket({ type: 'udp4', reuseAddr: false });
  const answers: SsdpAnswer[] = [];
  const seen = new Set<string>();
  let stopEarly: () => void = () => {};
  sock.on('message', (msg, rinfo) => {
    const p = parseSsdp(msg);
    if (!p.ok || p.value.kind !== 'response') return;
    const key = `${rinfo.address}|${p.value.usn ?? ''}|${p.value.st ?? ''}|${p.value.location ?? ''}`;
    if (seen.has(key)) return;
    seen.add(key);
    answers.push({ ...p.value, from: rinfo.address, fromPort: rinfo.port });
    if (answers.length >= maxAnswers) stopEarly();
  });
  try {
    await new Promise<void>((resolve, reject) => {
      sock.once('error', reject);
      sock.bind({ address: opts.bindAddress, port: 0 }, () => {
        sock.off('error', reject);
        resolve();
      });
    });
  } catch (e) {
    sock.close();
    throw new IotguardError(ErrorCodes.NET_UNREACHABLE, `cannot bind an SSDP socket to ${opts.bindAddress ?? 'any address'}: ${(e as Error).message}`, { cause: e });
  }
  sock.on('error', () => {});
  if (host === SSDP_MULTICAST) {
    sock.setMulticastTTL(2);
    if (opts.bindAddress) sock.setMulticastInterface(opts.bindAddress);
  }
  const send = (st: string) =>
    new Promise<void>((resolve) => {
      sock.send(buildMSearch(st, Math.max(1, Math.floor(waitMs / 1000) - 1), `${host === SSDP_MULTICAST ? SSDP_MULTICAST : host}:${port}`), port, host, () => resolve());
    });
  try {
    // UDP is lossy: send the set twice, a little apart (UDA §1.3.2 recommends repeating).
    for (const st of targets) await send(st);
    await new Promise<void>((resolve) => {
      const t1 = setTimeout(() => void Promise.all(targets.map(send)), Math.min(300, waitMs / 3));
      const t2 = setTimeout(resolve, waitMs);
      stopEarly = () => {
        clearTimeout(t1);
        clearTimeout(t2);
        resolve();
      };
    });
  } finally {
    sock.close();
  }
  return answers;
}

/** The IPv4 address of a named interface, for --iface. */
export function interfaceAddress(iface: string): string {
  const addrs = os.networkInterfaces()[iface];
  if (!addrs) {
    const known = Object.keys(os.networkInterfaces()).join(', ');
    throw new IotguardError(ErrorCodes.NET_UNKNOWN_INTERFACE, `no interface named ${iface} (have: ${known})`);
  }
  const v4 = addrs.find((a) => a.family === 'IPv4');
  if (!v4) throw new IotguardError(ErrorCodes.NET_UNKNOWN_INTERFACE, `interface ${iface} has no IPv4 address`);
  return v4.address;
}

/** The local IPv4 address the kernel would use to reach `host` (a connected UDP socket, no packet sent). */
export async function sourceAddressFor(host: string, port = 1900): Promise<string | undefined> {
  const sock = dgram.createSocket('udp4');
  try {
    await new Promise<void>((resolve, reject) => {
      sock.once('error', reject);
      sock.connect(port, host, () => resolve());
    });
    return sock.address().address;
  } catch {
    return undefined;
  } finally {
    sock.close();
  }
}
