// Applying a rendered ruleset on a Linux router and taking it back.
// apply:    snapshot `nft list ruleset`, check the new script with `nft -c -f`,
//           load it with `nft -f` (one atomic transaction), optionally fill the
//           name sets by resolving the names through the router's resolver.
// rollback: drop our tables; if the listing is not then byte-identical to the
//           snapshot, restore the snapshot itself (`flush ruleset` + snapshot,
//           one transaction) and compare again.
// Everything can run inside a network namespace (`ip netns exec NS nft ...`),
// which is how the lab's router is driven.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorCodes, IotguardError } from '../../core/model/errors.js';

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a program, possibly inside a network namespace. Swappable in tests. */
export interface Exec {
  (argv: string[], opts?: { input?: string; timeoutMs?: number }): Promise<ExecResult>;
}

export function createExec(netns?: string): Exec {
  if (netns !== undefined && !/^[A-Za-z0-9_.-]{1,64}$/.test(netns)) {
    throw new IotguardError(ErrorCodes.USAGE, `bad network namespace name: ${netns}`);
  }
  return (argv, opts = {}) =>
    new Promise((resolve) => {
      const full = netns ? ['ip', 'netns', 'exec', netns, ...argv] : argv;
      const child = spawn(full[0], full.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
      child.stderr.on('data', (b: Buffer) => {
        if (stderr.length < 65536) stderr += b.toString();
      });
      const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
      child.on('error', (e) => {
        clearTimeout(timer);
        resolve({ code: 127, stdout, stderr: String(e) });
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        resolve({ code: code ?? (signal ? 124 : 1), stdout, stderr });
      });
      child.stdin.on('error', () => {});
      child.stdin.end(opts.input ?? '');
    });
}

function nftError(what: string, r: ExecResult): IotguardError {
  const msg = r.stderr.trim().split('\n').slice(0, 6).join(' | ') || `exit ${r.code}`;
  if (r.code === 127) return new IotguardError(ErrorCodes.DEPENDENCY_MISSING, `${what}: nft is not installed (${msg})`);
  if (/Operation not permitted|Permission denied/i.test(msg)) return new IotguardError(ErrorCodes.NOT_ROOT, `${what}: needs root (CAP_NET_ADMIN): ${msg}`);
  if (/Cannot open network namespace/i.test(msg)) return new IotguardError(ErrorCodes.USAGE, `${what}: ${msg}`, { exitCode: 1 });
  return new IotguardError(ErrorCodes.POLICY_INVALID, `${what}: ${msg}`);
}

export const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

export interface PolicyState {
  version: 1;
  appliedAt: string;
  netns?: string;
  table: string;
  /** sha256 of the ruleset saved before the first apply. */
  savedSha256: string;
  appliedSha256: string;
  sets: number;
}

export const STATE_FILE = 'state.json';
export const SAVED_FILE = 'saved-ruleset.nft';
export const APPLIED_FILE = 'applied.nft';

export function defaultStateDir(netns?: string): string {
  return join('/var/lib/iotguard/policy', netns ?? 'host');
}

export function readState(stateDir: string): PolicyState | undefined {
  const p = join(stateDir, STATE_FILE);
  if (!existsSync(p)) return undefined;
  try {
    return JSON.parse(readFileSync(p, 'utf8')) as PolicyState;
  } catch (e) {
    throw new IotguardError(ErrorCodes.DATA_INVALID, `policy state file ${p} is not readable JSON`, { cause: e });
  }
}

export async function listRuleset(exec: Exec): Promise<string> {
  const r = await exec(['nft', 'list', 'ruleset']);
  if (r.code !== 0) throw nftError('nft list ruleset', r);
  return r.stdout;
}

/** `nft -c -f FILE`: the kernel checks the whole transaction without committing it. */
export async function checkRuleset(exec: Exec, file: string): Promise<void> {
  const r = await exec(['nft', '-c', '-f', file]);
  if (r.code !== 0) throw nftError(`nft -c rejected ${file}`, r);
}

export interface NameResolution {
  set: string;
  family: 'ipv4' | 'ipv6';
  names: string[];
}

export interface ApplyOptions {
  exec: Exec;
  stateDir: string;
  ruleset: string;
  table: string;
  netns?: string;
  /** Sets to fill now by resolving their names (through `resolve`). */
  resolveSets?: NameResolution[];
  resolve?: (names: string[], family: 'ipv4' | 'ipv6') => Promise<Map<string, string[]>>;
  now?: () => Date;
}

export interface ApplyReport {
  stateDir: string;
  savedFile: string;
  appliedFile: string;
  /** false when a previous apply's snapshot was kept (re-apply over our own tables). */
  snapshotTaken: boolean;
  savedSha256: string;
  appliedSha256: string;
  filled: Array<{ set: string; addresses: string[]; unresolved: string[] }>;
}

export async function applyPolicy(o: ApplyOptions): Promise<ApplyReport> {
  mkdirSync(o.stateDir, { recursive: true, mode: 0o700 });
  const savedFile = join(o.stateDir, SAVED_FILE);
  const appliedFile = join(o.stateDir, APPLIED_FILE);
  const prior = readState(o.stateDir);
  let snapshotTaken = false;
  if (!prior || !existsSync(savedFile)) {
    const current = await listRuleset(o.exec);
    writeFileSync(savedFile, current, { mode: 0o600 });
    snapshotTaken = true;
  }
  const saved = readFileSync(savedFile, 'utf8');
  // write, check, then load: nft -f is one transaction, all or nothing
  const tmp = `${appliedFile}.new`;
  writeFileSync(tmp, o.ruleset, { mode: 0o600 });
  try {
    await checkRuleset(o.exec, tmp);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
  const r = await o.exec(['nft', '-f', tmp]);
  if (r.code !== 0) {
    rmSync(tmp, { force: true });
    throw nftError('nft -f', r);
  }
  renameSync(tmp, appliedFile);
  const filled: ApplyReport['filled'] = [];
  if (o.resolveSets?.length && o.resolve) {
    for (const s of o.resolveSets) {
      const answers = await o.resolve(s.names, s.family);
      const addrs = [...new Set([...answers.values()].flat())].sort();
      const unresolved = s.names.filter((n) => !(answers.get(n)?.length));
      if (addrs.length) {
        const add = await o.exec(['nft', 'add', 'element', 'inet', o.table, s.set, `{ ${addrs.join(', ')} }`]);
        if (add.code !== 0) throw nftError(`nft add element ${s.set}`, add);
      }
      filled.push({ set: s.set, addresses: addrs, unresolved });
    }
  }
  const state: PolicyState = {
    version: 1,
    appliedAt: (o.now ?? (() => new Date()))().toISOString(),
    table: o.table,
    savedSha256: sha256(saved),
    appliedSha256: sha256(o.ruleset),
    sets: o.resolveSets?.length ?? 0,
  };
  if (o.netns) state.netns = o.netns;
  writeFileSync(join(o.stateDir, STATE_FILE), `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  return { stateDir: o.stateDir, savedFile, appliedFile, snapshotTaken, savedSha256: state.savedSha256, appliedSha256: state.appliedSha256, filled };
}

export interface RollbackReport {
  stateDir: string;
  method: 'delete-tables' | 'full-restore';
  /** The listing after rollback equals the saved snapshot byte for byte. */
  identical: boolean;
  /** Our tables are gone and nothing else was touched by the rollback. */
  ownTablesRemoved: boolean;
  /** Chains that differ from the snapshot because something else (a UPnP daemon, an admin) changed them after apply. */
  changedByOthers: string[];
  savedSha256: string;
  currentSha256: string;
}

/** The listing without our tables (nft prints each table as a block closed by "}" at column 0). */
export function stripTables(listing: string, table: string): string {
  const re = new RegExp(`^table (inet|bridge) ${table} \\{\\n[\\s\\S]*?^\\}\\n`, 'gm');
  return listing.replace(re, '');
}

/** "family table / chain" -> chain text, for saying which chains differ. */
function chainBodies(listing: string): Map<string, string> {
  const out = new Map<string, string>();
  let tbl = '';
  let chain = '';
  let body: string[] = [];
  for (const line of listing.split('\n')) {
    const t = /^table (\S+) (\S+) \{$/.exec(line);
    if (t) tbl = `${t[1]} ${t[2]}`;
    const c = /^\t(?:chain|set|map|flowtable|ct helper|quota|counter|limit) (\S+) \{$/.exec(line);
    if (c) {
      chain = c[1];
      body = [];
      continue;
    }
    if (chain && line === '\t}') {
      out.set(`${tbl} / ${chain}`, body.join('\n'));
      chain = '';
    } else if (chain) body.push(line);
  }
  return out;
}

export function changedChains(a: string, b: string): string[] {
  const x = chainBodies(a);
  const y = chainBodies(b);
  const keys = new Set([...x.keys(), ...y.keys()]);
  return [...keys].filter((k) => x.get(k) !== y.get(k)).sort();
}

export async function rollbackPolicy(o: { exec: Exec; stateDir: string; forceFullRestore?: boolean }): Promise<RollbackReport> {
  const state = readState(o.stateDir);
  const savedFile = join(o.stateDir, SAVED_FILE);
  if (!state || !existsSync(savedFile)) {
    throw new IotguardError(ErrorCodes.FILE_NOT_FOUND, `nothing to roll back: no applied policy recorded in ${o.stateDir}`);
  }
  const saved = readFileSync(savedFile, 'utf8');
  if (sha256(saved) !== state.savedSha256) {
    throw new IotguardError(ErrorCodes.DATA_INVALID, `${savedFile} changed since it was saved (sha256 mismatch); refusing to restore it`);
  }
  // apply only ever adds our two tables, so taking them away restores the
  // rest exactly; a full restore is a last resort (nft cannot re-read every
  // listing it prints: miniupnpd's raw-payload DNAT rules, for one)
  const pre = await listRuleset(o.exec);
  const expectedAfter = stripTables(pre, state.table);
  const tables = await o.exec(['nft', 'list', 'tables']);
  if (tables.code !== 0) throw nftError('nft list tables', tables);
  const ours = tables.stdout
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l === `table inet ${state.table}` || l === `table bridge ${state.table}`);
  if (ours.length) {
    const del = join(o.stateDir, 'rollback-delete.nft');
    writeFileSync(del, ours.map((t) => `delete ${t}\n`).join(''), { mode: 0o600 });
    const r = await o.exec(['nft', '-f', del]);
    if (r.code !== 0) throw nftError('nft delete table', r);
  }
  let current = await listRuleset(o.exec);
  let method: RollbackReport['method'] = 'delete-tables';
  if (current !== saved && o.forceFullRestore) {
    method = 'full-restore';
    const restore = join(o.stateDir, 'rollback-restore.nft');
    writeFileSync(restore, `flush ruleset\n${saved}`, { mode: 0o600 });
    try {
      await checkRuleset(o.exec, restore);
    } catch (e) {
      throw new IotguardError(ErrorCodes.POLICY_INVALID, `our tables are removed, but the saved ruleset cannot be loaded back as a whole (nft cannot re-read its own listing of some rules): ${(e as Error).message}`, { cause: e });
    }
    const r = await o.exec(['nft', '-f', restore]);
    if (r.code !== 0) throw nftError('nft -f (restore)', r);
    current = await listRuleset(o.exec);
  }
  const identical = current === saved;
  const ownLeft = current.split('\n').some((l) => l === `table inet ${state.table} {` || l === `table bridge ${state.table} {`);
  if (identical) {
    // done: the next apply takes a fresh snapshot
    rmSync(join(o.stateDir, STATE_FILE), { force: true });
    renameSync(savedFile, join(o.stateDir, 'last-restored-ruleset.nft'));
  }
  return {
    stateDir: o.stateDir,
    method,
    identical,
    ownTablesRemoved: !ownLeft && (method === 'full-restore' || current === expectedAfter),
    changedByOthers: identical ? [] : changedChains(saved, current),
    savedSha256: state.savedSha256,
    currentSha256: sha256(current),
  };
}

/**
 * Resolve names through a given DNS server from inside the namespace (the
 * router's own resolver), so nothing is asked of the host's resolvers.
 */
export function createNetnsResolver(exec: Exec, server: string): (names: string[], family: 'ipv4' | 'ipv6') => Promise<Map<string, string[]>> {
  return async (names, family) => {
    const script = `
const { Resolver } = require('node:dns').promises;
const r = new Resolver({ timeout: 2000, tries: 2 });
r.setServers([process.argv[1]]);
const names = JSON.parse(process.argv[2]);
const fam = process.argv[3];
(async () => {
  const out = {};
  for (const n of names) {
    try { out[n] = fam === 'ipv6' ? await r.resolve6(n) : await r.resolve4(n); } catch { out[n] = []; }
  }
  process.stdout.write(JSON.stringify(out));
})();`;
    const res = await exec([process.execPath, '-e', script, server, JSON.stringify(names), family], { timeoutMs: 30_000 + names.length * 5000 });
    const map = new Map<string, string[]>();
    if (res.code !== 0) return map;
    try {
      const parsed = JSON.parse(res.stdout) as Record<string, string[]>;
      for (const n of names) map.set(n, (parsed[n] ?? []).filter((a) => typeof a === 'string'));
    } catch {
      /* an unreadable answer resolves nothing */
    }
    return map;
  };
}
