// `iotguard monitor` as a process (needs `npm run build`): bad input is one
// line and exit 1, a non-loopback dashboard needs a password, --set-password
// stores a scrypt hash from stdin, and a run serves the dashboard on loopback
// then stops cleanly on SIGTERM with one JSON summary.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';

const root = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');
const bin = join(root, 'bin/iotguard.js');
const built = existsSync(join(root, 'dist/cli/commands/monitor.js'));
const home = mkdtempSync(join(tmpdir(), 'igmon-cli-'));
const env = { ...process.env, IOTGUARD_HOME: home, NO_COLOR: '1' };
afterAll(() => rmSync(home, { recursive: true, force: true }));

const cli = (args: string[], input?: string) => spawnSync(process.execPath, [bin, 'monitor', ...args], { encoding: 'utf8', env, input, timeout: 30_000 });

describe.skipIf(!built)('iotguard monitor CLI', () => {
  it('--help exits 0 and lists the options', () => {
    const r = cli(['--help']);
    expect(r.status).toBe(0);
    for (const o of ['--iface', '--listen', '--discover-interval', '--upnp-interval', '--webhook', '--mqtt', '--db', '--retention-days', '--set-password']) expect(r.stdout).toContain(o);
  });

  it.each([
    [['--no-capture', '--no-discover', '--no-upnp', '--listen', 'nowhere'], /--listen expects ADDRESS:PORT/],
    [['--no-capture', '--no-discover', '--no-upnp', '--listen', '127.0.0.1:99999'], /port out of range/],
    [['--no-capture', '--no-discover', '--no-upnp', '--discover-interval', '0'], /--discover-interval must be a number from 5/],
    [['--no-capture', '--no-discover', '--no-upnp', '--webhook', 'ftp://x'], /--webhook: not a http\(s\) URL/],
    [['--no-discover', '--no-upnp'], /live capture needs --iface/],
    [['--no-capture', '--no-discover', '--no-upnp', '--listen', '0.0.0.0:7300'], /set a password first/],
  ])('refuses %j with one line and exit 1', (args, msg) => {
    const r = cli(args);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(msg);
  });

  it('--set-password stores a scrypt hash, never the password; a short one is refused', () => {
    expect(cli(['--set-password'], 'short\n').status).toBe(1);
    const r = cli(['--set-password', '--json'], 'a long enough secret\n');
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ passwordSet: true });
    const db = new Database(join(home, 'iotguard.db'), { readonly: true });
    const v = (db.prepare("SELECT v FROM monitor_settings WHERE k = 'web_password'").get() as { v: string }).v;
    db.close();
    expect(v).toMatch(/^scrypt\$16384\$8\$1\$/);
    expect(v).not.toContain('secret');
  });

  it('runs with the dashboard on loopback (password now required) and stops on SIGTERM with one JSON document', async () => {
    const port = 7300 + Math.floor(Math.random() * 500);
    const child = spawn(process.execPath, [bin, 'monitor', '--no-capture', '--no-discover', '--no-upnp', '--listen', `127.0.0.1:${port}`, '--json'], { env });
    let out = '';
    let err = '';
    child.stdout.on('data', (b) => (out += b));
    child.stderr.on('data', (b) => (err += b));
    for (let i = 0; i < 100 && !err.includes('dashboard on'); i++) await new Promise((r) => setTimeout(r, 100));
    expect(err).toContain('(password required)');
    const res = await fetch(`http://127.0.0.1:${port}/`, { redirect: 'manual' });
    expect(res.status).toBe(302);
    const metrics = await fetch(`http://127.0.0.1:${port}/metrics`, { headers: { authorization: `Basic ${Buffer.from('x:a long enough secret').toString('base64')}` } });
    expect(await metrics.text()).toContain('iotguard_devices 0');
    child.kill('SIGTERM');
    const code = await new Promise((r) => child.once('close', r));
    expect(code).toBe(0);
    const doc = JSON.parse(out);
    expect(doc).toMatchObject({ devices: 0, alerts: {} });
  }, 30_000);
});
