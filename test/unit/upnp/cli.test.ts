// `iotguard upnp` end to end (built CLI) against the fake IGD on 127.0.0.1.
// --no-neigh keeps attribution off the host's neighbour table, so nothing
// but loopback is ever touched.
import { spawn } from 'node:child_process';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startFakeIgd, type FakeIgd } from '../../fixtures/upnp/fake-igd.js';

const bin = new URL('../../../bin/iotguard.js', import.meta.url).pathname;

function cli(args: string[], timeoutMs = 30_000): Promise<{ status: number | null; stdout: string; stderr: string; ms: number }> {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const p = spawn(process.execPath, [bin, 'upnp', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (c) => (stdout += c));
    p.stderr.on('data', (c) => (stderr += c));
    const t = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('close', (status) => {
      clearTimeout(t);
      resolve({ status, stdout, stderr, ms: Date.now() - t0 });
    });
  });
}

let igd: FakeIgd | undefined;
afterEach(async () => {
  await igd?.close();
  igd = undefined;
});

const MAPPINGS = [
  { protocol: 'TCP' as const, externalPort: 2323, internalClient: '192.168.77.20', internalPort: 23, description: 'cam telnet', leaseSeconds: 0 },
  { protocol: 'UDP' as const, externalPort: 3074, internalClient: '192.168.77.50', internalPort: 3074, description: 'console', leaseSeconds: 7200 },
];

describe('iotguard upnp (CLI)', () => {
  beforeAll(() => {
    // npm test builds first; a bare `vitest run` on this file needs `npm run build` before.
  });

  it('--json prints exactly one JSON document with the CONTRACT fields', async () => {
    igd = await startFakeIgd({ mappings: MAPPINGS });
    const r = await cli(['--json', '--no-neigh', '--ssdp-target', `127.0.0.1:${igd.ssdpPort}`, '--wait', '400', '--natpmp-port', String(igd.natPmpPort)]);
    expect(r.status, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.gateways[0]).toMatchObject({ location: igd.location, server: expect.stringContaining('MiniUPnPd'), externalIp: '5.45.0.2' });
    expect(doc.gateways[0].mappings[0]).toEqual(
      expect.objectContaining({ protocol: 'TCP', externalPort: 2323, internalClient: '192.168.77.20', internalPort: 23, description: 'cam telnet', leaseSeconds: 0, enabled: true, risk: 'critical', device: { mac: null, ip: '192.168.77.20', vendor: null } }),
    );
    expect(doc.findings.map((f: { id: string }) => f.id)).toEqual(expect.arrayContaining(['upnp-mapping', 'upnp-enabled']));
    expect(Array.isArray(doc.disableImpact)).toBe(true);
  });

  it('prints a readable report without --json', async () => {
    igd = await startFakeIgd({ mappings: MAPPINGS });
    const r = await cli(['--no-neigh', '--location', igd.location, '--no-natpmp']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Gateway 127\.0\.0\.1/);
    expect(r.stdout).toMatch(/2323/);
    expect(r.stdout).toMatch(/critical/);
    expect(r.stdout).toMatch(/What breaks if you disable UPnP/);
  });

  it('--remove with --yes deletes the mapping; without a terminal or --yes it refuses', async () => {
    igd = await startFakeIgd({ mappings: MAPPINGS });
    const refused = await cli(['--no-neigh', '--location', igd.location, '--no-natpmp', '--remove', 'tcp/2323']);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/--yes/);
    expect(igd.mappings).toHaveLength(2);
    const r = await cli(['--json', '--no-neigh', '--location', igd.location, '--no-natpmp', '--remove', 'tcp/2323', '--yes']);
    expect(r.status, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.removed[0]).toMatchObject({ removed: true, stillPresent: false });
    expect(doc.gateways[0].mappings.map((m: { externalPort: number }) => m.externalPort)).toEqual([3074]);
    expect(igd.mappings.map((m) => m.externalPort)).toEqual([3074]);
    const missing = await cli(['--no-neigh', '--location', igd.location, '--no-natpmp', '--remove', 'tcp/2323', '--yes']);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/no TCP\/2323 mapping/);
  });

  it('bad input: one clear line and exit 1; bad usage exit 2', async () => {
    for (const args of [['--remove', 'tcp/99999'], ['--location', 'ftp://x/'], ['--timeout', 'soon'], ['--iface', 'nosuchif0'], ['--source', '300.1.1.1'], ['--wan', '127.0.0.1', '--remove', 'tcp/1']]) {
      const r = await cli(args);
      expect(r.status, args.join(' ')).toBe(1);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stdout).toBe('');
    }
    expect((await cli(['--frobnicate'])).status).toBe(2);
    const help = await cli(['--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/--authorized/);
  });

  it('a hostile description gives one clear error line (exit 1), not a hang', async () => {
    igd = await startFakeIgd({ mode: 'endless-description' });
    const r = await cli(['--json', '--no-neigh', '--location', igd.location, '--no-natpmp']);
    expect(r.status).toBe(1);
    expect(JSON.parse(r.stderr.trim()).error.code).toBe('IOTGUARD_ERR_UPNP_BAD_RESPONSE');
    expect(r.ms).toBeLessThan(10_000);
  });

  it('5000 mappings with the default cap: bounded, flagged, timed', async () => {
    igd = await startFakeIgd({ mode: 'thousands', count: 5000 });
    const r = await cli(['--json', '--no-neigh', '--location', igd.location, '--no-natpmp'], 60_000);
    expect(r.status, r.stderr).toBe(0);
    const g = JSON.parse(r.stdout).gateways[0];
    expect(g.mappings).toHaveLength(1024);
    expect(g.enumeration.incomplete).toBe(true);
    process.stderr.write(`[upnp] 5000-mapping IGD, default cap 1024: ${r.ms} ms\n`);
    expect(r.ms).toBeLessThan(30_000);
  });

  it('no IGD answering is an answer: exit 0, empty gateways', async () => {
    igd = await startFakeIgd();
    const port = igd.ssdpPort;
    await igd.close();
    igd = undefined;
    const r = await cli(['--json', '--no-neigh', '--no-natpmp', '--ssdp-target', `127.0.0.1:${port}`, '--wait', '300']);
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ gateways: [], findings: [] });
  });
});
