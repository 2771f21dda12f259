// The creds command end to end (built CLI in a child process) against fake
// services in this process. `npm test` builds dist/ first.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fakeTelnet, tarpit, type Listening } from './fake-servers.js';

const bin = new URL('../../../bin/iotguard.js', import.meta.url).pathname;
const runSync = (...args: string[]) => spawnSync(process.execPath, [bin, 'creds', ...args], { encoding: 'utf8', timeout: 20_000 });
function run(...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [bin, 'creds', ...args]);
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d) => (stdout += d));
    c.stderr.on('data', (d) => (stderr += d));
    c.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

const open: Listening[] = [];
const dir = mkdtempSync(path.join(os.tmpdir(), 'iotguard-creds-cli-'));
afterAll(async () => {
  while (open.length) await open.pop()?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('iotguard creds (CLI)', () => {
  it('has --help', () => {
    const r = runSync('--help');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/--authorized/);
    expect(r.stdout).toMatch(/--max-rate/);
  });
  it('refuses to run without --authorized (exit 1, one line)', () => {
    const r = runSync('--targets', '127.0.0.1');
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/--authorized/);
  });
  it('refuses a target that is not on an attached subnet, before sending anything', () => {
    const r = runSync('--targets', '8.8.8.8', '--authorized', '--json');
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(JSON.parse(r.stderr).error.code).toBe('IOTGUARD_ERR_CREDS_OUT_OF_SCOPE');
  });
  it('rejects bad input: unknown service (2), bad address (1), missing wordlist (1)', () => {
    expect(runSync('--targets', '127.0.0.1', '--services', 'gopher', '--authorized').status).toBe(2);
    expect(runSync('--targets', '127.0.0.300', '--authorized').status).toBe(1);
    expect(runSync('--targets', '127.0.0.1', '--wordlist', '/nonexistent/list.txt', '--authorized').status).toBe(1);
    expect(runSync('--targets', '127.0.0.1', '--max-rate', 'fast', '--authorized').status).toBe(2);
  });
  it('finds the Mirai default on a telnet device: one JSON document, contract fields, a finding', async () => {
    const srv = await fakeTelnet({ users: { root: 'xc3511' } });
    open.push(srv);
    const r = await run('--targets', '127.0.0.1', '--services', `telnet:${srv.port}`, '--authorized', '--json', '--max-rate', '20');
    expect(r.status).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.results).toHaveLength(1);
    expect(doc.results[0]).toMatchObject({ ip: '127.0.0.1', service: 'telnet', port: srv.port, status: 'default-credentials', username: 'root', password: 'xc3511' });
    expect(doc.findings[0]).toMatchObject({ id: 'default-credentials', severity: 'critical', device: { ip: '127.0.0.1' } });
    expect(srv.stats.bytesAfterLogin).toBe(0);
  });
  it('never shows a pair from the user wordlist, on stdout or stderr', async () => {
    const srv = await fakeTelnet({ users: { operator: 'Zq9-private-Pw' } });
    open.push(srv);
    const file = path.join(dir, 'mine.txt');
    writeFileSync(file, 'admin:nope\noperator:Zq9-private-Pw\n');
    for (const json of [true, false]) {
      const r = await run('--targets', '127.0.0.1', '--services', `telnet:${srv.port}`, '--wordlist', file, '--authorized', '--max-rate', '20', ...(json ? ['--json'] : []));
      expect(r.status).toBe(0);
      expect(r.stdout + r.stderr).not.toContain('Zq9-private-Pw');
      expect(r.stdout + r.stderr).not.toContain('operator');
      if (json) {
        const doc = JSON.parse(r.stdout);
        expect(doc.results[0].status).toBe('default-credentials');
        expect(doc.results[0]).not.toHaveProperty('password');
      }
    }
  });
  it('reports a tarpit as unreachable within the timeout, with the reason', async () => {
    const tp = await tarpit();
    open.push(tp);
    const t0 = Date.now();
    const r = await run('--targets', '127.0.0.1', '--services', `telnet:${tp.port}`, '--authorized', '--json', '--timeout', '1');
    expect(Date.now() - t0).toBeLessThan(6000);
    const doc = JSON.parse(r.stdout);
    expect(doc.results[0]).toMatchObject({ status: 'unreachable', attempts: 0 });
    expect(doc.results[0].detail).toMatch(/no login prompt within 1000 ms/);
  });
});
