// The `creds` use case: check the targets are on the attached LAN, pick each
// device's services from its open ports, build the per-service lists, run the
// scheduler over the real testers, and turn successes into findings.
import { ErrorCodes, IotguardError } from '../../../core/model/errors.js';
import type { Finding } from '../../../core/model/finding.js';
import { credFindings } from '../../../core/creds/findings.js';
import { DEFAULT_RUNNER_INIT, runCredAudit, type CredJob, type RunnerInit } from '../../../core/creds/runner.js';
import { CRED_SERVICES, type CredResult, type CredService, type CredTester, type Credential } from '../../../core/creds/types.js';
import { listFor, userListFor, type NamedWordlist } from '../../../core/creds/wordlist.js';
import { arpTable, loadShippedLists, loadUserWordlist } from './data.js';
import { probePorts } from './ports.js';
import { attachedNets, inScope, type AttachedNet } from './scope.js';

export interface ServiceRequest {
  service: CredService;
  port?: number;
}

export interface CredAuditOptions {
  targets: string[];
  /** Services (optionally with a port); all known services when absent. */
  services?: ServiceRequest[];
  wordlist: { name: NamedWordlist } | { file: string };
  limits?: Partial<RunnerInit>;
  connectTimeoutMs?: number;
  replyTimeoutMs?: number;
  httpPath?: string;
  rtspPath?: string;
  /** Override the attached networks (tests). */
  nets?: AttachedNet[];
  /** Swap testers (tests). */
  testers?: Partial<Record<CredService, CredTester>>;
  onProgress?(ev: { phase: 'probe' | 'login'; done: number; total: number }): void;
  onResult?(r: CredResult): void;
}

export interface CredAuditReport {
  results: CredResult[];
  findings: Finding[];
  /** Targets with no login service open (when services were not named). */
  noServices: string[];
}

async function loadTester(service: CredService, t: { connectTimeoutMs: number; replyTimeoutMs: number; httpPath: string; rtspPath: string }): Promise<CredTester> {
  const base = { connectTimeoutMs: t.connectTimeoutMs, replyTimeoutMs: t.replyTimeoutMs };
  switch (service) {
    case 'telnet':
      return (await import('./telnet.js')).createTelnetTester(base);
    case 'ssh':
      return (await import('./ssh.js')).createSshTester(base);
    case 'http':
      return (await import('./http.js')).createHttpTester({ ...base, path: t.httpPath });
    case 'ftp':
      return (await import('./ftp.js')).createFtpTester(base);
    case 'mqtt':
      return (await import('./mqtt.js')).createMqttTester(base);
    case 'rtsp':
      return (await import('./rtsp.js')).createRtspTester({ ...base, path: t.rtspPath });
  }
}

export function checkScope(targets: string[], nets: AttachedNet[] = attachedNets()): void {
  for (const ip of targets) {
    const v = inScope(ip, nets);
    if (!v.ok) {
      throw new IotguardError(ErrorCodes.CREDS_OUT_OF_SCOPE, `refusing ${ip}: ${v.why}. creds only tests devices on this host's own LAN`);
    }
  }
}

export async function runCredsAudit(o: CredAuditOptions): Promise<CredAuditReport> {
  checkScope(o.targets, o.nets);
  const lists = loadShippedLists();
  const userList: Credential[] | undefined = 'file' in o.wordlist ? userListFor(loadUserWordlist(o.wordlist.file)) : undefined;
  const named = 'name' in o.wordlist ? o.wordlist.name : undefined;
  const credsFor = (s: CredService): Credential[] => userList ?? listFor(s, named as NamedWordlist, lists);

  const requests: ServiceRequest[] = o.services ?? CRED_SERVICES.map((service) => ({ service }));
  const jobs: CredJob[] = [];
  const pre: CredResult[] = [];
  const noServices: string[] = [];
  let probed = 0;
  for (const ip of o.targets) {
    const wanted = requests.flatMap((r) => (r.port ? [{ service: r.service, port: r.port, explicit: true }] : lists.services[r.service].ports.map((port) => ({ service: r.service, port, explicit: false }))));
    const ports = [...new Set(wanted.map((w) => w.port))];
    const states = await probePorts(ip, ports, Math.min(o.connectTimeoutMs ?? 1500, 3000));
    probed++;
    o.onProgress?.({ phase: 'probe', done: probed, total: o.targets.length });
    let any = false;
    for (const r of requests) {
      const mine = wanted.filter((w) => w.service === r.service);
      const open = mine.filter((w) => states.get(w.port) === 'open');
      for (const w of open) {
        any = true;
        jobs.push({ ip, service: w.service, port: w.port, creds: credsFor(w.service), knownOpen: true });
      }
      if (open.length === 0 && o.services) {
        // named by the user: say why nothing was tried
        const first = mine[0];
        const state = states.get(first.port);
        pre.push({
          ip,
          service: r.service,
          port: first.port,
          status: 'unreachable',
          attempts: 0,
          listSize: credsFor(r.service).length,
          durationMs: 0,
          detail: `port${mine.length > 1 ? 's' : ''} ${mine.map((m) => m.port).join(', ')} ${state === 'closed' ? 'closed' : 'not answering'}`,
        });
      }
    }
    if (!any && !o.services) noServices.push(ip);
  }

  const t = { connectTimeoutMs: o.connectTimeoutMs ?? 3000, replyTimeoutMs: o.replyTimeoutMs ?? 8000 };
  const testers: Partial<Record<CredService, CredTester>> = { ...o.testers };
  // load only the protocol stacks in use (ssh2, mqtt and basic-ftp take a while to import)
  for (const service of new Set(jobs.map((j) => j.service))) {
    if (!testers[service]) testers[service] = await loadTester(service, { ...t, httpPath: o.httpPath ?? '/', rtspPath: o.rtspPath ?? '/' });
  }
  const total = jobs.reduce((n, j) => n + j.creds.length, 0);
  let done = 0;
  const results = await runCredAudit(
    jobs,
    {
      testers,
      now: () => performance.now(),
      sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
      onAttempt: () => {
        done++;
        o.onProgress?.({ phase: 'login', done, total });
      },
      onJobDone: (r) => o.onResult?.(r),
    },
    { ...DEFAULT_RUNNER_INIT, ...o.limits },
  );
  const all = [...results, ...pre].sort((a, b) => a.ip.localeCompare(b.ip, undefined, { numeric: true }) || a.service.localeCompare(b.service) || a.port - b.port);
  const macs = arpTable();
  return { results: all, findings: credFindings(all, (ip) => macs.get(ip)), noServices };
}
