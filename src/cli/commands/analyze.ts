// `iotguard analyze FILE...`: read pcap/pcapng captures (gzip allowed) through
// the traffic engine and the detectors; per-device destinations by name and
// findings (CONTRACT.md). With --json, one document on stdout.
import { existsSync, statSync } from 'node:fs';
import { newCommand, parse } from '../command.js';
import { color, createProgress, printJson, severityColor, table, warn } from '../ui.js';
import { ErrorCodes, IotguardError } from '../../core/model/errors.js';
import { analyzeFiles } from '../../adapters/capture/analyze-files.js';
import type { AnalyzeResult } from '../../core/engine/events.js';

function human(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

/** The readable report shared by analyze and capture. */
export function renderResult(r: AnalyzeResult, opts: { top: number; elapsedMs?: number }): string {
  const out: string[] = [];
  const s = r.summary;
  const span = s.firstTs !== null && s.lastTs !== null ? ` over ${(s.lastTs - s.firstTs).toFixed(1)} s of traffic` : '';
  const speed = opts.elapsedMs !== undefined && opts.elapsedMs > 0 ? color.dim(` (${Math.round((s.packets / opts.elapsedMs) * 1000).toLocaleString('en-US')} packets/s)`) : '';
  out.push(`${color.bold(String(s.packets))} packets, ${color.bold(String(s.flows))} flows, ${color.bold(String(s.devices))} devices, ${human(s.bytes)}${span}${speed}`);
  if (s.dropped !== undefined) out.push(s.dropped > 0 ? color.yellow(`${s.dropped} packets dropped by the kernel`) : color.dim('no packets dropped'));
  if (s.undecoded > 0) out.push(color.dim(`${s.undecoded} packets could not be decoded past the link layer`));
  for (const d of r.devices) {
    const title = [d.ip ?? '(no IP)', d.mac ?? '', d.hostname ? color.cyan(d.hostname) : '', d.vendorClass ? color.dim(`[${d.vendorClass}]`) : '']
      .filter(Boolean)
      .join('  ');
    out.push('', `${color.bold(title)}  ${color.dim(`${d.packets} packets, ${human(d.bytes)}, ${d.destinations.length} destinations`)}`);
    const dests = d.destinations.slice(0, opts.top);
    if (dests.length > 0) {
      out.push(
        table(
          ['  name', 'address', 'port', 'dir', 'bytes', 'flows'],
          dests.map((x) => [
            `  ${x.name ?? color.dim('-')}`,
            x.ip,
            x.port === null ? x.proto : `${x.port}/${x.proto}`,
            x.direction === 'out' ? '→' : '←',
            human(x.bytes),
            String(x.flows),
          ]),
        ),
      );
      if (d.destinations.length > dests.length) out.push(color.dim(`  ... ${d.destinations.length - dests.length} more (use --top or --json)`));
    }
  }
  out.push('');
  if (r.findings.length === 0) out.push(color.green('No findings.'));
  else {
    out.push(color.bold(`${r.findings.length} finding${r.findings.length === 1 ? '' : 's'}:`));
    for (const f of r.findings) {
      const who = [f.device.ip, f.device.mac].filter(Boolean).join(' ');
      out.push(`  ${severityColor(f.severity)(f.severity.padEnd(8))} ${f.id}  ${f.title}${who ? color.dim(`  (${who})`) : ''}`);
      out.push(`           ${color.dim(f.advice)}`);
    }
  }
  return out.join('\n');
}

export async function run(argv: string[]): Promise<number> {
  const cmd = newCommand('analyze', 'read pcap/pcapng captures (gzip allowed): per-device destinations by name, and findings')
    .argument('<file...>', 'capture files (.pcap, .pcapng, optionally .gz)')
    .option('--json', 'one JSON document on stdout')
    .option('--top <n>', 'destinations shown per device in the table', '10')
    .option('--no-detectors', 'decode and summarise only, run no detector');
  await parse(cmd, argv);
  const files = cmd.args;
  const o = cmd.opts<{ json?: boolean; top: string; detectors: boolean }>();
  const top = Number(o.top);
  if (!Number.isInteger(top) || top < 0) throw new IotguardError(ErrorCodes.USAGE, '--top must be a whole number');
  for (const f of files) {
    if (!existsSync(f)) throw new IotguardError(ErrorCodes.FILE_NOT_FOUND, `no such file: ${f}`);
  }
  // a progress bar only for inputs that take a while (about 64 MiB and up)
  const totalSize = files.reduce((n, f) => n + (statSync(f).isFile() ? statSync(f).size : 0), 0);
  const progress = createProgress('reading', totalSize, { quiet: o.json === true || totalSize < 64 * 1024 * 1024 });
  let ticked = 0;
  const t0 = performance.now();
  const { result, failures } = await analyzeFiles(files, {
    // the detectors and their data (KEV catalogue, port risk table, public suffix list) load only when they run: ~0.35 s of start-up
    detectors: o.detectors ? (await (await import('../../adapters/capture/detectors.js')).standardDetectorFactory())() : [],
    onWarning: (m) => warn(m),
    onProgress: (done, total) => {
      progress.setTotal(total);
      progress.tick(done - ticked);
      ticked = done;
    },
  });
  progress.done();
  const elapsed = performance.now() - t0;
  if (o.json) printJson(result);
  else process.stdout.write(`${renderResult(result, { top, elapsedMs: elapsed })}\n`);
  if (failures.length > 0) {
    // the packets before the error are in the output; the exit code says an input could not be read whole
    for (const f of failures.slice(0, -1)) process.stderr.write(`${color.red('iotguard:')} ${f.message} ${color.dim(`(${f.code})`)}\n`);
    throw failures[failures.length - 1];
  }
  return 0;
}
