// Output for people and machines. With --json, stdout carries exactly one JSON
// document; everything meant for a person (progress, logs, colour) goes to stderr
// or to stdout only in text mode.
import pc from 'picocolors';
import type { Severity } from '../core/model/finding.js';

export const color = pc;

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function info(msg: string): void {
  process.stderr.write(`${msg}\n`);
}

export function warn(msg: string): void {
  process.stderr.write(`${pc.yellow('warning:')} ${msg}\n`);
}

export function severityColor(s: Severity): (t: string) => string {
  switch (s) {
    case 'critical':
      return (t) => pc.bold(pc.red(t));
    case 'high':
      return pc.red;
    case 'medium':
      return pc.yellow;
    case 'low':
      return pc.cyan;
    default:
      return pc.dim;
  }
}

const ANSI = /\u001b\[[0-9;]*m/g;
const visibleLength = (s: string): number => s.replace(ANSI, '').length;

/** A plain aligned table; cells may carry colour codes. */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(visibleLength(h), ...rows.map((r) => visibleLength(r[i] ?? ''))));
  const pad = (s: string, w: number) => s + ' '.repeat(Math.max(0, w - visibleLength(s)));
  const line = (cells: string[]) => cells.map((c, i) => pad(c ?? '', widths[i])).join('  ').trimEnd();
  return [pc.bold(line(headers)), ...rows.map(line)].join('\n');
}

/**
 * Progress on stderr for long work: a bar when stderr is a terminal, a line
 * every few seconds otherwise, nothing with --json unless IOTGUARD_PROGRESS=1.
 */
export function createProgress(label: string, total: number, opts: { quiet?: boolean } = {}) {
  const tty = process.stderr.isTTY === true;
  const enabled = !opts.quiet || process.env.IOTGUARD_PROGRESS === '1';
  let done = 0;
  let lastPrint = 0;
  const render = (final = false) => {
    if (!enabled) return;
    const now = Date.now();
    if (!final && now - lastPrint < (tty ? 80 : 3000)) return;
    lastPrint = now;
    const pct = total > 0 ? Math.min(1, done / total) : 1;
    if (tty) {
      const width = 28;
      const fill = Math.round(pct * width);
      process.stderr.write(`\r${label} [${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${done}/${total}${final ? '\n' : ''}`);
    } else {
      process.stderr.write(`${label}: ${done}/${total}\n`);
    }
  };
  return {
    tick(n = 1) {
      done += n;
      render();
    },
    setTotal(n: number) {
      total = n;
    },
    done() {
      done = Math.max(done, total);
      render(true);
    },
  };
}
