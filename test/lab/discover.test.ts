// `iotguard discover` from the lab's pi, checked against `nmap -sT` run from
// the same namespace on the same port list: every lab device with the right
// IP, MAC, vendor and exactly nmap's open ports; the NAS's SSDP description
// and the speaker's mDNS services; the type of each device.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { LAB_LAN, LAB_NODES } from '../../src/lab/topology.js';

const ready = inject('labReady');
const bin = new URL('../../bin/iotguard.js', import.meta.url).pathname;
const lab = process.env.IOTGUARD_LAB ?? 'ig';
const inPi = (argv: string[], timeout = 300_000) => spawnSync('ip', ['netns', 'exec', `${lab}-pi`, ...argv], { encoding: 'utf8', timeout, maxBuffer: 64 * 1024 * 1024 });
const top100 = (JSON.parse(readFileSync(new URL('../../data/ports-top100.json', import.meta.url), 'utf8')) as { ports: Array<{ port: number }> }).ports.map((p) => p.port);
const dir = mkdtempSync(join(tmpdir(), 'iotguard-lab-discover-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** IEEE registry owners of the lab's OUIs (independent of the oui-data package). */
const VENDOR: Record<string, RegExp> = {
  router: /TP-LINK/i,
  pi: /Raspberry Pi/i,
  cam: /Hikvision/i,
  dvr: /Dahua/i,
  nas: /Synology/i,
  speaker: /Sonos/i,
  console: /Sony Interactive/i,
  plug: /Tuya/i,
  infected: /Espressif/i,
  ap: /TP-LINK/i,
};
const TYPE: Record<string, string> = { router: 'router', pi: 'computer', cam: 'camera', dvr: 'dvr', nas: 'nas', speaker: 'speaker', console: 'console', plug: 'plug', ap: 'router' };

interface Dev {
  ip: string;
  mac: string | null;
  vendor: string | null;
  hostname: string | null;
  type: string;
  openPorts: Array<{ port: number; proto: string; service: string; banner: string }>;
  services: Array<Record<string, unknown>>;
}

/** nmap's grepable output → ip → open TCP ports (hosts that were up, even with nothing open). */
function nmapOpen(ports: number[]): Map<string, number[]> {
  const r = inPi(['nmap', '-sT', '-n', '-p', ports.join(','), '-oG', '-', LAB_LAN]);
  expect(r.status, r.stderr).toBe(0);
  const out = new Map<string, number[]>();
  for (const line of r.stdout.split('\n')) {
    const up = /^Host: (\S+) .*Status: Up/.exec(line);
    if (up && !out.has(up[1])) out.set(up[1], []);
    const m = /^Host: (\S+) .*Ports: (.*)$/.exec(line);
    if (!m) continue;
    const open = [...m[2].matchAll(/(\d+)\/open\/tcp/g)].map((x) => Number(x[1]));
    out.set(m[1], open.sort((a, b) => a - b));
  }
  return out;
}

function discover(): { devices: Dev[]; scan: Record<string, unknown> } {
  const r = inPi([process.execPath, bin, 'discover', '--json', '--db', join(dir, 'lab.db')]);
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

const portsOf = (devices: Dev[]) => new Map(devices.map((d) => [d.ip, d.openPorts.map((p) => p.port).sort((a, b) => a - b)]));

describe.skipIf(!ready)('discover in the lab, against nmap -sT', () => {
  let doc: { devices: Dev[]; scan: Record<string, unknown> };
  let nmap: Map<string, number[]>;

  it('finds exactly the hosts and open ports nmap finds on the same port list', async () => {
    doc = discover();
    nmap = nmapOpen(top100);
    // The ap's telnet resets new connections over 6 a minute (its lock-out): when another test
    // has just used them up, the two scans can straddle the refill. Then wait and compare again.
    const same = () => JSON.stringify([...portsOf(doc.devices)].sort()) === JSON.stringify([...nmap].sort());
    for (let attempt = 0; attempt < 2 && !same(); attempt++) {
      await new Promise((r) => setTimeout(r, 65_000));
      doc = discover();
      nmap = nmapOpen(top100);
    }
    expect(Object.fromEntries([...portsOf(doc.devices)].sort())).toEqual(Object.fromEntries([...nmap].sort()));
  }, 400_000);

  it('every lab device has the right IP, MAC, vendor and type', () => {
    for (const node of LAB_NODES.filter((n) => n.role !== 'internet')) {
      const d = doc.devices.find((x) => x.ip === node.ip);
      expect(d, `${node.name} (${node.ip}) not found`).toBeDefined();
      expect(d!.mac, node.name).toBe(node.mac);
      expect(d!.vendor, node.name).toMatch(VENDOR[node.name]);
      if (TYPE[node.name]) expect(d!.type, `${node.name}: ${JSON.stringify(d)}`).toBe(TYPE[node.name]);
      for (const p of d!.openPorts) expect(p.proto).toBe('tcp');
    }
    // (Other lab tests may add hosts of their own; the comparison with nmap above covers those.)
  });

  it('reads a banner from every open telnet, SSH and HTTP port', () => {
    let checked = 0;
    for (const d of doc.devices) {
      for (const p of d.openPorts) {
        // the ap's telnet may reset us (its lock-out), so it can be open to the scan and silent to the probe
        if (p.port === 23 && d.ip !== LAB_NODES.find((n) => n.name === 'ap')!.ip) expect(p.banner, d.ip).toMatch(/login:/);
        else if (p.port === 22) expect(p.banner, d.ip).toMatch(/^SSH-2\.0-/);
        else if (p.port === 80) expect(p.banner, d.ip).toMatch(/^\d{3}\b/);
        else continue;
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(0);
  });

  it("shows the NAS's SSDP manufacturer/model and the speaker's mDNS services", () => {
    const nas = doc.devices.find((d) => d.ip === LAB_NODES.find((n) => n.name === 'nas')!.ip)!;
    const ssdp = nas.services.find((s) => s.via === 'ssdp' && /MediaServer/.test(String(s.type)));
    expect(ssdp, JSON.stringify(nas.services)).toBeDefined();
    expect(ssdp!.manufacturer).toBeTruthy();
    expect(ssdp!.model).toBeTruthy();
    const speaker = doc.devices.find((d) => d.ip === LAB_NODES.find((n) => n.name === 'speaker')!.ip)!;
    const mdns = speaker.services.filter((s) => s.via === 'mdns');
    expect(mdns.length, JSON.stringify(speaker.services)).toBeGreaterThan(0);
    expect(mdns.every((s) => typeof s.type === 'string' && /^_[^.]+\._(tcp|udp)$/.test(s.type as string))).toBe(true);
  });

  it('keeps identities in the inventory across runs', () => {
    const again = discover();
    const first = new Map(doc.devices.map((d) => [d.mac, d as Dev & { firstSeen?: string }]));
    for (const d of again.devices as Array<Dev & { firstSeen?: string }>) expect(d.firstSeen).toBe(first.get(d.mac)?.firstSeen);
  });
});
