// TCP connect scan: a bounded pool of concurrent connects over (host, port)
// pairs, interleaved across hosts so no single device sees a burst. A refused
// connect proves the host is up; a timeout means filtered or absent.
import net from 'node:net';
import { ErrorCodes, IotguardError } from '../../core/model/errors.js';

export type PortState = 'open' | 'closed' | 'filtered';

export interface HostScan {
  ip: string;
  open: number[];
  closed: number;
  filtered: number;
  /** Answered at all (open or refused): the host is up even without a MAC. */
  alive: boolean;
  /** The network said the host cannot be reached (EHOSTUNREACH/ENETUNREACH): remaining ports skipped. */
  unreachable: boolean;
}

export interface PortScanOptions {
  concurrency?: number;
  /** Longest wait for a connect; once hosts have answered, the wait shrinks to a few round trips (as nmap does). */
  timeoutMs?: number;
  /** Floor for the adaptive wait. */
  minTimeoutMs?: number;
  onProgress?: (done: number, total: number) => void;
  /** Called for each open port as soon as it is found. */
  onOpen?: (ip: string, port: number) => void;
  signal?: AbortSignal;
}

export function probePort(ip: string, port: number, timeoutMs: number): Promise<{ state: PortState; error?: string; rttMs: number }> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const s = net.connect({ host: ip, port });
    let settled = false;
    const finish = (state: PortState, error?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      s.destroy();
      resolve({ state, error, rttMs: performance.now() - t0 });
    };
    // After a stalled event loop the timers phase runs before pending socket
    // events: give those one turn (setImmediate runs after the poll phase) so a
    // connect the kernel finished in time is not called filtered.
    const timer = setTimeout(() => setImmediate(() => finish('filtered', 'ETIMEDOUT')), timeoutMs);
    s.once('connect', () => finish('open'));
    s.once('error', (e: NodeJS.ErrnoException) => finish(e.code === 'ECONNREFUSED' ? 'closed' : 'filtered', e.code));
  });
}

export async function scanPorts(hosts: string[], ports: number[], opts: PortScanOptions = {}): Promise<Map<string, HostScan>> {
  const timeoutMs = opts.timeoutMs ?? 1500;
  const minTimeoutMs = Math.min(opts.minTimeoutMs ?? 300, timeoutMs);
  // Round-trip times of answered connects, per host and overall: a filtered
  // port costs a few RTTs of waiting, not the full timeout, once we know them.
  const hostRtt = new Map<string, number>();
  let anyRtt = 0;
  const waitFor = (ip: string) => {
    const own = hostRtt.get(ip);
    if (own !== undefined) return Math.min(timeoutMs, Math.max(minTimeoutMs, 8 * own + 100));
    // A host that has not answered yet may just be slow: give it twice the floor.
    return anyRtt > 0 ? Math.min(timeoutMs, Math.max(2 * minTimeoutMs, 8 * anyRtt + 100)) : timeoutMs;
  };
  let concurrency = Math.max(1, opts.concurrency ?? 512);
  const results = new Map<string, HostScan>();
  for (const ip of hosts) results.set(ip, { ip, open: [], closed: 0, filtered: 0, alive: false, unreachable: false });
  // Port-major order: every host gets its first port before any gets its second.
  const jobs: Array<[string, number]> = [];
  for (const port of ports) for (const ip of hosts) jobs.push([ip, port]);
  const total = jobs.length;
  let next = 0;
  let done = 0;
  const retry: Array<[string, number]> = [];
  const take = (): [string, number] | undefined => retry.pop() ?? (next < jobs.length ? jobs[next++] : undefined);
  let active = 0;
  let denied: string | undefined;
  const worker = async (): Promise<void> => {
    for (let job = take(); job; job = take()) {
      if (opts.signal?.aborted || denied) return;
      const [ip, port] = job;
      const r = results.get(ip)!;
      if (r.unreachable) {
        done++;
        continue;
      }
      active++;
      const res = await probePort(ip, port, waitFor(ip));
      if (res.state !== 'filtered') {
        hostRtt.set(ip, Math.max(hostRtt.get(ip) ?? 0, res.rttMs));
        anyRtt = Math.max(anyRtt, res.rttMs);
      }
      active--;
      if (res.error === 'EMFILE' || res.error === 'ENFILE' || res.error === 'EADDRNOTAVAIL') {
        // Out of descriptors or source ports: shrink the pool and try again.
        concurrency = Math.max(8, Math.floor(concurrency / 2));
        retry.push(job);
        await new Promise((r2) => setTimeout(r2, 50));
        if (active >= concurrency) return;
        continue;
      }
      if (res.error === 'EPERM' || res.error === 'EACCES') {
        denied ??= `${ip}:${port} (${res.error})`;
        return;
      }
      if (res.state === 'open') {
        r.open.push(port);
        r.alive = true;
        opts.onOpen?.(ip, port);
      } else if (res.state === 'closed') {
        r.closed++;
        r.alive = true;
      } else {
        r.filtered++;
        if ((res.error === 'EHOSTUNREACH' || res.error === 'ENETUNREACH') && !r.alive) r.unreachable = true;
      }
      done++;
      opts.onProgress?.(done, total);
    }
  };
  const pool = Array.from({ length: Math.min(concurrency, Math.max(1, total)) }, () => worker());
  await Promise.all(pool);
  // Jobs put back after the pool shrank: finish them with whoever is left.
  while (retry.length > 0) await worker();
  if (denied) throw new IotguardError(ErrorCodes.NOT_ROOT, `permission denied connecting to ${denied}: a firewall or sandbox forbids it`);
  for (const r of results.values()) r.open.sort((a, b) => a - b);
  return results;
}
