// Brings the lab up for the lab test project and down afterwards. When this
// machine cannot run it (not root, no network namespaces, packages missing),
// every lab test skips with the reason instead of failing.
import { spawn, spawnSync } from 'node:child_process';
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

/** Async variant for long commands: a blocked test worker misses vitest's RPC deadlines. */
export function runAsync(cmd: string, args: string[], opts: { timeout?: number; env?: NodeJS.ProcessEnv } = {}): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeout ?? 600_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ status: code ?? 1, stdout, stderr });
    });
  });
}

export function labCliAsync(args: string[], opts: { timeout?: number; env?: NodeJS.ProcessEnv } = {}) {
  return runAsync(process.execPath, [bin, 'lab', ...args], opts);
}

/** Run a command inside a lab node's namespace, asynchronously. */
export function inNsAsync(node: string, argv: string[], timeout = 60_000) {
  return runAsync('ip', ['netns', 'exec', `${process.env.IOTGUARD_LAB ?? 'ig'}-${node}`, ...argv], { timeout });
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
  // a lab someone already runs (a developer, another test run) is used and left up
  try {
    startedHere = JSON.parse(labCli(['status', '--json']).stdout).up !== true;
  } catch {
    startedHere = true;
  }
  const r = labCli(['up']);
  if (r.status !== 0) {
    throw new Error(`iotguard lab up failed (${r.status}):\n${r.stderr}\n${r.stdout}`);
  }
  process.stderr.write(`[lab] up in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
  project.provide('labReady', true);
  project.provide('labSkipReason', '');
}

let startedHere = false;

export async function teardown(): Promise<void> {
  if (whyNot() || !startedHere) return;
  if (process.env.IOTGUARD_KEEP_LAB === '1') return;
  labCli(['down']);
}
