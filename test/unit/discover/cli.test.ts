// `iotguard discover` end to end (built CLI in dist/: run `npm run build` first).
// Traffic goes only to 127.0.0.1, to a server this test starts.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const bin = new URL('../../../bin/iotguard.js', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'iotguard-discover-'));

function run(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [bin, 'discover', ...args], { env: { ...process.env, IOTGUARD_HOME: dir, NO_COLOR: '1' } });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

let server: http.Server;
let port = 0;
beforeAll(async () => {
  server = http.createServer((_q, res) => {
    res.setHeader('Server', 'GoAhead-Webs');
    res.end('<html><title>IP Camera</title></html>');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => {
  server.close();
  rmSync(dir, { recursive: true, force: true });
});

const oneErrorLine = (stderr: string) => stderr.trim().split('\n').filter((l) => l.trim()).length === 1;

describe('iotguard discover: bad input is one clear line and exit 1', () => {
  it('unknown interface', async () => {
    const r = await run(['--iface', 'nosuch0']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/unknown interface 'nosuch0'/);
    expect(oneErrorLine(r.stderr)).toBe(true);
    expect(r.stdout).toBe('');
  });
  it('a CIDR larger than /16', async () => {
    const r = await run(['--cidr', '10.0.0.0/15', '--json']);
    expect(r.status).toBe(1);
    expect(JSON.parse(r.stderr).error.code).toBe('IOTGUARD_ERR_NET_RANGE_TOO_LARGE');
    expect(r.stdout).toBe('');
  });
  it('a public range without --allow-public', async () => {
    const r = await run(['--cidr', '198.51.100.0/24']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/not a private range.*--allow-public/);
    expect(oneErrorLine(r.stderr)).toBe(true);
  });
  it('a malformed CIDR or port list', async () => {
    expect((await run(['--cidr', '192.168.1.0/33'])).status).toBe(1);
    const r = await run(['--cidr', '127.0.0.1/32', '--ports', '80,99999']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/outside 1-65535/);
  });
  it('a store it cannot write (no permission / not a directory)', async () => {
    const file = join(dir, 'plainfile');
    writeFileSync(file, 'x');
    const r = await run(['--cidr', '127.0.0.1/32', '--ports', String(port), '--db', join(file, 'iotguard.db')]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/cannot open the store/);
    expect(oneErrorLine(r.stderr)).toBe(true);
  });
  it('an unknown option is bad usage (exit 2)', async () => {
    expect((await run(['--frobnicate'])).status).toBe(2);
  });
});

describe('iotguard discover on loopback', () => {
  it('--json gives the CONTRACT shape and merges into the inventory', async () => {
    const args = ['--cidr', '127.0.0.1/32', '--ports', `${port},1`, '--json', '--db', join(dir, 'inv.db')];
    const r = await run(args);
    expect(r.status).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.devices).toHaveLength(1);
    const d = doc.devices[0];
    for (const k of ['ip', 'mac', 'vendor', 'hostname', 'type', 'openPorts', 'services']) expect(d).toHaveProperty(k);
    expect(d.ip).toBe('127.0.0.1');
    expect(d.openPorts).toHaveLength(1);
    expect(d.openPorts[0]).toMatchObject({ port, proto: 'tcp', service: 'http' });
    expect(d.openPorts[0].banner).toMatch(/Server: GoAhead-Webs.*title: IP Camera/);
    expect(d.type).toBe('camera');
    expect(d.typeEvidence.map((e: { field: string }) => e.field)).toEqual(expect.arrayContaining(['httpTitle']));
    expect(doc.scan.store).toBe(join(dir, 'inv.db'));
    const again = JSON.parse((await run(args)).stdout);
    expect(again.devices[0].firstSeen).toBe(d.firstSeen);
    expect(again.devices[0].lastSeen >= d.lastSeen).toBe(true);
  });
  it('prints a readable table without --json', async () => {
    const r = await run(['--cidr', '127.0.0.1/32', '--ports', String(port), '--no-store']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/IP\s+MAC\s+VENDOR\s+HOSTNAME\s+TYPE\s+OPEN PORTS/);
    expect(r.stdout).toContain(`${port}/http`);
    expect(r.stderr).toMatch(/1 device\(s\)/);
  });
});

const sentinel = fileURLToPath(new URL('../../../../shared/data/pcap/iot-devices/iot-sentinel/TP-LinkPlugHS110/Setup-A-1-STA.pcap', import.meta.url));

describe('iotguard discover --pcap (passive)', () => {
  it('a missing capture is one line and exit 1', async () => {
    const r = await run(['--pcap', join(dir, 'nope.pcap'), '--no-store']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/no such capture file/);
    expect(oneErrorLine(r.stderr)).toBe(true);
  });
  it.skipIf(!existsSync(sentinel))('names the device in an IoT Sentinel capture (shared data)', async () => {
    const r = await run(['--pcap', sentinel, '--json', '--db', join(dir, 'passive.db')]);
    expect(r.status, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    const plug = doc.devices.find((d: { mac: string }) => d.mac === '50:c7:bf:00:c7:03');
    expect(plug, r.stdout.slice(0, 500)).toBeDefined();
    expect(plug).toMatchObject({ vendor: expect.stringMatching(/TP-LINK/i), hostname: 'HS110(EU)', type: 'plug', openPorts: [] });
    expect(plug.services).toEqual(expect.arrayContaining([expect.objectContaining({ via: 'dhcp', name: 'HS110(EU)' })]));
    expect(doc.scan).toMatchObject({ mode: 'passive', store: join(dir, 'passive.db') });
  });
});
