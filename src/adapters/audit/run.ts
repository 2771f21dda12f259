// The audit orchestrator: runs each step through the command that owns it, in
// its CONTRACT.md JSON shape (the stable surface), so the audit sees exactly
// what a user of that command sees. Steps that fail are reported and the audit
// goes on with the rest; a time budget bounds the whole run.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Finding } from '../../core/model/finding.js';
import { assembleAudit, diffAudits, type AnalyzeInput, type AuditDiff, type CredsInput, type DiscoverInput, type UpnpInput } from '../../core/report/assemble.js';
import type { AuditResult, AuditStep } from '../../core/report/model.js';
import { evidenceFromDevice } from '../../core/vuln/evidence.js';
import { vulnFindings } from '../../core/vuln/match.js';
import type { Device } from '../../core/model/device.js';
import { loadKevCatalog } from '../probe/safe-checks.js';
import { openStore } from '../store/db.js';

const BIN = fileURLToPath(new URL('../../../bin/iotguard.js', import.meta.url));

export interface AuditOptions {
  cidrs?: string[];
  iface?: string;
  authorized: boolean;
  pcaps: string[];
  captureSeconds: number;
  /** Total time budget in seconds; each step gets what is left. */
  budgetSeconds: number;
  db?: string;
  store: boolean;
  version: string;
  /** Extra flags for discovery (e.g. a port list) — for tests and benchmarks. */
  discoverArgs?: string[];
  credsArgs?: string[];
}

export interface AuditRun {
  result: AuditResult;
  diff?: AuditDiff;
  previous?: string;
}

export interface StepRunner {
  (args: string[], timeoutMs: number): Promise<{ code: number; stdout: string; stderr: string }>;
}

/** Runs `iotguard ARGS --json` as a child process and returns its output. */
export const runCli: StepRunner = (args, timeoutMs) =>
  new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, IOTGUARD_PROGRESS: '0' } });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => {
      if (err.length < 65536) err += b.toString();
    });
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 124 : 1), stdout: Buffer.concat(out).toString('utf8'), stderr: err });
    });
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve({ code: 127, stdout: '', stderr: String(e) });
    });
  });

/** Services whose ports make a device worth a credential test. */
const CRED_PORTS = new Set([21, 22, 23, 80, 554, 1883, 2323, 8000, 8080, 8081, 8443, 443, 2222, 8554]);

function lastLine(s: string): string {
  const lines = s.trim().split('\n').filter(Boolean);
  const l = lines[lines.length - 1] ?? '';
  try {
    const j = JSON.parse(l) as { error?: { message?: string } };
    if (j.error?.message) return j.error.message;
  } catch {
    /* plain text */
  }
  return l.replace(/\u001b\[[0-9;]*m/g, '').slice(0, 300);
}

export async function runAudit(opts: AuditOptions, log: (msg: string) => void, run: StepRunner = runCli): Promise<AuditRun> {
  const startedAt = new Date().toISOString();
  const deadline = Date.now() + opts.budgetSeconds * 1000;
  const steps: AuditStep[] = [];
  const left = () => Math.max(5_000, deadline - Date.now());
  const total = 4 + (opts.authorized ? 1 : 0);
  let n = 0;

  async function step<T>(name: string, args: string[] | undefined, why?: string): Promise<T | undefined> {
    n++;
    if (!args) {
      steps.push({ name, status: 'skipped', seconds: 0, detail: why });
      log(`[${n}/${total}] ${name}: skipped (${why})`);
      return undefined;
    }
    log(`[${n}/${total}] ${name} …`);
    const t0 = Date.now();
    const r = await run([...args, '--json'], left());
    const seconds = (Date.now() - t0) / 1000;
    if (r.code !== 0) {
      steps.push({ name, status: 'failed', seconds, detail: lastLine(r.stderr) || `exit ${r.code}` });
      log(`[${n}/${total}] ${name}: failed: ${lastLine(r.stderr)}`);
      return undefined;
    }
    try {
      const value = JSON.parse(r.stdout) as T;
      steps.push({ name, status: 'ok', seconds });
      log(`[${n}/${total}] ${name}: done in ${seconds.toFixed(1)} s`);
      return value;
    } catch {
      steps.push({ name, status: 'failed', seconds, detail: 'its output was not JSON' });
      return undefined;
    }
  }

  const scopeArgs = [...(opts.cidrs?.length ? ['--cidr', ...opts.cidrs] : []), ...(opts.iface ? ['--iface', opts.iface] : [])];
  const discover = await step<DiscoverInput>('discover: devices, ports, names, services', ['discover', ...scopeArgs, ...(opts.db ? ['--db', opts.db] : []), ...(opts.store ? [] : ['--no-store']), ...(opts.discoverArgs ?? [])]);
  const upnp = await step<UpnpInput>('upnp: gateways and port mappings', ['upnp', ...(opts.iface ? ['--iface', opts.iface] : []), ...(opts.authorized ? ['--authorized'] : [])]);

  let creds: CredsInput | undefined;
  if (opts.authorized) {
    const targets = (discover?.devices ?? []).filter((d) => !d.self && d.openPorts.some((p) => CRED_PORTS.has(p.port))).map((d) => d.ip);
    creds = await step<CredsInput>(
      'creds: public default passwords',
      targets.length ? ['creds', '--targets', targets.join(','), '--authorized', ...(opts.credsArgs ?? [])] : undefined,
      'no device with a login service',
    );
  }

  let analyze: AnalyzeInput | undefined;
  if (opts.pcaps.length) {
    for (const f of opts.pcaps) if (!existsSync(f)) log(`warning: capture ${f} does not exist`);
    analyze = await step<AnalyzeInput>('traffic: captures through the detectors', ['analyze', ...opts.pcaps]);
  } else if (opts.captureSeconds > 0) {
    analyze = await step<AnalyzeInput>(`traffic: ${opts.captureSeconds} s of live capture`, ['capture', ...(opts.iface ? ['--iface', opts.iface] : []), '--seconds', String(opts.captureSeconds)]);
  } else {
    await step('traffic', undefined, 'no --pcap and no --capture-seconds');
  }

  // known-exploited vulnerabilities from what discovery saw (passive: banners, descriptions)
  n++;
  const t0 = Date.now();
  const extra: Finding[] = [];
  try {
    const catalog = await loadKevCatalog();
    for (const d of discover?.devices ?? []) if (!d.self) extra.push(...vulnFindings(evidenceFromDevice(d as unknown as Device), catalog));
    steps.push({ name: 'vulnerabilities: known-exploited products', status: 'ok', seconds: (Date.now() - t0) / 1000, detail: `${catalog.entries.length} catalogue entries` });
    log(`[${n}/${total}] vulnerabilities: ${extra.length} match(es)`);
  } catch (e) {
    steps.push({ name: 'vulnerabilities: known-exploited products', status: 'failed', seconds: (Date.now() - t0) / 1000, detail: (e as Error).message });
  }

  const result = assembleAudit({
    version: opts.version,
    startedAt,
    finishedAt: new Date().toISOString(),
    scope: { cidrs: opts.cidrs ?? [], authorized: opts.authorized, captures: opts.pcaps, captureSeconds: opts.captureSeconds },
    steps,
    discover,
    upnp,
    creds,
    analyze,
    extraFindings: extra,
  });

  let diff: AuditDiff | undefined;
  if (opts.store && opts.db) {
    const store = openStore(opts.db);
    try {
      const prev = store.db.prepare('SELECT result FROM audits ORDER BY id DESC LIMIT 1').get() as { result: string } | undefined;
      if (prev) diff = diffAudits(JSON.parse(prev.result) as AuditResult, result);
      store.db
        .prepare('INSERT INTO audits (started_at, finished_at, scope, devices, findings, result) VALUES (?, ?, ?, ?, ?, ?)')
        .run(result.startedAt, result.finishedAt, JSON.stringify(result.scope), result.devices.length, result.findings.length, JSON.stringify(result));
    } finally {
      store.close();
    }
  }
  return { result, diff };
}
