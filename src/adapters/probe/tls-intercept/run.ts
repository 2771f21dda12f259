// The tls-check use case: recover from a crashed run, redirect one device's
// TLS through our table for a bounded time, test each destination with the
// forged certificates, then remove the table and report.
import { createHash } from 'node:crypto';
import { rmSync } from 'node:fs';
import { ErrorCodes, IotguardError } from '../../../core/model/errors.js';
import type { Finding } from '../../../core/model/finding.js';
import { DEFAULT_TLS_PORTS, NEVER_LEARN_PORTS, renderInterceptTable, TLSCHECK_TABLE } from '../../../core/tlscheck/nft.js';
import { CertRotation, type AttemptResult, type DestinationKey } from '../../../core/tlscheck/plan.js';
import { buildFindings, buildResults, type TlsCheckResult } from '../../../core/tlscheck/report.js';
import type { Exec } from '../../policy/nft.js';
import { CertForge, type UserCert } from './certs.js';
import { Interceptor, type InterceptorEvents } from './interceptor.js';
import {
  addPorts,
  conntrackAvailable,
  createConntrackLookup,
  currentNetnsId,
  installTable,
  listenAddressFor,
  listRuleset,
  neighbourMacs,
  recover,
  redirectedPackets,
  removeTable,
  seenPorts,
  stateFile,
  writeState,
  type RecoveryReport,
} from './redirect.js';

export interface TlsCheckComponents {
  exec: Exec;
  log?: (msg: string) => void;
  events?: InterceptorEvents;
  /** Resolves early (the run stops and cleans up) when aborted: SIGINT/SIGTERM. */
  signal?: AbortSignal;
  /** Called once the table is installed, with the way to take it down synchronously at exit. */
  onInstalled?: () => void;
}

export interface TlsCheckInit {
  device: string;
  seconds: number;
  ports?: number[];
  learnPorts?: boolean;
  stateDir: string;
  listenIp?: string;
  wrongHostCert?: UserCert;
  wrongHostName?: string;
  peekTimeoutMs?: number;
  appDataTimeoutMs?: number;
}

export interface TlsCheckReport {
  results: TlsCheckResult[];
  findings: Finding[];
  run: {
    device: string;
    seconds: number;
    interrupted: boolean;
    listen: string;
    ports: number[];
    learnedPorts: number[];
    connections: { intercepted: number; tested: number; passedThrough: number; dropped: number };
    recovery: RecoveryReport;
    /** Stateless listings (`nft -s list ruleset`) before and after. */
    ruleset: { beforeSha256: string; afterSha256: string; identical: boolean; tableRemoved: boolean };
    redirectedPackets?: number;
    warnings: string[];
    wrongHost: 'forged-ca' | 'user-certificate';
  };
}

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

export async function runTlsCheck(c: TlsCheckComponents, o: TlsCheckInit): Promise<TlsCheckReport> {
  const log = c.log ?? (() => {});
  const recovery = await recover(c.exec, o.stateDir);
  if (recovery.removedTable) log(`removed the redirect table left by a previous run${recovery.previousPid ? ` (pid ${recovery.previousPid})` : ''}`);
  if (!(await conntrackAvailable(c.exec))) {
    throw new IotguardError(ErrorCodes.DEPENDENCY_MISSING, 'tls-check needs the conntrack table to find where redirected connections were going: /proc/net/nf_conntrack is missing and conntrack-tools is not installed');
  }
  const route = o.listenIp ? { ip: o.listenIp, direct: true } : await listenAddressFor(c.exec, o.device);
  if (!route) throw new IotguardError(ErrorCodes.NET_UNREACHABLE, `no route from this host to ${o.device}: run tls-check on the router the device uses`);
  const before = await listRuleset(c.exec);

  const rotation = new CertRotation();
  const forge = new CertForge({ ...(o.wrongHostCert ? { userWrongHost: o.wrongHostCert } : {}), ...(o.wrongHostName ? { wrongHostName: o.wrongHostName } : {}) });
  await forge.warm();
  const interceptor = new Interceptor(
    { forge, rotation, originalDestination: createConntrackLookup(c.exec), ...(c.events ? { events: c.events } : {}) },
    { devices: [o.device], listenIp: route.ip, ...(o.peekTimeoutMs ? { peekTimeoutMs: o.peekTimeoutMs } : {}), ...(o.appDataTimeoutMs ? { appDataTimeoutMs: o.appDataTimeoutMs } : {}) },
  );
  const port = await interceptor.listen();
  const ports = [...new Set(o.ports?.length ? o.ports : DEFAULT_TLS_PORTS)].sort((a, b) => a - b);
  const learned: number[] = [];
  let tableRemoved = false;
  let interrupted = false;
  let redirected: number | undefined;
  const warnings: string[] = [];
  const netns = currentNetnsId();
  try {
    // the state file first: a crash right after `nft -f` still leaves a trace to clean up
    writeState(o.stateDir, { version: 1, pid: process.pid, startedAt: new Date().toISOString(), table: TLSCHECK_TABLE, netns, device: o.device, listen: `${route.ip}:${port}` });
    await installTable(c.exec, renderInterceptTable({ device: o.device, listenIp: route.ip, listenPort: port, ports }));
    c.onInstalled?.();
    log(`redirecting ${o.device} TCP ${ports.join(',')} to ${route.ip}:${port} for ${o.seconds} s`);
    const deadline = Date.now() + o.seconds * 1000;
    while (Date.now() < deadline && !c.signal?.aborted) {
      await sleep(Math.min(2000, deadline - Date.now()), c.signal);
      if (o.learnPorts !== false && !c.signal?.aborted) {
        const seen = (await seenPorts(c.exec)).filter((p) => !ports.includes(p) && !learned.includes(p) && !NEVER_LEARN_PORTS.has(p));
        if (seen.length) {
          await addPorts(c.exec, seen);
          learned.push(...seen);
          log(`also redirecting ports seen in ${o.device}'s traffic: ${seen.join(', ')}`);
        }
      }
    }
    interrupted = c.signal?.aborted === true;
  } finally {
    try {
      redirected = await redirectedPackets(c.exec);
    } catch {
      /* the count is a diagnostic only */
    }
    try {
      tableRemoved = await removeTable(c.exec);
    } finally {
      await interceptor.close();
      rmSync(stateFile(o.stateDir, netns), { force: true });
    }
  }
  const after = await listRuleset(c.exec);
  if (redirected !== undefined && redirected > 0 && interceptor.stats.accepted === 0) {
    warnings.push(
      `${redirected} packets of ${o.device} were redirected but no connection reached the interceptor at ${route.ip}:${port}: another firewall table on this router drops them on input (an allowlist for this device?). Lift it for the test and run again.`,
    );
  }
  if (before !== after) warnings.push('the ruleset differs from before the run outside counters: something else changed it meanwhile (our table is gone)');
  const results = buildResults([o.device], rotation.snapshot());
  const macs = await neighbourMacs([o.device]);
  return {
    results,
    findings: buildFindings(results, macs),
    run: {
      device: o.device,
      seconds: o.seconds,
      interrupted,
      listen: `${route.ip}:${port}`,
      ports,
      learnedPorts: learned.sort((a, b) => a - b),
      connections: { intercepted: interceptor.stats.accepted, tested: interceptor.stats.tested, passedThrough: interceptor.stats.passedThrough, dropped: interceptor.stats.dropped },
      recovery,
      ruleset: { beforeSha256: sha(before), afterSha256: sha(after), identical: before === after, tableRemoved },
      ...(redirected !== undefined ? { redirectedPackets: redirected } : {}),
      warnings,
      wrongHost: o.wrongHostCert ? 'user-certificate' : 'forged-ca',
    },
  };
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (ms <= 0 || signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

export type { AttemptResult, DestinationKey };
