import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createFtpTester } from '../../../src/adapters/probe/creds/ftp.js';
import { createMqttTester } from '../../../src/adapters/probe/creds/mqtt.js';
import type { Credential } from '../../../src/core/creds/types.js';
import { closedPort, closesMidway, garbage, listen, tarpit, type Listening } from './fake-servers.js';

const cred = (username: string, password: string): Credential => ({ username, password, public: true, source: 'test' });
const open: Listening[] = [];
afterEach(async () => {
  while (open.length) await open.pop()?.close();
});

/** vsftpd-like: 220, USER/331, PASS 230/530, drops after `maxFails` per connection, 421 once locked. */
async function fakeFtp(users: Record<string, string>, opts: { maxFails?: number; lockAfter?: number } = {}) {
  const stats = { connections: 0, passTries: 0, commandsAfterLogin: [] as string[] };
  let failures = 0;
  const server = net.createServer((s) => {
    stats.connections++;
    if (opts.lockAfter !== undefined && failures >= opts.lockAfter) {
      s.end('421 Too many login failures, try again later.\r\n');
      return;
    }
    s.write('220 (vsFTPd 3.0.3)\r\n');
    let user = '';
    let fails = 0;
    let loggedIn = false;
    let buf = '';
    s.on('data', (d) => {
      buf += d.toString('latin1');
      let i: number;
      while ((i = buf.indexOf('\r\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 2);
        if (loggedIn) {
          stats.commandsAfterLogin.push(line.split(' ')[0]);
          continue;
        }
        const [cmd, ...rest] = line.split(' ');
        const arg = rest.join(' ');
        if (cmd === 'USER') {
          user = arg;
          s.write('331 Please specify the password.\r\n');
        } else if (cmd === 'PASS') {
          stats.passTries++;
          if (users[user] === arg) {
            loggedIn = true;
            s.write('230 Login successful.\r\n');
          } else {
            fails++;
            failures++;
            if (opts.lockAfter !== undefined && failures >= opts.lockAfter) {
              s.end('421 Too many login failures, try again later.\r\n');
              return;
            }
            s.write('530 Login incorrect.\r\n');
            if (fails >= (opts.maxFails ?? 3)) s.end();
          }
        } else s.write('530 Please login with USER and PASS.\r\n');
      }
    });
  });
  const l = await listen(server);
  return { ...l, stats };
}

describe('ftp tester', () => {
  const ftp = (replyTimeoutMs = 2000) => createFtpTester({ connectTimeoutMs: 1000, replyTimeoutMs });
  it('finds a login over one control connection and sends nothing after USER/PASS', async () => {
    const srv = await fakeFtp({ admin: '1234' });
    open.push(srv);
    const s = ftp().session({ ip: '127.0.0.1', port: srv.port });
    expect(await s.attempt(cred('admin', 'admin'))).toEqual({ kind: 'failure', canContinue: true });
    const ok = await s.attempt(cred('admin', '1234'));
    s.close();
    expect(ok).toMatchObject({ kind: 'success', username: 'admin', evidence: expect.stringMatching(/230/) });
    await new Promise((r) => setTimeout(r, 50));
    expect(srv.stats).toMatchObject({ connections: 1, passTries: 2 });
    // basic-ftp says QUIT when it closes: logging off, not a command on the device
    expect(srv.stats.commandsAfterLogin.filter((c) => c !== 'QUIT')).toEqual([]);
  });
  it('reads 421 as a lock-out', async () => {
    const srv = await fakeFtp({ admin: 'x' }, { lockAfter: 2 });
    open.push(srv);
    const s = ftp().session({ ip: '127.0.0.1', port: srv.port });
    expect((await s.attempt(cred('admin', 'a'))).kind).toBe('failure');
    expect((await s.attempt(cred('admin', 'b'))).kind).toBe('lockout');
    s.close();
  });
  it('ends on a tarpit, garbage, a close after the greeting and a closed port', async () => {
    const tp = await tarpit();
    const g = await garbage(2048, false);
    const c = await closesMidway('220 hi\r\n');
    open.push(tp, g, c);
    const t0 = Date.now();
    expect(await ftp(700).session({ ip: '127.0.0.1', port: tp.port }).attempt(cred('a', 'b'))).toMatchObject({ kind: 'error', attempted: false });
    expect(Date.now() - t0).toBeLessThan(2500);
    const og = await ftp(700).session({ ip: '127.0.0.1', port: g.port }).attempt(cred('a', 'b'));
    expect(og.kind).toBe('error');
    const oc = await ftp(700).session({ ip: '127.0.0.1', port: c.port }).attempt(cred('a', 'b'));
    expect(['error', 'failure']).toContain(oc.kind);
    expect(await ftp(700).session({ ip: '127.0.0.1', port: await closedPort() }).attempt(cred('a', 'b'))).toMatchObject({ kind: 'error', reason: 'refused' });
    expect(Date.now() - t0).toBeLessThan(6000);
  });
});

/** Reads an MQTT 3.1.1 CONNECT (written here independently of the client) and answers CONNACK. */
async function fakeBroker(users: Record<string, string>, anonymous: boolean) {
  const stats = { connects: 0, afterConnack: 0 };
  const server = net.createServer((s) => {
    let acked = false;
    s.on('data', (d: Buffer) => {
      if (acked) {
        // a DISCONNECT (0xe0) is fine; SUBSCRIBE/PUBLISH would not be
        if (d[0] !== 0xe0) stats.afterConnack++;
        return;
      }
      if (d[0] !== 0x10) return s.destroy();
      let i = 1;
      let len = 0;
      let mul = 1;
      for (;;) {
        const b = d[i++];
        len += (b & 127) * mul;
        mul *= 128;
        if (!(b & 128)) break;
      }
      if (d.length < i + len) return s.destroy(); // one CONNECT per segment on loopback
      const str = () => {
        const n = d.readUInt16BE(i);
        const v = d.subarray(i + 2, i + 2 + n).toString('utf8');
        i += 2 + n;
        return v;
      };
      str(); // "MQTT"
      i++; // level
      const flags = d[i++];
      i += 2; // keep alive
      str(); // client id
      const user = flags & 0x80 ? str() : undefined;
      const pass = flags & 0x40 ? str() : undefined;
      stats.connects++;
      const ok = user === undefined ? anonymous : users[user] === pass;
      acked = ok;
      s.write(Buffer.from([0x20, 2, 0, ok ? 0 : user === undefined ? 5 : 4]));
      if (!ok) s.end();
    });
  });
  const l = await listen(server);
  return { ...l, stats };
}

describe('mqtt tester', () => {
  const mq = (replyTimeoutMs = 2000) => createMqttTester({ connectTimeoutMs: 1000, replyTimeoutMs });
  it('sees an anonymous broker and publishes nothing', async () => {
    const srv = await fakeBroker({}, true);
    open.push(srv);
    expect(await mq().session({ ip: '127.0.0.1', port: srv.port }).attempt(cred('', ''))).toMatchObject({ kind: 'success', username: '', evidence: expect.stringMatching(/anonymous/) });
    await new Promise((r) => setTimeout(r, 50));
    expect(srv.stats.afterConnack).toBe(0);
  });
  it('tells a bad password (CONNACK 4/5) from a good one', async () => {
    const srv = await fakeBroker({ admin: 'public' }, false);
    open.push(srv);
    const s = mq().session({ ip: '127.0.0.1', port: srv.port });
    expect(await s.attempt(cred('', ''))).toEqual({ kind: 'failure', canContinue: true });
    expect(await s.attempt(cred('admin', 'admin'))).toEqual({ kind: 'failure', canContinue: true });
    expect(await s.attempt(cred('admin', 'public'))).toMatchObject({ kind: 'success', username: 'admin' });
    s.close();
  });
  it('ends on a tarpit, garbage and a closed port', async () => {
    const tp = await tarpit();
    const g = await garbage(256, false);
    open.push(tp, g);
    const t0 = Date.now();
    expect(await mq(600).session({ ip: '127.0.0.1', port: tp.port }).attempt(cred('a', 'b'))).toMatchObject({ kind: 'error' });
    expect(Date.now() - t0).toBeLessThan(2500);
    expect((await mq(600).session({ ip: '127.0.0.1', port: g.port }).attempt(cred('a', 'b'))).kind).toBe('error');
    expect(await mq(600).session({ ip: '127.0.0.1', port: await closedPort() }).attempt(cred('a', 'b'))).toMatchObject({ kind: 'error', reason: 'refused' });
  });
});
