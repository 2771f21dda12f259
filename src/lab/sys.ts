// Process and namespace plumbing for the lab: run a command (optionally inside
// a namespace), start a daemon in its own process group and remember its PID,
// end daemons by PID. Nothing here ever kills by process name.
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { ErrorCodes, IotguardError } from '../core/model/errors.js';

export interface RunResult {
  status: number;
  stdout: string;
  stderr: string;
}

function toResult(r: SpawnSyncReturns<string>): RunResult {
  return { status: r.status ?? (r.signal ? 128 : 1), stdout: r.stdout ?? '', stderr: r.stderr ?? (r.error ? String(r.error) : '') };
}

/** Run a command and return its output; never throws for a non-zero status. */
export function run(cmd: string, args: string[], opts: { input?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): RunResult {
  return toResult(
    spawnSync(cmd, args, {
      encoding: 'utf8',
      input: opts.input,
      timeout: opts.timeoutMs ?? 60_000,
      env: opts.env ?? process.env,
      maxBuffer: 64 * 1024 * 1024,
    }),
  );
}

/** Run a command and throw a LAB_SETUP error naming it when it fails. */
export function must(cmd: string, args: string[], opts: { input?: string; timeoutMs?: number } = {}): string {
  const r = run(cmd, args, opts);
  if (r.status !== 0) {
    throw new IotguardError(ErrorCodes.LAB_SETUP, `lab: '${[cmd, ...args].join(' ')}' failed: ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' / ')}`);
  }
  return r.stdout;
}

export function nsArgs(ns: string, argv: string[]): [string, string[]] {
  return ['ip', ['netns', 'exec', ns, ...argv]];
}

export function nsRun(ns: string, argv: string[], opts: { input?: string; timeoutMs?: number } = {}): RunResult {
  const [c, a] = nsArgs(ns, argv);
  return run(c, a, opts);
}

export function nsMust(ns: string, argv: string[], opts: { input?: string; timeoutMs?: number } = {}): string {
  const [c, a] = nsArgs(ns, argv);
  return must(c, a, opts);
}

/** `ip -n NS ...` */
export function ipn(ns: string, args: string[]): string {
  return must('ip', ['-n', ns, ...args]);
}

export interface DaemonRecord {
  node: string;
  name: string;
  pid: number;
  argv: string[];
  log: string;
}

/**
 * Start a long-running program inside a namespace, detached in its own
 * process group (so its forked children can be ended with it), output to a
 * log file. `ip netns exec` execs the program, so the PID is the daemon's.
 */
export function startDaemon(ns: string, node: string, name: string, argv: string[], log: string, opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): DaemonRecord {
  const fd = openSync(log, 'a');
  try {
    const child = spawn('ip', ['netns', 'exec', ns, ...argv], {
      detached: true,
      stdio: ['ignore', fd, fd],
      cwd: opts.cwd,
      env: opts.env ?? { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', HOME: '/root', LANG: 'C.UTF-8' },
    });
    child.unref();
    if (child.pid === undefined) throw new IotguardError(ErrorCodes.LAB_SETUP, `lab: could not start ${name} on ${node}`);
    return { node, name, pid: child.pid, argv, log };
  } finally {
    closeSync(fd);
  }
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    // a zombie still answers kill(0); check its state
    const stat = run('cat', [`/proc/${pid}/stat`]).stdout;
    return !/^\d+ \(.*\) Z/.test(stat);
  } catch {
    return false;
  }
}

const sleepBuf = new Int32Array(new SharedArrayBuffer(4));
export function sleepMs(ms: number): void {
  Atomics.wait(sleepBuf, 0, 0, ms);
}

/** End a process group by its leader's PID: SIGTERM, then SIGKILL after a grace period. */
export function stopGroup(pid: number, graceMs = 2000): void {
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(-pid, sig);
    } catch {
      try {
        process.kill(pid, sig);
      } catch {
        /* already gone */
      }
    }
  };
  if (!pidAlive(pid)) {
    signal('SIGKILL'); // children of a dead leader may still hold the group
    return;
  }
  signal('SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && pidAlive(pid)) sleepMs(50);
  signal('SIGKILL');
  const killDeadline = Date.now() + 2000;
  while (Date.now() < killDeadline && pidAlive(pid)) sleepMs(20);
}

/** PIDs of every process inside a namespace (by namespace, not by name). */
export function pidsInNetns(ns: string): number[] {
  const r = run('ip', ['netns', 'pids', ns]);
  if (r.status !== 0) return [];
  return r.stdout
    .split(/\s+/)
    .filter(Boolean)
    .map(Number)
    .filter((n) => Number.isInteger(n) && n > 1);
}

export function netnsExists(ns: string): boolean {
  return existsSync(`/run/netns/${ns}`);
}

/** Wait until a TCP or UDP port is bound inside a namespace. */
export function waitForListen(ns: string, proto: 'tcp' | 'udp', port: number, timeoutMs = 10_000, addr?: string): boolean {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const r = nsRun(ns, ['ss', '-H', '-n', proto === 'tcp' ? '-lt' : '-lu']);
    const lines = r.stdout.split('\n');
    if (lines.some((l) => { const local = l.trim().split(/\s+/)[3] ?? ''; return local.endsWith(`:${port}`) && (!addr || local.startsWith(addr) || local.startsWith('*') || local.startsWith('0.0.0.0')); })) return true;
    sleepMs(100);
  }
  return false;
}
