#!/usr/bin/env node
// Monitor load benchmark (issue #10): can `iotguard monitor` keep up with a
// fixed packet rate on a lab link, and does its memory stay flat?
// Builds a throwaway veth pair between two namespaces (igx-ba → igx-bb),
// runs the monitor (capture only, default detectors) in igx-bb on its end,
// and replays the benchmark capture (IoT Sentinel captures merged with
// mergecap, as bench/analyze.mjs) with `tcpreplay --pps R --loop` from igx-ba.
// For each rate: packets sent (tcpreplay), captured by the monitor, kernel
// drops (tcpdump's statistics, iotguard_capture_dropped_packets_total), and the
// monitor's RSS sampled every 2 s, and where its CPU went: per thread (main,
// the decoding worker, libuv's pool; from /proc/PID/task/*/stat) and tcpdump.
// Then a soak at one rate for memory.
//
// Usage (root): npm run build && node bench/monitor-load.mjs [--rates 20000,50000,100000] [--seconds 20]
//   [--soak-rate R --soak-seconds S] [--in-thread] (decode in the main thread: --no-capture-worker)
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const data = join(root, '..', 'shared', 'data', 'pcap', 'iot-devices', 'iot-sentinel');
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const rates = String(opt('--rates', '20000,50000,100000')).split(',').map(Number).filter((r) => r > 0); // --rates 0: soak only
const seconds = Number(opt('--seconds', 20));
const soakRate = Number(opt('--soak-rate', 0));
const soakSeconds = Number(opt('--soak-seconds', 0));
const inThread = args.includes('--in-thread');
const work = '/tmp/iotguard-bench-monitor';
const A = 'igx-ba';
const B = 'igx-bb';

if (process.getuid?.() !== 0) {
  console.log('SKIP: needs root (network namespaces)');
  process.exit(0);
}
for (const cmd of ['tcpreplay', 'mergecap', 'tcpdump']) {
  if (spawnSync('sh', ['-c', `command -v ${cmd}`]).status !== 0) {
    console.log(`SKIP: ${cmd} is not installed`);
    process.exit(0);
  }
}
if (!existsSync(data)) {
  console.log(`SKIP: ${data} is absent`);
  process.exit(0);
}

const sh = (argv) => spawnSync(argv[0], argv.slice(1), { encoding: 'utf8' });
function teardown() {
  sh(['ip', 'netns', 'del', A]);
  sh(['ip', 'netns', 'del', B]);
}
function setup() {
  teardown();
  for (const a of [
    ['ip', 'netns', 'add', A],
    ['ip', 'netns', 'add', B],
    ['ip', 'link', 'add', 'igx-bva', 'netns', A, 'type', 'veth', 'peer', 'name', 'igx-bvb', 'netns', B],
    ['ip', 'netns', 'exec', A, 'ip', 'link', 'set', 'igx-bva', 'up'],
    ['ip', 'netns', 'exec', B, 'ip', 'link', 'set', 'igx-bvb', 'up'],
    ['ip', 'netns', 'exec', B, 'ip', 'link', 'set', 'lo', 'up'],
  ]) {
    const r = sh(a);
    if (r.status !== 0) throw new Error(`${a.join(' ')}: ${r.stderr}`);
  }
}

mkdirSync(work, { recursive: true });
const capture = join(work, 'replay.pcap');
if (!existsSync(capture)) {
  const files = [];
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.pcap(ng)?$/.test(e.name)) files.push(p);
    }
  };
  walk(data);
  files.sort();
  execFileSync('mergecap', ['-a', '-F', 'pcap', '-w', capture, ...files.slice(0, 200)]);
}
const capPackets = Number(/Number of packets:\s+([\d.]+\s*k?)/.exec(sh(['capinfos', '-c', capture]).stdout)?.[1]?.replace(/\s*k/, '000') ?? 0);

function rssOf(pid) {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) * 1024;
  } catch {
    return undefined;
  }
}

const TICK = 100; // USER_HZ
/** CPU seconds per thread of a process: "main", else "name:tid" (Node 20 does not name its worker threads). */
function threadCpu(pid) {
  const out = new Map();
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        const st = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
        const name = st.slice(st.indexOf('(') + 1, st.lastIndexOf(')'));
        const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
        out.set(`${Number(tid) === pid ? 'main' : `${name}:${tid}`}`, (Number(f[11]) + Number(f[12])) / TICK);
      } catch {
        /* thread gone */
      }
    }
  } catch {
    /* process gone */
  }
  return out;
}
function childPids(pid) {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}
const cpuOf = (pid) => [...threadCpu(pid).values()].reduce((a, b) => a + b, 0);
/** Share of one core each thread used between two snapshots (busiest first). */
function cpuShares(before, after, wallS) {
  const rows = [];
  for (const [k, v] of after) {
    const d = v - (before.get(k) ?? 0);
    if (d > 0.03 * wallS) rows.push([k, Math.round((100 * d) / wallS)]);
  }
  return Object.fromEntries(rows.sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, `${v}%`]));
}

/** The monitor's per-epoch log lines: cost of the engine's summary and of the store, and the drops over time. */
function epochStats(stderr) {
  const rows = [...stderr.matchAll(/epoch: (\d+) packets.*?engine (\d+) ms, store (\d+) ms; captured (\d+), kernel drops (\d+)/g)].map((m) => m.slice(1).map(Number));
  if (rows.length === 0) return undefined;
  return {
    n: rows.length,
    packetsMax: Math.max(...rows.map((r) => r[0])),
    engineMsMax: Math.max(...rows.map((r) => r[1])),
    storeMsMax: Math.max(...rows.map((r) => r[2])),
    // kernel drops as the epochs saw them (tcpdump reports every 5 s)
    drops: rows.map((r) => r[4]),
  };
}

async function runAt(rate, secs) {
  const db = join(work, `monitor-${rate}-${Date.now()}.db`);
  const mon = spawn('ip', ['netns', 'exec', B, process.execPath, join(root, 'bin/iotguard.js'), 'monitor', '--iface', 'igx-bvb', '--no-discover', '--no-upnp', '--no-dashboard', '--db', db, '--epoch', '10', '--json', ...(inThread ? ['--no-capture-worker'] : [])], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  mon.stdout.on('data', (b) => (out += b));
  mon.stderr.on('data', (b) => (err += b));
  for (let i = 0; i < 100 && !err.includes('monitoring'); i++) await new Promise((r) => setTimeout(r, 100));
  await new Promise((r) => setTimeout(r, 1500)); // tcpdump up
  const rss = [];
  const sampler = setInterval(() => {
    const v = rssOf(mon.pid);
    if (v) rss.push(v);
  }, 2000);
  const t0 = Date.now();
  const cpu0 = threadCpu(mon.pid);
  const tcpdumpPid = childPids(mon.pid).find((p) => /tcpdump/.test(readFileSync(`/proc/${p}/cmdline`, 'utf8')) && !/--version/.test(readFileSync(`/proc/${p}/cmdline`, 'utf8')));
  const tcpdump0 = tcpdumpPid ? cpuOf(tcpdumpPid) : 0;
  let replayCpu = NaN;
  const loops = Math.max(1, Math.ceil((rate * secs) / Math.max(1, capPackets)));
  // async, so the RSS sampler keeps running while tcpreplay plays
  const rep = await new Promise((resolve) => {
    const c = spawn('ip', ['netns', 'exec', A, 'tcpreplay', '-i', 'igx-bva', '--pps', String(rate), '--loop', String(loops), '--duration', String(secs), '-q', capture], { stdio: ['ignore', 'pipe', 'pipe'] });
    // the sender shares the machine: sample its CPU while it runs (ip netns exec execs into tcpreplay)
    const sample = setInterval(() => {
      const v = cpuOf(c.pid);
      if (v > 0) replayCpu = v;
    }, 1000);
    c.on('close', () => clearInterval(sample));
    let stdout = '';
    c.stdout.on('data', (b) => (stdout += b));
    c.on('close', () => resolve({ stdout }));
  });
  const sent = Number(/Actual:\s+(\d+) packets/.exec(rep.stdout)?.[1] ?? NaN);
  const actualPps = Number(/Rated:.*?([\d.]+) pps/.exec(rep.stdout)?.[1] ?? NaN);
  const playedS = (Date.now() - t0) / 1000;
  const cpu1 = threadCpu(mon.pid);
  const tcpdumpCpu = tcpdumpPid ? cpuOf(tcpdumpPid) - tcpdump0 : NaN;
  await new Promise((r) => setTimeout(r, 3000)); // let the pipe drain
  clearInterval(sampler);
  mon.kill('SIGTERM');
  await new Promise((r) => mon.once('close', r));
  let summary = {};
  try {
    summary = JSON.parse(out);
  } catch {
    summary = { error: err.slice(-500) };
  }
  rmSync(db, { force: true });
  rmSync(`${db}-wal`, { force: true });
  rmSync(`${db}-shm`, { force: true });
  const cap = summary.capture ?? {};
  return {
    rate,
    seconds: secs,
    mode: inThread ? 'in-thread' : 'worker',
    wallS: (Date.now() - t0) / 1000,
    sent,
    actualPps,
    captured: cap.packets,
    kernelDropped: cap.dropped,
    restarts: cap.restarts,
    ...(cap.packets + cap.dropped < 0.99 * sent ? { missing: sent - cap.packets - cap.dropped, log: err.split('\n').filter((l) => !/epoch:/.test(l)).slice(-8) } : {}),
    cpu: { ...cpuShares(cpu0, cpu1, playedS), tcpdump: `${Math.round((100 * tcpdumpCpu) / playedS)}%`, tcpreplay: `${Math.round((100 * replayCpu) / playedS)}%` },
    epochs: epochStats(err),
    rssMiB: rss.map((x) => Math.round(x / 1048576)),
  };
}

setup();
try {
  console.log(`capture: ${capture} (${capPackets} packets)`);
  for (const r of rates) {
    const res = await runAt(r, seconds);
    console.log(JSON.stringify({ ...res, rssMiB: { first: res.rssMiB[0], max: Math.max(...res.rssMiB), last: res.rssMiB.at(-1) } }));
  }
  if (soakRate && soakSeconds) {
    const res = await runAt(soakRate, soakSeconds);
    console.log(JSON.stringify({ soak: true, ...res }));
  }
} finally {
  teardown();
}
