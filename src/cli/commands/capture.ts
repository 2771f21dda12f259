// `iotguard capture --iface IF [--seconds N] [--write FILE]`: live traffic
// through the same engine and detectors as `analyze` (CONTRACT.md). tcpdump
// does the capturing (root or CAP_NET_RAW); Ctrl-C or --seconds ends it with
// the summary, including what the kernel dropped.
import { newCommand, parse } from '../command.js';
import { color, printJson, warn } from '../ui.js';
import { ErrorCodes, IotguardError } from '../../core/model/errors.js';
import { TrafficEngine } from '../../core/engine/engine.js';
import { standardDetectorFactory } from '../../adapters/capture/detectors.js';
import { captureLive } from '../../adapters/capture/live.js';
import { renderResult } from './analyze.js';

export async function run(argv: string[]): Promise<number> {
  const cmd = newCommand('capture', 'watch live traffic on an interface through the traffic engine (needs root or CAP_NET_RAW)')
    .requiredOption('--iface <name>', 'interface to capture on (e.g. br-lan, eth0)')
    .option('--seconds <n>', 'stop after N seconds (default: until Ctrl-C)')
    .option('--write <file>', 'also save the raw capture as pcap')
    .option('--filter <bpf>', 'tcpdump filter expression, e.g. "not port 22"')
    .option('--netns <name>', 'capture inside this network namespace (ip netns exec)')
    .option('--remote <user@host>', 'run tcpdump on that host over SSH (key, agent or IOTGUARD_SSH_PASSWORD)')
    .option('--top <n>', 'destinations shown per device in the table', '10')
    .option('--no-detectors', 'decode and summarise only, run no detector')
    .option('--json', 'one JSON document on stdout');
  await parse(cmd, argv);
  const o = cmd.opts<{ iface: string; seconds?: string; write?: string; filter?: string; netns?: string; remote?: string; top: string; detectors: boolean; json?: boolean }>();
  let seconds: number | undefined;
  if (o.seconds !== undefined) {
    seconds = Number(o.seconds);
    if (!/^\d+(\.\d+)?$/.test(o.seconds) || !(seconds > 0) || seconds > 7 * 86400) throw new IotguardError(ErrorCodes.USAGE, '--seconds must be a positive number of seconds');
  }
  const top = Number(o.top);
  if (!Number.isInteger(top) || top < 0) throw new IotguardError(ErrorCodes.USAGE, '--top must be a whole number');
  if (o.netns && o.remote) throw new IotguardError(ErrorCodes.USAGE, '--netns and --remote cannot be combined');
  if (o.netns && !/^[A-Za-z0-9_.-]{1,64}$/.test(o.netns)) throw new IotguardError(ErrorCodes.USAGE, `not a namespace name: ${o.netns.slice(0, 40)}`);

  const engine = new TrafficEngine({ detectors: o.detectors ? (await standardDetectorFactory())() : [], onWarning: (m) => warn(m) });
  const label = `live:${o.remote ? `${o.remote}/` : o.netns ? `${o.netns}/` : ''}${o.iface}`;
  engine.beginInput(label);
  const ac = new AbortController();
  const onSigint = () => {
    if (!o.json) process.stderr.write(`\n${color.dim('stopping capture...')}\n`);
    ac.abort();
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);
  const tty = process.stderr.isTTY === true;
  if (!o.json || process.env.IOTGUARD_PROGRESS === '1') {
    process.stderr.write(`capturing on ${label}${seconds !== undefined ? ` for ${seconds} s` : ''}${tty ? ' (Ctrl-C to stop)' : ''}\n`);
  }
  let lastTick = 0;
  let ticks = 0;
  const t0 = performance.now();
  let r;
  try {
    r = await captureLive(
      {
        iface: o.iface,
        seconds,
        write: o.write,
        filter: o.filter ? o.filter.split(/\s+/).filter(Boolean) : undefined,
        netns: o.netns,
        remote: o.remote,
        signal: ac.signal,
        onTick: (n) => {
          // quiet periods still close idle flows (capture time moves with the packets)
          if (++ticks % 10 === 0) engine.expire();
          if (o.json && process.env.IOTGUARD_PROGRESS !== '1') return;
          const now = Date.now();
          if (!tty && now - lastTick < 5000) return;
          lastTick = now;
          const line = `${n} packets, ${engine.flowCount} flows`;
          process.stderr.write(tty ? `\r${line}` : `${line}\n`);
        },
      },
      engine,
    );
  } finally {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
  }
  if (tty && !o.json) process.stderr.write('\n');
  if (r.error && r.packets === 0) throw r.error;
  if (r.dropped !== undefined) engine.setDropped(r.dropped);
  engine.endInput(r.error ? { code: r.error.code, message: r.error.message } : undefined);
  const result = engine.finish();
  if (o.json) printJson(result);
  else process.stdout.write(`${renderResult(result, { top, elapsedMs: performance.now() - t0 })}\n`);
  if (o.write && !o.json) process.stderr.write(`${color.dim(`saved the capture to ${o.write}`)}\n`);
  if (r.error) throw r.error;
  return 0;
}
