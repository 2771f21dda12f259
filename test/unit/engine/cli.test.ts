// `iotguard analyze` and `iotguard capture` as a user runs them (dist/ build).
import { describe, expect, it, beforeAll } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createSocket } from 'node:dgram';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { TcpConv, dnsQuery, dnsResponse, eth, ipv4, pcap, udp } from './pkt.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const bin = join(root, 'bin', 'iotguard.js');
const cli = (args: string[], timeout = 60_000) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout });
const dir = mkdtempSync(join(tmpdir(), 'ig-engine-cli-'));

const DEV = { mac: '2c:cf:67:00:77:10', ip: '192.168.77.10' };
const GW = { mac: '14:75:90:00:77:01', ip: '192.168.77.1' };
const sample = () => {
  const t = 1700000000;
  const web = new TcpConv({ ...DEV, port: 50000 }, { mac: GW.mac, ip: '5.45.1.30', port: 80 }, t + 1).handshake().client('GET / HTTP/1.1\r\nHost: cloud.plugco.example\r\n\r\n').server('HTTP/1.1 204 No Content\r\n\r\n').close();
  return pcap([
    { ts: t, data: eth(DEV.mac, GW.mac, 0x0800, ipv4(DEV.ip, GW.ip, 17, udp(41000, 53, dnsQuery(1, 'cloud.plugco.example')))) },
    { ts: t + 0.01, data: eth(GW.mac, DEV.mac, 0x0800, ipv4(GW.ip, DEV.ip, 17, udp(53, 41000, dnsResponse(1, 'cloud.plugco.example', ['5.45.1.30'])))) },
    ...web.frames,
  ]);
};

beforeAll(() => {
  if (!existsSync(join(root, 'dist', 'cli', 'commands', 'analyze.js'))) throw new Error('run npm run build first');
  writeFileSync(join(dir, 'a.pcap'), sample());
  writeFileSync(join(dir, 'a.pcap.gz'), gzipSync(sample()));
  const bad = Buffer.concat([Buffer.from(sample()), Buffer.from([1, 2, 3, 4, 5, 6, 7, 8, 9])]);
  writeFileSync(join(dir, 'cut.pcap'), bad);
  writeFileSync(join(dir, 'text.pcap'), 'not a capture at all\n');
});

describe('iotguard analyze', () => {
  it('--json: one document with summary, devices and destinations by name', () => {
    const r = cli(['analyze', join(dir, 'a.pcap'), join(dir, 'a.pcap.gz'), '--json']);
    expect(r.status, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.summary).toMatchObject({ packets: 2 * 10, flows: 4, devices: 2 });
    const dev = doc.devices.find((d: { ip: string }) => d.ip === DEV.ip);
    expect(dev.mac).toBe(DEV.mac);
    expect(dev.destinations.find((d: { port: number }) => d.port === 80)).toMatchObject({ name: 'cloud.plugco.example', ip: '5.45.1.30', proto: 'tcp', flows: 2 });
    expect(Array.isArray(doc.findings)).toBe(true);
  });

  it('a readable per-device table without --json', () => {
    const r = cli(['analyze', join(dir, 'a.pcap')]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/10 packets, 2 flows, 2 devices/);
    expect(r.stdout).toMatch(/cloud\.plugco\.example\s+5\.45\.1\.30\s+80\/tcp/);
  });

  it('a truncated file: the packets before, one clear line naming the offset, exit 1', () => {
    const r = cli(['analyze', join(dir, 'cut.pcap'), '--json']);
    expect(r.status).toBe(1);
    const doc = JSON.parse(r.stdout);
    expect(doc.summary.packets).toBe(10);
    expect(doc.summary.errors[0].offset).toBe(sample().length);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(new RegExp(`byte offset ${sample().length}`));
    expect(r.stderr).toMatch(/IOTGUARD_ERR_CAPTURE_TRUNCATED/);
  });

  it('not a capture, a missing file, no file: exit 1, 1, 2', () => {
    const t = cli(['analyze', join(dir, 'text.pcap')]);
    expect(t.status).toBe(1);
    expect(t.stderr).toMatch(/not a pcap or pcapng capture/);
    const m = cli(['analyze', join(dir, 'nope.pcap')]);
    expect(m.status).toBe(1);
    expect(m.stderr).toMatch(/no such file/);
    expect(cli(['analyze']).status).toBe(2);
    const h = cli(['analyze', '--help']);
    expect(h.status).toBe(0);
    expect(h.stdout).toMatch(/--json/);
  });
});

const canCapture = process.getuid?.() === 0 && spawnSync('sh', ['-c', 'command -v tcpdump']).status === 0;

describe('iotguard capture', () => {
  it('bad usage and bad interfaces', () => {
    expect(cli(['capture']).status).toBe(2);
    expect(cli(['capture', '--iface', 'lo', '--seconds', 'soon']).status).toBe(2);
    const r = cli(['capture', '--iface', 'nosuchif0', '--seconds', '1']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/no interface named nosuchif0/);
  });

  it.skipIf(!canCapture)('captures loopback traffic for --seconds, writes it, reports drops', async () => {
    const server = createServer((_req, res) => res.end('ok'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const out = join(dir, 'live.pcap');
    const child = spawn(process.execPath, [bin, 'capture', '--iface', 'lo', '--seconds', '4', '--write', out, '--json', '--filter', `port ${port} or port 5999`], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    await new Promise((r) => setTimeout(r, 1500));
    const sock = createSocket('udp4');
    for (let i = 0; i < 5; i++) sock.send('x', 5999, '127.0.0.1');
    await fetch(`http://127.0.0.1:${port}/hello`).then((r) => r.text());
    const code = await new Promise<number | null>((r) => child.on('close', r));
    sock.close();
    server.close();
    expect(code, stderr).toBe(0);
    const doc = JSON.parse(stdout);
    expect(doc.summary.packets).toBeGreaterThanOrEqual(10);
    expect(doc.summary.dropped).toBe(0);
    const lo = doc.devices.find((d: { ip: string }) => d.ip === '127.0.0.1');
    expect(lo.destinations.some((d: { port: number; proto: string }) => d.port === port && d.proto === 'tcp')).toBe(true);
    expect(lo.destinations.some((d: { port: number; proto: string }) => d.port === 5999 && d.proto === 'udp')).toBe(true);
    const again = JSON.parse(cli(['analyze', out, '--json']).stdout);
    expect(again.summary.packets).toBe(doc.summary.packets);
    expect(readFileSync(out).length).toBeGreaterThan(24);
  }, 30_000);

  it.skipIf(!canCapture)('Ctrl-C (SIGINT) ends the capture cleanly with a summary', async () => {
    const child = spawn(process.execPath, [bin, 'capture', '--iface', 'lo', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (c) => (stdout += c));
    await new Promise((r) => setTimeout(r, 1500));
    child.kill('SIGINT');
    const code = await new Promise<number | null>((r) => child.on('close', r));
    expect(code).toBe(0);
    expect(JSON.parse(stdout).summary).toHaveProperty('dropped');
  }, 30_000);
});
