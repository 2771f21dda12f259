import { describe, expect, it } from 'vitest';
import type { Finding } from '../../../src/core/model/finding.js';
import { assembleAudit, diffAudits, type AssembleInput } from '../../../src/core/report/assemble.js';
import { renderHtml, deviceAnchor } from '../../../src/core/report/html.js';
import { renderMarkdown } from '../../../src/core/report/markdown.js';
import { adviseDevice, levelFor, scoreDevice } from '../../../src/core/risk/risk.js';

const f = (id: Finding['id'], severity: Finding['severity'], ip: string, evidence: Record<string, unknown> = {}): Finding => ({ id, severity, title: `${id} on ${ip}`, device: { ip }, evidence, advice: `fix ${id}` });
const dev = (ip: string, ports: number[], extra: Partial<{ hostname: string; type: string; self: boolean }> = {}) => ({
  ip,
  mac: `02:00:00:00:00:${ip.split('.')[3].padStart(2, '0')}`,
  vendor: 'Acme',
  hostname: extra.hostname ?? null,
  type: extra.type ?? 'camera',
  openPorts: ports.map((p) => ({ port: p, proto: 'tcp', service: p === 23 ? 'telnet' : 'http', banner: '' })),
  services: [],
  ...(extra.self ? { self: true } : {}),
});

function input(): AssembleInput {
  return {
    version: '0.1.0',
    startedAt: '2026-01-01T00:00:00.000Z',
    finishedAt: '2026-01-01T00:01:00.000Z',
    scope: { cidrs: ['192.168.1.0/24'], authorized: true, captures: [], captureSeconds: 0 },
    steps: [{ name: 'discover', status: 'ok', seconds: 1 }],
    discover: { devices: [dev('192.168.1.20', [23, 80], { hostname: 'cam<script>' }), dev('192.168.1.30', [23, 22], { type: 'nas' }), dev('192.168.1.10', [], { self: true }), dev('192.168.1.1', [80], { type: 'router' })] },
    upnp: {
      gateways: [{ location: 'http://192.168.1.1:5000/rootDesc.xml', server: 'MiniUPnPd', externalIp: '5.45.0.2', mappings: [{ protocol: 'TCP', externalPort: 2323, internalClient: '192.168.1.20', internalPort: 23, description: 'cam', leaseSeconds: 0, risk: 'critical', service: 'telnet' }] }],
      findings: [f('upnp-enabled', 'medium', '192.168.1.1'), f('upnp-mapping', 'critical', '192.168.1.20')],
      disableImpact: [{ device: { ip: '192.168.1.20' }, instead: 'the camera is no longer reachable on TCP 2323', loses: [] }],
    },
    creds: { results: [{ ip: '192.168.1.20', service: 'telnet', port: 23, status: 'default-credentials', username: 'root', password: 'xc3511' }, { ip: '192.168.1.30', service: 'telnet', port: 23, status: 'not-found' }], findings: [f('default-credentials', 'critical', '192.168.1.20', { service: 'telnet', port: 23, username: 'root' })] },
    analyze: {
      devices: [{ mac: null, ip: '192.168.1.10', destinations: [] }, { mac: null, ip: '192.168.1.70', destinations: [{ name: 't.evil.example', ip: '5.5.5.5', port: 53, proto: 'udp', bytes: 900 }] }],
      findings: [f('dns-tunnel', 'high', '192.168.1.70'), f('lateral-scan', 'high', '192.168.1.10')],
    },
  };
}

describe('risk', () => {
  it('levels follow the score', () => {
    expect([0, 5, 20, 50, 90].map(levelFor)).toEqual(['none', 'low', 'medium', 'high', 'critical']);
  });
  it('explains every point and caps at 100', () => {
    const r = scoreDevice({ ip: 'x', mac: null, type: 'camera', findings: [f('default-credentials', 'critical', 'x'), f('upnp-mapping', 'critical', 'x')], openPorts: [{ port: 23, service: 'telnet' }], mappings: [{ protocol: 'TCP', externalPort: 2323, internalPort: 23, risk: 'critical' }] });
    expect(r.score).toBe(100);
    expect(r.lines.map((l) => l.why).join('\n')).toMatch(/Mirai/);
    expect(r.lines.reduce((n, l) => n + l.points, 0)).toBeGreaterThanOrEqual(100);
  });
  it('advises the password change before isolation, and gives each advice once', () => {
    const a = adviseDevice({ ip: '1.2.3.4', mac: null, type: 'camera', findings: [f('default-credentials', 'critical', 'x', { service: 'telnet', port: 23 }), f('plaintext-firmware', 'medium', 'x'), f('plaintext-firmware', 'medium', 'x')], openPorts: [], mappings: [] });
    const keys = a.map((x) => x.key);
    expect(keys[0]).toBe('change-password:telnet:23');
    expect(keys.indexOf('plaintext-firmware')).toBeLessThan(keys.indexOf('isolate'));
    expect(new Set(keys).size).toBe(keys.length);
  });
});

describe('assembleAudit', () => {
  const r = assembleAudit(input());
  const byIp = (ip: string) => r.devices.find((d) => d.ip === ip)!;
  it('joins findings, mappings and credentials per device', () => {
    const cam = byIp('192.168.1.20');
    expect(cam.findings.map((x) => x.id).sort()).toEqual(['default-credentials', 'upnp-mapping']);
    expect(cam.mappings[0]).toMatchObject({ externalPort: 2323, internalPort: 23 });
    expect(cam.credentials).toContainEqual({ service: 'telnet', port: 23, status: 'default-credentials', username: 'root', password: 'xc3511' });
    expect(cam.risk.level).toBe('critical');
    expect(cam.advice[0].key).toMatch(/^change-password|^mapping/);
    expect(cam.advice.some((a) => a.command === 'iotguard upnp --remove TCP/2323')).toBe(true);
    expect(cam.upnpImpact).toMatch(/2323/);
  });
  it('keeps network findings apart and never audits the host it runs on', () => {
    expect(r.networkFindings.map((x) => x.id)).toEqual(['upnp-enabled']);
    expect(r.devices.some((d) => d.ip === '192.168.1.10')).toBe(false);
    expect(r.findings.some((x) => x.id === 'lateral-scan')).toBe(true); // listed, but on no audited device
  });
  it('adds devices seen only on the wire, with their destinations', () => {
    const inf = byIp('192.168.1.70');
    expect(inf.destinations[0].name).toBe('t.evil.example');
    expect(inf.advice[0].key).toBe('quarantine');
  });
  it('gives the strong-password device a low score', () => {
    expect(['low', 'none']).toContain(byIp('192.168.1.30').risk.level);
  });
  it('is deterministic', () => {
    expect(JSON.stringify(assembleAudit(input()))).toBe(JSON.stringify(r));
  });
  it('diffs two audits', () => {
    const later = input();
    later.creds!.findings = [];
    later.discover!.devices.push(dev('192.168.1.99', [80]));
    const d = diffAudits(r, assembleAudit(later));
    expect(d.newDevices).toEqual(['192.168.1.99']);
    expect(d.resolvedFindings.map((x) => x.id)).toEqual(['default-credentials']);
    expect(d.riskChanges.some((c) => c.ip === '192.168.1.20')).toBe(true);
  });
});

describe('renderers', () => {
  const r = assembleAudit(input());
  it('HTML is self-contained, escapes what devices say, and has the map and a page per device', () => {
    const html = renderHtml(r);
    expect(html).not.toMatch(/<script|<link|src="http|href="http/i);
    expect(html).toContain('cam&lt;script&gt;');
    expect(html).toContain('<svg class="map"');
    for (const d of r.devices) expect(html).toContain(`id="${deviceAnchor(d)}"`);
    expect(html).toContain('iotguard upnp --remove TCP/2323');
  });
  it('Markdown lists every device with its advice', () => {
    const md = renderMarkdown(r);
    for (const d of r.devices) expect(md).toContain(`### ${d.ip}`);
    expect(md).toMatch(/Change the default telnet password/);
  });
});
