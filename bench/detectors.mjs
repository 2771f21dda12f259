#!/usr/bin/env node
// Detector cost (issue #11): the same capture through `iotguard analyze --json`
// with all detectors and with `--no-detectors` (the engine alone), runs
// alternated so machine load hits both alike. Target: detectors on <= 1.5x the
// engine alone (wall and CPU, best of the runs; and the median of the rounds'
// ratios, as the host's speed drifts). The capture concatenates (mergecap -a)
// the 93 IoT Sentinel setups of ../shared/data (the input of bench/analyze.mjs), or
// with --mix those plus the DNS-tunnel, scan, TLS and HTTP-download captures
// (attack-heavy: more work for the detectors), repeated up to --packets.
//
// With --split it also splits the cost in one process (rounds interleaved, medians): the
// engine alone; the engine building every event the detectors subscribe to and handing it
// to a no-op detector (what the events cost before any detector runs); all detectors.
//
// Usage: npm run build && node bench/detectors.mjs [--packets N] [--runs R] [--mix] [--split] [--clean]
// Needs mergecap and capinfos (wireshark-common) and /usr/bin/time (GNU time).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { cli, flag, loadavg as load, opt, packetsOf, requireSetup, root, sharedData as data, timed as timedCmd, walk } from './lib.mjs';

const target = opt('--packets', 1_000_000);
const runs = opt('--runs', 3);
const work = '/tmp/iotguard-bench-detectors';
requireSetup({ tools: ['mergecap', 'capinfos', '/usr/bin/time'], data });

mkdirSync(work, { recursive: true });
const mix = flag('--mix');
const base = join(work, mix ? 'mix-base.pcap' : 'sentinel-base.pcap');
if (!existsSync(base)) {
  // Ethernet pcap files only, so the merge stays one link type
  const dirs = mix ? ['pcap/iot-devices/iot-sentinel', 'dns-tunnel/dmachard-datasets-malicious-dns', 'pcap/scan-telnet-malware', 'pcap/tls', 'pcap/http-download'] : ['pcap/iot-devices/iot-sentinel'];
  const files = dirs
    .flatMap((d) => walk(join(data, d), /\.pcap$/))
    .filter((f) => /encapsulation:\s+ether\s*$/m.test(execFileSync('capinfos', ['-E', '-M', f], { encoding: 'utf8' })));
  execFileSync('mergecap', ['-a', '-F', 'pcap', '-w', base, ...files]);
}
const basePackets = packetsOf(base);
const copies = Math.max(1, Math.ceil(target / basePackets));
const file = join(work, `${mix ? 'mix' : 'sentinel'}-x${copies}.pcap`);
if (!existsSync(file)) execFileSync('mergecap', ['-a', '-F', 'pcap', '-w', file, ...Array(copies).fill(base)]);
const packets = basePackets * copies;

function timed(argv) {
  const r = timedCmd(process.execPath, [cli, ...argv], { stdout: true });
  if (r.status !== 0) throw new Error(`analyze failed: ${r.stderr.slice(-500)}`);
  return { ...r, findings: JSON.parse(r.stdout).findings.length };
}

console.log(`capture: ${file} (${packets.toLocaleString('en-US')} packets, ${(statSync(file).size / 2 ** 20).toFixed(0)} MiB)`);
console.log(`machine: ${execFileSync('nproc', { encoding: 'utf8' }).trim()} cores, load before: ${load()}`);
const on = [];
const off = [];
for (let i = 0; i < runs; i++) {
  off.push(timed(['analyze', file, '--json', '--no-detectors']));
  on.push(timed(['analyze', file, '--json']));
}
console.log(`load after: ${load()}`);
const best = (xs, k) => Math.min(...xs.map((x) => x[k]));
const row = (name, xs) =>
  `${name.padEnd(30)} ${best(xs, 'wall').toFixed(2).padStart(7)} s wall ${best(xs, 'cpu').toFixed(2).padStart(7)} s cpu ${Math.round(packets / best(xs, 'wall')).toLocaleString('en-US').padStart(11)} pkt/s ${best(xs, 'rss').toFixed(0).padStart(5)} MiB  ${xs[0].findings} findings`;
console.log('');
console.log(row('analyze --no-detectors', off));
console.log(row('analyze (all detectors)', on));
const rw = best(on, 'wall') / best(off, 'wall');
const rc = best(on, 'cpu') / best(off, 'cpu');
// each round ran the two back to back: its ratio saw one phase of the host (whose speed drifts 2x within minutes)
const perRound = on.map((x, i) => x.wall / off[i].wall);
const median = [...perRound].sort((a, b) => a - b)[Math.floor(perRound.length / 2)];
console.log(`\ndetectors cost: ${rw.toFixed(2)}x wall, ${rc.toFixed(2)}x cpu (best of ${runs})   target <= 1.5x`);
console.log(`per round (wall): ${perRound.map((r) => r.toFixed(2)).join(', ')}; median ${median.toFixed(2)}x`);
if (flag('--split')) await split();
if (flag('--clean')) rmSync(work, { recursive: true, force: true });
process.exitCode = rw <= 1.5 && median <= 1.5 ? 0 : 1;

/** The cost split in one process: engine alone, events to no-op detectors, the real detectors. */
async function split() {
  const { analyzeFiles } = await import(join(root, 'dist', 'adapters', 'capture', 'analyze-files.js'));
  const factory = await (await import(join(root, 'dist', 'adapters', 'capture', 'detectors.js'))).standardDetectorFactory();
  const modes = {
    engine: () => [],
    events: () => factory().map((d) => ({ name: d.name, wants: d.wants, onEvent() {}, finish: () => [] })),
    detectors: () => factory(),
  };
  const ms = { engine: [], events: [], detectors: [] };
  const rounds = Math.max(3, runs);
  // round 0 warms the JIT and is not counted; the order turns every round
  const order = Object.keys(modes);
  for (let r = 0; r <= rounds; r++) {
    for (const m of r % 2 ? [...order].reverse() : order) {
      const detectors = modes[m]();
      const t0 = performance.now();
      await analyzeFiles([file], { detectors });
      if (r > 0) ms[m].push(performance.now() - t0);
    }
  }
  const med = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
  const e = med(ms.engine);
  console.log(`\nin one process, median of ${rounds} interleaved rounds:`);
  const line = (label, m) => console.log(`  ${label.padEnd(46)} ${(med(ms[m]) / 1000).toFixed(2)} s   ${(med(ms[m]) / e).toFixed(2)}x`);
  line('engine alone', 'engine');
  line("+ the detectors' events, to no-op detectors", 'events');
  line("+ the detectors' own work (all of them)", 'detectors');
}
