// The credential audit's scheduler: which pair goes to which device when.
// Pure orchestration over injected testers and an injected clock, so the
// safety rules are testable without sockets:
// - per device, at most `maxRate` login attempts a second (all services
//   together) and at most `concurrency` connections at once;
// - a service stops at its first success;
// - a lock-out message stops the service at once (`rate-limited`);
// - connections refused/dropped/timing out after the service has answered are
//   retried with exponential back-off, then the service is given up as
//   `rate-limited` instead of being hammered;
// - a service that never answers a first login is `unreachable`.
import type { CredResult, CredService, CredTester, Credential, AttemptOutcome } from './types.js';

export interface CredJob {
  ip: string;
  service: CredService;
  port: number;
  creds: Credential[];
  /**
   * The port answered a connect probe just before: a refusal or hang-up on the
   * first login is then the device limiting connections, not a closed port.
   */
  knownOpen?: boolean;
}

export interface RunnerComponents {
  testers: Partial<Record<CredService, CredTester>>;
  now(): number;
  sleep(ms: number): Promise<void>;
  /** Called after every submitted attempt; carries no credential. */
  onAttempt?(ev: { ip: string; service: CredService; port: number; attempts: number; listSize: number }): void;
  onJobDone?(result: CredResult): void;
}

export interface RunnerInit {
  /** Login attempts per second per device. */
  maxRate: number;
  /** Connections at once per device. */
  concurrency: number;
  /** Devices audited at once. */
  maxDevices: number;
  /** Consecutive session errors (after the first answer) before giving up as rate-limited. */
  maxRetries: number;
  /** First back-off delay; doubles on each consecutive error. */
  backoffMs: number;
}

export const DEFAULT_RUNNER_INIT: RunnerInit = {
  maxRate: 2,
  concurrency: 2,
  maxDevices: 4,
  maxRetries: 3,
  backoffMs: 2000,
};

/** Spaces events at least `1000/rate` ms apart (no bursts). */
export class Pacer {
  private next = 0;
  constructor(
    private readonly rate: number,
    private readonly now: () => number,
    private readonly sleep: (ms: number) => Promise<void>,
  ) {}
  async take(): Promise<void> {
    const t = this.now();
    const at = Math.max(t, this.next);
    this.next = at + 1000 / this.rate;
    if (at > t) await this.sleep(at - t);
  }
  /** Push the next slot out (back-off shared by every service of the device). */
  delay(ms: number): void {
    this.next = Math.max(this.next, this.now() + ms);
  }
}

export class Semaphore {
  private free: number;
  private readonly waiters: Array<() => void> = [];
  constructor(n: number) {
    this.free = n;
  }
  async acquire(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return;
    }
    await new Promise<void>((resolve) => this.waiters.push(resolve));
  }
  release(): void {
    const w = this.waiters.shift();
    if (w) w();
    else this.free++;
  }
}

interface DeviceGate {
  slots: Semaphore;
  pacer: Pacer;
}

async function runJob(job: CredJob, gate: DeviceGate, c: RunnerComponents, init: RunnerInit): Promise<CredResult> {
  const t0 = c.now();
  const base = { ip: job.ip, service: job.service, port: job.port, listSize: job.creds.length };
  const tester = c.testers[job.service];
  if (!tester) {
    return { ...base, status: 'unreachable', attempts: 0, durationMs: 0, detail: `no tester for ${job.service}` };
  }
  const queue = [...job.creds];
  let attempts = 0;
  let answered = false;
  let consecutiveErrors = 0;
  let final: Omit<CredResult, keyof typeof base | 'attempts' | 'durationMs'> | undefined;

  const live = new Set<{ close(): void }>();
  const finish = (f: NonNullable<typeof final>) => {
    if (final) return;
    final = f;
    // the other connections' tries are moot now: hang up instead of waiting out their fail delays
    for (const s of live) s.close();
  };

  const handle = (cred: Credential, out: AttemptOutcome): 'next' | 'new-session' | 'stop' => {
    // a sibling already decided (and hung this session up): its answer no longer counts
    if (final && out.kind !== 'success' && out.kind !== 'failure') return 'stop';
    switch (out.kind) {
      case 'success': {
        attempts++;
        answered = true;
        const shown = cred.public ? { username: out.username, password: out.password, source: cred.source } : {};
        finish({
          status: 'default-credentials',
          ...shown,
          evidence: out.evidence,
          detail: cred.public
            ? `logged in as ${JSON.stringify(out.username)} with a public default password`
            : 'logged in with a pair from the user wordlist (not shown)',
        });
        return 'stop';
      }
      case 'failure':
        attempts++;
        answered = true;
        consecutiveErrors = 0;
        c.onAttempt?.({ ...base, attempts, listSize: job.creds.length });
        return out.canContinue ? 'next' : 'new-session';
      case 'lockout':
        attempts++;
        gate.pacer.delay(init.backoffMs);
        finish({ status: 'rate-limited', detail: `the device locked logins ("${out.detail}"); stopped at once` });
        return 'stop';
      case 'no-auth':
        answered = true;
        finish({ status: 'not-found', detail: out.detail });
        return 'stop';
      case 'error':
        if (out.attempted) attempts++;
        else queue.unshift(cred);
        if (!answered && !(job.knownOpen && (out.reason === 'refused' || out.reason === 'closed'))) {
          finish({ status: 'unreachable', detail: out.detail });
          return 'stop';
        }
        consecutiveErrors++;
        if (consecutiveErrors > init.maxRetries) {
          finish({
            status: 'rate-limited',
            detail: answered
              ? `the device stopped answering after ${attempts} attempts (${out.detail}); gave up after ${init.maxRetries} back-offs`
              : `the port answered a probe but refuses logins (${out.detail}); gave up after ${init.maxRetries} back-offs`,
          });
          return 'stop';
        }
        gate.pacer.delay(init.backoffMs * 2 ** (consecutiveErrors - 1));
        return 'new-session';
    }
  };

  const worker = async () => {
    while (!final && queue.length > 0) {
      await gate.slots.acquire();
      try {
        if (final || queue.length === 0) return;
        const session = tester.session({ ip: job.ip, port: job.port });
        live.add(session);
        try {
          while (!final && queue.length > 0) {
            // strictly in list order: the likeliest pairs first matters more than saving a reconnect
            const cred = queue.shift() as Credential;
            await gate.pacer.take();
            if (final) {
              queue.unshift(cred);
              break;
            }
            let out: AttemptOutcome;
            try {
              out = await session.attempt(cred);
            } catch (e) {
              out = { kind: 'error', reason: 'protocol', detail: `tester failed: ${(e as Error)?.message ?? String(e)}`, attempted: false };
            }
            const next = handle(cred, out);
            if (next !== 'next') break;
          }
        } finally {
          live.delete(session);
          session.close();
        }
      } finally {
        gate.slots.release();
      }
    }
  };

  const workers = Math.max(1, Math.min(init.concurrency, queue.length));
  await Promise.all(Array.from({ length: workers }, worker));
  const end = final ?? { status: 'not-found' as const, detail: `none of the ${job.creds.length} pairs logged in` };
  const result: CredResult = { ...base, attempts, durationMs: Math.round(c.now() - t0), ...end } as CredResult;
  c.onJobDone?.(result);
  return result;
}

/** Run every job; results come back in job order. */
export async function runCredAudit(jobs: CredJob[], components: RunnerComponents, init: RunnerInit = DEFAULT_RUNNER_INIT): Promise<CredResult[]> {
  if (!(init.maxRate > 0) || !(init.concurrency >= 1) || !(init.maxDevices >= 1)) throw new RangeError('bad runner limits');
  const byIp = new Map<string, number[]>();
  jobs.forEach((j, i) => {
    const list = byIp.get(j.ip);
    if (list) list.push(i);
    else byIp.set(j.ip, [i]);
  });
  const results: CredResult[] = new Array(jobs.length);
  const devices = [...byIp.entries()];
  let nextDevice = 0;
  const deviceWorker = async () => {
    while (nextDevice < devices.length) {
      const [, idxs] = devices[nextDevice++];
      const gate: DeviceGate = {
        slots: new Semaphore(init.concurrency),
        pacer: new Pacer(init.maxRate, components.now, components.sleep),
      };
      await Promise.all(
        idxs.map(async (i) => {
          results[i] = await runJob(jobs[i], gate, components, init);
        }),
      );
    }
  };
  await Promise.all(Array.from({ length: Math.min(init.maxDevices, devices.length) }, deviceWorker));
  return results;
}
