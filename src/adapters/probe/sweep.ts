// Neighbour sweep without raw sockets: one UDP datagram to every address of
// an on-link subnet makes the kernel resolve it (ARP), then the neighbour
// table (polled from /proc/net/arp, else `ip -j neigh`) says who answered. Works as an ordinary user; chunked so a /16 never
// overflows the kernel's neighbour table.
import dgram from 'node:dgram';
import { ErrorCodes, IotguardError } from '../../core/model/errors.js';
import { isResolved, readArpTable, type Neighbour } from '../net/neighbours.js';

export interface SweepOptions {
  /** Interface whose neighbour table to read. */
  dev?: string;
  /** Source address to send from (selects the interface). */
  bindAddress?: string;
  /** Longest wait for answers after each chunk, ms. */
  waitMs?: number;
  /** Stop waiting earlier once no new host has resolved for this long, ms. */
  quietMs?: number;
  /** Table polling interval, ms. */
  pollMs?: number;
  /** Addresses per chunk (the kernel keeps ~1024 neighbour entries by default). */
  chunk?: number;
  /** Destination UDP port: discard (9) — nothing should listen, nothing is delivered. */
  port?: number;
  onProgress?: (done: number) => void;
  /** Called with hosts as they resolve (before the chunk's wait ends). */
  onFound?: (hosts: Map<string, string>) => void;
  /** Injectable for tests. */
  readTable?: (dev?: string) => Promise<Neighbour[]>;
}

export interface SweepResult {
  /** IPv4 address → MAC for every host that resolved. */
  hosts: Map<string, string>;
  /** Entries that did not resolve (FAILED/INCOMPLETE). */
  unresolved: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function sweep(targets: string[], opts: SweepOptions = {}): Promise<SweepResult> {
  const waitMs = opts.waitMs ?? 1500;
  const quietMs = Math.min(opts.quietMs ?? 400, waitMs);
  const pollMs = opts.pollMs ?? 100;
  const chunk = Math.max(1, opts.chunk ?? 512);
  const port = opts.port ?? 9;
  const readTable = opts.readTable ?? readArpTable;
  const sock = dgram.createSocket('udp4');
  sock.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    sock.once('error', reject);
    sock.bind({ address: opts.bindAddress, port: 0 }, () => {
      sock.off('error', reject);
      resolve();
    });
  });
  const payload = Buffer.from('iotguard-sweep');
  const hosts = new Map<string, string>();
  let unresolved = 0;
  let done = 0;
  try {
    for (let i = 0; i < targets.length; i += chunk) {
      const part = targets.slice(i, i + chunk);
      const wanted = new Set(part);
      // Unreachable/refused errors are expected and ignored; a firewall or sandbox refusing us is not.
      let denied: { ip: string; code: string } | undefined;
      await Promise.all(
        part.map(
          (ip) =>
            new Promise<void>((res) =>
              sock.send(payload, port, ip, (e) => {
                const code = (e as NodeJS.ErrnoException | null)?.code;
                if (code === 'EPERM' || code === 'EACCES') denied ??= { ip, code };
                res();
              }),
            ),
        ),
      );
      if (denied) {
        throw new IotguardError(ErrorCodes.NOT_ROOT, `permission denied sending to ${denied.ip} (${denied.code}): a firewall or sandbox forbids it`);
      }
      // Poll the table: ARP answers on a LAN take milliseconds, so stop once
      // nothing is still resolving, or nothing new resolved for quietMs, or at waitMs.
      const t0 = Date.now();
      let lastNew = t0;
      let resolvedCount = 0;
      let table: Neighbour[] = [];
      for (;;) {
        await sleep(pollMs);
        table = (await readTable(opts.dev)).filter((n) => wanted.has(n.ip));
        const now = Date.now();
        const count = table.filter(isResolved).length;
        if (opts.onFound) {
          const fresh = new Map<string, string>();
          for (const n of table) if (isResolved(n) && !hosts.has(n.ip)) fresh.set(n.ip, n.mac!);
          for (const [ip, mac] of fresh) hosts.set(ip, mac);
          if (fresh.size) opts.onFound(fresh);
        }
        if (count > resolvedCount) {
          resolvedCount = count;
          lastNew = now;
        }
        const pending = table.some((n) => n.state.includes('INCOMPLETE')) || table.length < part.length;
        if (now - t0 >= waitMs) break;
        if (!pending && resolvedCount > 0) break;
        if (now - lastNew >= quietMs && now - t0 >= quietMs) break;
      }
      for (const n of table) {
        if (isResolved(n)) hosts.set(n.ip, n.mac!);
        else unresolved++;
      }
      done += part.length;
      opts.onProgress?.(done);
    }
  } finally {
    sock.close();
  }
  return { hosts, unresolved };
}
