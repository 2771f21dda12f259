// The audit against a fake IGD on 127.0.0.1: normal reading, and hostile
// gateways (oversized / endless / drip-fed descriptions, SOAP faults,
// thousands of mappings, an entry repeated forever, off-host control URLs,
// entity bombs) giving a clear error or a bounded result, never a hang.
import { afterEach, describe, expect, it } from 'vitest';
import { createIgdClient, fetchDescription } from '../../../src/adapters/probe/igd.js';
import { ssdpSearch } from '../../../src/adapters/probe/ssdp.js';
import { probeNatPmp } from '../../../src/adapters/probe/upnp-natpmp.js';
import { loadPortRiskTable } from '../../../src/adapters/probe/upnp-risk-table.js';
import { probeWanExposure, removeMapping, runUpnpAudit, wanFindings, type UpnpAuditComponents } from '../../../src/adapters/probe/upnp-audit.js';
import type { DeviceResolver } from '../../../src/core/upnp/attribution.js';
import { startFakeIgd, type FakeIgd, type FakeMapping } from '../../fixtures/upnp/fake-igd.js';

const LAB_MAPPINGS: FakeMapping[] = [
  { protocol: 'TCP', externalPort: 2323, internalClient: '192.168.77.20', internalPort: 23, description: 'cam telnet', leaseSeconds: 0 },
  { protocol: 'TCP', externalPort: 8000, internalClient: '192.168.77.20', internalPort: 80, description: 'cam web', leaseSeconds: 3600 },
  { protocol: 'UDP', externalPort: 3074, internalClient: '192.168.77.50', internalPort: 3074, description: 'console', leaseSeconds: 7200 },
];

const resolver: DeviceResolver = {
  async resolve(ips) {
    const known: Record<string, { mac: string; vendor: string; hostname: string }> = {
      '192.168.77.20': { mac: '18:80:25:00:77:20', vendor: 'Hangzhou Hikvision Digital Technology Co.,Ltd.', hostname: 'ipcam-hall' },
      '192.168.77.50': { mac: '00:04:1f:00:77:50', vendor: 'Sony Interactive Entertainment Inc.', hostname: 'playstation' },
    };
    return new Map(ips.filter((ip) => known[ip]).map((ip) => [ip, { ip, ...known[ip], source: 'test' }]));
  },
};

const riskTable = await loadPortRiskTable();
const components = (): UpnpAuditComponents => ({ resolver, riskTable });

let igd: FakeIgd | undefined;
afterEach(async () => {
  await igd?.close();
  igd = undefined;
});

describe('audit against a well-behaved fake IGD', () => {
  it('finds it by unicast SSDP and reads every mapping with device, risk and findings', async () => {
    igd = await startFakeIgd({ mappings: LAB_MAPPINGS });
    const answers = await ssdpSearch({ host: '127.0.0.1', port: igd.ssdpPort, waitMs: 400 });
    expect(answers.some((a) => a.location === igd!.location)).toBe(true);
    const r = await runUpnpAudit({ ssdpHost: '127.0.0.1', ssdpPort: igd.ssdpPort, ssdpWaitMs: 400, natPmpGateway: '127.0.0.1', natPmpPort: igd.natPmpPort }, components());
    expect(r.gateways).toHaveLength(1);
    const g = r.gateways[0];
    expect(g.externalIp).toBe('5.45.0.2');
    expect(g.igdVersion).toBe(2);
    expect(g.natPmp).toBe(true);
    expect(g.pcp).toBe(false);
    expect(g.enumeration.generic).toMatchObject({ count: 3, stoppedBy: 'end' });
    expect(g.enumeration.list).toMatchObject({ count: 3, stoppedBy: 'end' });
    expect(g.mappings.map((m) => [m.protocol, m.externalPort, m.internalClient, m.internalPort, m.description, m.leaseSeconds])).toEqual([
      ['TCP', 2323, '192.168.77.20', 23, 'cam telnet', 0],
      ['TCP', 8000, '192.168.77.20', 80, 'cam web', 3600],
      ['UDP', 3074, '192.168.77.50', 3074, 'console', 7200],
    ]);
    const telnet = g.mappings[0];
    expect(telnet.risk).toBe('critical');
    expect(telnet.device).toMatchObject({ mac: '18:80:25:00:77:20', ip: '192.168.77.20', vendor: expect.stringContaining('Hikvision') });
    expect(g.mappings[2].risk).toBe('low');
    expect(r.findings[0]).toMatchObject({ id: 'upnp-mapping', severity: 'critical', device: { ip: '192.168.77.20', mac: '18:80:25:00:77:20' } });
    expect(r.findings.filter((f) => f.id === 'upnp-enabled')).toHaveLength(1);
    expect(r.findings.some((f) => f.id === 'upnp-permissive')).toBe(false);
    expect(igd.calls.some((c) => c.action === 'AddPortMapping')).toBe(false);
    const cam = r.disableImpact.find((d) => d.device.ip === '192.168.77.20')!;
    expect(cam.recommendation).toBe('nothing');
    expect(r.disableImpact.find((d) => d.device.ip === '192.168.77.50')!.recommendation).toBe('static-forward');
    expect(r.miniupnpdAcl).toEqual(['allow 3074 192.168.77.50/32 3074', 'deny 0-65535 0.0.0.0/0 0-65535']);
  });

  it('reads an IGDv1 gateway by index walk only', async () => {
    igd = await startFakeIgd({ mappings: LAB_MAPPINGS, igdVersion: 1 });
    const r = await runUpnpAudit({ locations: [igd.location], natPmpGateway: false }, components());
    expect(r.gateways[0].mappings).toHaveLength(3);
    expect(r.gateways[0].enumeration.list).toBeUndefined();
    expect(igd.calls.some((c) => c.action === 'GetListOfPortMappings')).toBe(false);
  });

  it('--authorized: reports upnp-permissive when the IGD maps for another address, and removes the test mapping', async () => {
    igd = await startFakeIgd({ mappings: LAB_MAPPINGS, secureMode: false });
    const r = await runUpnpAudit({ locations: [igd.location], natPmpGateway: false, authorized: true, bindAddress: '127.0.0.1' }, components());
    const p = r.gateways[0].permissive!;
    expect(p.accepted).toBe(true);
    expect(p.removed).toBe(true);
    expect(p.otherClient).not.toBe('127.0.0.1');
    expect(p.selfMapping).toMatchObject({ accepted: true, removed: true });
    expect(r.findings.some((f) => f.id === 'upnp-permissive' && f.severity === 'high')).toBe(true);
    expect(igd.mappings).toHaveLength(3);
    const adds = igd.calls.filter((c) => c.action === 'AddPortMapping');
    expect(adds).toHaveLength(2);
    for (const a of adds) expect(Number(a.args.NewLeaseDuration)).toBeGreaterThan(0);
  });

  it('--authorized with secure mode: no upnp-permissive finding', async () => {
    igd = await startFakeIgd({ mappings: LAB_MAPPINGS, secureMode: true });
    const r = await runUpnpAudit({ locations: [igd.location], natPmpGateway: false, authorized: true, bindAddress: '127.0.0.1' }, components());
    expect(r.gateways[0].permissive).toMatchObject({ accepted: false, selfMapping: { accepted: true, removed: true } });
    expect(r.gateways[0].permissive!.fault).toMatch(/606/);
    expect(r.findings.some((f) => f.id === 'upnp-permissive')).toBe(false);
    expect(igd.mappings).toHaveLength(3);
  });

  it('removes one mapping and checks it is gone', async () => {
    igd = await startFakeIgd({ mappings: LAB_MAPPINGS });
    const r = await removeMapping(igd.location, 'TCP', 2323, {});
    expect(r).toMatchObject({ removed: true, stillPresent: false });
    expect(igd.mappings.map((m) => m.externalPort)).toEqual([8000, 3074]);
    const again = await removeMapping(igd.location, 'TCP', 2323, {});
    expect(again.removed).toBe(false);
    expect(again.error).toMatch(/no TCP\/2323/);
  });

  it('WAN probe: a gateway answering SSDP and SOAP on the probed address is upnp-wan-exposed', async () => {
    igd = await startFakeIgd({ mappings: LAB_MAPPINGS });
    const wan = await probeWanExposure('127.0.0.1', { ssdpPort: igd.ssdpPort, ports: [igd.port], waitMs: 400, natPmpPort: igd.natPmpPort });
    expect(wan.ssdp.length).toBeGreaterThan(0);
    expect(wan.descriptions).toContain(igd.location);
    expect(wan.soap[0]).toMatchObject({ action: 'GetExternalIPAddress', result: '5.45.0.2' });
    expect(wan.natPmp).toBe(true);
    expect(wanFindings(wan)[0]).toMatchObject({ id: 'upnp-wan-exposed', severity: 'critical' });
  });

  it('WAN probe: nothing listening means no finding', async () => {
    igd = await startFakeIgd();
    const port = igd.port;
    const ssdpPort = igd.ssdpPort;
    const natPmpPort = igd.natPmpPort;
    await igd.close();
    igd = undefined;
    const wan = await probeWanExposure('127.0.0.1', { ssdpPort, ports: [port], waitMs: 300, natPmpPort });
    expect(wanFindings(wan)).toEqual([]);
  });
});

describe('hostile fake IGD: clear error or bounded result, never a hang', () => {
  it('oversized description → clear error, quickly', async () => {
    igd = await startFakeIgd({ mode: 'oversized-description' });
    const t0 = Date.now();
    await expect(fetchDescription(igd.location, { maxDescriptionBytes: 256 * 1024 })).rejects.toThrow(/cap/);
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  it('a description that never ends → size cap error', async () => {
    igd = await startFakeIgd({ mode: 'endless-description' });
    const t0 = Date.now();
    await expect(fetchDescription(igd.location)).rejects.toThrow(/cap/);
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  it('a description drip-fed forever → deadline error', async () => {
    igd = await startFakeIgd({ mode: 'drip-description' });
    const t0 = Date.now();
    await expect(fetchDescription(igd.location, { timeoutMs: 800 })).rejects.toMatchObject({ code: 'IOTGUARD_ERR_NET_TIMEOUT' });
    expect(Date.now() - t0).toBeLessThan(3000);
  });

  it('entity bomb in the description → refused', async () => {
    igd = await startFakeIgd({ mode: 'entity-bomb' });
    await expect(fetchDescription(igd.location)).rejects.toThrow(/DOCTYPE/);
  });

  it('an off-host control URL is never called', async () => {
    igd = await startFakeIgd({ mode: 'offhost-control' });
    const r = await runUpnpAudit({ locations: [igd.location], natPmpGateway: false }, components());
    expect(r.gateways[0].controlUrl).toBeUndefined();
    expect(r.gateways[0].errors.join(' ')).toMatch(/no WANIPConnection/);
    expect(r.gateways[0].warnings.join(' ')).toMatch(/192\.0\.2\.99/);
  });

  it('SOAP faults on every action → errors recorded, no crash', async () => {
    igd = await startFakeIgd({ mode: 'soap-fault' });
    const r = await runUpnpAudit({ locations: [igd.location], natPmpGateway: false }, components());
    const g = r.gateways[0];
    expect(g.mappings).toEqual([]);
    expect(g.errors.join(' ')).toMatch(/UPnP error 501/);
    expect(g.enumeration.generic?.stoppedBy).toBe('fault');
    expect(g.enumeration.incomplete).toBe(true);
  });

  it('garbage SOAP → a bad-response error', async () => {
    igd = await startFakeIgd({ mode: 'garbage-soap' });
    const d = await fetchDescription(igd.location);
    await expect(createIgdClient(d.wanConnections[0]).getExternalIp()).rejects.toMatchObject({ code: 'IOTGUARD_ERR_UPNP_BAD_RESPONSE' });
  });

  it('thousands of mappings → capped, flagged, within seconds', async () => {
    igd = await startFakeIgd({ mode: 'thousands', count: 5000 });
    const t0 = Date.now();
    const r = await runUpnpAudit({ locations: [igd.location], natPmpGateway: false, maxMappings: 300 }, components());
    const g = r.gateways[0];
    expect(g.mappings.length).toBe(300);
    expect(g.enumeration.generic?.stoppedBy).toBe('cap');
    expect(g.enumeration.list?.stoppedBy).toBe('cap');
    expect(g.warnings.join(' ')).toMatch(/incomplete/);
    expect(Date.now() - t0).toBeLessThan(20_000);
  });

  it('the same entry under every index → deduplicated and capped', async () => {
    igd = await startFakeIgd({ mode: 'same-entry-forever', igdVersion: 1 });
    const r = await runUpnpAudit({ locations: [igd.location], natPmpGateway: false, maxMappings: 200 }, components());
    expect(r.gateways[0].mappings).toHaveLength(1);
    expect(r.gateways[0].enumeration.generic).toMatchObject({ stoppedBy: 'cap', duplicates: 199 });
  });

  it('a gateway that never answers SOAP → bounded by the enumeration deadline', async () => {
    igd = await startFakeIgd({ mode: 'slow-soap' });
    const t0 = Date.now();
    const r = await runUpnpAudit({ locations: [igd.location], natPmpGateway: false, timeoutMs: 300, enumerationDeadlineMs: 1000 }, components());
    expect(r.gateways[0].errors.join(' ')).toMatch(/did not answer/);
    expect(Date.now() - t0).toBeLessThan(6000);
  });

  it('no IGD but NAT-PMP on the default gateway → upnp-enabled for NAT-PMP', async () => {
    igd = await startFakeIgd();
    const r = await runUpnpAudit(
      { ssdpHost: '127.0.0.1', ssdpPort: 9, ssdpWaitMs: 300, natPmpPort: igd.natPmpPort },
      { ...components(), defaultGateway: async () => '127.0.0.1' },
    );
    expect(r.gateways).toEqual([]);
    expect(r.natPmp).toMatchObject({ natPmp: true, externalIp: '5.45.0.2' });
    expect(r.findings).toHaveLength(1);
    expect(r.findings[0]).toMatchObject({ id: 'upnp-enabled', device: { ip: '127.0.0.1' }, evidence: { igd: false, natPmp: true } });
  });

  it('a gateway whose every SOAP action faults is not reported as accepting control', async () => {
    igd = await startFakeIgd({ mode: 'soap-fault' });
    const r = await runUpnpAudit({ locations: [igd.location], natPmpGateway: false }, components());
    expect(r.gateways[0].controlAccepted).toBe(false);
    expect(r.findings.some((f) => f.id === 'upnp-enabled')).toBe(false);
  });

  it('no NAT-PMP on the gateway → absent, bounded', async () => {
    const t0 = Date.now();
    const r = await probeNatPmp('127.0.0.1', { port: 9, tries: 2 });
    expect(r).toMatchObject({ natPmp: false, pcp: false });
    expect(Date.now() - t0).toBeLessThan(2000);
  });
});
