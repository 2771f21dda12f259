// The telnet tester against real telnet daemons on 127.0.0.1: BusyBox telnetd
// and GNU inetutils telnetd (Debian's, which waits for TTYPE before starting
// the login program). The login program is a small script standing in for
// login(1): no account on this machine is involved.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTelnetTester } from '../../../src/adapters/probe/creds/telnet.js';
import type { Credential } from '../../../src/core/creds/types.js';
import { closedPort } from './fake-servers.js';

const BUSYBOX = '/usr/bin/busybox';
const INETUTILS = '/usr/sbin/telnetd';
const cred = (username: string, password: string): Credential => ({ username, password, public: true, source: 'test' });

const LOGIN = `#!${BUSYBOX} sh
i=0
while [ $i -lt 3 ]; do
  printf 'ipcam login: '
  read -r u || exit 0
  printf 'Password: '
  stty -echo 2>/dev/null
  read -r p || exit 0
  stty echo 2>/dev/null
  printf '\\r\\n'
  if [ "$u" = root ] && [ "$p" = xc3511 ]; then
    printf '\\r\\nBusyBox v1.35.0 built-in shell (ash)\\r\\n\\r\\n~ # '
    if read -t 2 -r cmd; then printf 'typed' >> "$0.typed"; fi
    exit 0
  fi
  sleep 1
  printf 'Login incorrect\\r\\n'
  i=$((i+1))
done
`;

let dir = '';
let script = '';
const children: ChildProcess[] = [];
let inetServer: net.Server | undefined;

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'iotguard-telnetd-'));
  script = path.join(dir, 'login.sh');
  writeFileSync(script, LOGIN, { mode: 0o755 });
});
afterAll(() => {
  for (const c of children) c.kill();
  inetServer?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function tryBoth(port: number) {
  const s = createTelnetTester({ connectTimeoutMs: 1000, replyTimeoutMs: 4000 }).session({ ip: '127.0.0.1', port });
  const bad = await s.attempt(cred('root', 'vizxv'));
  const good = await s.attempt(cred('root', 'xc3511'));
  s.close();
  return { bad, good };
}

describe('telnet tester against real telnetd', () => {
  it.skipIf(!existsSync(BUSYBOX))('BusyBox telnetd: wrong then right password over one connection, nothing typed after', async () => {
    const port = await closedPort();
    const child = spawn(BUSYBOX, ['telnetd', '-F', '-p', String(port), '-b', '127.0.0.1', '-l', script], { stdio: 'ignore' });
    children.push(child);
    for (let i = 0; i < 50; i++) {
      const ok = await new Promise<boolean>((r) => net.connect(port, '127.0.0.1').once('connect', function (this: net.Socket) { this.destroy(); r(true); }).once('error', () => r(false)));
      if (ok) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const { bad, good } = await tryBoth(port);
    expect(bad).toEqual({ kind: 'failure', canContinue: true });
    expect(good).toMatchObject({ kind: 'success', username: 'root', password: 'xc3511' });
    await new Promise((r) => setTimeout(r, 2500));
    expect(existsSync(`${script}.typed`) ? readFileSync(`${script}.typed`, 'utf8') : '').toBe('');
  }, 20_000);

  it.skipIf(!existsSync(INETUTILS))('inetutils telnetd (waits for TTYPE): the login starts and the password is found', async () => {
    inetServer = net.createServer((sock) => {
      const c = spawn(INETUTILS, ['-h', '-E', script], { stdio: [sock, sock, 'ignore'] });
      children.push(c);
      c.on('exit', () => sock.destroy());
    });
    await new Promise<void>((r) => inetServer?.listen(0, '127.0.0.1', r));
    const port = (inetServer.address() as net.AddressInfo).port;
    const { bad, good } = await tryBoth(port);
    expect(bad).toEqual({ kind: 'failure', canContinue: true });
    expect(good).toMatchObject({ kind: 'success', username: 'root' });
  }, 20_000);
});
