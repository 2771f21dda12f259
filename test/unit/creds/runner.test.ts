// The scheduler's safety rules, with fake testers and a fake clock.
import { describe, expect, it } from 'vitest';
import { runCredAudit, type CredJob, type RunnerInit } from '../../../src/core/creds/runner.js';
import type { AttemptOutcome, CredTester, Credential } from '../../../src/core/creds/types.js';
import { credFindings } from '../../../src/core/creds/findings.js';

const list = (n: number, pub = true): Credential[] => Array.from({ length: n }, (_, i) => ({ username: 'u', password: `p${i}`, public: pub, source: pub ? 'mirai' : 'user' }));

function clock() {
  let t = 0;
  const timers: Array<{ at: number; resolve: () => void }> = [];
  return {
    now: () => t,
    sleep: (ms: number) => new Promise<void>((resolve) => timers.push({ at: t + ms, resolve })),
    /** Runs the promise to its end, jumping the clock to the next timer whenever everything else is idle. */
    async drive<T>(p: Promise<T>): Promise<T> {
      let done = false;
      p.then(
        () => (done = true),
        () => (done = true),
      );
      while (!done) {
        await new Promise((r) => setImmediate(r));
        if (done || timers.length === 0) continue;
        timers.sort((a, b) => a.at - b.at);
        const next = timers.shift() as { at: number; resolve: () => void };
        t = Math.max(t, next.at);
        next.resolve();
      }
      return p;
    },
  };
}

/** A tester whose behaviour is a function of the nth attempt on the device. */
function scripted(service: 'telnet' | 'http', f: (n: number, cred: Credential) => AttemptOutcome, log: number[] = [], c?: ReturnType<typeof clock>, active = { now: 0, max: 0 }): CredTester {
  let n = 0;
  return {
    service,
    session: () => {
      active.now++;
      active.max = Math.max(active.max, active.now);
      return {
        attempt: async (cred) => {
          log.push(c?.now() ?? 0);
          await Promise.resolve();
          return f(n++, cred);
        },
        close: () => {
          active.now--;
        },
      };
    },
  };
}

const init: RunnerInit = { maxRate: 2, concurrency: 2, maxDevices: 4, maxRetries: 3, backoffMs: 1000 };
const job = (creds: Credential[], service: 'telnet' | 'http' = 'telnet', ip = '10.0.0.2'): CredJob => ({ ip, service, port: 23, creds });

describe('credential scheduler', () => {
  it('stops at the first success and shows only a public pair', async () => {
    const c = clock();
    const t = scripted('telnet', (n, cred) => (n === 4 ? { kind: 'success', username: cred.username, password: cred.password, evidence: '# ' } : { kind: 'failure', canContinue: true }));
    const [r] = await c.drive(runCredAudit([job(list(20))], { testers: { telnet: t }, ...c }, init));
    expect(r).toMatchObject({ status: 'default-credentials', attempts: 5, username: 'u', source: 'mirai' });
    const c2 = clock();
    const t2 = scripted('telnet', (n, cred) => (n === 0 ? { kind: 'success', username: cred.username, password: cred.password, evidence: '# ' } : { kind: 'failure', canContinue: true }));
    const [r2] = await c2.drive(runCredAudit([job(list(3, false))], { testers: { telnet: t2 }, ...c2 }, init));
    expect(r2.status).toBe('default-credentials');
    expect(r2.username).toBeUndefined();
    expect(r2.password).toBeUndefined();
    const f = credFindings([r2]);
    expect(JSON.stringify(f)).not.toContain('p0');
  });

  it('spaces attempts at the rate limit, across services of one device', async () => {
    const c = clock();
    const log: number[] = [];
    const fail = (): AttemptOutcome => ({ kind: 'failure', canContinue: true });
    const testers = { telnet: scripted('telnet', fail, log, c), http: scripted('http', fail, log, c) };
    const res = await c.drive(runCredAudit([job(list(5)), job(list(5), 'http')], { testers, ...c }, init));
    expect(res.map((r) => r.status)).toEqual(['not-found', 'not-found']);
    expect(log).toHaveLength(10);
    const sorted = [...log].sort((a, b) => a - b);
    for (let i = 1; i < sorted.length; i++) expect(sorted[i] - sorted[i - 1]).toBeGreaterThanOrEqual(500);
  });

  it('never opens more sessions per device than the concurrency limit', async () => {
    const c = clock();
    const active = { now: 0, max: 0 };
    const t = scripted('telnet', () => ({ kind: 'failure', canContinue: false }), [], c, active);
    const h = scripted('http', () => ({ kind: 'failure', canContinue: false }), [], c, active);
    await c.drive(runCredAudit([job(list(6)), job(list(6), 'http')], { testers: { telnet: t, http: h }, ...c }, { ...init, concurrency: 2 }));
    expect(active.max).toBeLessThanOrEqual(2);
  });

  it('stops at a lock-out message: rate-limited, not hammered', async () => {
    const c = clock();
    const log: number[] = [];
    const t = scripted('telnet', (n) => (n < 3 ? { kind: 'failure', canContinue: true } : { kind: 'lockout', detail: 'Too many failed login attempts' }), log, c);
    const [r] = await c.drive(runCredAudit([job(list(62))], { testers: { telnet: t }, ...c }, init));
    expect(r.status).toBe('rate-limited');
    expect(r.attempts).toBeLessThanOrEqual(5);
    expect(log.length).toBeLessThanOrEqual(5);
    expect(r.detail).toMatch(/Too many/);
  });

  it('backs off exponentially on refusals after the first answer, then gives up as rate-limited', async () => {
    const c = clock();
    const log: number[] = [];
    const t = scripted('telnet', (n) => (n < 2 ? { kind: 'failure', canContinue: false } : { kind: 'error', reason: 'refused', detail: 'connection refused', attempted: false }), log, c);
    const [r] = await c.drive(runCredAudit([job(list(62))], { testers: { telnet: t }, ...c }, { ...init, concurrency: 1 }));
    expect(r.status).toBe('rate-limited');
    expect(r.attempts).toBe(2);
    expect(log.length).toBe(2 + init.maxRetries + 1);
    const gaps = log.slice(2).map((v, i, a) => (i === 0 ? 0 : v - a[i - 1])).slice(1);
    expect(gaps[0]).toBeGreaterThanOrEqual(1000);
    expect(gaps[1]).toBeGreaterThanOrEqual(2000);
    expect(gaps[2]).toBeGreaterThanOrEqual(4000);
  });

  it('recovers from one dropped connection and keeps going', async () => {
    const c = clock();
    const t = scripted('telnet', (n, cred) =>
      n === 3 ? { kind: 'error', reason: 'closed', detail: 'reset', attempted: false } : n === 6 ? { kind: 'success', username: cred.username, password: cred.password, evidence: '#' } : { kind: 'failure', canContinue: true },
    );
    const [r] = await c.drive(runCredAudit([job(list(10))], { testers: { telnet: t }, ...c }, { ...init, concurrency: 1 }));
    expect(r.status).toBe('default-credentials');
    expect(r.password).toBe('p5'); // the pair lost to the reset was retried
  });

  it('a service that never answers is unreachable with the reason; no-auth is not-found', async () => {
    const c = clock();
    const t = scripted('telnet', () => ({ kind: 'error', reason: 'timeout', detail: 'telnet: no login prompt within 500 ms', attempted: false }));
    const h = scripted('http', () => ({ kind: 'no-auth', detail: 'http: / answers 200 without asking for a password' }));
    const [a, b] = await c.drive(runCredAudit([job(list(5)), job(list(5), 'http')], { testers: { telnet: t, http: h }, ...c }, init));
    expect(a).toMatchObject({ status: 'unreachable', attempts: 0 });
    expect(a.detail).toMatch(/no login prompt/);
    expect(b).toMatchObject({ status: 'not-found', attempts: 0 });
  });

  it('rejects nonsense limits', async () => {
    await expect(runCredAudit([], { testers: {}, ...clock() }, { ...init, maxRate: 0 })).rejects.toThrow(RangeError);
  });
});

describe('findings', () => {
  it('says to turn telnet off or isolate the device, severity critical', () => {
    const [f] = credFindings(
      [{ ip: '192.168.77.20', service: 'telnet', port: 23, status: 'default-credentials', username: 'root', password: 'xc3511', attempts: 1, listSize: 70, durationMs: 10, detail: '', source: 'mirai' }],
      () => '18:80:25:00:77:20',
    );
    expect(f).toMatchObject({ id: 'default-credentials', severity: 'critical', device: { ip: '192.168.77.20', mac: '18:80:25:00:77:20' } });
    expect(f.advice).toMatch(/telnet off/i);
    expect(f.advice).toMatch(/isolate/i);
    expect(f.title).toContain('root / xc3511');
  });
});

describe('connection limits before the first answer', () => {
  it('a port that answered the probe but refuses logins is rate-limited after back-offs, not unreachable', async () => {
    const c = clock();
    const log: number[] = [];
    const t = scripted('telnet', () => ({ kind: 'error', reason: 'refused', detail: 'telnet: connection refused', attempted: false }), log, c);
    const [r] = await c.drive(runCredAudit([{ ...job(list(10)), knownOpen: true }], { testers: { telnet: t }, ...c }, { ...init, concurrency: 1 }));
    expect(r.status).toBe('rate-limited');
    expect(r.attempts).toBe(0);
    expect(log).toHaveLength(init.maxRetries + 1);
    expect(r.detail).toMatch(/answered a probe but refuses logins/);
    // without the probe's word, the same refusal means the port is shut
    const c2 = clock();
    const [r2] = await c2.drive(runCredAudit([job(list(10))], { testers: { telnet: scripted('telnet', () => ({ kind: 'error', reason: 'refused', detail: 'x', attempted: false })) }, ...c2 }, init));
    expect(r2.status).toBe('unreachable');
  });
});

describe('list order', () => {
  it('tries pairs strictly in list order, whatever the user names', async () => {
    const c = clock();
    const seen: string[] = [];
    const t = scripted('telnet', (_n, cred) => {
      seen.push(`${cred.username}:${cred.password}`);
      return { kind: 'failure', canContinue: true };
    });
    const mixed: Credential[] = ['root:1', 'admin:1', 'root:2', 'admin:2', 'root:3'].map((s) => ({ username: s.split(':')[0], password: s.split(':')[1], public: true, source: 'mirai' }));
    await c.drive(runCredAudit([job(mixed)], { testers: { telnet: t }, ...c }, { ...init, concurrency: 1 }));
    expect(seen).toEqual(['root:1', 'admin:1', 'root:2', 'admin:2', 'root:3']);
  });
});
