import { execFileSync, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

// Runs the built CLI (npm test builds before running vitest).
const bin = new URL('../../bin/iotguard.js', import.meta.url).pathname;
const run = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });

describe('cli', () => {
  it('prints the version', () => {
    const pkg = JSON.parse(execFileSync('cat', [new URL('../../package.json', import.meta.url).pathname], { encoding: 'utf8' }));
    const r = run('--version');
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe(pkg.version);
  });
  it('lists the commands in --help', () => {
    const r = run('--help');
    expect(r.status).toBe(0);
    for (const c of ['lab', 'discover', 'upnp', 'creds', 'analyze', 'audit']) expect(r.stdout).toContain(c);
  });
  it('exits 2 on an unknown command', () => {
    const r = run('frobnicate');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/unknown command/);
  });
});
