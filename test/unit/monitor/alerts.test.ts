import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AlertGate, destinationKey, deviceKey, diffDevices, diffMappings, findingAlerts, newDestinations, type KnownDevice, type MappingSnap } from '../../../src/core/monitor/alerts.js';
import type { Finding } from '../../../src/core/model/finding.js';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const known = (list: KnownDevice[]) => new Map(list.map((d) => [d.key, d]));
const dev = (mac: string, ip: string, lastSeen: number, gone = false): KnownDevice => ({ key: mac, mac, ip, vendor: null, hostname: null, type: null, firstSeen: T0, lastSeen, gone });

describe('diffDevices', () => {
  it('learns silently on the baseline pass, then alerts on a device never seen', () => {
    const first = diffDevices(new Map(), [{ mac: 'AA:AA:AA:AA:AA:01', ip: '192.168.77.20', via: 'discovery' }], T0, { goneAfterMs: 60_000, baseline: true });
    expect(first.alerts).toEqual([]);
    expect(first.changed.map((d) => d.key)).toEqual(['aa:aa:aa:aa:aa:01']);
    const k = known(first.changed);
    const next = diffDevices(k, [{ mac: 'aa:aa:aa:aa:aa:01', ip: '192.168.77.20', via: 'discovery' }, { mac: '02:00:00:00:00:99', ip: '192.168.77.99', via: 'discovery' }], T0 + 1000, { goneAfterMs: 60_000 });
    expect(next.alerts).toHaveLength(1);
    expect(next.alerts[0]).toMatchObject({ kind: 'new-device', key: 'new-device:02:00:00:00:00:99', device: { mac: '02:00:00:00:00:99', ip: '192.168.77.99' } });
  });

  it('raises device-gone once after the timeout, and a return when it comes back', () => {
    const k = known([dev('aa:00:00:00:00:01', '192.168.77.20', T0)]);
    expect(diffDevices(k, [], T0 + 59_000, { goneAfterMs: 60_000 }).alerts).toEqual([]);
    const gone = diffDevices(k, [], T0 + 61_000, { goneAfterMs: 60_000 });
    expect(gone.alerts.map((a) => a.kind)).toEqual(['device-gone']);
    expect(gone.changed[0].gone).toBe(true);
    const k2 = known(gone.changed);
    expect(diffDevices(k2, [], T0 + 999_000, { goneAfterMs: 60_000 }).alerts).toEqual([]);
    const back = diffDevices(k2, [{ mac: 'aa:00:00:00:00:01', ip: '192.168.77.21', via: 'traffic' }], T0 + 1_000_000, { goneAfterMs: 60_000 });
    expect(back.alerts[0]).toMatchObject({ kind: 'new-device', details: { returning: true } });
    expect(back.changed[0]).toMatchObject({ ip: '192.168.77.21', firstSeen: T0, gone: false });
  });

  it('never reports the monitor itself, and keys MAC-less hosts by IP', () => {
    const r = diffDevices(new Map(), [{ mac: null, ip: '192.168.77.1', via: 'discovery' }, { mac: null, ip: '10.0.0.5', via: 'discovery' }], T0, { goneAfterMs: 1, self: new Set(['192.168.77.1']) });
    expect(r.alerts.map((a) => a.key)).toEqual(['new-device:ip:10.0.0.5']);
    expect(deviceKey({ mac: 'AB:CD:EF:00:11:22' })).toBe('ab:cd:ef:00:11:22');
  });
});

describe('diffMappings', () => {
  const m = (port: number, client: string, desc = 'x', o: Partial<MappingSnap> = {}): MappingSnap => ({ protocol: 'TCP', externalPort: port, internalClient: client, internalPort: port, description: desc, enabled: true, ...o });
  it('reports new, changed and removed mappings; the baseline only learns', () => {
    expect(diffMappings([], [m(2323, '192.168.77.20')], { baseline: true })).toEqual([]);
    const out = diffMappings([m(2323, '192.168.77.20'), m(3074, '192.168.77.50')], [m(2323, '192.168.77.21'), m(9999, '192.168.77.50', 'test', { risk: 'high' })]);
    expect(out.map((a) => a.kind).sort()).toEqual(['upnp-mapping-changed', 'upnp-mapping-new', 'upnp-mapping-removed']);
    const added = out.find((a) => a.kind === 'upnp-mapping-new')!;
    expect(added).toMatchObject({ severity: 'high', device: { ip: '192.168.77.50' } });
    expect(added.title).toContain('TCP/9999');
    expect(diffMappings([m(80, '192.168.77.20')], [m(80, '192.168.77.20')])).toEqual([]);
  });
});

describe('newDestinations', () => {
  const d = { name: 'fw.plugco.example', ip: '5.45.1.20', port: 80, proto: 'tcp', direction: 'out' as const };
  const isLocal = (ip: string) => ip.startsWith('192.168.');
  it('learns while the device is new, then alerts on a destination never used', () => {
    const device = { mac: 'aa:00:00:00:00:60', ip: '192.168.77.60', firstSeen: T0 };
    const learning = newDestinations(device, new Set(), [d], T0 + 1000, { learnMs: 60_000, isLocal });
    expect(learning.alerts).toEqual([]);
    expect(learning.learnt).toEqual([destinationKey(d)]);
    const later = newDestinations(device, new Set(learning.learnt), [d, { ...d, name: 't.c2tunnel.example', ip: '5.45.1.53', port: 53, proto: 'udp' }, { ...d, ip: '192.168.77.1', name: null }], T0 + 120_000, { learnMs: 60_000, isLocal });
    expect(later.alerts.map((a) => a.details.name)).toEqual(['t.c2tunnel.example']);
  });
});

describe('findingAlerts', () => {
  const f = (id: Finding['id'], severity: Finding['severity']): Finding => ({ id, severity, title: id, device: { mac: 'aa:00:00:00:00:70', ip: '192.168.77.70' }, evidence: { domain: 't.c2tunnel.example' }, advice: 'do' });
  it('alerts on high and critical findings and every policy violation', () => {
    const out = findingAlerts([f('dns-tunnel', 'critical'), f('beaconing', 'medium'), f('plaintext-firmware', 'high'), f('policy-violation', 'low')]);
    expect(out.map((a) => [a.kind, a.details.findingId])).toEqual([
      ['finding', 'dns-tunnel'],
      ['finding', 'plaintext-firmware'],
      ['policy-violation', 'policy-violation'],
    ]);
    expect(out[0].key).toBe('finding:dns-tunnel:aa:00:00:00:00:70:domain=t.c2tunnel.example');
  });
});

describe('AlertGate', () => {
  it('drops duplicates within the window and lets them through after', () => {
    const g = new AlertGate({ dedupWindowMs: 1000, perMinute: 600, burst: 10 });
    expect(g.admit({ key: 'a', severity: 'low' }, 0)).toBe('pass');
    expect(g.admit({ key: 'a', severity: 'low' }, 999)).toBe('duplicate');
    expect(g.admit({ key: 'a', severity: 'low' }, 1000)).toBe('pass');
  });
  it('rate-limits a burst but never a critical alert, and refills over time', () => {
    const g = new AlertGate({ dedupWindowMs: 1e9, perMinute: 60, burst: 3 });
    const v = Array.from({ length: 5 }, (_, i) => g.admit({ key: `k${i}`, severity: 'medium' }, 0));
    expect(v).toEqual(['pass', 'pass', 'pass', 'rate-limited', 'rate-limited']);
    expect(g.admit({ key: 'crit', severity: 'critical' }, 0)).toBe('pass');
    expect(g.admit({ key: 'k3', severity: 'medium' }, 2000)).toBe('pass');
    expect(g.suppressed).toBe(2);
  });
  it('remembers seeded keys (a restart does not repeat alerts) and stays bounded', () => {
    const g = new AlertGate({ dedupWindowMs: 10_000, perMinute: 1e6, burst: 1e6, maxKeys: 3 });
    g.seed('old', 0);
    expect(g.admit({ key: 'old', severity: 'high' }, 5000)).toBe('duplicate');
    for (const k of ['x', 'y', 'z']) g.admit({ key: k, severity: 'low' }, 5000);
    expect(g.admit({ key: 'old', severity: 'high' }, 5001)).toBe('pass'); // forgotten: only 3 keys kept
  });
  it('property: within the window a key passes at most once', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom('a', 'b', 'c'), fc.integer({ min: 0, max: 999 })), { maxLength: 50 }), (events) => {
        const g = new AlertGate({ dedupWindowMs: 10_000, perMinute: 1e6, burst: 1e6 });
        const sorted = [...events].sort((x, y) => x[1] - y[1]);
        const passed = sorted.filter(([k, t]) => g.admit({ key: k, severity: 'low' }, t) === 'pass').map(([k]) => k);
        return new Set(passed).size === passed.length;
      }),
    );
  });
});
