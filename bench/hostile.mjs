#!/usr/bin/env node
// Hostile-input benchmark: traffic shaped to make the engine do more than
// linear work or hold more than bounded memory. It builds (in pure JS, no
// corpus needed) one of two captures:
//   long heads (default): TCP flows that each send one HTTP head of ~60 KiB cut
//     into 1,448-byte segments: the head is complete only after ~42 segments,
//     so a decoder that re-copies what it holds on every segment does
//     quadratic work;
//   --scan: one device SYN-scanning 30 hosts' ports (every SYN refused with a
//     RST), --passes times over --ports ports: a new flow every other packet,
//     so memory must not grow with the length of the scan;
//   --tls-headers: --flows N (default 100,000) TCP connections to port 443
//     that each send only a 5-byte TLS record header claiming 18 KiB, so a
//     decoder that makes room for what a header claims holds 18 KiB per flow.
// Then, in the same run and on the same file:
//   iotguard analyze F --json --no-detectors
//   iotguard analyze F --json
//   tshark -r F -q -z conv,ip
//   tcpdump -nr F > /dev/null
// and prints each one's wall time, CPU and peak RSS and the ratios. A linear
// engine is as fast per packet here as on ordinary traffic.
//
// Usage: npm run build && node bench/hostile.mjs [--flows N] [--runs R]
//        node bench/hostile.mjs --scan [--ports P] [--passes K] [--runs R]
//        node bench/hostile.mjs --tls-headers [--flows N] [--runs R]
// Needs tshark, tcpdump and /usr/bin/time (GNU time).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, flag, loadavg, opt, pcapHeader, root, timed } from './lib.mjs';

const tlsHeaders = flag('--tls-headers');
const flows = opt('--flows', tlsHeaders ? 100_000 : 1000);
const runs = opt('--runs', 3);
for (const c of ['tshark', 'tcpdump', '/usr/bin/time']) {
  if (spawnSync('sh', ['-c', `command -v ${c}`]).status !== 0) {
    console.log(`SKIP: ${c} is not installed`);
    process.exit(0);
  }
}
if (!existsSync(join(root, 'dist', 'cli', 'main.js'))) {
  console.log('build first: npm run build');
  process.exit(1);
}

/**
 * One Ethernet/IPv4/TCP packet as pcap record parts (header, then frame), at `us` microseconds.
 * MACs are 00:11:22:33:44:XX with XX the given byte.
 */
function tcpRecord(us, { srcMac, dstMac, src, dst, sport, dport, seq, ack = 0, flags, payload }) {
  const eth = Buffer.from([0, 0x11, 0x22, 0x33, 0x44, dstMac, 0, 0x11, 0x22, 0x33, 0x44, srcMac, 8, 0]);
  const ip = Buffer.alloc(20);
  ip[0] = 0x45;
  ip.writeUInt16BE(40 + payload.length, 2);
  ip[8] = 64;
  ip[9] = 6;
  ip.set(src, 12);
  ip.set(dst, 16);
  const tcp = Buffer.alloc(20);
  tcp.writeUInt16BE(sport, 0);
  tcp.writeUInt16BE(dport, 2);
  tcp.writeUInt32BE(seq >>> 0, 4);
  tcp.writeUInt32BE(ack >>> 0, 8);
  tcp[12] = 0x50;
  tcp[13] = flags;
  tcp.writeUInt16BE(65535, 14);
  const len = eth.length + 40 + payload.length;
  const h = Buffer.alloc(16);
  h.writeUInt32LE(1700000000 + Math.floor(us / 1e6), 0);
  h.writeUInt32LE(us % 1e6, 4);
  h.writeUInt32LE(len, 8);
  h.writeUInt32LE(len, 12);
  return [h, eth, ip, tcp, payload];
}

/** A little-endian microsecond pcap of `flows` flows 192.168.1.20:N -> 192.168.1.1:80, each SYN, one long head in segments, FIN. */
function longHeads(n) {
  const parts = [pcapHeader()];
  let us = 0;
  const packet = (sport, seq, flags, payload) => {
    us += 100;
    parts.push(...tcpRecord(us, { srcMac: 0x20, dstMac: 0x01, src: [192, 168, 1, 20], dst: [192, 168, 1, 1], sport, dport: 80, seq, flags, payload }));
  };
  const head = Buffer.from(`GET /x HTTP/1.1\r\nHost: cam.local\r\nX-Filler: ${'y'.repeat(60 * 1024)}\r\n`);
  for (let f = 0; f < n; f++) {
    const sport = 10000 + (f % 50000);
    let seq = 1000;
    packet(sport, seq - 1, 0x02, Buffer.alloc(0));
    for (let o = 0; o < head.length; o += 1448) {
      const p = head.subarray(o, o + 1448);
      packet(sport, seq, 0x18, p);
      seq += p.length;
    }
    packet(sport, seq, 0x11, Buffer.alloc(0));
  }
  return { bytes: Buffer.concat(parts), packets: n * (2 + Math.ceil(head.length / 1448)) };
}

/** A SYN scan from 192.168.1.66 of 30 hosts' ports 1..ports, `passes` times; each SYN answered by RST/ACK, 20 µs apart. */
function scan(ports, passes) {
  const hosts = 30;
  const n = hosts * ports * passes * 2;
  const out = Buffer.alloc(24 + n * (16 + 54));
  pcapHeader(out);
  let o = 24;
  let us = 0;
  const packet = (src, dst, sport, dport, flags) => {
    us += 20;
    out.writeUInt32LE(1700000000 + Math.floor(us / 1e6), o);
    out.writeUInt32LE(us % 1e6, o + 4);
    out.writeUInt32LE(54, o + 8);
    out.writeUInt32LE(54, o + 12);
    const e = o + 16;
    out.set([0, 0x11, 0x22, 0x33, 0x44, dst[3], 0, 0x11, 0x22, 0x33, 0x44, src[3], 8, 0], e);
    const ip = e + 14;
    out[ip] = 0x45;
    out.writeUInt16BE(40, ip + 2);
    out[ip + 8] = 64;
    out[ip + 9] = 6;
    out.set(src, ip + 12);
    out.set(dst, ip + 16);
    const t = ip + 20;
    out.writeUInt16BE(sport, t);
    out.writeUInt16BE(dport, t + 2);
    out.writeUInt32BE(12345, t + 4);
    out[t + 12] = 0x50;
    out[t + 13] = flags;
    out.writeUInt16BE(1024, t + 14);
    o += 16 + 54;
  };
  const me = [192, 168, 1, 66];
  for (let pass = 0; pass < passes; pass++) {
    for (let p = 1; p <= ports; p++) {
      for (let h = 0; h < hosts; h++) {
        const d = [192, 168, 1, 100 + h];
        const sport = 40000 + ((p + pass * 7) % 20000);
        packet(me, d, sport, p, 0x02);
        packet(d, me, p, sport, 0x14);
      }
    }
  }
  return { bytes: out, packets: n };
}

/** `n` connections 192.168.1.20:N -> 5.45.x.y:443, each SYN, SYN-ACK, ACK, then a lone TLS record header claiming 18,432 bytes. */
function tlsHeaderFlood(n) {
  const parts = [pcapHeader()];
  let us = 0;
  const packet = (i, fromClient, seq, ack, flags, payload) => {
    const client = { mac: 0x20, ip: [192, 168, 1, 20], port: 10000 + (i % 50000) };
    const server = { mac: 0x01, ip: [5, 45, (i >> 8) & 255, i & 255], port: 443 };
    const [s, d] = fromClient ? [client, server] : [server, client];
    us += 2;
    parts.push(...tcpRecord(us, { srcMac: s.mac, dstMac: d.mac, src: s.ip, dst: d.ip, sport: s.port, dport: d.port, seq, ack, flags, payload }));
  };
  const header = Buffer.from([0x16, 3, 1, 0x48, 0x00]);
  for (let i = 0; i < n; i++) {
    packet(i, true, 1000, 0, 0x02, Buffer.alloc(0));
    packet(i, false, 5000, 1001, 0x12, Buffer.alloc(0));
    packet(i, true, 1001, 5001, 0x10, Buffer.alloc(0));
    packet(i, true, 1001, 5001, 0x18, header);
  }
  return { bytes: Buffer.concat(parts), packets: n * 4 };
}

const work = '/tmp/iotguard-bench-hostile';
mkdirSync(work, { recursive: true });
const scanning = flag('--scan');
const ports = opt('--ports', 30000);
const passes = opt('--passes', 1);
const file = join(work, scanning ? `scan-${ports}x${passes}.pcap` : tlsHeaders ? `tls-headers-${flows}.pcap` : `long-heads-${flows}.pcap`);
const { bytes, packets } = scanning ? scan(ports, passes) : tlsHeaders ? tlsHeaderFlood(flows) : longHeads(flows);
writeFileSync(file, bytes);
const what = scanning
  ? `a SYN scan of 30 hosts x ${ports} ports x ${passes} pass(es), every SYN refused`
  : tlsHeaders
    ? `${flows} connections to 443, each sending only a TLS record header that claims 18 KiB`
    : `${flows} flows, each one ~60 KiB HTTP head in 1,448-byte segments`;
console.log(`capture: ${file} (${packets.toLocaleString('en-US')} packets, ${(bytes.length / 2 ** 20).toFixed(0)} MiB; ${what})`);
console.log(`load before: ${loadavg()}`);
const cmds = {
  'iotguard analyze --no-detectors': () => timed(process.execPath, [cli, 'analyze', file, '--json', '--no-detectors']),
  'iotguard analyze (detectors on)': () => timed(process.execPath, [cli, 'analyze', file, '--json']),
  'tshark -q -z conv,ip': () => timed('tshark', ['-r', file, '-q', '-z', 'conv,ip']),
  'tcpdump -nr': () => timed('tcpdump', ['-nr', file]),
};
const res = Object.fromEntries(Object.keys(cmds).map((k) => [k, []]));
for (let r = 0; r < runs; r++) for (const [k, f] of Object.entries(cmds)) res[k].push(f());
console.log(`load after: ${loadavg()}\n`);
const best = (k, f) => Math.min(...res[k].map((x) => x[f]));
for (const k of Object.keys(cmds)) {
  console.log(`${k.padEnd(34)} ${best(k, 'wall').toFixed(2).padStart(6)} s wall ${best(k, 'cpu').toFixed(2).padStart(6)} s cpu ${Math.round(packets / best(k, 'wall')).toLocaleString('en-US').padStart(10)} pkt/s ${best(k, 'rss').toFixed(0).padStart(5)} MiB`);
}
const eng = best('iotguard analyze --no-detectors', 'wall');
console.log(`\nbest of ${runs}: engine alone ${(best('tshark -q -z conv,ip', 'wall') / eng).toFixed(1)}x faster than tshark conv,ip, ${(best('tcpdump -nr', 'wall') / eng).toFixed(1)}x than tcpdump; detectors on ${(best('iotguard analyze (detectors on)', 'wall') / eng).toFixed(2)}x the engine alone`);
