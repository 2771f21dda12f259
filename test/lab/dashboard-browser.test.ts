// The dashboard in headless Chromium (playwright-core, Debian's /usr/bin/chromium):
// log in, see the devices, open a device, acknowledge an alert. The monitor
// runs on 127.0.0.1 with a password and a store seeded like a watched lab
// network; screenshots go to test-artifacts/.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/adapters/store/db.js';
import { MonitorStore } from '../../src/adapters/monitor/store.js';

const CHROMIUM = '/usr/bin/chromium';
const root = new URL('../..', import.meta.url).pathname;
const bin = join(root, 'bin/iotguard.js');
const artifacts = join(root, 'test-artifacts');
const PORT = 17_390 + Math.floor(Math.random() * 100);
const PASSWORD = 'lab dashboard pw';
const home = mkdtempSync(join(tmpdir(), 'igmon-browser-'));
let monitor: ChildProcess | undefined;

function seed(): number {
  const store = openStore(join(home, 'iotguard.db'));
  const ms = new MonitorStore(store);
  const now = Date.now();
  ms.upsertDevices([
    { key: '02:00:5e:77:00:20', mac: '02:00:5e:77:00:20', ip: '192.168.77.20', vendor: 'Hikvision', hostname: 'ipcam', type: 'camera', firstSeen: now - 86_400_000, lastSeen: now - 20_000, gone: false },
    { key: '02:00:5e:77:00:70', mac: '02:00:5e:77:00:70', ip: '192.168.77.70', vendor: null, hostname: 'infected', type: 'unknown', firstSeen: now - 86_400_000, lastSeen: now - 5000, gone: false },
  ]);
  ms.setDeviceRisk('02:00:5e:77:00:70', [{ id: 'dns-tunnel', severity: 'critical', title: '192.168.77.70 tunnels data through DNS under t.c2tunnel.example (iodine)', device: { mac: '02:00:5e:77:00:70', ip: '192.168.77.70' }, evidence: { domain: 't.c2tunnel.example' }, advice: 'Unplug it and reset it.' }], { score: 75, level: 'critical' });
  ms.recordDestinations('02:00:5e:77:00:70', [{ name: 't.c2tunnel.example', ip: '5.45.1.53', port: 53, proto: 'udp', direction: 'out', bytes: 48_000, packets: 400 }], now - 60_000);
  ms.addTraffic(Array.from({ length: 12 }, (_, i) => ({ deviceKey: '02:00:5e:77:00:70', minute: Math.floor(now / 60_000) - i * 30, bytes: 1000 * (i + 1), packets: i + 1 })));
  const [a] = ms.insertAlerts([{ kind: 'finding', severity: 'critical', key: 'finding:dns-tunnel:x', title: '192.168.77.70 tunnels data through DNS under t.c2tunnel.example (iodine)', device: { mac: '02:00:5e:77:00:70', ip: '192.168.77.70' }, details: { findingId: 'dns-tunnel' } }], new Date(now - 10_000));
  store.close();
  return a.id;
}

describe.skipIf(!existsSync(CHROMIUM) || !existsSync(join(root, 'dist/cli/commands/monitor.js')))('dashboard in headless Chromium', () => {
  let alertId = 0;
  beforeAll(async () => {
    mkdirSync(artifacts, { recursive: true });
    const env = { ...process.env, IOTGUARD_HOME: home, NO_COLOR: '1' };
    const pw = spawnSync(process.execPath, [bin, 'monitor', '--set-password'], { env, input: `${PASSWORD}\n`, encoding: 'utf8' });
    expect(pw.status, pw.stderr).toBe(0);
    alertId = seed();
    monitor = spawn(process.execPath, [bin, 'monitor', '--no-capture', '--no-discover', '--no-upnp', '--listen', `127.0.0.1:${PORT}`], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    monitor.stderr!.on('data', (b) => (err += b));
    for (let i = 0; i < 100 && !err.includes('dashboard on'); i++) await new Promise((r) => setTimeout(r, 100));
    expect(err).toContain('dashboard on');
  }, 30_000);

  afterAll(async () => {
    if (monitor && monitor.exitCode === null && monitor.signalCode === null) {
      monitor.kill('SIGTERM');
      await new Promise((r) => monitor!.once('close', r));
    }
    rmSync(home, { recursive: true, force: true });
  });

  it('logs in, sees the devices, opens a device and acknowledges an alert', async () => {
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
      const base = `http://127.0.0.1:${PORT}`;
      await page.goto(`${base}/`);
      expect(new URL(page.url()).pathname).toBe('/login');
      await page.screenshot({ path: join(artifacts, 'monitor-1-login.png') });
      await page.fill('input[name=password]', 'wrong password');
      await page.click('button[type=submit]');
      await expect(page.textContent('.error')).resolves.toContain('Wrong password');
      await page.fill('input[name=password]', PASSWORD);
      await page.click('button[type=submit]');
      await page.waitForSelector('table.devices');
      const rows = await page.$$eval('table.devices tbody tr', (trs) => trs.map((t) => t.textContent ?? ''));
      expect(rows).toHaveLength(2);
      expect(rows.join('\n')).toContain('192.168.77.70');
      expect(rows.find((r) => r.includes('infected'))).toMatch(/critical\s*75/);
      await page.screenshot({ path: join(artifacts, 'monitor-2-devices.png'), fullPage: true });

      await page.click('table.devices a:has-text("infected")');
      await page.waitForSelector('svg.chart');
      expect(await page.textContent('table.findings')).toContain('dns-tunnel');
      expect(await page.textContent('table.destinations')).toContain('t.c2tunnel.example');
      expect(await page.$$eval('svg.chart rect', (r) => r.length)).toBeGreaterThan(0);
      await page.screenshot({ path: join(artifacts, 'monitor-3-device.png'), fullPage: true });

      await page.click(`#alert-${alertId} button.ack`);
      await page.waitForSelector(`#alert-${alertId}.acked`);
      expect(await page.textContent(`#alert-${alertId}`)).toContain('acknowledged');
      await page.goto(`${base}/alerts?open=1`);
      expect(await page.textContent('main')).toContain('No alerts.');
      await page.screenshot({ path: join(artifacts, 'monitor-4-acknowledged.png'), fullPage: true });
      // the live-update script connected
      await page.goto(`${base}/`);
      await page.waitForSelector('#live:text-is("live")', { timeout: 10_000 });
    } finally {
      await browser.close();
    }
  }, 90_000);
});
