import { afterEach, describe, expect, it } from 'vitest';
import { createTelnetTester } from '../../../src/adapters/probe/creds/telnet.js';
import type { Credential } from '../../../src/core/creds/types.js';
import { closedPort, closesMidway, fakeTelnet, garbage, tarpit, type Listening } from './fake-servers.js';

const cred = (username: string, password: string): Credential => ({ username, password, public: true, source: 'test' });
const open: Listening[] = [];
afterEach(async () => {
  while (open.length) await open.pop()?.close();
});
const tester = (replyTimeoutMs = 2000) => createTelnetTester({ connectTimeoutMs: 1000, replyTimeoutMs, settleMs: 100 });

describe('telnet tester', () => {
  it('logs in to a BusyBox-style telnetd behind Debian-style strict negotiation, and types nothing after', async () => {
    const srv = await fakeTelnet({ users: { root: 'xc3511' }, strictNegotiation: true });
    open.push(srv);
    const s = tester().session({ ip: '127.0.0.1', port: srv.port });
    expect(await s.attempt(cred('root', 'vizxv'))).toEqual({ kind: 'failure', canContinue: true });
    const ok = await s.attempt(cred('root', 'xc3511'));
    s.close();
    expect(ok.kind).toBe('success');
    if (ok.kind === 'success') {
      expect(ok.username).toBe('root');
      expect(ok.evidence).toMatch(/~ #/);
    }
    expect(srv.stats.gotTtype).toEqual(['VT100']);
    expect(srv.stats.gotNaws).toEqual([[80, 24]]);
    expect(srv.stats.refusedOptions).toEqual(expect.arrayContaining([32, 39]));
    await new Promise((r) => setTimeout(r, 100));
    expect(srv.stats.bytesAfterLogin).toBe(0);
    expect(srv.stats.connections).toBe(1);
  });

  it('plays the PAM login dance with a fail delay and detects the Last-login shell', async () => {
    const srv = await fakeTelnet({ users: { root: 'xc3511' }, style: 'pam', failDelayMs: 300 });
    open.push(srv);
    const s = tester().session({ ip: '127.0.0.1', port: srv.port });
    const t0 = Date.now();
    expect(await s.attempt(cred('admin', 'admin'))).toEqual({ kind: 'failure', canContinue: true });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
    const ok = await s.attempt(cred('root', 'xc3511'));
    s.close();
    expect(ok).toMatchObject({ kind: 'success', username: 'root', password: 'xc3511' });
  });

  it('handles a vendor shell (User Name: / % Authentication failed / DVR>)', async () => {
    const srv = await fakeTelnet({ users: { admin: '1234' }, style: 'vendor' });
    open.push(srv);
    const s = tester().session({ ip: '127.0.0.1', port: srv.port });
    expect((await s.attempt(cred('admin', 'admin'))).kind).toBe('failure');
    expect(await s.attempt(cred('admin', '1234'))).toMatchObject({ kind: 'success' });
    s.close();
  });

  it('handles a password-only device and an open shell without login', async () => {
    const po = await fakeTelnet({ users: { x: 'default' }, style: 'password-only' });
    open.push(po);
    const s = tester().session({ ip: '127.0.0.1', port: po.port });
    expect((await s.attempt(cred('root', 'nope'))).kind).toBe('failure');
    expect(await s.attempt(cred('root', 'default'))).toMatchObject({ kind: 'success', username: '', password: 'default' });
    s.close();
    const sh = await fakeTelnet({ users: {}, style: 'open-shell' });
    open.push(sh);
    const s2 = tester().session({ ip: '127.0.0.1', port: sh.port });
    expect(await s2.attempt(cred('root', 'x'))).toMatchObject({ kind: 'success', username: '', password: '' });
    s2.close();
  });

  it('says the connection cannot continue when the device hangs up after its last try', async () => {
    const srv = await fakeTelnet({ users: { root: 'x' }, triesPerConnection: 1 });
    open.push(srv);
    const s = tester().session({ ip: '127.0.0.1', port: srv.port });
    expect(await s.attempt(cred('root', 'a'))).toEqual({ kind: 'failure', canContinue: false });
    s.close();
  });

  it('reports a lock-out message as lockout', async () => {
    const srv = await fakeTelnet({ users: { root: 'x' }, lockAfter: 2, lockMode: 'message' });
    open.push(srv);
    const s = tester().session({ ip: '127.0.0.1', port: srv.port });
    expect((await s.attempt(cred('root', 'a'))).kind).toBe('failure');
    const out = await s.attempt(cred('root', 'b'));
    expect(out.kind).toBe('lockout');
    if (out.kind === 'lockout') expect(out.detail).toMatch(/Too many failed/);
    s.close();
  });

  it('ends on a tarpit within its timeout', async () => {
    const tp = await tarpit();
    open.push(tp);
    const t0 = Date.now();
    const out = await tester(600).session({ ip: '127.0.0.1', port: tp.port }).attempt(cred('root', 'x'));
    expect(Date.now() - t0).toBeLessThan(1500);
    expect(out).toMatchObject({ kind: 'error', reason: 'timeout', attempted: false });
  });

  it('ends on garbage, on a close mid-negotiation and on a closed port with a clear reason', async () => {
    const g = await garbage(4096, true);
    const c = await closesMidway(Buffer.from([255, 253, 24, 255, 253, 31]));
    open.push(g, c);
    const t0 = Date.now();
    const og = await tester(1500).session({ ip: '127.0.0.1', port: g.port }).attempt(cred('root', 'x'));
    expect(Date.now() - t0).toBeLessThan(2500);
    expect(og.kind).toBe('error');
    if (og.kind === 'error') expect(['protocol', 'timeout']).toContain(og.reason);
    const oc = await tester(1500).session({ ip: '127.0.0.1', port: c.port }).attempt(cred('root', 'x'));
    expect(oc).toMatchObject({ kind: 'error', reason: 'closed', attempted: false });
    const p = await closedPort();
    const or = await tester().session({ ip: '127.0.0.1', port: p }).attempt(cred('root', 'x'));
    expect(or).toMatchObject({ kind: 'error', reason: 'refused' });
  });
});
