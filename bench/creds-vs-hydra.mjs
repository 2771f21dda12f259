#!/usr/bin/env node
// Benchmark: `iotguard creds` against hydra on the lab's login services, with
// the same credential list in the same order and the same parallelism (and,
// with --rate, the same attempts-per-second cap: hydra -t 1 -c 1/RATE).
// Needs root, a running lab (`iotguard lab up`), hydra, and a build (dist/).
// Sends traffic only to the lab's LAN, from the pi namespace.
//   node bench/creds-vs-hydra.mjs [--concurrency 4] [--rate 1] [--only cam-telnet,nas-ssh] [--runs 1] [--pause 4]
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const { listFor } = await import(path.join(root, 'dist/core/creds/wordlist.js'));
const { loadShippedLists } = await import(path.join(root, 'dist/adapters/probe/creds/data.js'));

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : def;
};
const concurrency = Number(opt('concurrency', '4'));
const rate = opt('rate', undefined);
const runs = Number(opt('runs', '1'));
const only = opt('only', '')?.split(',').filter(Boolean) ?? [];
const NS = opt('netns', 'ig-pi');
// let the device finish the logins the previous run hung up on (PAM fail delays) before the next run
const pauseMs = Number(opt('pause', '4')) * 1000;
const pause = () => new Promise((r) => setTimeout(r, pauseMs));

const TARGETS = [
  { name: 'cam-telnet', ip: '192.168.77.20', service: 'telnet', port: 23, hydra: ['telnet'] },
  { name: 'cam-http', ip: '192.168.77.20', service: 'http', port: 80, hydra: ['http-get', '/'] },
  { name: 'dvr-ssh', ip: '192.168.77.21', service: 'ssh', port: 22, hydra: ['ssh'] },
  { name: 'nas-telnet', ip: '192.168.77.30', service: 'telnet', port: 23, hydra: ['telnet'] },
  { name: 'nas-ssh', ip: '192.168.77.30', service: 'ssh', port: 22, hydra: ['ssh'] },
  { name: 'nas-http', ip: '192.168.77.30', service: 'http', port: 80, hydra: ['http-get', '/'] },
].filter((t) => only.length === 0 || only.includes(t.name));

function sh(cmd, argv, timeoutMs = 900_000) {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const c = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    c.stdout.on('data', (d) => (out += d));
    c.stderr.on('data', (d) => (err += d));
    const timer = setTimeout(() => c.kill('SIGTERM'), timeoutMs);
    c.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out, err, seconds: (performance.now() - t0) / 1000 });
    });
  });
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'iotguard-bench-'));
const lists = loadShippedLists();
const rows = [];
try {
  for (const t of TARGETS) {
    const list = listFor(t.service, 'defaults', lists);
    const file = path.join(dir, `${t.service}.txt`);
    writeFileSync(file, list.map((c) => `${c.username}:${c.password}`).join('\n') + '\n');
    for (let run = 0; run < runs; run++) {
      await pause();
      const ig = await sh('ip', [
        'netns', 'exec', NS, process.execPath, path.join(root, 'bin/iotguard.js'), 'creds',
        '--targets', t.ip, '--services', `${t.service}:${t.port}`, '--authorized', '--json',
        '--concurrency', String(rate ? 1 : concurrency), '--max-rate', String(rate ?? 1000), '--timeout', '10',
      ]);
      let igRes = { status: `exit ${ig.code}` };
      try {
        igRes = JSON.parse(ig.out).results[0];
      } catch {
        igRes = { status: `error: ${ig.err.trim().split('\n').pop()}` };
      }
      const hydraArgs = ['-C', file, '-f', '-I', '-w', '10', '-s', String(t.port), ...(rate ? ['-t', '1', '-c', String(Math.max(1, Math.round(1 / Number(rate))))] : ['-t', String(concurrency)]), t.ip, ...t.hydra];
      await pause();
      const hy = await sh('ip', ['netns', 'exec', NS, 'hydra', ...hydraArgs]);
      const found = /login:\s*(\S*)\s+password:\s*(.*)$/m.exec(hy.out);
      const attempts = /(\d+) login tries/.exec(hy.out)?.[1];
      rows.push({
        target: t.name,
        list: list.length,
        iotguard: { status: igRes.status, login: igRes.username !== undefined ? `${igRes.username}:${igRes.password}` : '', attempts: igRes.attempts, seconds: +ig.seconds.toFixed(2) },
        hydra: { status: found ? 'default-credentials' : hy.code === 0 ? 'not-found' : `exit ${hy.code}`, login: found ? `${found[1]}:${found[2].trim()}` : '', planned: attempts ? Number(attempts) : undefined, seconds: +hy.seconds.toFixed(2), tail: hy.err.trim().split('\n').slice(-2).join(' | ').slice(0, 160) },
      });
      const r = rows[rows.length - 1];
      process.stderr.write(`${t.name}: iotguard ${r.iotguard.status} ${r.iotguard.login} ${r.iotguard.seconds}s | hydra ${r.hydra.status} ${r.hydra.login} ${r.hydra.seconds}s\n`);
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
process.stdout.write(`${JSON.stringify({ concurrency: rate ? 1 : concurrency, rate: rate ? Number(rate) : null, rows }, null, 2)}\n`);
