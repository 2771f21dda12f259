// apply/rollback against a real kernel ruleset, in a throwaway network
// namespace made for this test (never the host's, never the lab's).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importMudText } from '../../../src/core/policy/import.js';
import { renderNftables } from '../../../src/core/policy/render-nft.js';
import { applyPolicy, createExec, createNetnsResolver, listRuleset, rollbackPolicy, stripTables } from '../../../src/adapters/policy/nft.js';
import { haveNft, nftSkipReason } from './nft-helper.js';

const NS = `igpol-u${process.pid}`;
const canNetns = haveNft && spawnSync('ip', ['netns', 'list']).status === 0 && spawnSync('which', ['dnsmasq']).status === 0;
const skip = !canNetns;
if (skip) console.warn(`[policy] apply/rollback tests skipped: ${nftSkipReason ?? 'ip netns or dnsmasq unavailable'}`);

// a router-like baseline: NAT and a default-drop forward chain, as a home router has
const BASELINE = `table inet filter {
  chain input { type filter hook input priority 0; policy accept; ct state established,related accept; iifname "wan0" drop; }
  chain forward { type filter hook forward priority 0; policy drop; ct state established,related accept; jump miniupnpd; }
  chain miniupnpd { }
  chain postrouting { type nat hook postrouting priority 100; policy accept; oifname "wan0" masquerade; }
}
`;

const ns = (...argv: string[]) => spawnSync('ip', ['netns', 'exec', NS, ...argv], { encoding: 'utf8' });
let dns: ChildProcess | undefined;

function plugProfile() {
  const r = importMudText(readFileSync(new URL('../../fixtures/policy/plug.mud.json', import.meta.url), 'utf8'));
  if (!r.ok) throw new Error(r.reason);
  return r.profile;
}

describe.skipIf(skip)('policy apply / rollback (nft in a throwaway netns)', () => {
  beforeAll(async () => {
    spawnSync('ip', ['netns', 'del', NS]);
    expect(spawnSync('ip', ['netns', 'add', NS]).status).toBe(0);
    ns('ip', 'link', 'set', 'lo', 'up');
    const f = join(mkdtempSync(join(tmpdir(), 'igpol-')), 'base.nft');
    spawnSync('sh', ['-c', `cat > ${f}`], { input: BASELINE });
    expect(ns('nft', '-f', f).status).toBe(0);
    // a resolver on the namespace's loopback that knows the plug's cloud
    dns = spawn('ip', ['netns', 'exec', NS, 'dnsmasq', '-k', '--no-resolv', '--no-hosts', '--listen-address=127.0.0.1', '--bind-interfaces', '--port=53',
      '--address=/cloud.plugco.example/198.51.100.7', '--address=/fw.plugco.example/198.51.100.20', '--pid-file='], { stdio: 'ignore' });
    await new Promise((r) => setTimeout(r, 500));
  });
  afterAll(() => {
    dns?.kill();
    spawnSync('ip', ['netns', 'del', NS]);
  });

  it('applies atomically, fills the name sets, and rolls back byte for byte', async () => {
    const exec = createExec(NS);
    const before = await listRuleset(exec);
    expect(before).toContain('table inet filter');
    const r = renderNftables([
      { mac: '70:89:76:00:77:60', ip: '192.168.77.60', profile: plugProfile(), mode: 'enforce' },
      { mac: '14:08:08:00:77:70', mode: 'quarantine' },
    ], { lan: '192.168.77.0/24' });
    const stateDir = mkdtempSync(join(tmpdir(), 'igpol-state-'));
    const rep = await applyPolicy({
      exec, stateDir, ruleset: r.nft, table: r.table, netns: NS,
      resolveSets: r.sets.map((s) => ({ set: s.name, family: s.family, names: s.names })),
      resolve: createNetnsResolver(exec, '127.0.0.1'),
    });
    expect(rep.snapshotTaken).toBe(true);
    expect(readFileSync(rep.savedFile, 'utf8')).toBe(before);
    const during = await listRuleset(exec);
    expect(during).toContain('table inet iotguard');
    expect(during).toContain('table bridge iotguard');
    expect(during).toContain('table inet filter');
    expect(during).toMatch(/elements = \{ 198\.51\.100\.7/);
    expect(rep.filled.find((f) => f.addresses.includes('198.51.100.7'))!.unresolved).toEqual([]);
    // a name the resolver does not know stays unresolved (and blocked until dnsmasq fills it)
    expect(rep.filled.some((f) => f.unresolved.includes('mqtt.plugco.example') && f.addresses.length === 0)).toBe(true);

    // re-apply keeps the first snapshot
    const again = await applyPolicy({ exec, stateDir, ruleset: r.nft, table: r.table });
    expect(again.snapshotTaken).toBe(false);

    const rb = await rollbackPolicy({ exec, stateDir });
    expect(rb).toMatchObject({ method: 'delete-tables', identical: true });
    expect(await listRuleset(exec)).toBe(before);
  });

  it('takes away only its own tables when something else changed meanwhile, and restores the whole copy with --full', async () => {
    const exec = createExec(NS);
    const before = await listRuleset(exec);
    const stateDir = mkdtempSync(join(tmpdir(), 'igpol-state-'));
    const r = renderNftables([{ mac: '14:08:08:00:77:70', mode: 'quarantine' }], { lan: '192.168.77.0/24' });
    await applyPolicy({ exec, stateDir, ruleset: r.nft, table: r.table });
    expect(ns('nft', 'add', 'table', 'ip', 'intruder').status).toBe(0);
    expect(ns('nft', 'flush', 'chain', 'inet', 'filter', 'miniupnpd').status).toBe(0);
    ns('nft', 'add', 'rule', 'inet', 'filter', 'miniupnpd', 'tcp', 'dport', '2323', 'accept');
    const changed = await listRuleset(exec);
    const rb = await rollbackPolicy({ exec, stateDir });
    expect(rb).toMatchObject({ method: 'delete-tables', identical: false, ownTablesRemoved: true });
    expect(rb.changedByOthers).toEqual(['inet filter / miniupnpd']);
    expect(await listRuleset(exec)).toBe(stripTables(changed, 'iotguard'));
    const full = await rollbackPolicy({ exec, stateDir, forceFullRestore: true });
    expect(full).toMatchObject({ method: 'full-restore', identical: true });
    expect(await listRuleset(exec)).toBe(before);
  });

  it('refuses a ruleset nft -c rejects, and changes nothing', async () => {
    const exec = createExec(NS);
    const before = await listRuleset(exec);
    const stateDir = mkdtempSync(join(tmpdir(), 'igpol-state-'));
    await expect(applyPolicy({ exec, stateDir, ruleset: 'table inet iotguard { chain c { tcp dport 99999 accept } }\n', table: 'iotguard' })).rejects.toThrow(/nft -c rejected/);
    expect(await listRuleset(exec)).toBe(before);
    await expect(rollbackPolicy({ exec, stateDir: mkdtempSync(join(tmpdir(), 'igpol-empty-')) })).rejects.toThrow(/nothing to roll back/);
  });
});
