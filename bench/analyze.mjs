#!/usr/bin/env node
// Traffic-engine benchmark (issue #6): builds a ~2M-packet capture by
// concatenating the IoT Sentinel captures of ../shared/data with `mergecap -a`,
// then times, in the same run and on the same file:
//   iotguard analyze F --json --no-detectors   (the whole CLI: readers, decoders, flows, JSON)
//   iotguard analyze F --json                  (the same plus the default detectors)
//   tshark -r F -q -z conv,ip     (conv,ipv6 with --ipv6)
//   tcpdump -nr F > /dev/null
// and prints packets/s, wall-clock and CPU ratios, and peak RSS on a quarter
// and on the full file (memory must stay flat as the file grows). With
// --runs R it runs R rounds of every command, prints each command's fastest
// run, and the ratio of each round (its commands ran back to back).
//
// With --ipv6, every IPv4 packet of the base capture is first rewritten as
// IPv6 (same transport bytes; bench/lib.mjs pcapToIpv6), to time the IPv6
// path on the same traffic.
//
// Usage: npm run build && node bench/analyze.mjs [--packets N] [--runs R] [--ipv6] [--keep]
// Needs mergecap, capinfos, tshark, tcpdump and /usr/bin/time (GNU time).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, flag, loadavg as load, opt, packetsOf, pcapToIpv6, requireSetup, sharedData, timed, walk } from './lib.mjs';

const data = join(sharedData, 'pcap', 'iot-devices', 'iot-sentinel');
const target = opt('--packets', 2_000_000);
const runs = opt('--runs', 1);
const work = '/tmp/iotguard-bench';
requireSetup({ tools: ['mergecap', 'capinfos', 'tshark', 'tcpdump', '/usr/bin/time'], data });

mkdirSync(work, { recursive: true });
const base4 = join(work, 'sentinel-base.pcap');
if (!existsSync(base4)) execFileSync('mergecap', ['-a', '-F', 'pcap', '-w', base4, ...walk(data)]);
const v6 = flag('--ipv6');
const conv = v6 ? 'conv,ipv6' : 'conv,ip';
const tag = v6 ? 'sentinel6' : 'sentinel';
const base = join(work, `${tag}-base.pcap`);
if (v6 && !existsSync(base)) writeFileSync(base, pcapToIpv6(readFileSync(base4)).bytes);
const basePackets = packetsOf(base);
const copies = Math.ceil(target / basePackets);
const quarterCopies = Math.max(1, Math.round(copies / 4));
const big = join(work, `${tag}-x${copies}.pcap`);
const quarter = join(work, `${tag}-x${quarterCopies}.pcap`);
for (const [file, n] of [
  [big, copies],
  [quarter, quarterCopies],
]) {
  if (!existsSync(file)) execFileSync('mergecap', ['-a', '-F', 'pcap', '-w', file, ...Array(n).fill(base)]);
}
const bigPackets = basePackets * copies;
const quarterPackets = basePackets * quarterCopies;

const fastest = (ts) => ts.reduce((b, t) => (t.wall < b.wall ? t : b));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

console.log(`capture: ${big} (${bigPackets.toLocaleString('en-US')} packets, ${(statSync(big).size / 2 ** 20).toFixed(0)} MiB; ${copies} x ${basePackets} IoT Sentinel packets${v6 ? ', IPv4 rewritten as IPv6' : ''})`);
console.log(`machine: ${execFileSync('nproc', { encoding: 'utf8' }).trim()} cores, load before: ${load()}`);

// Rounds, each running every command once: the host drifts by tens of per cent within minutes,
// so a ratio is also reported per round (commands of one round ran back to back).
const rounds = [];
for (let i = 0; i < runs; i++) {
  rounds.push({
    mine: timed(process.execPath, [cli, 'analyze', big, '--json', '--no-detectors']),
    quarter: timed(process.execPath, [cli, 'analyze', quarter, '--json', '--no-detectors']),
    det: timed(process.execPath, [cli, 'analyze', big, '--json']),
    tcpdump: timed('tcpdump', ['-nr', big]),
    tshark: timed('tshark', ['-r', big, '-q', '-z', conv]),
  });
}
const mine = fastest(rounds.map((r) => r.mine));
const mineQuarter = fastest(rounds.map((r) => r.quarter));
const withDetectors = fastest(rounds.map((r) => r.det));
const tcpdump = fastest(rounds.map((r) => r.tcpdump));
const tshark = fastest(rounds.map((r) => r.tshark));
console.log(`load after: ${load()}`);

const row = (name, t) =>
  `${name.padEnd(28)} ${t.wall.toFixed(2).padStart(7)} s wall ${t.cpu.toFixed(2).padStart(7)} s cpu ${Math.round(bigPackets / t.wall).toLocaleString('en-US').padStart(11)} pkt/s ${t.rss.toFixed(0).padStart(6)} MiB peak`;
console.log('');
console.log(row('iotguard analyze (engine)', mine));
console.log(row('iotguard analyze (+detectors)', withDetectors));
console.log(row('tcpdump -nr F', tcpdump));
console.log(row(`tshark -q -z ${conv}`, tshark));
console.log('');
const ratio = (a, b) => (a / b).toFixed(1);
const perRound = (other) => {
  const xs = rounds.map((r) => r[other].wall / r.mine.wall);
  return runs > 1 ? `; per round ${xs.map((x) => x.toFixed(1)).join(', ')} (median ${median(xs).toFixed(1)}x)` : '';
};
console.log(`vs tshark:  ${ratio(tshark.wall, mine.wall)}x faster (wall), ${ratio(tshark.cpu, mine.cpu)}x (cpu)   target >= 10x${perRound('tshark')}`);
console.log(`vs tcpdump: ${ratio(tcpdump.wall, mine.wall)}x faster (wall), ${ratio(tcpdump.cpu, mine.cpu)}x (cpu)   target >= 3x${perRound('tcpdump')}`);
console.log(`with the default detectors: ${ratio(tshark.wall, withDetectors.wall)}x / ${ratio(tshark.cpu, withDetectors.cpu)}x vs tshark, ${ratio(tcpdump.wall, withDetectors.wall)}x / ${ratio(tcpdump.cpu, withDetectors.cpu)}x vs tcpdump (wall / cpu), ${withDetectors.rss.toFixed(0)} MiB peak`);
console.log(`memory: ${mineQuarter.rss.toFixed(0)} MiB peak on ${quarterPackets.toLocaleString('en-US')} packets, ${mine.rss.toFixed(0)} MiB on ${bigPackets.toLocaleString('en-US')} (target < 200 MiB, flat)`);
if (flag('--clean')) rmSync(work, { recursive: true, force: true });
