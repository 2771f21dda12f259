// `iotguard capture` on the lab router's LAN bridge while `lab traffic` plays
// the devices' behaviour: every device shows up with its MAC and address, and
// its internet destinations carry the names it looked up. The saved pcap
// analyzes to the same result as the live run.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { LAB_NAMES, LAB_NODES } from '../../src/lab/topology.js';
import type { AnalyzeResult } from '../../src/core/engine/events.js';

const ready = inject('labReady');
const bin = new URL('../../bin/iotguard.js', import.meta.url).pathname;
const lab = process.env.IOTGUARD_LAB ?? 'ig';

describe.skipIf(!ready)('capture in the lab', () => {
  it('sees every device and its destinations by name during lab traffic', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ig-lab-capture-'));
    const pcapFile = join(dir, 'router.pcap');
    const cap = spawn(process.execPath, [bin, 'capture', '--netns', `${lab}-router`, '--iface', 'br-lan', '--seconds', '50', '--write', pcapFile, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    cap.stdout.on('data', (c) => (stdout += c));
    cap.stderr.on('data', (c) => (stderr += c));
    const exited = new Promise<number | null>((r) => cap.on('close', r));
    await new Promise((r) => setTimeout(r, 2000));
    const traffic = spawnSync(process.execPath, [bin, 'lab', 'traffic', '--seconds', '25'], { encoding: 'utf8', timeout: 240_000 });
    expect(traffic.status, traffic.stderr).toBe(0);
    const code = await exited;
    expect(code, stderr).toBe(0);
    const live = JSON.parse(stdout) as AnalyzeResult;
    expect(live.summary.packets).toBeGreaterThan(200);
    expect(live.summary.dropped).toBe(0);

    // every LAN node answers the infected device's scan at least, so every one is seen
    for (const n of LAB_NODES.filter((x) => x.role !== 'internet')) {
      const d = live.devices.find((x) => x.mac === n.mac);
      expect(d, `${n.name} (${n.mac}) not seen`).toBeDefined();
      expect(d?.ips, n.name).toContain(n.ip);
    }
    const dests = (name: string) => live.devices.find((x) => x.mac === LAB_NODES.find((n) => n.name === name)!.mac)!.destinations.filter((d) => d.direction === 'out');
    const named = (name: string) => new Set(dests(name).map((d) => `${d.name}:${d.port}/${d.proto}`));
    for (const want of [`${LAB_NAMES.firmwareHost}:80/tcp`, `${LAB_NAMES.cloudHost}:443/tcp`, `${LAB_NAMES.mqttHost}:1883/tcp`]) expect([...named('plug')]).toContain(want);
    expect([...named('cam')]).toContain(`${LAB_NAMES.relayHost}:1883/tcp`);
    // the names are the ones the devices looked up, attached to the addresses the lab's DNS gave
    expect(dests('plug').find((d) => d.name === LAB_NAMES.firmwareHost)?.ip).toBe('5.45.1.20');
    // UPnP control and NAT-PMP to the router; the scan of the neighbours on 23/2323
    expect(dests('console').some((d) => d.ip === '192.168.77.1' && d.port === 5351 && d.proto === 'udp')).toBe(true);
    expect(dests('console').some((d) => d.ip === '192.168.77.1' && d.proto === 'tcp')).toBe(true);
    const scanned = new Set(dests('infected').filter((d) => d.port === 23 || d.port === 2323).map((d) => d.ip));
    expect(scanned.size).toBeGreaterThanOrEqual(5);

    // the recording analyzes to the same devices and destinations
    const again = spawnSync(process.execPath, [bin, 'analyze', pcapFile, '--json'], { encoding: 'utf8', timeout: 60_000 });
    expect(again.status, again.stderr).toBe(0);
    const offline = JSON.parse(again.stdout) as AnalyzeResult;
    expect(offline.summary.packets).toBe(live.summary.packets);
    expect(offline.devices.map((d) => [d.mac, d.destinations.length])).toEqual(live.devices.map((d) => [d.mac, d.destinations.length]));
  }, 300_000);
});
