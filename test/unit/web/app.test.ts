// The dashboard through app.inject(): pages, CSRF on every state change,
// login with the scrypt password, Host checks, /metrics, SSE.
import { EventEmitter } from 'node:events';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../../src/adapters/store/db.js';
import { MonitorStore } from '../../../src/adapters/monitor/store.js';
import { hashPassword } from '../../../src/adapters/monitor/auth.js';
import { buildApp } from '../../../src/adapters/web/app.js';

const NOW = Date.parse('2026-05-01T12:00:00Z');
let store: Store;
let ms: MonitorStore;

function seed(): number {
  ms.upsertDevices([
    { key: 'aa:bb:cc:00:00:20', mac: 'aa:bb:cc:00:00:20', ip: '192.168.77.20', vendor: 'Acme', hostname: 'cam<script>', type: 'camera', firstSeen: NOW - 3600_000, lastSeen: NOW - 5000, gone: false },
    { key: 'aa:bb:cc:00:00:30', mac: 'aa:bb:cc:00:00:30', ip: '192.168.77.30', vendor: null, hostname: null, type: 'nas', firstSeen: NOW - 3600_000, lastSeen: NOW - 7200_000, gone: true },
  ]);
  ms.setDeviceRisk('aa:bb:cc:00:00:20', [{ id: 'default-credentials', severity: 'critical', title: 'telnet root/xc3511 logs in', device: { mac: 'aa:bb:cc:00:00:20', ip: '192.168.77.20' }, evidence: {}, advice: 'Change the password.' }], { score: 80, level: 'critical' });
  ms.recordDestinations('aa:bb:cc:00:00:20', [{ name: 'cloud.plugco.example', ip: '5.45.1.30', port: 443, proto: 'tcp', direction: 'out', bytes: 1234, packets: 9 }], NOW - 60_000);
  ms.addTraffic([{ deviceKey: 'aa:bb:cc:00:00:20', minute: Math.floor((NOW - 600_000) / 60_000), bytes: 5000, packets: 20 }]);
  ms.replaceMappings([{ protocol: 'TCP', externalPort: 2323, internalClient: '192.168.77.20', internalPort: 23, description: 'cam telnet', enabled: true, risk: 'critical' }], NOW);
  const [a] = ms.insertAlerts([{ kind: 'new-device', severity: 'medium', key: 'new-device:x', title: 'New device on the network: cam', device: { mac: 'aa:bb:cc:00:00:20', ip: '192.168.77.20' }, details: {} }], new Date(NOW - 1000));
  return a.id;
}

const cookieOf = (res: { headers: Record<string, unknown> }) => String(res.headers['set-cookie'] ?? '').split(';')[0];
const csrfOf = (html: string) => /name="csrf-token" content="([^"]+)"/.exec(html)![1];

beforeEach(() => {
  store = openStore(':memory:');
  ms = new MonitorStore(store);
});
afterEach(() => store.close());

describe('dashboard without a password (loopback)', () => {
  it('lists devices with risk and last-seen, escaping what devices say', async () => {
    seed();
    const app = await buildApp({ store: ms, requireAuth: false, now: () => NOW });
    const res = await app.inject({ url: '/', headers: { host: '127.0.0.1:7300' } });
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('cam&lt;script&gt;');
    expect(res.body).not.toContain('cam<script>');
    expect(res.body).toMatch(/critical<\/span> 80/);
    expect(res.body).toContain('5 s ago');
    expect(res.body).toContain('1 on the network');
    expect(res.headers['content-security-policy']).toContain("script-src 'self'");
  });

  it('shows a device page with findings, destinations, mappings and an SVG chart; 404 for an unknown device', async () => {
    seed();
    const app = await buildApp({ store: ms, requireAuth: false, now: () => NOW });
    const res = await app.inject({ url: '/device/aa%3Abb%3Acc%3A00%3A00%3A20', headers: { host: 'localhost' } });
    expect(res.statusCode).toBe(200);
    for (const s of ['default-credentials', 'cloud.plugco.example', 'TCP/2323', '192.168.77.20:23', '<svg', '<rect ']) expect(res.body).toContain(s);
    const miss = await app.inject({ url: '/device/nope', headers: { host: 'localhost' } });
    expect(miss.statusCode).toBe(404);
  });

  it('acknowledges an alert only with the session CSRF token', async () => {
    const id = seed();
    const app = await buildApp({ store: ms, requireAuth: false, now: () => NOW });
    const page = await app.inject({ url: '/alerts', headers: { host: 'localhost' } });
    const cookie = cookieOf(page);
    const csrf = csrfOf(page.body);
    expect(page.body).toContain(`action="/alerts/${id}/ack"`);
    const noToken = await app.inject({ method: 'POST', url: `/alerts/${id}/ack`, headers: { host: 'localhost', cookie, 'content-type': 'application/x-www-form-urlencoded' }, payload: '' });
    expect(noToken.statusCode).toBe(403);
    const otherSession = await app.inject({ method: 'POST', url: `/alerts/${id}/ack`, headers: { host: 'localhost', 'content-type': 'application/x-www-form-urlencoded' }, payload: `_csrf=${csrf}` });
    expect(otherSession.statusCode).toBe(403);
    const crossSite = await app.inject({ method: 'POST', url: `/alerts/${id}/ack`, headers: { host: 'localhost', cookie, origin: 'http://evil.example', 'content-type': 'application/x-www-form-urlencoded' }, payload: `_csrf=${csrf}` });
    expect(crossSite.statusCode).toBe(403);
    expect(ms.alert(id)!.ackedAt).toBeNull();
    const ok = await app.inject({ method: 'POST', url: `/alerts/${id}/ack`, headers: { host: 'localhost', cookie, 'content-type': 'application/x-www-form-urlencoded' }, payload: `_csrf=${csrf}` });
    expect(ok.statusCode).toBe(303);
    expect(ms.alert(id)!.ackedAt).toBe(new Date(NOW).toISOString());
    const json = await app.inject({ method: 'POST', url: `/alerts/${id}/ack`, headers: { host: 'localhost', cookie, 'x-csrf-token': csrf, accept: 'application/json' } });
    expect(json.json()).toEqual({ id, acknowledged: true, changed: false });
    const bad = await app.inject({ method: 'POST', url: '/alerts/abc/ack', headers: { host: 'localhost', cookie, 'x-csrf-token': csrf } });
    expect(bad.statusCode).toBe(400);
  });

  it('refuses an unexpected Host (DNS rebinding)', async () => {
    const app = await buildApp({ store: ms, requireAuth: false });
    expect((await app.inject({ url: '/', headers: { host: 'attacker.example' } })).statusCode).toBe(421);
  });

  it('serves /metrics with the contract metrics', async () => {
    seed();
    const app = await buildApp({ store: ms, requireAuth: false, captureMetrics: () => ({ dropped: 3, packets: 1000, restarts: 1, up: true }) });
    const res = await app.inject({ url: '/metrics', headers: { host: 'localhost' } });
    expect(res.headers['content-type']).toContain('text/plain');
    expect(res.body).toContain('iotguard_devices 1\n');
    expect(res.body).toContain('iotguard_alerts_total{kind="new-device"} 1\n');
    expect(res.body).toContain('iotguard_capture_dropped_packets_total 3\n');
  });

  it('streams alerts over SSE', async () => {
    const events = new EventEmitter();
    const app = await buildApp({ store: ms, requireAuth: false, events });
    const res = await app.inject({ url: '/events', headers: { host: 'localhost' }, payloadAsStream: true });
    expect(res.headers['content-type']).toBe('text/event-stream');
    const stream = res.stream();
    let text = '';
    const got = new Promise<void>((resolve) =>
      stream.on('data', (c: Buffer) => {
        text += c.toString();
        if (text.includes('event: alert')) resolve();
      }),
    );
    await new Promise((r) => setTimeout(r, 50));
    events.emit('alert', { id: 9, title: 'New device' });
    await got;
    expect(text).toContain('data: {"id":9,"title":"New device"}');
    stream.destroy();
  });
});

describe('dashboard with a password', () => {
  it('redirects to the login page, rejects a wrong password, and logs in with a fresh session', async () => {
    ms.setSetting('web_password', await hashPassword('correct horse', { N: 1024 }));
    const id = seed();
    const app = await buildApp({ store: ms, requireAuth: true, now: () => NOW });
    const home = await app.inject({ url: '/', headers: { host: 'localhost' } });
    expect(home.statusCode).toBe(302);
    expect(home.headers.location).toBe('/login?next=%2F');
    expect((await app.inject({ url: '/api/devices', headers: { host: 'localhost' } })).statusCode).toBe(401);
    const login = await app.inject({ url: '/login', headers: { host: 'localhost' } });
    const cookie = cookieOf(login);
    const csrf = /name="_csrf" value="([^"]+)"/.exec(login.body)![1];
    const form = { host: 'localhost', cookie, 'content-type': 'application/x-www-form-urlencoded' };
    const noCsrf = await app.inject({ method: 'POST', url: '/login', headers: form, payload: 'password=correct+horse' });
    expect(noCsrf.statusCode).toBe(403);
    const wrong = await app.inject({ method: 'POST', url: '/login', headers: form, payload: `_csrf=${csrf}&password=nope` });
    expect(wrong.headers.location).toMatch(/^\/login\?failed=1/);
    const ok = await app.inject({ method: 'POST', url: '/login', headers: form, payload: `_csrf=${csrf}&password=correct+horse&next=%2Falerts` });
    expect(ok.statusCode).toBe(303);
    expect(ok.headers.location).toBe('/alerts');
    const session = cookieOf(ok);
    expect(session).not.toBe(cookie);
    // the pre-login session is gone
    expect((await app.inject({ url: '/', headers: { host: 'localhost', cookie } })).statusCode).toBe(302);
    const alerts = await app.inject({ url: '/alerts', headers: { host: 'localhost', cookie: session } });
    expect(alerts.statusCode).toBe(200);
    const csrf2 = csrfOf(alerts.body);
    const ack = await app.inject({ method: 'POST', url: `/alerts/${id}/ack`, headers: { host: 'localhost', cookie: session, 'x-csrf-token': csrf2, accept: 'application/json' } });
    expect(ack.json()).toMatchObject({ acknowledged: true, changed: true });
    // an open redirect through next= is refused
    const evil = await app.inject({ method: 'POST', url: '/login', headers: { ...form, cookie: session }, payload: `_csrf=${csrf2}&password=correct+horse&next=%2F%2Fevil.example` });
    expect(evil.headers.location).toBe('/');
  });

  it('lets Prometheus in with HTTP Basic and the same password', async () => {
    ms.setSetting('web_password', await hashPassword('correct horse', { N: 1024 }));
    const app = await buildApp({ store: ms, requireAuth: true });
    expect((await app.inject({ url: '/metrics', headers: { host: 'localhost' } })).statusCode).toBe(401);
    const bad = await app.inject({ url: '/metrics', headers: { host: 'localhost', authorization: `Basic ${Buffer.from('prom:wrong').toString('base64')}` } });
    expect(bad.statusCode).toBe(401);
    const ok = await app.inject({ url: '/metrics', headers: { host: 'localhost', authorization: `Basic ${Buffer.from('prom:correct horse').toString('base64')}` } });
    expect(ok.statusCode).toBe(200);
    expect(ok.body).toContain('iotguard_devices 0');
  });
});
