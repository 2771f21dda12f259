// The audit against the lab: the report names every attack vector the lab
// has, on the right device, with advice; the HTML renders in a real Chromium;
// two runs give the same JSON apart from timestamps.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { labCliAsync, runAsync } from './lab-harness.js';
import type { AuditResult } from '../../src/core/report/model.js';

const ready = inject('labReady');
const bin = new URL('../../bin/iotguard.js', import.meta.url).pathname;
const artifacts = new URL('../../test-artifacts/', import.meta.url).pathname;

/**
 * The access point remembers failed logins (pam_faillock) and rate-limits new
 * connections: power-cycle its memory and let the meter refill, so each audit
 * meets the same device rather than one still locked by the previous run.
 */
async function resetAccessPoint(): Promise<void> {
  rmSync('/run/iotguard-lab/ig/ap-faillock', { recursive: true, force: true });
  mkdirSync('/run/iotguard-lab/ig/ap-faillock', { recursive: true });
  await new Promise((r) => setTimeout(r, 65_000));
}

async function audit(pcap: string, dir: string, tag: string): Promise<AuditResult> {
  await resetAccessPoint();
  const r = await runAsync('ip', ['netns', 'exec', 'ig-pi', process.execPath, bin, 'audit', '--authorized', '--pcap', pcap, '--db', join(dir, `${tag}.db`), '--report', join(dir, `${tag}.html`), '--json'], { timeout: 900_000 });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as AuditResult;
}

/** Everything but the clock: timestamps and durations. */
function stable(r: AuditResult): unknown {
  return JSON.parse(
    // a mapping's remaining lease counts down with the clock, like a timestamp
    JSON.stringify(r, (k, v) => (['startedAt', 'finishedAt', 'seconds', 'elapsedMs', 'durationMs', 'ms', 'leaseSeconds'].includes(k) ? undefined : v)),
  );
}

describe.skipIf(!ready)('iotguard audit on the lab', () => {
  let dir = '';
  let first: AuditResult;
  const dev = (ip: string) => first.devices.find((d) => d.ip === ip)!;
  const ids = (ip: string) => new Set(dev(ip)?.findings.map((f) => f.id));

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'iotg-audit-'));
    const cap = await labCliAsync(['capture', '--traffic', '--seconds', '30', '--write', join(dir, 'lan.pcap'), '--json'], { timeout: 300_000 });
    expect(cap.status, cap.stderr).toBe(0);
    first = await audit(join(dir, 'lan.pcap'), dir, 'one');
  }, 1_200_000);

  it('names the default-password devices with the credentials that worked', () => {
    const cam = dev('192.168.77.20');
    expect(cam.credentials).toContainEqual(expect.objectContaining({ service: 'telnet', status: 'default-credentials', username: 'root', password: 'xc3511' }));
    expect(cam.credentials).toContainEqual(expect.objectContaining({ service: 'http', status: 'default-credentials', username: 'admin', password: '12345' }));
    expect(dev('192.168.77.21').credentials).toContainEqual(expect.objectContaining({ service: 'ssh', status: 'default-credentials', username: 'admin', password: 'admin' }));
    expect(cam.advice[0].text).toMatch(/password|mapping/i);
    expect(ids('192.168.77.20').has('default-credentials')).toBe(true);
  });

  it('names the dangerous telnet mapping, who made it, and what to do', () => {
    const cam = dev('192.168.77.20');
    const m = cam.mappings.find((x) => x.protocol === 'TCP' && x.externalPort === 2323);
    expect(m).toMatchObject({ internalPort: 23, risk: 'critical' });
    expect(cam.advice.some((a) => a.command === 'iotguard upnp --remove TCP/2323')).toBe(true);
    expect(cam.risk.level).toBe('critical');
    expect(first.networkFindings.map((f) => f.id)).toContain('upnp-enabled');
  });

  it("names the plug's plaintext firmware and MQTT password", () => {
    expect([...ids('192.168.77.60')]).toEqual(expect.arrayContaining(['plaintext-firmware', 'plaintext-credentials']));
    expect(dev('192.168.77.60').advice.map((a) => a.key)).toEqual(expect.arrayContaining(['plaintext-firmware', 'plaintext-credentials']));
  });

  it("names the infected device's DNS tunnel and scan, and says to quarantine it", () => {
    expect([...ids('192.168.77.70')]).toEqual(expect.arrayContaining(['dns-tunnel', 'lateral-scan']));
    const tunnel = dev('192.168.77.70').findings.find((f) => f.id === 'dns-tunnel')!;
    expect(JSON.stringify(tunnel.evidence)).toContain('c2tunnel.example');
    expect(dev('192.168.77.70').advice[0].key).toBe('quarantine');
  });

  it('gives the strong-password device a low score', () => {
    const nas = dev('192.168.77.30');
    expect(['none', 'low']).toContain(nas.risk.level);
    expect(nas.credentials.every((c) => c.status !== 'default-credentials')).toBe(true);
  });

  it('renders the HTML report in headless Chromium with the map and every device page', async () => {
    const html = join(dir, 'one.html');
    expect(existsSync(html)).toBe(true);
    if (!existsSync('/usr/bin/chromium')) throw new Error('chromium is not installed (npm test installs it as root)');
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      const errors: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      page.on('pageerror', (e) => errors.push(String(e)));
      const requests: string[] = [];
      page.on('request', (r) => requests.push(r.url()));
      await page.goto(`file://${html}`);
      expect(await page.locator('svg.map').count()).toBe(1);
      expect(await page.locator('section.device').count()).toBe(first.devices.length);
      for (const d of first.devices) expect(await page.locator(`#device-${d.ip.replace(/[^0-9a-zA-Z]/g, '-')}`).count()).toBe(1);
      await expect(page.locator('text=Do these first').count()).resolves.toBe(1);
      expect(errors).toEqual([]);
      expect(requests.filter((u) => !u.startsWith('file://'))).toEqual([]); // self-contained
      mkdirSync(artifacts, { recursive: true });
      await page.screenshot({ path: join(artifacts, 'audit-report.png'), fullPage: false });
      await page.locator('svg.map').screenshot({ path: join(artifacts, 'audit-report-map.png') });
    } finally {
      await browser.close();
    }
    expect(readFileSync(join(artifacts, 'audit-report.png')).length).toBeGreaterThan(10_000);
  });

  it('gives the same JSON on a second run, apart from timestamps', async () => {
    const second = await audit(join(dir, 'lan.pcap'), dir, 'two');
    expect(stable(second)).toEqual(stable(first));
  }, 900_000);
});
