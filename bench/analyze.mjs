#!/usr/bin/env node
// Traffic-engine benchmark (issue #6): builds a ~2M-packet capture by
// concatenating the IoT Sentinel captures of ../shared/data with `mergecap -a`,
// then times, in the same run and on the same file:
//   iotguard analyze F --json --no-detectors   (the whole CLI: readers, decoders, flows, JSON)
//   iotguard analyze F --json                  (the same plus the default detectors)
//   tshark -r F -q -z conv,ip
//   tcpdump -nr F > /dev/null
// and prints packets/s, wall-clock and CPU ratios, and peak RSS on a quarter
// and on the full file (memory must stay flat as the file grows).
//
// Usage: npm run build && node bench/analyze.mjs [--packets N] [--runs R] [--keep]
// Needs mergecap, capinfos, tshark, tcpdump and /usr/bin/time (GNU time).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const data = join(root, '..', 'shared', 'data', 'pcap', 'iot-devices', 'iot-sentinel');
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const target = opt('--packets', 2_000_000);
const runs = opt('--runs', 1);
const work = '/tmp/iotguard-bench';

function need(cmd) {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  if (r.status !== 0) {
    console.log(`SKIP: ${cmd} is not installed`);
    process.exit(0);
  }
}
if (!existsSync(data)) {
  console.log(`SKIP: ${data} is absent (the shared test corpus is not on this machine)`);
  process.exit(0);
}
for (const c of ['mergecap', 'capinfos', 'tshark', 'tcpdump', '/usr/bin/time']) need(c);
if (!existsSync(join(root, 'dist', 'cli', 'main.js'))) {
  console.log('build first: npm run build');
  process.exit(1);
}

function walk(d, out = []) {
  for (const n of readdirSync(d).sort()) {
    const p = join(d, n);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (/\.pcap(ng)?$/.test(n)) out.push(p);
  }
  return out;
}

const packetsOf = (f) => Number(/Number of packets:\s+(\d+)/.exec(execFileSync('capinfos', ['-c', '-M', f], { encoding: 'utf8' }))?.[1]);

mkdirSync(work, { recursive: true });
const base = join(work, 'sentinel-base.pcap');
if (!existsSync(base)) execFileSync('mergecap', ['-a', '-F', 'pcap', '-w', base, ...walk(data)]);
const basePackets = packetsOf(base);
const copies = Math.ceil(target / basePackets);
const quarterCopies = Math.max(1, Math.round(copies / 4));
const big = join(work, `sentinel-x${copies}.pcap`);
const quarter = join(work, `sentinel-x${quarterCopies}.pcap`);
for (const [file, n] of [
  [big, copies],
  [quarter, quarterCopies],
]) {
  if (!existsSync(file)) execFileSync('mergecap', ['-a', '-F', 'pcap', '-w', file, ...Array(n).fill(base)]);
}
const bigPackets = basePackets * copies;
const quarterPackets = basePackets * quarterCopies;

/** Run under GNU time: wall s, user s, sys s, max RSS MiB. */
function timed(cmd, argv) {
  const r = spawnSync('/usr/bin/time', ['-f', 'TIME %e %U %S %M', cmd, ...argv], { encoding: 'utf8', maxBuffer: 1 << 30, stdio: ['ignore', 'ignore', 'pipe'] });
  const m = /TIME ([\d.]+) ([\d.]+) ([\d.]+) (\d+)/.exec(r.stderr);
  if (!m) throw new Error(`${cmd} failed: ${r.stderr.slice(-500)}`);
  return { wall: Number(m[1]), cpu: Number(m[2]) + Number(m[3]), rss: Number(m[4]) / 1024, status: r.status };
}

function best(cmd, argv) {
  let b;
  for (let i = 0; i < runs; i++) {
    const t = timed(cmd, argv);
    if (!b || t.wall < b.wall) b = t;
  }
  return b;
}

const cli = join(root, 'bin', 'iotguard.js');
const load = () => execFileSync('cat', ['/proc/loadavg'], { encoding: 'utf8' }).split(' ').slice(0, 3).join(' ');
console.log(`capture: ${big} (${bigPackets.toLocaleString('en-US')} packets, ${(statSync(big).size / 2 ** 20).toFixed(0)} MiB; ${copies} x ${basePackets} IoT Sentinel packets)`);
console.log(`machine: ${execFileSync('nproc', { encoding: 'utf8' }).trim()} cores, load before: ${load()}`);

const mine = best(process.execPath, [cli, 'analyze', big, '--json', '--no-detectors']);
const mineQuarter = best(process.execPath, [cli, 'analyze', quarter, '--json', '--no-detectors']);
const withDetectors = best(process.execPath, [cli, 'analyze', big, '--json']);
const tcpdump = best('tcpdump', ['-nr', big]);
const tshark = best('tshark', ['-r', big, '-q', '-z', 'conv,ip']);
console.log(`load after: ${load()}`);

const row = (name, t) =>
  `${name.padEnd(28)} ${t.wall.toFixed(2).padStart(7)} s wall ${t.cpu.toFixed(2).padStart(7)} s cpu ${Math.round(bigPackets / t.wall).toLocaleString('en-US').padStart(11)} pkt/s ${t.rss.toFixed(0).padStart(6)} MiB peak`;
console.log('');
console.log(row('iotguard analyze (engine)', mine));
console.log(row('iotguard analyze (+detectors)', withDetectors));
console.log(row('tcpdump -nr F', tcpdump));
console.log(row('tshark -q -z conv,ip', tshark));
console.log('');
const ratio = (a, b) => (a / b).toFixed(1);
console.log(`vs tshark:  ${ratio(tshark.wall, mine.wall)}x faster (wall), ${ratio(tshark.cpu, mine.cpu)}x (cpu)   target >= 10x`);
console.log(`vs tcpdump: ${ratio(tcpdump.wall, mine.wall)}x faster (wall), ${ratio(tcpdump.cpu, mine.cpu)}x (cpu)   target >= 3x`);
console.log(`with the default detectors: ${ratio(tshark.wall, withDetectors.wall)}x / ${ratio(tshark.cpu, withDetectors.cpu)}x vs tshark, ${ratio(tcpdump.wall, withDetectors.wall)}x / ${ratio(tcpdump.cpu, withDetectors.cpu)}x vs tcpdump (wall / cpu), ${withDetectors.rss.toFixed(0)} MiB peak`);
console.log(`memory: ${mineQuarter.rss.toFixed(0)} MiB peak on ${quarterPackets.toLocaleString('en-US')} packets, ${mine.rss.toFixed(0)} MiB on ${bigPackets.toLocaleString('en-US')} (target < 200 MiB, flat)`);
if (args.includes('--clean')) rmSync(work, { recursive: true, force: true });
