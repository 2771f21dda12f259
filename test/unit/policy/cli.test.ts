// The policy command as a user runs it (built CLI: npm run build first).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sharedData } from './corpus.js';

const bin = new URL('../../../bin/iotguard.js', import.meta.url).pathname;
const fx = (f: string) => new URL(`../../fixtures/policy/${f}`, import.meta.url).pathname;
const run = (...args: string[]) => spawnSync(process.execPath, [bin, 'policy', ...args], { encoding: 'utf8', timeout: 60_000 });
const built = existsSync(new URL('../../../dist/cli/commands/policy.js', import.meta.url));
if (!built) console.warn('[policy] CLI tests skipped: run npm run build first');

describe.skipIf(!built)('iotguard policy (CLI)', () => {
  it('import --json: one document, imported and rejected files with their reasons', () => {
    const r = run('import', fx('plug.mud.json'), fx('bad-unknown-match.mud.json'), '--json');
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout) as { files: Array<{ status: string; reason?: string; names?: string[] }> };
    expect(out.files.map((f) => f.status)).toEqual(['imported', 'rejected']);
    expect(out.files[0].names).toEqual(['cloud.plugco.example', 'fw.plugco.example', 'mqtt.plugco.example']);
    expect(out.files[1].reason).toMatch(/^\/ietf-access-control-list:acls\/acl\/0\/aces\/ace\/1\/matches\/ipv4\/ietf-acldns:dst-dnsname-regex: unknown node/);
  });

  it('render prints the same ruleset every time; --json carries ruleset, dnsmasq lines and sets', () => {
    const args = ['render', '--mud', `70:89:76:00:77:60@192.168.77.60=${fx('plug.mud.json')}`, '--quarantine', '14:08:08:00:77:70', '--lan', '192.168.77.0/24'];
    const a = run(...args);
    const b = run(...args);
    expect(a.status).toBe(0);
    expect(a.stdout).toBe(b.stdout);
    expect(a.stdout).toMatch(/^#!\/usr\/sbin\/nft -f/);
    const j = JSON.parse(run(...args, '--json').stdout) as { ruleset: string; dnsmasq: string; sets: unknown[] };
    expect(j.ruleset).toBe(a.stdout);
    expect(j.dnsmasq).toContain('nftset=/fw.plugco.example/');
    const ow = run(...args, '--format', 'openwrt');
    expect(ow.status).toBe(0);
    expect(ow.stdout).toContain('# ==> /etc/iotguard/iotguard.nft <==');
  });

  it('bad input is one clear line and exit 1; bad usage exit 2', () => {
    const noDev = run('render', '--mud', fx('plug.mud.json'), '--lan', '192.168.77.0/24');
    expect(noDev.status).toBe(1);
    expect(noDev.stderr).toMatch(/which device\?/);
    expect(noDev.stderr.trim().split('\n')).toHaveLength(1);
    const badMode = run('render', '--device', '02:00:00:00:00:01', '--mode', 'open', '--lan', '10.0.0.0/24');
    expect(badMode.status).toBe(1);
    const missing = run('import', '/nonexistent/x.json');
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/cannot read \/nonexistent\/x\.json/);
    const rejected = run('render', '--mud', `02:00:00:00:00:01=${fx('bad-unknown-match.mud.json')}`, '--lan', '10.0.0.0/24');
    expect(rejected.status).toBe(1);
    expect(rejected.stderr).toMatch(/not a usable MUD file: \/ietf-access-control-list/);
    const unauth = run('apply', '--device', '02:00:00:00:00:01', '--lan', '10.0.0.0/24', '--json');
    expect(unauth.status).toBe(1);
    expect(JSON.parse(unauth.stderr).error.code).toBe('IOTGUARD_ERR_NOT_AUTHORIZED');
    expect(run('frobnicate').status).toBe(2);
    expect(run('render', '--bogus').status).toBe(2);
  });

  const tapo = join(sharedData, 'pcap/iot-devices/ss-for-iot-MUD/G06-tapo-p115.pcap');
  it.skipIf(!existsSync(tapo))('learn writes a MUD file that check then passes, and check flags what the vendor MUD lacks', () => {
    const dir = mkdtempSync(join(tmpdir(), 'igpol-cli-'));
    const out = join(dir, 'tapo.json');
    const l = run('learn', tapo, '--device', '40:ae:30:46:6e:a8', '--out', out);
    expect(l.status, l.stderr).toBe(0);
    const mud = JSON.parse(readFileSync(out, 'utf8'));
    expect(mud['ietf-mud:mud']['iotguard:device']).toEqual({ mac: '40:ae:30:46:6e:a8', ip: '10.42.0.205' });
    const c = run('check', tapo, '--mud', out, '--json');
    expect(c.status).toBe(0);
    expect(JSON.parse(c.stdout)).toEqual({ violations: [], findings: [] });
    const v = run('check', tapo, '--mud', `40:ae:30:46:6e:a8=${join(sharedData, 'mud/ss-for-iot-MUD/tapo-p115.mud.json')}`, '--json');
    const vs = JSON.parse(v.stdout) as { violations: Array<{ kind: string; remote: { ip: string } }> };
    // MUDgee left out the two cloud IPs the plug reached without a DNS lookup in this capture
    expect(vs.violations.map((x) => `${x.kind} ${x.remote.ip}`)).toEqual(['new-destination 54.169.114.238', 'new-destination 54.170.92.104']);
  });
});
