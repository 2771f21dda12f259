// Shared by the capture benchmarks (analyze.mjs, detectors.mjs): options,
// the checks that skip or stop a run, the shared corpus, capinfos, and
// timing a command under GNU time.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');
/** The shared third-party corpus (absent in a user's clone). */
export const sharedData = join(root, '..', 'shared', 'data');
export const cli = join(root, 'bin', 'iotguard.js');

const args = process.argv.slice(2);
export const flag = (name) => args.includes(name);
export const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};

/** Exit 0 with SKIP when a tool or the corpus is missing; exit 1 when dist/ is not built. */
export function requireSetup({ tools, data }) {
  for (const c of tools) {
    if (spawnSync('sh', ['-c', `command -v ${c}`]).status !== 0) {
      console.log(`SKIP: ${c} is not installed`);
      process.exit(0);
    }
  }
  if (!existsSync(data)) {
    console.log(`SKIP: ${data} is absent (the shared test corpus is not on this machine)`);
    process.exit(0);
  }
  if (!existsSync(join(root, 'dist', 'cli', 'main.js'))) {
    console.log('build first: npm run build');
    process.exit(1);
  }
}

/** Capture files under d, sorted, whose names match re. */
export function walk(d, re = /\.pcap(ng)?$/, out = []) {
  for (const n of readdirSync(d).sort()) {
    const p = join(d, n);
    if (statSync(p).isDirectory()) walk(p, re, out);
    else if (re.test(n)) out.push(p);
  }
  return out;
}

export const packetsOf = (f) => Number(/Number of packets:\s+(\d+)/.exec(execFileSync('capinfos', ['-c', '-M', f], { encoding: 'utf8' }))?.[1]);

export const loadavg = () => execFileSync('cat', ['/proc/loadavg'], { encoding: 'utf8' }).split(' ').slice(0, 3).join(' ');

/** Run under GNU time: wall s, cpu (user + sys) s, max RSS MiB, exit status, and stdout when asked for. */
export function timed(cmd, argv, { stdout = false } = {}) {
  const r = spawnSync('/usr/bin/time', ['-f', 'TIME %e %U %S %M', cmd, ...argv], { encoding: 'utf8', maxBuffer: 1 << 30, stdio: ['ignore', stdout ? 'pipe' : 'ignore', 'pipe'] });
  const m = /TIME ([\d.]+) ([\d.]+) ([\d.]+) (\d+)/.exec(r.stderr);
  if (!m) throw new Error(`${cmd} failed: ${r.stderr.slice(-500)}`);
  return { wall: Number(m[1]), cpu: Number(m[2]) + Number(m[3]), rss: Number(m[4]) / 1024, status: r.status, stdout: r.stdout ?? '', stderr: r.stderr };
}

/** Write a little-endian, microsecond, Ethernet pcap global header (24 bytes) into out at 0. */
export function pcapHeader(out = Buffer.alloc(24)) {
  out.writeUInt32LE(0xa1b2c3d4, 0);
  out.writeUInt16LE(2, 4);
  out.writeUInt16LE(4, 6);
  out.writeUInt32LE(262144, 16);
  out.writeUInt32LE(1, 20);
  return out;
}

/**
 * Rewrite a little-endian Ethernet pcap's IPv4 packets as IPv6 (RFC 4193
 * fd00::/96 for private addresses, 2001:db8::/96 for the rest, the IPv4
 * address in the low 32 bits), keeping the transport bytes; other packets
 * and IPv4 fragments are copied as they are. For benchmarks of the IPv6
 * path on the same traffic.
 */
export function pcapToIpv6(inp) {
  const out = [inp.subarray(0, 24)];
  const priv = (a, b) => a === 10 || (a === 172 && (b & 0xf0) === 16) || (a === 192 && b === 168);
  let p = 24;
  let converted = 0;
  while (p + 16 <= inp.length) {
    const incl = inp.readUInt32LE(p + 8);
    const orig = inp.readUInt32LE(p + 12);
    const start = p;
    const rec = inp.subarray(p + 16, p + 16 + incl);
    p += 16 + incl;
    if (incl >= 34 && rec[12] === 0x08 && rec[13] === 0x00 && rec[14] >> 4 === 4 && (rec.readUInt16BE(20) & 0x3fff) === 0) {
      const ihl = (rec[14] & 15) * 4;
      const total = rec.readUInt16BE(16);
      if (14 + ihl <= incl && total >= ihl) {
        const l4 = rec.subarray(14 + ihl, Math.min(incl, 14 + total));
        const h = Buffer.alloc(54);
        rec.copy(h, 0, 0, 12);
        h.writeUInt16BE(0x86dd, 12);
        h[14] = 0x60;
        h.writeUInt16BE(total - ihl, 18);
        h[20] = rec[23];
        h[21] = rec[22];
        for (const [off, src] of [[22, 26], [38, 30]]) {
          if (priv(rec[src], rec[src + 1])) h[off] = 0xfd;
          else h.writeUInt32BE(0x20010db8, off);
          rec.copy(h, off + 12, src, src + 4);
        }
        const rh = Buffer.from(inp.subarray(start, start + 16));
        rh.writeUInt32LE(54 + l4.length, 8);
        rh.writeUInt32LE(orig - incl + 54 + l4.length, 12);
        out.push(rh, h, l4);
        converted++;
        continue;
      }
    }
    out.push(inp.subarray(start, p));
  }
  return { bytes: Buffer.concat(out), converted };
}
