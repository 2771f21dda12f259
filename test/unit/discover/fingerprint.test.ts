import { describe, expect, it } from 'vitest';
import { loadTopPorts } from '../../../src/adapters/net/datafiles.js';
import { loadFingerprints } from '../../../src/adapters/net/fingerprint-data.js';
import { vendorOf } from '../../../src/adapters/net/oui.js';
import { classify } from '../../../src/core/fingerprint/classify.js';
import { factsFromDevice } from '../../../src/core/fingerprint/facts.js';
import { compileRules } from '../../../src/core/fingerprint/rules.js';
import type { Device } from '../../../src/core/model/device.js';

const rules = loadFingerprints();
const dev = (o: Partial<Device>): Device => ({ ip: '10.0.0.2', mac: null, vendor: null, hostname: null, type: 'unknown', openPorts: [], services: [], ...o });

describe('data files', () => {
  it('top100 has exactly 100 unique ports with the IoT essentials', () => {
    const top = loadTopPorts();
    expect(top).toHaveLength(100);
    expect(new Set(top.map((p) => p.port)).size).toBe(100);
    for (const p of [23, 2323, 22, 80, 443, 554, 1883, 8883, 5000, 7547, 8080, 8443, 49152]) expect(top.map((x) => x.port)).toContain(p);
  });
  it('fingerprints validate and reject broken rules', () => {
    expect(rules.rules.length).toBeGreaterThan(50);
    expect(() => compileRules({ version: 1, rules: [{ id: 'a', type: 'toaster', weight: 1, field: 'vendor', pattern: 'x' }] })).toThrow(/fingerprints.json: rules.0.type/);
    expect(() => compileRules({ version: 1, rules: [{ id: 'a', type: 'camera', weight: 1, field: 'port', pattern: 'x' }] })).toThrow(/port rules take/);
    expect(() => compileRules({ version: 1, rules: [{ id: 'a', type: 'camera', weight: 1, field: 'vendor', pattern: '(' }] })).toThrow(/bad pattern/);
    const r = { id: 'a', type: 'camera', weight: 1, field: 'vendor', pattern: 'x' };
    expect(() => compileRules({ version: 1, rules: [r, r] })).toThrow(/duplicate rule id a/);
  });
});

describe('OUI vendor', () => {
  it('names registered OUIs and flags random MACs', () => {
    expect(vendorOf('18:80:25:00:77:20').vendor).toMatch(/Hikvision/);
    expect(vendorOf('00-11-32-00-77-30').vendor).toMatch(/Synology/);
    expect(vendorOf('02:00:5e:00:00:01')).toEqual({ vendor: null, locallyAdministered: true });
    expect(vendorOf('da:a1:19:00:00:01').locallyAdministered).toBe(true);
    expect(vendorOf('nonsense').vendor).toBeNull();
  });
});

describe('type from facts, with evidence', () => {
  it('camera: Hikvision OUI + login banner + Hikvision web server', () => {
    const g = classify(
      factsFromDevice(dev({ vendor: 'Hangzhou Hikvision Digital Technology Co.,Ltd.', openPorts: [{ port: 80, proto: 'tcp', service: 'http', banner: '', details: { server: 'App-webs/' } }, { port: 554, proto: 'tcp', service: 'rtsp', banner: '' }] })),
      rules,
    );
    expect(g.type).toBe('camera');
    expect(g.evidence.map((e) => e.rule)).toEqual(expect.arrayContaining(['oui.camera-makers', 'http.server.hikvision', 'port.rtsp']));
    expect(g.confidence).toBeGreaterThan(0.5);
  });
  it('speaker from mDNS services, NAS from SSDP MediaServer, router from an IGD', () => {
    expect(classify(factsFromDevice(dev({ services: [{ via: 'mdns', type: '_sonos._tcp', name: 'Kitchen' }] })), rules).type).toBe('speaker');
    expect(classify(factsFromDevice(dev({ services: [{ via: 'ssdp', type: 'urn:schemas-upnp-org:device:MediaServer:1', manufacturer: 'Synology', model: 'DS218' }] })), rules).type).toBe('nas');
    expect(classify(factsFromDevice(dev({ services: [{ via: 'ssdp', type: 'urn:schemas-upnp-org:device:InternetGatewayDevice:2' }] })), rules).type).toBe('router');
    expect(classify(factsFromDevice(dev({ services: [{ via: 'dhcp', vendorClass: 'MSFT 5.0' }] })), rules).type).toBe('computer');
  });
  it('nothing known, or a tie, is unknown', () => {
    expect(classify(factsFromDevice(dev({})), rules)).toMatchObject({ type: 'unknown', confidence: 0 });
    const tie = compileRules({ version: 1, rules: [{ id: 'a', type: 'camera', weight: 2, field: 'port', ports: [80] }, { id: 'b', type: 'plug', weight: 2, field: 'port', ports: [80] }] });
    expect(classify({ port: [80] }, tie).type).toBe('unknown');
  });
  it('caps what a pattern sees', () => {
    const g = classify({ banner: [`${'x'.repeat(100_000)} DVR`] }, rules);
    expect(g.type).toBe('unknown');
  });
});
