// `lab up` is idempotent and `lab down` leaves the host exactly as it was. Uses
// a second lab name so the shared lab of the other tests is untouched.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, inject, it } from 'vitest';
import { labCliAsync } from './lab-harness.js';

const ready = inject('labReady');
const lab = (args: string[]) => labCliAsync(args, { env: { ...process.env, IOTGUARD_LAB: 'igt' } });
const snapshot = () => ({
  netns: spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout,
  links: spawnSync('ip', ['-o', 'link'], { encoding: 'utf8' }).stdout,
  addrs: spawnSync('ip', ['-o', 'addr'], { encoding: 'utf8' }).stdout,
});

describe.skipIf(!ready)('lab lifecycle', () => {
  it('up twice gives one working lab; down removes every namespace, link, process and file', async () => {
    const before = snapshot();
    expect((await lab(['up'])).status).toBe(0);
    const first = JSON.parse((await lab(['status', '--json'])).stdout);
    expect(first.up).toBe(true);
    const again = (await lab(['up']));
    expect(again.status).toBe(0);
    expect(again.stderr).toMatch(/already up/);
    const second = JSON.parse((await lab(['status', '--json'])).stdout);
    expect(second.daemons.map((d: { pid: number }) => d.pid)).toEqual(first.daemons.map((d: { pid: number }) => d.pid));
    // nothing of the lab shows in the host's namespace while it runs
    expect(snapshot().links).toBe(before.links);
    const pids: number[] = first.daemons.map((d: { pid: number }) => d.pid);
    expect((await lab(['down'])).status).toBe(0);
    const after = snapshot();
    expect(after).toEqual(before);
    // gone, or at most a zombie waiting for init to reap it
    for (const pid of pids) {
      const stat = existsSync(`/proc/${pid}/stat`) ? readFileSync(`/proc/${pid}/stat`, 'utf8') : '';
      expect(stat === '' || /^\d+ \(.*\) Z/.test(stat), `pid ${pid} still running: ${stat}`).toBe(true);
    }
    expect(existsSync('/run/iotguard-lab/igt')).toBe(false);
    expect(spawnSync('sh', ['-c', 'ls -d /etc/netns/igt-* 2>/dev/null'], { encoding: 'utf8' }).stdout).toBe('');
    const st = JSON.parse((await lab(['status', '--json'])).stdout);
    expect(st.up).toBe(false);
  });
});
