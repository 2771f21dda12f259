// Issue #8 acceptance on the lab's real router: learn profiles from a capture
// of `lab traffic`, apply them with nftables in ig-router, and check from the
// devices' own namespaces that
//   - the plug still reaches its cloud names and its firmware server,
//   - the infected device's DNS tunnel and its 23/2323 scan are blocked,
//   - a "no internet" device cannot reach 5.45.1.x but still gets DHCP and DNS,
//   - a new destination raises policy-violation,
//   - policy rollback restores the router's ruleset byte for byte.
// The file restores the router's ruleset even when an assertion fails.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { LAB_LAN, LAB_NAMES, LAB_ROUTER_LAN_IP, findNode } from '../../src/lab/topology.js';
import { stripTables } from '../../src/adapters/policy/nft.js';

const ready = inject('labReady');
const bin = new URL('../../bin/iotguard.js', import.meta.url).pathname;
const lab = process.env.IOTGUARD_LAB ?? 'ig';
const ROUTER_NS = `${lab}-router`;
const dir = mkdtempSync(join(tmpdir(), 'iotguard-lab-policy-'));
const stateDir = join(dir, 'state');
const capture = join(dir, 'lab.pcap');

const plug = findNode('plug')!;
const infected = findNode('infected')!;
const dvr = findNode('dvr')!;

/** Runs a program without blocking the worker (vitest's RPC must keep answering). */
function runAsync(argv: string[], timeout: number): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((res) => {
    const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    // the whole process group: grandchildren (curl under sh) must not outlive the probe
    const t = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }, timeout);
    child.on('close', (code) => {
      clearTimeout(t);
      res({ status: code ?? 1, stdout, stderr });
    });
  });
}
const cli = (args: string[], timeout = 300_000) => runAsync([process.execPath, bin, ...args], timeout);
/** Runs a shell command in a lab node; true when it exits 0. */
const can = async (node: string, cmd: string, timeout = 60_000) => (await runAsync(['ip', 'netns', 'exec', `${lab}-${node}`, 'sh', '-c', cmd], timeout)).status === 0;
const ruleset = () => spawnSync('ip', ['netns', 'exec', ROUTER_NS, 'nft', 'list', 'ruleset'], { encoding: 'utf8' }).stdout;

const FW = `wget -q -t 1 -T 8 -O /dev/null http://${LAB_NAMES.firmwareHost}/firmware/latest.json`;
const CLOUD = `curl -k -s -f --max-time 8 -o /dev/null https://${LAB_NAMES.cloudHost}/api/status`;
const MQTT = `mosquitto_pub -h ${LAB_NAMES.mqttHost} -p 1883 -u plug -P plugpass123 -t plugco/test -m x`;
const FOREIGN_DNS = 'busybox nslookup -type=a cloud.plugco.example 5.45.1.10 | grep -q "Address: 5.45.1.30"';
const TUNNEL = 'curl -s -f --max-time 10 -o /dev/null http://10.99.0.1:8080/secret.txt';
/** Succeeds when any 23/2323 probe got an answer (open or closed), i.e. the scan reaches its targets. */
const SCAN = 'nmap -n -sT -Pn -p 23,2323 --max-retries 0 --host-timeout 4s 192.168.77.20,30 | grep -E "^(23|2323)/tcp" | grep -qv filtered';
const LAN_DNS = `busybox nslookup -type=a ${LAB_NAMES.cloudHost} ${LAB_ROUTER_LAN_IP} | grep -q "Address: 5.45.1.30"`;
const DHCP = 'busybox udhcpc -i eth0 -n -q -t 3 -T 2 -s /bin/true';

let saved = '';
let applied = false;

afterAll(async () => {
  // never leave the shared lab with our tables in it
  if (applied && existsSync(join(stateDir, 'state.json'))) await cli(['policy', 'rollback', '--netns', ROUTER_NS, '--state-dir', stateDir]);
  rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!ready)('policy on the lab router (issue #8 acceptance)', () => {
  const profile = (mac: string) => join(dir, `${mac.replace(/:/g, '')}.mud.json`);

  it('learns the devices from a capture of lab traffic', async () => {
    const cap = await cli(['lab', 'capture', '--write', capture, '--seconds', '30', '--traffic', '--json'], 180_000);
    expect(cap.status, cap.stderr).toBe(0);
    for (const node of [plug, infected]) {
      const r = await cli(['policy', 'learn', capture, '--device', node.mac, '--lan', LAB_LAN, '--router', LAB_ROUTER_LAN_IP, '--out', profile(node.mac), '--json']);
      expect(r.status, r.stderr).toBe(0);
      const out = JSON.parse(r.stdout) as { names: string[]; excluded: Array<{ reason: string; proto: string; port?: number }>; excludedNames: unknown[] };
      console.log(`[policy] ${node.name}: names ${out.names.join(', ') || 'none'}; left out: ${[...new Set(out.excluded.map((e) => `${e.reason} ${e.proto}/${e.port}`))].slice(0, 12).join('; ') || 'nothing'} (${out.excluded.length} groups); ${out.excludedNames.length} DNS names left out`);
      if (node === plug) expect(out.names).toEqual([LAB_NAMES.cloudHost, LAB_NAMES.firmwareHost, LAB_NAMES.mqttHost].sort());
      else {
        expect(out.names.some((n) => n.endsWith(LAB_NAMES.tunnelDomain))).toBe(false);
        expect(out.excludedNames.length).toBeGreaterThan(10);
        const ports = out.excluded.filter((e) => e.reason.startsWith('lateral-scan')).map((e) => e.port);
        expect(ports).toEqual(expect.arrayContaining([23, 2323]));
      }
    }
  });

  it('everything works before the policy (baseline)', async () => {
    for (const cmd of [FW, CLOUD, MQTT, FOREIGN_DNS]) expect(await can('plug', cmd), cmd).toBe(true);
    expect(await can('infected', TUNNEL), 'tunnel').toBe(true);
    expect(await can('infected', SCAN), 'scan').toBe(true);
    expect(await can('dvr', FW), 'dvr internet').toBe(true);
  });

  it('applies atomically on the router and enforces the profiles', async () => {
    expect(ruleset()).toContain('table inet filter');
    const r = await cli(['policy', 'apply', '--authorized', '--netns', ROUTER_NS, '--state-dir', stateDir, '--lan', LAB_LAN, '--json',
      '--mud', profile(plug.mac), '--mud', profile(infected.mac), '--offline', `${dvr.mac}@${dvr.ip}`]);
    applied = true;
    expect(r.status, r.stderr).toBe(0);
    const rep = JSON.parse(r.stdout) as { snapshotTaken: boolean; savedFile: string; filled: Array<{ addresses: string[] }> };
    expect(rep.snapshotTaken).toBe(true);
    saved = readFileSync(rep.savedFile, 'utf8');
    expect(saved).toContain('table inet filter');
    expect(saved).not.toContain('iotguard');
    expect(rep.filled.flatMap((f) => f.addresses)).toEqual(expect.arrayContaining(['5.45.1.20', '5.45.1.30']));
    const during = ruleset();
    expect(during).toContain('table inet iotguard');
    expect(during).toContain('table bridge iotguard');

    // run the probes side by side: the blocked ones end by timing out
    const expectations: Array<[string, string, boolean, string]> = [
      // the plug keeps its cloud, firmware server and broker, and nothing else
      ['plug', FW, true, 'plug firmware'],
      ['plug', CLOUD, true, 'plug cloud'],
      ['plug', MQTT, true, 'plug mqtt'],
      ['plug', FOREIGN_DNS, false, 'plug to a resolver of its own'],
      // the infected device: tunnel and scan blocked
      ['infected', TUNNEL, false, 'DNS tunnel'],
      ['infected', SCAN, false, '23/2323 scan'],
      // no internet for the DVR, but DNS and DHCP still work
      ['dvr', FW, false, 'dvr internet (firmware server)'],
      ['dvr', 'curl -s --max-time 5 -o /dev/null http://5.45.1.30/', false, 'dvr to 5.45.1.30'],
      ['dvr', LAN_DNS, true, 'dvr DNS'],
      ['dvr', DHCP, true, 'dvr DHCP'],
    ];
    const results = await Promise.all(expectations.map(([node, cmd]) => can(node, cmd)));
    expect(results.map((ok, i) => `${expectations[i][3]}: ${ok}`)).toEqual(expectations.map(([, , want, what]) => `${what}: ${want}`));
    // which rules did the blocking (printed for the report)
    const counters = spawnSync('ip', ['netns', 'exec', ROUTER_NS, 'nft', 'list', 'table', 'inet', 'iotguard'], { encoding: 'utf8' }).stdout
      .split('\n').filter((l) => /counter packets [1-9]/.test(l)).map((l) => l.trim());
    console.log(`[policy] non-zero drop counters:\n  ${counters.join('\n  ')}`);
  });

  it('a new destination raises a policy-violation', async () => {
    const newCap = join(dir, 'after.pcap');
    const rec = spawn(process.execPath, [bin, 'lab', 'capture', '--write', newCap, '--seconds', '8'], { stdio: 'ignore' });
    const done = new Promise<number>((res) => rec.on('close', (c) => res(c ?? 1)));
    await new Promise((r) => setTimeout(r, 2500));
    await can('plug', FOREIGN_DNS);
    await can('plug', CLOUD);
    expect(await done).toBe(0);
    const r = await cli(['policy', 'check', newCap, '--mud', profile(plug.mac), '--json']);
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { violations: Array<{ kind: string; remote: { ip: string }; port: number }>; findings: Array<{ id: string; title: string }> };
    console.log(`[policy] check: ${out.findings.map((f) => f.title).join(' | ')}`);
    expect(out.violations).toEqual(expect.arrayContaining([expect.objectContaining({ kind: 'new-destination', remote: expect.objectContaining({ ip: '5.45.1.10' }), port: 53 })]));
    expect(out.findings.every((f) => f.id === 'policy-violation')).toBe(true);
    // the cloud check-in it is allowed is not a violation
    expect(out.violations.some((v) => v.remote.ip === '5.45.1.30')).toBe(false);
  });

  it('the exact-name DNS allowlist alone also stops the tunnel (re-apply keeps the first snapshot)', async () => {
    const r = await cli(['policy', 'apply', '--authorized', '--netns', ROUTER_NS, '--state-dir', stateDir, '--lan', LAB_LAN, '--json',
      '--mud', profile(plug.mac), '--mud', profile(infected.mac), '--offline', `${dvr.mac}@${dvr.ip}`,
      '--dns-allowlist', '--dns-max-udp-length', '0', '--dns-rate', '0']);
    expect(r.status, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as { snapshotTaken: boolean }).snapshotTaken).toBe(false);
    const lookupRelay = `busybox nslookup -type=a ${LAB_NAMES.relayHost} ${LAB_ROUTER_LAN_IP} | grep -q "Address: 5.45"`;
    const checks: Array<[string, string, boolean, string]> = [
      ['plug', FW, true, 'plug firmware'],
      ['plug', CLOUD, true, 'plug cloud'],
      ['plug', lookupRelay, false, 'plug looks up a name outside its profile'],
      ['infected', TUNNEL, false, 'DNS tunnel'],
    ];
    const got = await Promise.all(checks.map(([node, cmd]) => can(node, cmd)));
    expect(got.map((ok, i) => `${checks[i][3]}: ${ok}`)).toEqual(checks.map(([, , want, what]) => `${what}: ${want}`));
  });

  it('rollback restores the ruleset byte for byte', async () => {
    // other lab tests may add or remove UPnP mappings meanwhile (miniupnpd
    // rewrites its chains): what rollback must do is take away exactly our
    // tables; when nobody else touched the router, that is the saved ruleset
    const pre = ruleset();
    const r = await cli(['policy', 'rollback', '--netns', ROUTER_NS, '--state-dir', stateDir, '--json']);
    expect(r.status, r.stderr).toBe(0);
    const rep = JSON.parse(r.stdout) as { identical: boolean; method: string; ownTablesRemoved: boolean; changedByOthers: string[] };
    const after = ruleset();
    expect(after).toBe(stripTables(pre, 'iotguard'));
    expect(after).not.toContain('iotguard');
    if (stripTables(pre, 'iotguard') === saved) {
      expect(rep).toMatchObject({ identical: true, method: 'delete-tables' });
      expect(after).toBe(saved);
      applied = false;
      console.log('[policy] rollback: ruleset byte for byte identical to the one saved before apply');
    } else {
      expect(rep).toMatchObject({ identical: false, ownTablesRemoved: true });
      console.log(`[policy] rollback: the lab changed the router meanwhile (${rep.changedByOthers.join(', ')}); our tables removed, nothing else touched`);
      applied = false;
    }
    // and the network is as it was
    expect(await can('dvr', FW), 'dvr internet again').toBe(true);
    expect(await can('infected', SCAN), 'scan passes again').toBe(true);
  });
});
