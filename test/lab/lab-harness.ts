// Brings the lab up for the lab test project and down afterwards. When this
// machine cannot run it (not root, no network namespaces, packages missing),
// every lab test skips with the reason instead of failing.
import { spawnSync } from 'node:child_process';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    labReady: boolean;
    labSkipReason: string;
  }
}

const bin = new URL('../../bin/iotguard.js', import.meta.url).pathname;

export function labCli(args: string[], opts: { timeout?: number } = {}) {
  return spawnSync(process.execPath, [bin, 'lab', ...args], { encoding: 'utf8', timeout: opts.timeout ?? 600_000 });
}

function whyNot(): string | undefined {
  if (process.getuid?.() !== 0) return 'lab tests need root (network namespaces)';
  if (process.env.IOTGUARD_SKIP_LAB === '1') return 'IOTGUARD_SKIP_LAB=1';
  const probe = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  if (probe.status !== 0) return `ip netns does not work here: ${probe.stderr.trim()}`;
  return undefined;
}

export async function setup(project: TestProject): Promise<void> {
  const reason = whyNot();
  if (reason) {
    process.stderr.write(`[lab] skipping lab tests: ${reason}\n`);
    project.provide('labReady', false);
    project.provide('labSkipReason', reason);
    return;
  }
  const t0 = Date.now();
  const r = labCli(['up']);
  if (r.status !== 0) {
    throw new Error(`iotguard lab up failed (${r.status}):\n${r.stderr}\n${r.stdout}`);
  }
  process.stderr.write(`[lab] up in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
  project.provide('labReady', true);
  project.provide('labSkipReason', '');
}

export async function teardown(): Promise<void> {
  if (whyNot()) return;
  if (process.env.IOTGUARD_KEEP_LAB === '1') return;
  labCli(['down']);
}
