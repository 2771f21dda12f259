// `iotguard monitor` on the lab router (ip netns exec ig-router ... --iface
// br-lan): a device namespace plugged into br-lan raises "new device" within
// one discovery interval; a UPnP mapping added by the console raises an
// alert; `lab traffic` raises the infected device's findings; a webhook
// receiver and a mosquitto, both on the router's loopback, get them (with the
// Home Assistant discovery topics). The capture is decoded in the daemon's
// worker thread (its default). Faults: the tcpdump child killed (restart +
// alert), the daemon SIGKILLed and restarted (clean store, nothing lost).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { labCliAsync } from './lab-harness.js';

const ready = inject('labReady');
const lab = process.env.IOTGUARD_LAB ?? 'ig';
const bin = new URL('../../bin/iotguard.js', import.meta.url).pathname;
const IGD = 'http://192.168.77.1:5000/rootDesc.xml';
const DISCOVER_S = 20;
// a fresh address and MAC per run: the router's neighbour table remembers earlier runs' devices
const NEW_HOST = 200 + Math.floor(Math.random() * 50);
const NEW_IP = `192.168.77.${NEW_HOST}`;
const NEW_MAC = `02:77:00:00:${Math.floor(Math.random() * 256).toString(16).padStart(2, '0')}:${NEW_HOST.toString(16)}`;
const ns = (node: string) => `${lab}-${node}`;
const sh = (argv: string[], timeout = 60_000) => spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', timeout });
const inNs = (node: string, argv: string[], timeout = 60_000) => sh(['ip', 'netns', 'exec', ns(node), ...argv], timeout);

const dir = mkdtempSync(join(tmpdir(), 'igmon-lab-'));
const db = join(dir, 'monitor.db');
const hookFile = join(dir, 'webhook.jsonl');
const mqttFile = join(dir, 'mqtt.txt');
const WEBHOOK_PORT = 18_931;
const MQTT_PORT = 18_832;
const DASH_PORT = 17_301;
const kids: ChildProcess[] = [];
let monitor: ChildProcess | undefined;
let monitorErr = '';

function startMonitor(): ChildProcess {
  monitorErr = '';
  const c = spawn(
    'ip',
    [
      'netns', 'exec', ns('router'), process.execPath, bin, 'monitor', '--iface', 'br-lan', '--cidr', '192.168.77.0/24',
      '--listen', `127.0.0.1:${DASH_PORT}`, '--db', db, '--discover-interval', String(DISCOVER_S), '--upnp-interval', '10', '--epoch', '5',
      '--learn-minutes', '0', '--ports', '22,23,80,554,1883,2323,8000', '--webhook', `http://127.0.0.1:${WEBHOOK_PORT}/hook`, '--mqtt', `mqtt://127.0.0.1:${MQTT_PORT}`,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  c.stderr!.on('data', (b: Buffer) => (monitorErr += b.toString()));
  c.stdout!.resume();
  return c;
}

async function until<T>(what: string, fn: () => T | undefined | false, timeoutMs: number, everyMs = 500): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}\n--- monitor log ---\n${monitorErr.slice(-4000)}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

interface AlertRow { id: number; kind: string; title: string; device_ip: string | null; device_mac: string | null; details: string }
function alerts(): AlertRow[] {
  if (!existsSync(db)) return [];
  const d = new Database(db, { readonly: true, fileMustExist: true });
  try {
    return d.prepare('SELECT id, kind, title, device_ip, device_mac, details FROM monitor_alerts ORDER BY id').all() as AlertRow[];
  } catch {
    return [];
  } finally {
    d.close();
  }
}
const hooks = (): Array<{ alert: { id: number; kind: string; device: { ip: string } | null; details: Record<string, unknown> } }> =>
  existsSync(hookFile) ? readFileSync(hookFile, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)) : [];
const discoveries = () => (monitorErr.match(/discovery: \d+ devices/g) ?? []).length;

function removeExtraDevice(): void {
  sh(['ip', 'netns', 'del', 'igx-new']);
  inNs('router', ['ip', 'link', 'del', 'igx-newp']);
  inNs('router', ['ip', 'neigh', 'flush', 'to', NEW_IP]);
}

const running = (c: ChildProcess | undefined): c is ChildProcess => Boolean(c && c.exitCode === null && c.signalCode === null);
async function started(): Promise<void> {
  await until('the monitor to start', () => monitorErr.includes('monitoring br-lan'), 30_000, 100);
}

describe.skipIf(!ready)('iotguard monitor on the lab router', () => {
  beforeAll(async () => {
    removeExtraDevice();
    // webhook receiver and mosquitto, both on the router's loopback (the monitor runs in ig-router)
    const rx = `require('http').createServer((q,s)=>{let b='';q.on('data',c=>b+=c);q.on('end',()=>{require('fs').appendFileSync(${JSON.stringify(hookFile)},b.replace(/\\n/g,' ')+'\\n');s.end('ok')})}).listen(${WEBHOOK_PORT},'127.0.0.1')`;
    kids.push(spawn('ip', ['netns', 'exec', ns('router'), process.execPath, '-e', rx], { stdio: 'ignore' }));
    writeFileSync(join(dir, 'mosquitto.conf'), `listener ${MQTT_PORT} 127.0.0.1\nallow_anonymous true\npersistence false\n`);
    kids.push(spawn('ip', ['netns', 'exec', ns('router'), 'mosquitto', '-c', join(dir, 'mosquitto.conf')], { stdio: 'ignore' }));
    await new Promise((r) => setTimeout(r, 800));
    const sub = spawn('ip', ['netns', 'exec', ns('router'), 'mosquitto_sub', '-h', '127.0.0.1', '-p', String(MQTT_PORT), '-t', 'homeassistant/#', '-t', 'iotguard/#', '-v'], { stdio: ['ignore', 'pipe', 'ignore'] });
    sub.stdout!.on('data', (b: Buffer) => writeFileSync(mqttFile, b, { flag: 'a' }));
    kids.push(sub);
    monitor = startMonitor();
    await started();
    // the first discovery only learns the network
    await until('the first discovery', () => discoveries() >= 1, 120_000);
  }, 180_000);

  afterAll(async () => {
    removeExtraDevice();
    inNs('console', ['upnpc', '-u', IGD, '-d', '9999', 'TCP']);
    if (running(monitor)) {
      monitor.kill('SIGTERM');
      await new Promise((r) => monitor!.once('close', r));
    }
    for (const k of kids) k.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  });

  it('a device plugged into br-lan raises "new device" within one discovery interval', async () => {
    const add = [
      ['ip', 'netns', 'add', 'igx-new'],
      ['ip', 'link', 'add', 'igx-new0', 'type', 'veth', 'peer', 'name', 'igx-newp'],
      ['ip', 'link', 'set', 'igx-newp', 'netns', ns('router')],
      ['ip', 'netns', 'exec', ns('router'), 'ip', 'link', 'set', 'igx-newp', 'master', 'br-lan', 'up'],
      ['ip', 'link', 'set', 'igx-new0', 'netns', 'igx-new'],
      ['ip', 'netns', 'exec', 'igx-new', 'ip', 'link', 'set', 'igx-new0', 'address', NEW_MAC],
      ['ip', 'netns', 'exec', 'igx-new', 'ip', 'addr', 'add', `${NEW_IP}/24`, 'dev', 'igx-new0'],
      ['ip', 'netns', 'exec', 'igx-new', 'ip', 'link', 'set', 'igx-new0', 'up'],
      ['ip', 'netns', 'exec', 'igx-new', 'ip', 'link', 'set', 'lo', 'up'],
    ];
    for (const a of add) expect(sh(a).status, a.join(' ')).toBe(0);
    const t0 = Date.now();
    const before = discoveries();
    // traffic may see it first (its IPv6 link-local chatter), else the next discovery does
    const found = await until(`a new-device alert for ${NEW_MAC}`, () => alerts().find((a) => a.kind === 'new-device' && a.device_mac === NEW_MAC), (DISCOVER_S + 60) * 1000);
    const s = (Date.now() - t0) / 1000;
    process.stderr.write(`[monitor] new device alerted after ${s.toFixed(1)} s (discovery interval ${DISCOVER_S} s)\n`);
    // within one interval: at most one discovery started after the device appeared
    expect(discoveries() - before).toBeLessThanOrEqual(2);
    expect(found.title).toContain(NEW_MAC);
    // discovery fills in its IPv4 address
    await until(`the device with ${NEW_IP} in the dashboard API`, () => {
      const r = inNs('router', ['curl', '-s', `http://127.0.0.1:${DASH_PORT}/api/devices`]);
      return r.stdout.includes(`"ip":"${NEW_IP}"`) || undefined;
    }, (DISCOVER_S + 30) * 1000);
    expect(JSON.parse(found.details)).toMatchObject({ returning: false });
    await until('the webhook to get it', () => hooks().some((h) => h.alert.id === found.id), 15_000);
  }, 180_000);

  it('a new UPnP mapping raises an alert', async () => {
    const r = inNs('console', ['upnpc', '-u', IGD, '-e', 'test', '-a', '192.168.77.50', '9999', '9999', 'TCP', '600']);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    const a = await until('an upnp-mapping-new alert for TCP/9999', () => alerts().find((x) => x.kind === 'upnp-mapping-new' && x.title.includes('TCP/9999')), 60_000);
    expect(a.device_ip).toBe('192.168.77.50');
    await until('the webhook to get it', () => hooks().some((h) => h.alert.id === a.id), 15_000);
    inNs('console', ['upnpc', '-u', IGD, '-d', '9999', 'TCP']);
  }, 120_000);

  it("`lab traffic` raises the infected device's findings, delivered to the webhook and to MQTT with Home Assistant discovery", async () => {
    const t = await labCliAsync(['traffic', '--only', 'infected', '--seconds', '5'], { timeout: 120_000 });
    expect(t.status, t.stderr).toBe(0);
    const got = await until(
      'dns-tunnel and lateral-scan alerts for 192.168.77.70',
      () => {
        const ids = new Set(alerts().filter((a) => a.kind === 'finding' && a.device_ip === '192.168.77.70').map((a) => JSON.parse(a.details).findingId as string));
        return ids.has('dns-tunnel') && ids.has('lateral-scan') ? ids : undefined;
      },
      60_000,
    );
    expect([...got]).toEqual(expect.arrayContaining(['dns-tunnel', 'lateral-scan']));
    // the traffic was decoded by the daemon's worker thread: epochs with packets, and no worker crash
    expect(Math.max(...[...monitorErr.matchAll(/epoch: (\d+) packets/g)].map((m) => Number(m[1])))).toBeGreaterThan(0);
    expect(monitorErr).not.toMatch(/decoding worker died/);
    await until('the webhook to get the infected device findings', () => hooks().filter((h) => h.alert.kind === 'finding' && h.alert.device?.ip === '192.168.77.70').length >= 2, 15_000);
    const mq = await until('Home Assistant discovery and state on MQTT', () => {
      const text = existsSync(mqttFile) ? readFileSync(mqttFile, 'utf8') : '';
      return /homeassistant\/binary_sensor\/iotguard_\w+\/risk\/config /.test(text) && /iotguard\/device\/\w+\/state /.test(text) && text.includes('homeassistant/sensor/iotguard/last_alert/config') ? text : undefined;
    }, 20_000);
    const infected = mq.split('\n').find((l) => l.startsWith('iotguard/device/') && l.includes('192.168.77.70'));
    expect(infected).toBeDefined();
    expect(JSON.parse(infected!.slice(infected!.indexOf(' ') + 1))).toMatchObject({ ip: '192.168.77.70' });
    expect(mq).toMatch(/iotguard\/status online/);
  }, 180_000);

  it('restarts a killed tcpdump child and raises an alert', async () => {
    const pid = monitor!.pid!;
    const tcpdump = await until('the tcpdump child', () => sh(['pgrep', '-P', String(pid), '-x', 'tcpdump']).stdout.trim().split('\n')[0] || undefined, 10_000);
    process.kill(Number(tcpdump), 'SIGKILL');
    await until('a capture-down alert', () => alerts().find((a) => a.kind === 'capture-down'), 15_000);
    const again = await until('a new tcpdump child', () => {
      const p = sh(['pgrep', '-P', String(pid), '-x', 'tcpdump']).stdout.trim().split('\n')[0];
      return p && p !== tcpdump ? p : undefined;
    }, 20_000);
    expect(Number(again)).toBeGreaterThan(0);
  }, 60_000);

  it('SIGKILL mid-write, restart: the store opens clean, nothing committed is lost, the webhook gets every alert', async () => {
    // keep the monitor busy writing: traffic from every lab node
    const traffic = labCliAsync(['traffic', '--seconds', '5'], { timeout: 120_000 });
    await new Promise((r) => setTimeout(r, 6000));
    const before = alerts().map((a) => a.id);
    monitor!.kill('SIGKILL');
    await new Promise((r) => monitor!.once('close', r));
    await traffic;
    const raw = new Database(db);
    expect(raw.pragma('integrity_check', { simple: true })).toBe('ok');
    raw.close();
    const after = alerts().map((a) => a.id);
    expect(after).toEqual(expect.arrayContaining(before));
    monitor = startMonitor();
    await started();
    // the outbox: whatever was committed but not delivered goes out after the restart
    await until('every committed alert at the webhook', () => {
      const ids = new Set(hooks().map((h) => h.alert.id));
      return alerts().every((a) => ids.has(a.id));
    }, 60_000);
    monitor.kill('SIGTERM');
    const code = await new Promise((r) => monitor!.once('close', r));
    expect(code).toBe(0);
    expect(monitorErr).toContain('stopping...');
  }, 180_000);
});
