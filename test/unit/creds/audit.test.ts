// The whole use case (probe, lists, scheduler, testers) on 127.0.0.1.
import { afterEach, describe, expect, it } from 'vitest';
import { runCredsAudit } from '../../../src/adapters/probe/creds/audit.js';
import { fakeTelnet, type Listening } from './fake-servers.js';

const open: Listening[] = [];
afterEach(async () => {
  while (open.length) await open.pop()?.close();
});

describe('creds audit on loopback', () => {
  it('hangs up the other connections as soon as one logs in (no waiting out fail delays, no extra tries)', async () => {
    const srv = await fakeTelnet({ users: { root: 'xc3511' }, failDelayMs: 2000 });
    open.push(srv);
    const t0 = Date.now();
    const r = await runCredsAudit({ targets: ['127.0.0.1'], services: [{ service: 'telnet', port: srv.port }], wordlist: { name: 'defaults' }, limits: { maxRate: 1000, concurrency: 4 } });
    expect(Date.now() - t0).toBeLessThan(1500);
    expect(r.results[0]).toMatchObject({ status: 'default-credentials', username: 'root', password: 'xc3511' });
    await new Promise((res) => setTimeout(res, 2500));
    // only the first round of passwords ever reached the device
    expect(srv.stats.attempts).toBeLessThanOrEqual(4);
  });

  it('a device that drops connections after 3 failures is rate-limited, not hammered', async () => {
    const srv = await fakeTelnet({ users: { root: 'not-in-any-list' }, lockAfter: 3, lockMode: 'drop', triesPerConnection: 1 });
    open.push(srv);
    const r = await runCredsAudit({
      targets: ['127.0.0.1'],
      services: [{ service: 'telnet', port: srv.port }],
      wordlist: { name: 'defaults' },
      limits: { maxRate: 50, concurrency: 1, backoffMs: 50, maxRetries: 3 },
      replyTimeoutMs: 1000,
    });
    expect(r.results[0].status).toBe('rate-limited');
    expect(r.results[0].attempts).toBe(3);
    // the port probe + 3 logins + the first drop + 3 back-off retries
    expect(srv.stats.connections).toBeLessThanOrEqual(1 + 3 + 1 + 3);
    expect(r.findings).toEqual([]);
  });

  it('a lock-out message stops at once', async () => {
    const srv = await fakeTelnet({ users: { root: 'x' }, lockAfter: 2, lockMode: 'message' });
    open.push(srv);
    const r = await runCredsAudit({ targets: ['127.0.0.1'], services: [{ service: 'telnet', port: srv.port }], wordlist: { name: 'mirai' }, limits: { maxRate: 50, concurrency: 2 } });
    expect(r.results[0]).toMatchObject({ status: 'rate-limited' });
    expect(r.results[0].detail).toMatch(/Too many failed login attempts/);
    expect(srv.stats.attempts).toBeLessThanOrEqual(3);
  });
});
