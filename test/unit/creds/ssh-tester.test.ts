import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import ssh2 from 'ssh2';
import type { AuthContext } from 'ssh2';
import { createSshTester } from '../../../src/adapters/probe/creds/ssh.js';
import type { Credential } from '../../../src/core/creds/types.js';
import { closedPort, closesMidway, garbage, listen, tarpit, type Listening } from './fake-servers.js';

const cred = (username: string, password: string): Credential => ({ username, password, public: true, source: 'test' });
let hostKey = '';
beforeAll(() => {
  hostKey = ssh2.utils.generateKeyPairSync('ed25519').private;
});
const open: Listening[] = [];
afterEach(async () => {
  while (open.length) await open.pop()?.close();
});

interface Stats {
  connections: number;
  passwordTries: number;
  kbdTries: number;
  sessions: number;
}

async function fakeSsh(users: Record<string, string>, methods: Array<'password' | 'keyboard-interactive' | 'publickey'>) {
  const stats: Stats = { connections: 0, passwordTries: 0, kbdTries: 0, sessions: 0 };
  const server = new ssh2.Server({ hostKeys: [hostKey] }, (client) => {
    stats.connections++;
    client.on('error', () => undefined);
    client.on('authentication', (ctx: AuthContext) => {
      if (ctx.method === 'password' && methods.includes('password')) {
        stats.passwordTries++;
        return users[ctx.username] === ctx.password ? ctx.accept() : ctx.reject(methods);
      }
      if (ctx.method === 'keyboard-interactive' && methods.includes('keyboard-interactive')) {
        stats.kbdTries++;
        return ctx.prompt([{ prompt: 'Password: ', echo: false }], (answers) => (users[ctx.username] === answers[0] ? ctx.accept() : ctx.reject(methods)));
      }
      ctx.reject(methods);
    });
    client.on('ready', () => client.on('session', () => stats.sessions++));
  });
  const l = await listen(server as unknown as import('node:net').Server);
  return { ...l, stats };
}

const tester = (replyTimeoutMs = 3000) => createSshTester({ connectTimeoutMs: 1000, replyTimeoutMs });

describe('ssh tester', () => {
  it('finds a password over one connection, then opens no channel', async () => {
    const srv = await fakeSsh({ admin: 'admin' }, ['password']);
    open.push(srv);
    const s = tester().session({ ip: '127.0.0.1', port: srv.port });
    expect(await s.attempt(cred('admin', '1234'))).toEqual({ kind: 'failure', canContinue: true });
    expect(await s.attempt(cred('admin', 'password'))).toEqual({ kind: 'failure', canContinue: true });
    const ok = await s.attempt(cred('admin', 'admin'));
    s.close();
    expect(ok).toMatchObject({ kind: 'success', username: 'admin', password: 'admin' });
    expect(srv.stats).toMatchObject({ connections: 1, passwordTries: 3, sessions: 0 });
  });

  it('reconnects for a new user name and after the per-connection limit', async () => {
    const srv = await fakeSsh({ root: 'toor' }, ['password']);
    open.push(srv);
    const s = createSshTester({ connectTimeoutMs: 1000, replyTimeoutMs: 3000, perConnection: 3 }).session({ ip: '127.0.0.1', port: srv.port });
    for (const p of ['a', 'b', 'c']) expect((await s.attempt(cred('admin', p))).kind).toBe('failure');
    expect((await s.attempt(cred('admin', 'd'))).kind).toBe('failure');
    expect(await s.attempt(cred('root', 'toor'))).toMatchObject({ kind: 'success' });
    s.close();
    expect(srv.stats.connections).toBe(3);
  });

  it('uses keyboard-interactive when that is all the server offers (PAM)', async () => {
    const srv = await fakeSsh({ admin: 'admin' }, ['keyboard-interactive']);
    open.push(srv);
    const s = tester().session({ ip: '127.0.0.1', port: srv.port });
    expect((await s.attempt(cred('admin', 'x'))).kind).toBe('failure');
    expect(await s.attempt(cred('admin', 'admin'))).toMatchObject({ kind: 'success' });
    s.close();
    expect(srv.stats.kbdTries).toBe(2);
  });

  it('says there is nothing to guess on a key-only server', async () => {
    const srv = await fakeSsh({}, ['publickey']);
    open.push(srv);
    const s = tester().session({ ip: '127.0.0.1', port: srv.port });
    const a = await s.attempt(cred('root', 'x'));
    const b = a.kind === 'no-auth' ? a : await s.attempt(cred('root', 'y'));
    s.close();
    expect(b.kind).toBe('no-auth');
  });

  it('ends on a tarpit, garbage, a close mid-handshake and a closed port', async () => {
    const tp = await tarpit();
    const g = await garbage(3000, true);
    const c = await closesMidway('SSH-2.0-OpenSSH_9.2\r\n');
    open.push(tp, g, c);
    const t0 = Date.now();
    const a = await tester(800).session({ ip: '127.0.0.1', port: tp.port }).attempt(cred('root', 'x'));
    expect(Date.now() - t0).toBeLessThan(2500);
    expect(a).toMatchObject({ kind: 'error', reason: 'timeout', attempted: false });
    const b = await tester(800).session({ ip: '127.0.0.1', port: g.port }).attempt(cred('root', 'x'));
    expect(b).toMatchObject({ kind: 'error', attempted: false });
    const d = await tester(800).session({ ip: '127.0.0.1', port: c.port }).attempt(cred('root', 'x'));
    expect(d).toMatchObject({ kind: 'error', attempted: false });
    const e = await tester(800).session({ ip: '127.0.0.1', port: await closedPort() }).attempt(cred('root', 'x'));
    expect(e).toMatchObject({ kind: 'error', reason: 'refused' });
    expect(Date.now() - t0).toBeLessThan(6000);
  });
});
