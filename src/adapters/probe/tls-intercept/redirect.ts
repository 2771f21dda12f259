// The router side of tls-check: our own nftables table that DNATs the device's
// TLS to the interceptor, a state file that outlives a crash, and the
// clean-up that removes exactly that table — when done, on SIGINT/SIGTERM,
// at exit, and on the next start after a SIGKILL.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ErrorCodes, IotguardError } from '../../../core/model/errors.js';
import { findOriginalDestination, type OriginalDestination } from '../../../core/tlscheck/conntrack.js';
import { hasTable, parseNftSetJson, parseRedirectCounter, TLSCHECK_TABLE } from '../../../core/tlscheck/nft.js';
import type { Exec, ExecResult } from '../../policy/nft.js';

export interface TlsCheckState {
  version: 1;
  pid: number;
  startedAt: string;
  table: string;
  /** Inode of the network namespace the table lives in (tables are per namespace). */
  netns: number;
  device: string;
  listen: string;
}

export const DEFAULT_STATE_DIR = '/run/iotguard/tls-check';

export function currentNetnsId(): number {
  try {
    return statSync('/proc/self/ns/net').ino;
  } catch {
    return 0;
  }
}

export function stateFile(stateDir: string, netns = currentNetnsId()): string {
  return join(stateDir, `state-net${netns}.json`);
}

function nftError(what: string, r: ExecResult): IotguardError {
  const msg = r.stderr.trim().split('\n').slice(0, 4).join(' | ') || `exit ${r.code}`;
  if (r.code === 127) return new IotguardError(ErrorCodes.DEPENDENCY_MISSING, `${what}: nft is not installed (nftables is needed on the router)`);
  if (/Operation not permitted|Permission denied/i.test(msg)) return new IotguardError(ErrorCodes.NOT_ROOT, `${what}: needs root (CAP_NET_ADMIN) on the router`);
  return new IotguardError(ErrorCodes.TLSCHECK_REDIRECT, `${what}: ${msg}`);
}

function pidRunsTlsCheck(pid: number): boolean {
  if (pid === process.pid) return false;
  try {
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return cmd.includes('tls-check');
  } catch {
    return false;
  }
}

export interface RecoveryReport {
  staleState: boolean;
  removedTable: boolean;
  previousPid?: number;
}

/**
 * Before anything else: a state file left by a run that died (SIGKILL, power
 * cut of the process) means its table may still redirect the device. Remove
 * that table; refuse to start while another live run holds it.
 */
export async function recover(exec: Exec, stateDir: string, table = TLSCHECK_TABLE): Promise<RecoveryReport> {
  const file = stateFile(stateDir);
  let prior: TlsCheckState | undefined;
  if (existsSync(file)) {
    try {
      prior = JSON.parse(readFileSync(file, 'utf8')) as TlsCheckState;
    } catch {
      prior = undefined;
    }
  }
  if (prior && pidRunsTlsCheck(prior.pid)) {
    throw new IotguardError(ErrorCodes.TLSCHECK_BUSY, `another tls-check (pid ${prior.pid}) is running on this router; wait for it or stop it`);
  }
  const tables = await exec(['nft', 'list', 'tables']);
  if (tables.code !== 0) throw nftError('nft list tables', tables);
  let removedTable = false;
  const name = prior?.table ?? table;
  if (hasTable(tables.stdout, name)) {
    // our own table, by name; without a live owner it can only be a leftover
    const r = await exec(['nft', 'delete', 'table', 'ip', name]);
    if (r.code !== 0) throw nftError(`nft delete table ip ${name}`, r);
    removedTable = true;
  }
  rmSync(file, { force: true });
  return { staleState: prior !== undefined, removedTable, ...(prior ? { previousPid: prior.pid } : {}) };
}

export function writeState(stateDir: string, s: TlsCheckState): void {
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const f = stateFile(stateDir, s.netns);
  writeFileSync(`${f}.tmp`, `${JSON.stringify(s, null, 2)}\n`, { mode: 0o600 });
  renameSync(`${f}.tmp`, f);
}

/** `nft -s list ruleset`: stateless, so other tables' counters ticking during the run do not count as a change. */
export async function listRuleset(exec: Exec): Promise<string> {
  const r = await exec(['nft', '-s', 'list', 'ruleset']);
  if (r.code !== 0) throw nftError('nft list ruleset', r);
  return r.stdout;
}

export async function installTable(exec: Exec, ruleset: string): Promise<void> {
  const check = await exec(['nft', '-c', '-f', '-'], { input: ruleset });
  if (check.code !== 0) throw nftError('nft -c (tls-check redirect table)', check);
  const r = await exec(['nft', '-f', '-'], { input: ruleset });
  if (r.code !== 0) throw nftError('nft -f (tls-check redirect table)', r);
}

export async function removeTable(exec: Exec, table = TLSCHECK_TABLE): Promise<boolean> {
  const tables = await exec(['nft', 'list', 'tables']);
  if (tables.code !== 0) throw nftError('nft list tables', tables);
  if (!hasTable(tables.stdout, table)) return false;
  const r = await exec(['nft', 'delete', 'table', 'ip', table]);
  if (r.code !== 0) throw nftError(`nft delete table ip ${table}`, r);
  return true;
}

/** Last resort from an exit handler (synchronous): delete the table if it is there. */
export function removeTableSync(netns: string | undefined, table = TLSCHECK_TABLE): void {
  const argv = ['nft', 'delete', 'table', 'ip', table];
  const full = netns ? ['ip', 'netns', 'exec', netns, ...argv] : argv;
  spawnSync(full[0], full.slice(1), { stdio: 'ignore', timeout: 5000 });
}

export async function seenPorts(exec: Exec, table = TLSCHECK_TABLE): Promise<number[]> {
  const r = await exec(['nft', '-j', 'list', 'set', 'ip', table, 'seen']);
  return r.code === 0 ? parseNftSetJson(r.stdout) : [];
}

/** SYNs (and other packets) our DNAT rule redirected so far. */
export async function redirectedPackets(exec: Exec, table = TLSCHECK_TABLE): Promise<number | undefined> {
  const r = await exec(['nft', '-j', 'list', 'chain', 'ip', table, 'prerouting']);
  return r.code === 0 ? parseRedirectCounter(r.stdout) : undefined;
}

export async function addPorts(exec: Exec, ports: number[], table = TLSCHECK_TABLE): Promise<void> {
  if (ports.length === 0) return;
  const r = await exec(['nft', 'add', 'element', 'ip', table, 'ports', `{ ${ports.join(', ')} }`]);
  if (r.code !== 0) throw nftError('nft add element (learned ports)', r);
}

/**
 * Original destinations from the kernel's conntrack table. /proc/net/nf_conntrack
 * is read in-process (no process per connection); where the kernel has no
 * procfs conntrack, `conntrack -L` (conntrack-tools) prints the same tuples.
 */
export function createConntrackLookup(exec: Exec, path = '/proc/net/nf_conntrack') {
  let useProc = existsSync(path);
  return async (client: { ip: string; port: number }, local: { ip: string; port: number }): Promise<OriginalDestination | undefined> => {
    for (let attempt = 0; attempt < 3; attempt++) {
      let table = '';
      if (useProc) {
        try {
          table = await readFile(path, 'utf8');
        } catch {
          useProc = false;
        }
      }
      if (!useProc) {
        const r = await exec(['conntrack', '-L', '-p', 'tcp', '-s', client.ip, '--sport', String(client.port)], { timeoutMs: 5000 });
        table = r.code === 0 ? r.stdout : '';
      }
      const found = findOriginalDestination(table, client, local);
      if (found) return found;
      await new Promise((r) => setTimeout(r, 30));
    }
    return undefined;
  };
}

/** Can this router tell where a redirected connection was going? */
export async function conntrackAvailable(exec: Exec, path = '/proc/net/nf_conntrack'): Promise<boolean> {
  if (existsSync(path)) return true;
  const r = await exec(['conntrack', '-L', '-p', 'tcp', '-s', '127.0.0.1'], { timeoutMs: 5000 });
  return r.code === 0;
}

/** The router's own address toward the device (the source it would use), from `ip -j route get`. */
export async function listenAddressFor(exec: Exec, device: string): Promise<{ ip: string; dev?: string; direct: boolean } | undefined> {
  const r = await exec(['ip', '-j', 'route', 'get', device]);
  if (r.code !== 0) return undefined;
  try {
    const [route] = JSON.parse(r.stdout) as Array<{ prefsrc?: string; dev?: string; gateway?: string; type?: string }>;
    if (!route?.prefsrc) return undefined;
    return { ip: route.prefsrc, ...(route.dev ? { dev: route.dev } : {}), direct: !route.gateway };
  } catch {
    return undefined;
  }
}

/** MAC addresses of the devices from the router's neighbour table (/proc/net/arp). */
export async function neighbourMacs(ips: string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  try {
    const text = await readFile('/proc/net/arp', 'utf8');
    for (const line of text.split('\n').slice(1)) {
      const [ip, , flags, mac] = line.trim().split(/\s+/);
      if (ip && ips.includes(ip) && mac && flags !== '0x0' && mac !== '00:00:00:00:00:00') out.set(ip, mac.toLowerCase());
    }
  } catch {
    /* no neighbour table: findings carry the IP only */
  }
  return out;
}
