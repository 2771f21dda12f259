// CLI surface of tls-check: help, usage errors (exit 2) and bad input (exit 1, one line).
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

const bin = new URL('../../../bin/iotguard.js', import.meta.url).pathname;
const cli = (args: string[]) => spawnSync(process.execPath, [bin, 'tls-check', ...args], { encoding: 'utf8', timeout: 20_000 });

describe('iotguard tls-check CLI', () => {
  it('--help explains the command and exits 0', () => {
    const r = cli(['--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/--device/);
    expect(r.stdout).toMatch(/accepts-self-signed/);
    expect(r.stdout).toMatch(/--authorized/);
  });

  it('a missing --device is a usage error (2)', () => {
    expect(cli(['--authorized']).status).toBe(2);
  });

  const bad: Array<[string[], RegExp]> = [
    [['--device', 'plug', '--authorized'], /not an IPv4 address/],
    [['--device', '8.8.8.8', '--authorized'], /not a private/],
    [['--device', '192.168.77.60', '--seconds', '0', '--authorized'], /--seconds/],
    [['--device', '192.168.77.60', '--seconds', '99999', '--authorized'], /--seconds/],
    [['--device', '192.168.77.60', '--ports', '443,70000', '--authorized'], /--ports/],
    [['--device', '192.168.77.60', '--wrong-host-cert', '/nonexistent.pem', '--authorized'], /go together/],
    [['--device', '192.168.77.60', '--wrong-host-cert', '/nonexistent.pem', '--wrong-host-key', '/nonexistent.key', '--authorized'], /no such file/],
    [['--device', '192.168.77.60'], /--authorized/],
  ];
  for (const [args, msg] of bad) {
    it(`bad input ${args.join(' ')} -> one line, exit 1`, () => {
      const r = cli(args);
      expect(r.status).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(msg);
    });
  }

  it('--json errors are one JSON line on stderr and nothing on stdout', () => {
    const r = cli(['--device', '192.168.77.60', '--json']);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(JSON.parse(r.stderr).error.code).toBe('IOTGUARD_ERR_NOT_AUTHORIZED');
  });
});
