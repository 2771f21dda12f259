// The daemon with fake discovery/UPnP, a fake capture command (a pcap on
// stdout, then exit) and a webhook receiver on loopback; the crash test
// SIGKILLs a writer mid-write and checks nothing committed is lost.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../../src/adapters/store/db.js';
import { MonitorStore } from '../../../src/adapters/monitor/store.js';
import { Monitor, type DiscoveredDevice } from '../../../src/adapters/monitor/daemon.js';
import { parseDropLines } from '../../../src/adapters/monitor/capture.js';
import { webhookChannel, type Channel } from '../../../src/adapters/monitor/delivery.js';
import type { MappingSnap } from '../../../src/core/monitor/alerts.js';
import { defaultDetectors } from '../../../src/core/detect/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../../..');
const HTTP_AUTH = resolve(root, '../shared/data/pcap/http-download/ndpi/http_auth.pcap');

let dir: string;
let store: Store;
let ms: MonitorStore;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'igmon-'));
  store = openStore(join(dir, 'm.db'));
  ms = new MonitorStore(store);
});
afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

async function receiver(): Promise<{ server: Server; url: string; got: Array<{ alert: { id: number; kind: string; title: string } }> }> {
  const got: Array<{ alert: { id: number; kind: string; title: string } }> = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      got.push(JSON.parse(body));
      res.end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address() as { port: number };
  return { server, url: `http://127.0.0.1:${addr.port}/hook`, got };
}

describe('Monitor', () => {
  it('learns the network first, then alerts on a new device and a new UPnP mapping, committed before the webhook gets them', async () => {
    const rx = await receiver();
    let devices: DiscoveredDevice[] = [{ mac: 'aa:00:00:00:00:20', ip: '192.168.77.20', via: 'discovery', openPorts: [{ port: 23, service: 'telnet' }] }];
    let mappings: MappingSnap[] = [{ protocol: 'TCP', externalPort: 2323, internalClient: '192.168.77.20', internalPort: 23, description: 'cam', enabled: true }];
    let now = Date.parse('2026-05-01T00:00:00Z');
    const m = new Monitor(
      { store: ms, discover: async () => devices, upnp: async () => mappings, channels: [webhookChannel(rx.url)], now: () => now },
      { self: ['192.168.77.1'], discoverIntervalMs: 60_000 },
    );
    await m.discoverOnce();
    await m.upnpOnce();
    expect(ms.alerts()).toEqual([]);
    expect(ms.devices().map((d) => [d.ip, d.openPorts])).toEqual([['192.168.77.20', [{ port: 23, service: 'telnet' }]]]);

    now += 60_000;
    devices = [...devices, { mac: '02:00:00:00:00:99', ip: '192.168.77.99', via: 'discovery' }, { mac: null, ip: '192.168.77.1', via: 'discovery' }];
    mappings = [...mappings, { protocol: 'TCP', externalPort: 9999, internalClient: '192.168.77.50', internalPort: 9999, description: 'test', enabled: true, risk: 'low' }];
    await m.discoverOnce();
    await m.upnpOnce();
    const alerts = ms.alerts().reverse();
    expect(alerts.map((a) => a.kind)).toEqual(['new-device', 'upnp-mapping-new']);
    expect(alerts[0].device).toEqual({ mac: '02:00:00:00:00:99', ip: '192.168.77.99' });
    expect(rx.got.map((g) => g.alert.id)).toEqual(alerts.map((a) => a.id));
    expect(alerts.every((a) => a.delivered.webhook)).toBe(true);

    // the same again: deduplicated; a device unseen long enough: gone
    now += 10 * 60_000;
    devices = devices.filter((d) => d.ip !== '192.168.77.20');
    await m.discoverOnce();
    await m.upnpOnce();
    expect(ms.alerts().map((a) => a.kind)).toEqual(['device-gone', 'upnp-mapping-new', 'new-device']);
    expect(ms.alertCounts()).toEqual({ 'new-device': 1, 'upnp-mapping-new': 1, 'device-gone': 1 });
    await m.stop();
    rx.server.close();
  });

  it('keeps alerts a channel could not take and delivers them on the retry, in order', async () => {
    let up = false;
    const sent: number[] = [];
    const ch: Channel = {
      name: 'flaky',
      async deliver(a) {
        if (!up) throw new Error('down');
        sent.push(a.id);
      },
      async close() {},
    };
    const m = new Monitor({ store: ms, channels: [ch] });
    const raised = await m.raise([
      { kind: 'finding', severity: 'high', key: 'a', title: 'A', device: null, details: {} },
      { kind: 'finding', severity: 'high', key: 'b', title: 'B', device: null, details: {} },
    ]);
    expect(raised).toHaveLength(2);
    expect(ms.undelivered('flaky').map((a) => a.id)).toEqual(raised.map((a) => a.id));
    up = true;
    await m.redeliver();
    expect(sent).toEqual(raised.map((a) => a.id));
    expect(ms.undelivered('flaky')).toEqual([]);
  });

  it('restarts a capture process that dies, with backoff, and raises an alert', async () => {
    const pcap = join(dir, 'empty.pcap');
    const hdr = Buffer.alloc(24);
    hdr.writeUInt32LE(0xa1b2c3d4, 0);
    hdr.writeUInt16LE(2, 4);
    hdr.writeUInt16LE(4, 6);
    hdr.writeUInt32LE(65535, 16);
    hdr.writeUInt32LE(1, 20);
    writeFileSync(pcap, hdr);
    const m = new Monitor({ store: ms }, { capture: { iface: 'fake0', command: [process.execPath, '-e', `process.stdout.write(require('fs').readFileSync(${JSON.stringify(pcap)}))`], minBackoffMs: 50, maxBackoffMs: 200 }, epochMs: 1e9 });
    m.start();
    await new Promise((r) => setTimeout(r, 2500));
    await m.stop();
    const c = m.captureCounters()!;
    expect(c.restarts).toBeGreaterThanOrEqual(2);
    expect(c.up).toBe(false);
    const downs = ms.alerts().filter((a) => a.kind === 'capture-down');
    expect(downs.length).toBeGreaterThanOrEqual(1);
    expect(downs[0].title).toContain('Live capture on fake0 stopped');
  });

  it.skipIf(!existsSync(HTTP_AUTH))('turns live traffic into devices, destinations, traffic, findings and a high-severity alert', async () => {
    const m = new Monitor(
      { store: ms, detectors: () => defaultDetectors() },
      { capture: { iface: 'fake0', command: [process.execPath, '-e', `process.stdout.write(require('fs').readFileSync(${JSON.stringify(HTTP_AUTH)}))`], minBackoffMs: 100 }, epochMs: 1e9, learnMs: 0 },
    );
    m.start();
    await new Promise((r) => setTimeout(r, 800));
    await m.endEpoch();
    await m.stop();
    const d = ms.device('28:cf:e9:21:3c:2b');
    expect(d).toBeDefined();
    expect(d!.findings.map((f) => f.id)).toContain('plaintext-credentials');
    expect(d!.riskScore).toBeGreaterThan(0);
    const kinds = ms.alerts().map((a) => a.kind);
    // the capture replays the file on every restart: one finding alert, not one per replay
    expect(kinds.filter((k) => k === 'finding')).toHaveLength(1);
    expect(ms.alerts().find((a) => a.kind === 'finding')!.details.findingId).toBe('plaintext-credentials');
    expect(ms.traffic('28:cf:e9:21:3c:2b', 0).reduce((s, r) => s + r.packets, 0)).toBeGreaterThan(0);
  });

  it('prunes acknowledged alerts and old traffic past the retention window, and keeps the store bounded', async () => {
    const now = Date.parse('2026-05-01T00:00:00Z');
    const m = new Monitor({ store: ms, now: () => now }, { retentionDays: 1 });
    const [a, b] = ms.insertAlerts(
      [
        { kind: 'finding', severity: 'high', key: 'a', title: 'A', device: null, details: {} },
        { kind: 'finding', severity: 'high', key: 'b', title: 'B', device: null, details: {} },
      ],
      new Date(now - 3 * 86_400_000),
    );
    ms.ack(a.id, new Date(now));
    ms.addTraffic([{ deviceKey: 'x', minute: Math.floor((now - 2 * 86_400_000) / 60_000), bytes: 1, packets: 1 }]);
    await m.retention();
    expect(ms.alerts().map((x) => x.id)).toEqual([b.id]); // unacknowledged kept
    expect(ms.traffic('x', 0)).toEqual([]);
    ms.setMaxBytes(1);
    const cap = Number(store.db.pragma('max_page_count', { simple: true }));
    expect(cap).toBeGreaterThan(0);
    expect(() => ms.addTraffic(Array.from({ length: 20000 }, (_, i) => ({ deviceKey: `d${i}`, minute: i, bytes: i, packets: 1 })))).toThrow(/full/);
  });

  it('parses tcpdump statistics', () => {
    expect(parseDropLines('1 packet captured\n10 packets received by filter\n0 packets dropped by kernel\n20 packets received by filter\n7 packets dropped by kernel\n')).toEqual({ dropped: 7, received: 20 });
  });
});

describe('crash safety', () => {
  const dist = resolve(root, 'dist/adapters/monitor/daemon.js');
  it.skipIf(!existsSync(dist))('SIGKILL mid-write: the store opens clean and every committed alert is there and gets delivered', async () => {
    const db = join(dir, 'crash.db');
    store.close();
    const child = spawn(process.execPath, [join(here, 'fixtures/alert-writer.mjs'), db], { stdio: ['ignore', 'pipe', 'pipe'] });
    const committed = new Set<number>();
    const delivered = new Set<number>();
    let buf = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (s: string) => {
      buf += s;
      const lines = buf.split('\n');
      buf = lines.pop()!;
      for (const l of lines) {
        const [what, id] = l.split(' ');
        (what === 'committed' ? committed : delivered).add(Number(id));
      }
    });
    let err = '';
    child.stderr.on('data', (s) => (err += s));
    await new Promise<void>((r) => {
      const t = setInterval(() => {
        if (committed.size > 2000) {
          clearInterval(t);
          r();
        }
      }, 20);
      child.once('exit', () => {
        clearInterval(t);
        r();
      });
    });
    expect(err).toBe('');
    child.kill('SIGKILL');
    await new Promise((r) => child.once('close', r));

    const raw = new Database(db);
    expect(raw.pragma('integrity_check', { simple: true })).toBe('ok');
    raw.close();
    store = openStore(db);
    ms = new MonitorStore(store);
    const ids = new Set(ms.alerts({ limit: 1e9 }).map((a) => a.id));
    const lost = [...committed].filter((id) => !ids.has(id));
    expect(lost).toEqual([]);
    // what was committed but not marked delivered goes out now
    const again: number[] = [];
    const m = new Monitor({ store: ms, channels: [{ name: 'test', deliver: async (a) => void again.push(a.id), close: async () => {} }] });
    for (let i = 0; i < 100 && ms.undelivered('test').length > 0; i++) await m.redeliver();
    const undelivered = [...ids].filter((id) => !delivered.has(id) && !again.includes(id));
    expect(undelivered).toEqual([]);
  }, 60_000);
});
