// The redirect table's life cycle with the real nft, in a throwaway network
// namespace (no traffic): install, recover after a crash, refuse to run twice,
// remove, and leave the namespace's ruleset exactly as it was.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderInterceptTable } from '../../../src/core/tlscheck/nft.js';
import { createExec } from '../../../src/adapters/policy/nft.js';
import { addPorts, currentNetnsId, installTable, listRuleset, recover, removeTable, stateFile, writeState } from '../../../src/adapters/probe/tls-intercept/redirect.js';

const NS = `igtlsu${process.pid}`;
const canRun = process.getuid?.() === 0 && spawnSync('nft', ['--version']).status === 0;
const exec = createExec(NS);
const BASE = 'table inet filter {\n  chain input {\n    type filter hook input priority 0; policy accept;\n    ct state established,related accept\n  }\n}\n';

describe.skipIf(!canRun)('redirect table in a throwaway namespace', () => {
  beforeAll(() => {
    expect(spawnSync('ip', ['netns', 'add', NS]).status).toBe(0);
    expect(spawnSync('ip', ['netns', 'exec', NS, 'nft', '-f', '-'], { input: BASE }).status).toBe(0);
  });
  afterAll(() => {
    spawnSync('ip', ['netns', 'del', NS]);
  });

  const table = renderInterceptTable({ device: '192.168.77.60', listenIp: '192.168.77.1', listenPort: 40000, ports: [443, 8883] });
  // state files are keyed by the caller's namespace; the test process stays in its own
  const dir = mkdtempSync(join(tmpdir(), 'iotguard-tlsstate-'));

  it('installs, learns a port, and removes exactly its table', async () => {
    const before = await listRuleset(exec);
    await installTable(exec, table);
    expect(await listRuleset(exec)).toContain('table ip iotguard_tlscheck');
    await addPorts(exec, [8443]);
    expect((await exec(['nft', 'list', 'set', 'ip', 'iotguard_tlscheck', 'ports'])).stdout).toMatch(/443, 8443, 8883/);
    expect(await removeTable(exec)).toBe(true);
    expect(await removeTable(exec)).toBe(false);
    expect(await listRuleset(exec)).toBe(before);
  });

  it('recovers from a crashed run: stale state file and table both go', async () => {
    const before = await listRuleset(exec);
    await installTable(exec, table);
    // a pid that is certainly not running
    writeState(dir, { version: 1, pid: 2 ** 22 + 12345, startedAt: new Date().toISOString(), table: 'iotguard_tlscheck', netns: currentNetnsId(), device: '192.168.77.60', listen: '192.168.77.1:40000' });
    expect(readdirSync(dir).filter((f) => f.startsWith('state-'))).toHaveLength(1);
    const r = await recover(exec, dir);
    expect(r).toMatchObject({ staleState: true, removedTable: true });
    expect(await listRuleset(exec)).toBe(before);
    expect(readdirSync(dir).filter((f) => f.startsWith('state-'))).toEqual([]);
  });

  it('a leftover table without a state file is removed too; a clean start removes nothing', async () => {
    await installTable(exec, table);
    expect(await recover(exec, dir)).toMatchObject({ staleState: false, removedTable: true });
    expect(await recover(exec, dir)).toEqual({ staleState: false, removedTable: false });
  });

  it('refuses to start while another live tls-check owns the table', async () => {
    // a live process whose command line names tls-check
    const other = spawn('sh', ['-c', 'sleep 30', 'tls-check'], { stdio: 'ignore' });
    try {
      writeFileSync(stateFile(dir), JSON.stringify({ version: 1, pid: other.pid, table: 'iotguard_tlscheck' }));
      await expect(recover(exec, dir)).rejects.toMatchObject({ code: 'IOTGUARD_ERR_TLSCHECK_BUSY' });
    } finally {
      other.kill('SIGKILL');
    }
  });

  it('nft refuses a broken table and nothing is left half-loaded', async () => {
    const before = await listRuleset(exec);
    await expect(installTable(exec, table.replace('dnat to', 'dnat too'))).rejects.toMatchObject({ code: 'IOTGUARD_ERR_TLSCHECK_REDIRECT' });
    expect(await listRuleset(exec)).toBe(before);
  });
});
