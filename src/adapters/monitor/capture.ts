// The monitor's live capture: a supervised `tcpdump -U -w -` whose pcap
// stream feeds a packet sink. (-U, a write per packet, costs tcpdump and the
// reader a third of a core at 100k packets/s; but without it the only way to
// bound the latency is tcpdump's SIGUSR2 flush, which runs fflush in a signal
// handler and corrupted the stream mid-write in bench/monitor-load.mjs.)
// When tcpdump dies it is restarted with exponential backoff (reset after a healthy run) and the owner is told, so
// it can raise an alert. Kernel drop counts come from tcpdump's statistics,
// asked for with SIGUSR1 every few seconds and printed at exit.
// The bytes go either to a packet sink parsed in this thread, or to a stream
// consumer such as the decoding worker (decoder-thread.ts).
import { spawn, type ChildProcess } from 'node:child_process';
import type { PacketRecordSink } from '../../core/decode/capture-format.js';
import { readCaptureStream } from '../capture/file-source.js';

export interface SupervisorOptions {
  iface: string;
  filter?: string[];
  /** The capture command and its arguments (tests hand in a fake); default tcpdump. */
  command?: string[];
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** A run longer than this resets the backoff. */
  healthyMs?: number;
  statsEveryMs?: number;
  /** Kernel capture buffer in KiB (tcpdump -B): absorbs the pauses while an epoch is written. */
  bufferKiB?: number;
  log?: (msg: string) => void;
  onDown?: (info: { code: number | null; signal: string | null; stderr: string; restartInMs: number; runMs: number }) => void;
  onUp?: (pid: number) => void;
}

export interface CaptureCounters {
  packets: number;
  /** Kernel drops over every tcpdump run so far. */
  dropped: number;
  restarts: number;
  up: boolean;
  pid: number | undefined;
}

/** Totals from tcpdump's statistics lines ("N packets dropped by kernel"). */
export function parseDropLines(text: string): { dropped?: number; received?: number } {
  const last = (re: RegExp): number | undefined => {
    let m: RegExpExecArray | null;
    let v: number | undefined;
    const g = new RegExp(re.source, 'g');
    while ((m = g.exec(text))) v = Number(m[1]);
    return v;
  };
  const kernel = last(/(\d+) packets? dropped by kernel/);
  const iface = last(/(\d+) packets? dropped by interface/);
  return { dropped: kernel === undefined && iface === undefined ? undefined : (kernel ?? 0) + (iface ?? 0), received: last(/(\d+) packets? received by filter/) };
}

/** How a consumer finished one capture run. */
export interface ConsumeResult {
  /** The stream could not be parsed (the run is ended and restarted like a dying tcpdump). */
  error?: string;
  /** The consumer lost its state (a crashed decoding worker): end this run at once and start a fresh stream, no backoff. */
  recycle?: string;
}

/** Takes each capture run's byte stream (a fresh pcap stream per run) and counts the packets it parses. */
export interface StreamConsumer {
  consume(stream: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, label: string, count: (packets: number) => void): Promise<ConsumeResult>;
  /** Resolves true when the consumer can take a stream, false when it is shutting down. */
  whenReady?(): Promise<boolean>;
}

/** The in-thread consumer: parse here, into a packet sink. */
export function sinkConsumer(sink: PacketRecordSink): StreamConsumer {
  return {
    async consume(stream, label, count) {
      const counting: PacketRecordSink = {
        onPacket: (lt, ts, b, off, cap, wire) => {
          count(1);
          sink.onPacket(lt, ts, b, off, cap, wire);
        },
      };
      const r = await readCaptureStream(stream, counting, label);
      return { error: r.error?.message };
    },
  };
}

const IFACE_RE = /^[A-Za-z0-9_.:@-]{1,32}$/;

export class CaptureSupervisor {
  readonly counters: CaptureCounters = { packets: 0, dropped: 0, restarts: 0, up: false, pid: undefined };
  private child: ChildProcess | undefined;
  private stopped = false;
  private backoff: number;
  private droppedBefore = 0;
  private droppedRun = 0;
  private wake: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  private readonly consumer: StreamConsumer;
  private stopNow: (v: false) => void = () => undefined;
  private readonly stopSignal = new Promise<false>((resolve) => (this.stopNow = resolve));

  constructor(
    private readonly o: SupervisorOptions,
    sink: PacketRecordSink | StreamConsumer,
  ) {
    if (!o.command && !IFACE_RE.test(o.iface)) throw new Error(`not an interface name: ${o.iface.slice(0, 40)}`);
    this.backoff = o.minBackoffMs ?? 1000;
    this.consumer = 'consume' in sink ? sink : sinkConsumer(sink);
  }

  start(): void {
    this.loop ??= this.run();
  }

  private args(): string[] {
    return this.o.command ?? ['tcpdump', '-U', '-n', '-s', '262144', '-B', String(this.o.bufferKiB ?? 32768), '-w', '-', '-i', this.o.iface, ...(this.o.filter ?? [])];
  }

  private async run(): Promise<void> {
    const log = this.o.log ?? (() => {});
    let first = true;
    while (!this.stopped) {
      // no tcpdump before its consumer can read (a decoding worker starting up); stop() does not wait for it
      if (this.consumer.whenReady && !(await Promise.race([this.consumer.whenReady(), this.stopSignal]))) break;
      if (this.stopped) break;
      if (!first) this.counters.restarts++;
      first = false;
      const [cmd, ...args] = this.args();
      const t0 = Date.now();
      const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      this.child = child;
      let stderr = '';
      child.stderr?.setEncoding('utf8');
      child.stderr?.on('data', (s: string) => {
        stderr = (stderr + s).slice(-16384);
        const d = parseDropLines(stderr).dropped;
        if (d !== undefined) {
          this.droppedRun = d;
          this.counters.dropped = this.droppedBefore + d;
        }
      });
      const closed = new Promise<{ code: number | null; signal: string | null }>((resolve) => {
        child.once('error', (e) => {
          stderr += `\n${e.message}`;
          resolve({ code: null, signal: null });
        });
        child.once('close', (code, signal) => resolve({ code, signal }));
      });
      if (child.pid) {
        this.counters.up = true;
        this.counters.pid = child.pid;
        this.o.onUp?.(child.pid);
      }
      const running = () => child.exitCode === null && child.signalCode === null;
      const stats = setInterval(() => {
        // tcpdump prints its statistics on SIGUSR1 (SIGINFO on BSDs)
        // (not `child.killed`: it turns true after the first signal of any kind)
        if (running() && !this.o.command) child.kill('SIGUSR1');
      }, this.o.statsEveryMs ?? 5000);
      stats.unref();
      let result: ConsumeResult = {};
      if (child.stdout) {
        result = await this.consumer.consume(child.stdout, `live:${this.o.iface}`, (n) => {
          this.counters.packets += n;
        });
      }
      if (result.error) log(`capture stream unreadable: ${result.error}`);
      // the consumer stopped reading early (unparseable stream, dead worker): this run is over
      if ((result.error || result.recycle) && child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 3000);
        t.unref();
        void closed.then(() => clearTimeout(t));
      }
      const { code, signal } = await closed;
      clearInterval(stats);
      this.droppedBefore += this.droppedRun;
      this.droppedRun = 0;
      this.counters.dropped = this.droppedBefore;
      this.counters.up = false;
      this.counters.pid = undefined;
      this.child = undefined;
      if (this.stopped) break;
      if (result.recycle) {
        log(`capture restarted: ${result.recycle}`);
        continue;
      }
      const runMs = Date.now() - t0;
      if (runMs >= (this.o.healthyMs ?? 30_000)) this.backoff = this.o.minBackoffMs ?? 1000;
      const wait = this.backoff;
      this.backoff = Math.min(this.o.maxBackoffMs ?? 60_000, this.backoff * 2);
      const why = stderr.trim().split('\n').filter((l) => !/listening on|packets? (captured|received|dropped)/.test(l)).pop() ?? '';
      log(`capture process ended (code ${code}, signal ${signal}${why ? `: ${why}` : ''}); restarting in ${wait} ms`);
      this.o.onDown?.({ code, signal, stderr: why, restartInMs: wait, runMs });
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, wait);
        this.wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.wake = undefined;
    }
  }

  /** Stops tcpdump (SIGTERM, then SIGKILL) and the restart loop. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.stopNow(false);
    this.wake?.();
    const c = this.child;
    if (c && c.exitCode === null) {
      c.kill('SIGTERM');
      const t = setTimeout(() => c.kill('SIGKILL'), 3000);
      t.unref();
    }
    await this.loop;
  }
}
