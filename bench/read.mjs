#!/usr/bin/env node
// File-read benchmark: how fast the capture reader gets bytes from the page
// cache, against `dd bs=4M` on the same file in the same run. The reader
// reads 4 MiB chunks, one ahead, into page-aligned buffers (see
// src/adapters/capture/file-source.ts); the "plain" variant is the same loop
// into plain Uint8Arrays (16 bytes past a page boundary, as malloc gives
// them), which is what the reader did before. Each command runs in a fresh
// process, R rounds back to back; best and median wall-clock and CPU
// (user + system) seconds are printed, with the ratios to dd. The node
// variants time their own read loop (start-up excluded); dd is timed whole
// by GNU time (its start-up is a millisecond).
//
// Usage: npm run build && node bench/read.mjs [--mib N] [--runs R]
// Needs dd and /usr/bin/time (GNU time). Makes its own file (random bytes).
import { randomFillSync } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { loadavg, opt, root, timed } from './lib.mjs';

const mib = opt('--mib', 640);
const runs = opt('--runs', 5);
if (!existsSync(join(root, 'dist', 'adapters', 'capture', 'file-source.js'))) {
  console.log('build first: npm run build');
  process.exit(1);
}
const dir = '/tmp/iotguard-bench-read';
mkdirSync(dir, { recursive: true });
const file = join(dir, `blob-${mib}m.bin`);
if (!existsSync(file) || statSync(file).size !== mib * 2 ** 20) {
  const fd = openSync(file, 'w');
  const b = Buffer.alloc(2 ** 20);
  for (let i = 0; i < mib; i++) writeSync(fd, randomFillSync(b));
  closeSync(fd);
}
// into the page cache before the first timed run
execFileSync('dd', [`if=${file}`, 'of=/dev/null', 'bs=4M'], { stdio: 'ignore' });

const mod = join(root, 'dist', 'adapters', 'capture', 'file-source.js');
// the node scripts time their own read loop (process start and module loading are not the read)
const pre = 'const c0 = process.cpuUsage(); const t0 = performance.now();';
const post = 'const c = process.cpuUsage(c0); console.log(JSON.stringify({ wall: (performance.now() - t0) / 1000, cpu: (c.user + c.system) / 1e6 }));';
const reader = `
import { fileChunks } from ${JSON.stringify(mod)};
${pre}
let n = 0;
for await (const c of fileChunks(${JSON.stringify(file)})) n += c.length;
if (n !== ${mib * 2 ** 20}) throw new Error('read ' + n);
${post}`;
const plain = `
import { promises as fsp } from 'node:fs';
const N = 4 << 20;
${pre}
const fh = await fsp.open(${JSON.stringify(file)}, 'r');
const bufs = [new Uint8Array(N), new Uint8Array(N)];
let i = 0, n = 0;
let next = fh.read(bufs[0], 0, N, null);
for (;;) {
  const { bytesRead } = await next;
  if (bytesRead === 0) break;
  i ^= 1;
  next = fh.read(bufs[i], 0, N, null);
  n += bytesRead;
}
await fh.close();
if (n !== ${mib * 2 ** 20}) throw new Error('read ' + n);
${post}`;
const node = (src) => JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', src], { encoding: 'utf8' }));
console.log(`file: ${file} (${mib} MiB, random bytes, in the page cache)`);
console.log(`machine: ${execFileSync('nproc', { encoding: 'utf8' }).trim()} cores, load before: ${loadavg()}`);
const rounds = [];
for (let r = 0; r < runs; r++) {
  rounds.push({
    dd: timed('dd', [`if=${file}`, 'of=/dev/null', 'bs=4M']),
    reader: node(reader),
    plain: node(plain),
  });
}
console.log(`load after: ${loadavg()}`);
const best = (k, f) => Math.min(...rounds.map((r) => f(r[k])));
const med = (k, f) => {
  const xs = rounds.map((r) => f(r[k])).sort((a, b) => a - b);
  return xs[Math.floor(xs.length / 2)];
};
const wall = (t) => t.wall;
const cpu = (t) => t.cpu;
const row = (name, w, c, mw, mc) => `${name.padEnd(34)} ${w.toFixed(2).padStart(6)} s wall ${c.toFixed(2).padStart(6)} s cpu   (median ${mw.toFixed(2)} / ${mc.toFixed(2)})   ${((mib / w) / 1024).toFixed(1).padStart(5)} GiB/s`;
console.log('');
console.log(row('dd bs=4M', best('dd', wall), best('dd', cpu), med('dd', wall), med('dd', cpu)));
console.log(row('reader (page-aligned buffers)', best('reader', wall), best('reader', cpu), med('reader', wall), med('reader', cpu)));
console.log(row('plain Uint8Array buffers', best('plain', wall), best('plain', cpu), med('plain', wall), med('plain', cpu)));
console.log('(dd timed by GNU time, its whole process; the node rows time their read loop in process)');
console.log('');
const x = (a, b) => (a / b).toFixed(1);
console.log(`reader vs dd:    ${x(best('reader', cpu), best('dd', cpu))}x dd's CPU time, ${x(best('reader', wall), best('dd', wall))}x its wall-clock time (1.0 = as fast as dd)`);
console.log(`plain vs reader: ${x(med('plain', cpu), med('reader', cpu))}x the CPU time (median of ${runs} rounds)`);
