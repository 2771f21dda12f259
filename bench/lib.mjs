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
