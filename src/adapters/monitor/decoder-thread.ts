// The main thread's side of the monitor's decoding worker (decode-worker.ts):
// tcpdump's stdout chunks are copied into fresh ArrayBuffers and transferred
// to the worker, which parses the pcap stream and runs the epoch engine with
// the detectors; rotate() asks it for the epoch's AnalyzeResult. The main
// thread stays free for the store, discovery, alerts and the dashboard.
//
// Flow control: at most `highWaterBytes` may be posted and not yet parsed;
// above that, reading tcpdump's pipe pauses, so a slow worker shows up as
// kernel drops (counted by tcpdump) instead of unbounded memory.
//
// A worker that dies (an exception, an exit, out of memory, or no answer to
// a rotate) is restarted with exponential backoff and reported through
// onCrash; the capture run it was decoding is ended so the next tcpdump
// starts a fresh pcap stream (a new global header) for the new worker.
import { Worker } from 'node:worker_threads';
import type { AnalyzeResult } from '../../core/engine/events.js';
import type { ConsumeResult, StreamConsumer } from './capture.js';

/**
 * Where the worker finds its detectors: a module URL and the name of an
 * `async () => () => Detector[]` it exports (it loads the detectors' data and
 * returns the factory each epoch calls, like `standardDetectorFactory`).
 */
export interface DetectorsRef {
  module: string;
  name: string;
}

export interface DecoderInit {
  label: string;
  detectors: DetectorsRef;
  ackBytes: number;
  ackMs: number;
}

export type ToDecoder = { t: 'begin' } | { t: 'chunk'; buf: ArrayBuffer; len: number } | { t: 'end' } | { t: 'rotate'; id: number };

interface Counts {
  /** Input bytes and packets parsed by this worker so far. */
  bytes: number;
  packets: number;
}
export type FromDecoder =
  | ({ t: 'ready' } & Counts)
  | ({ t: 'ack' } & Counts)
  | ({ t: 'stream-error'; message: string } & Counts)
  | ({ t: 'ended'; error: string | undefined } & Counts)
  | ({ t: 'epoch'; id: number; result: AnalyzeResult } & Counts)
  | { t: 'warning'; message: string };

export interface DecoderCrash {
  reason: string;
  restartInMs: number;
  /** How long the worker had been running. */
  runMs: number;
}

export interface DecoderThreadOptions {
  /** Input label for the engine (`live:<iface>`). */
  label: string;
  /** Default: standardDetectorFactory from src/adapters/capture/detectors.ts. */
  detectors?: DetectorsRef;
  /** The worker module; default decode-worker.js beside this file (tests point at the .ts source). */
  workerUrl?: URL;
  /** Node options for the worker (tests add a TypeScript loader; the bench a --cpu-prof). */
  execArgv?: string[];
  highWaterBytes?: number;
  /** Small pipe reads are joined into messages of up to this many bytes. */
  batchBytes?: number;
  ackBytes?: number;
  ackMs?: number;
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** A worker alive longer than this resets the backoff. */
  healthyMs?: number;
  /** A rotate unanswered this long means the worker hangs: it is terminated and restarted. */
  rotateTimeoutMs?: number;
  log?: (msg: string) => void;
  onCrash?: (info: DecoderCrash) => void;
}

const DEFAULT_DETECTORS: DetectorsRef = { module: new URL('../capture/detectors.js', import.meta.url).href, name: 'standardDetectorFactory' };

export class DecoderThread implements StreamConsumer {
  /** Packets parsed over every worker so far. */
  packets = 0;
  /** Workers restarted after a crash. */
  crashes = 0;
  private w: Worker | undefined;
  private gen = 0;
  private ready = false;
  private startedAt = 0;
  private closing = false;
  private backoff: number;
  private restartTimer: NodeJS.Timeout | undefined;
  private lastError: Error | undefined;
  private hung: string | undefined;
  private readyWaiters: Array<(ok: boolean) => void> = [];
  private drainWaiters: Array<() => void> = [];
  private posted = 0;
  private parsed = 0;
  private workerPackets = 0;
  private count: ((n: number) => void) | undefined;
  private streamError: string | undefined;
  private ended: ((r: { error: string | undefined } | undefined) => void) | undefined;
  private rotations = new Map<number, { resolve: (r: AnalyzeResult | undefined) => void; timer: NodeJS.Timeout }>();
  private nextId = 0;
  private exited: Promise<void> = Promise.resolve();
  private onDeath: (() => void) | undefined;

  constructor(private readonly o: DecoderThreadOptions) {
    this.backoff = o.minBackoffMs ?? 1000;
  }

  start(): void {
    if (!this.w && !this.closing && !this.restartTimer) this.spawn();
  }

  /** The worker, for tests that need to make it fail. */
  get worker(): Worker | undefined {
    return this.w;
  }

  private spawn(): void {
    const gen = ++this.gen;
    this.ready = false;
    this.posted = 0;
    this.parsed = 0;
    this.workerPackets = 0;
    this.lastError = undefined;
    this.hung = undefined;
    this.startedAt = Date.now();
    const init: DecoderInit = { label: this.o.label, detectors: this.o.detectors ?? DEFAULT_DETECTORS, ackBytes: this.o.ackBytes ?? 1 << 20, ackMs: this.o.ackMs ?? 250 };
    const w = new Worker(this.o.workerUrl ?? new URL('./decode-worker.js', import.meta.url), { workerData: init, execArgv: this.o.execArgv });
    this.w = w;
    w.on('message', (m: FromDecoder) => {
      if (gen === this.gen) this.onMessage(m);
    });
    w.on('error', (e) => {
      this.lastError = e;
    });
    this.exited = new Promise((resolve) => {
      w.once('exit', (code) => {
        if (gen === this.gen) this.onExit(code);
        resolve();
      });
    });
  }

  private counts(m: Counts): void {
    this.parsed = m.bytes;
    const d = m.packets - this.workerPackets;
    if (d > 0) {
      this.workerPackets = m.packets;
      this.packets += d;
      this.count?.(d);
    }
    if (this.posted - this.parsed <= (this.o.highWaterBytes ?? 32 << 20) / 2) this.wakeDrain();
  }

  private onMessage(m: FromDecoder): void {
    if (m.t === 'warning') {
      this.o.log?.(m.message);
      return;
    }
    this.counts(m);
    switch (m.t) {
      case 'ready':
        this.ready = true;
        for (const r of this.readyWaiters.splice(0)) r(true);
        break;
      case 'stream-error':
        this.streamError = m.message;
        break;
      case 'ended':
        this.ended?.({ error: m.error });
        this.ended = undefined;
        break;
      case 'epoch': {
        const p = this.rotations.get(m.id);
        if (p) {
          clearTimeout(p.timer);
          this.rotations.delete(m.id);
          p.resolve(m.result);
        }
        break;
      }
    }
  }

  private wakeDrain(): void {
    for (const r of this.drainWaiters.splice(0)) r();
  }

  private onExit(code: number): void {
    const runMs = Date.now() - this.startedAt;
    this.w = undefined;
    this.ready = false;
    // whatever waited on this worker gives up: the epoch it held is lost
    this.ended?.(undefined);
    this.ended = undefined;
    for (const [, p] of this.rotations) {
      clearTimeout(p.timer);
      p.resolve(undefined);
    }
    this.rotations.clear();
    this.wakeDrain();
    this.onDeath?.();
    if (this.closing) {
      for (const r of this.readyWaiters.splice(0)) r(false);
      return;
    }
    this.crashes++;
    if (runMs >= (this.o.healthyMs ?? 30_000)) this.backoff = this.o.minBackoffMs ?? 1000;
    const wait = this.backoff;
    this.backoff = Math.min(this.o.maxBackoffMs ?? 60_000, this.backoff * 2);
    const reason = this.hung ?? (this.lastError ? `${this.lastError.name}: ${this.lastError.message}` : `exit code ${code}`);
    this.o.log?.(`capture decoding worker died (${reason}); restarting in ${wait} ms`);
    this.o.onCrash?.({ reason, restartInMs: wait, runMs });
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (!this.closing) this.spawn();
    }, wait);
  }

  /** Resolves true once a worker is ready for a stream, false when closing. */
  whenReady(): Promise<boolean> {
    if (this.closing) return Promise.resolve(false);
    if (this.ready) return Promise.resolve(true);
    this.start();
    return new Promise((resolve) => this.readyWaiters.push(resolve));
  }

  /** One tcpdump run's stdout into the worker, to its end. */
  async consume(stream: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, _label: string, count: (n: number) => void): Promise<ConsumeResult> {
    this.count = count;
    // the worker died since the supervisor asked: end this run, the next one waits for the new worker
    if (this.closing || this.restartTimer) return { recycle: this.closing ? 'the decoding worker is closing' : 'the decoding worker is restarting' };
    if (!(await this.whenReady())) return { recycle: 'the decoding worker is closing' };
    const gen = this.gen;
    const w = this.w!;
    const high = this.o.highWaterBytes ?? 32 << 20;
    this.streamError = undefined;
    w.postMessage({ t: 'begin' } satisfies ToDecoder);
    // With tcpdump -U the pipe gives one read per few packets: hundreds of thousands of messages a second
    // would cost more than the decoding. Small chunks are joined into batches of up to batchBytes.
    const batchBytes = this.o.batchBytes ?? 256 << 10;
    let batch = new Uint8Array(batchBytes);
    let fill = 0;
    let flushQueued = false;
    const send = (buf: ArrayBuffer, len: number): void => {
      if (gen !== this.gen || !this.w) return;
      this.posted += len;
      w.postMessage({ t: 'chunk', buf, len } satisfies ToDecoder, [buf]);
    };
    const flush = (): void => {
      flushQueued = false;
      if (fill === 0) return;
      if (fill >= batchBytes / 4) {
        // hand the batch over and start a new one
        send(batch.buffer as ArrayBuffer, fill);
        batch = new Uint8Array(batchBytes);
      } else send(batch.buffer.slice(0, fill) as ArrayBuffer, fill);
      fill = 0;
    };
    // a worker can die while the pipe is quiet: wait for the next chunk or for that, whichever comes first
    const it = Symbol.asyncIterator in stream ? stream[Symbol.asyncIterator]() : stream[Symbol.iterator]();
    try {
      for (;;) {
        const next = Promise.resolve(it.next());
        next.catch(() => undefined); // abandoned when the worker dies; the stream is destroyed below
        // a fresh promise each time: racing one long-lived promise would keep a reaction per chunk alive
        const died = new Promise<'died'>((resolve) => (this.onDeath = () => resolve('died')));
        const n = await Promise.race([next, died]);
        if (n === 'died' || gen !== this.gen || !this.w) return { recycle: 'the decoding worker died' };
        if (n.done) break;
        const chunk = n.value;
        if (chunk.length >= batchBytes / 2) {
          flush();
          // a copy the worker can own: stream chunks may share pooled memory
          send(chunk.buffer.slice(chunk.byteOffset, chunk.byteOffset + chunk.byteLength) as ArrayBuffer, chunk.byteLength);
        } else {
          if (fill + chunk.length > batch.length) flush();
          batch.set(chunk, fill);
          fill += chunk.length;
          // more chunks already buffered by the stream join this batch; it goes when the loop waits for I/O
          if (!flushQueued) {
            flushQueued = true;
            setImmediate(flush);
          }
        }
        if (this.streamError !== undefined) return { error: this.streamError };
        while (this.posted - this.parsed > high && gen === this.gen && this.w) {
          flush();
          await new Promise<void>((resolve) => this.drainWaiters.push(resolve));
        }
      }
      flush();
    } catch (e) {
      // the pipe failed: like an unreadable stream, the run ends and tcpdump is restarted
      return { error: `read failed: ${(e as Error).message}` };
    } finally {
      fill = 0; // nothing more to send after an early return
      this.onDeath = undefined;
      // stopped early: close the source (tcpdump's stdout)
      void Promise.resolve(it.return?.()).catch(() => undefined);
    }
    if (gen !== this.gen || !this.w) return { recycle: 'the decoding worker died' };
    const r = await new Promise<{ error: string | undefined } | undefined>((resolve) => {
      this.ended = resolve;
      w.postMessage({ t: 'end' } satisfies ToDecoder);
    });
    if (!r) return { recycle: 'the decoding worker died' };
    return { error: r.error };
  }

  /** The epoch so far, from the worker; a fresh engine takes over. Undefined when no worker could answer. */
  rotate(): Promise<AnalyzeResult | undefined> {
    const w = this.w;
    if (!w || !this.ready) return Promise.resolve(undefined);
    const id = ++this.nextId;
    const timeoutMs = this.o.rotateTimeoutMs ?? 120_000;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        if (this.w !== w) return;
        this.hung = `no epoch from it within ${Math.round(timeoutMs / 1000)} s`;
        void w.terminate();
      }, timeoutMs);
      timer.unref();
      this.rotations.set(id, { resolve, timer });
      w.postMessage({ t: 'rotate', id } satisfies ToDecoder);
    });
  }

  /** Stops the worker (after the final rotate) and any pending restart. */
  async close(): Promise<void> {
    this.closing = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    for (const r of this.readyWaiters.splice(0)) r(false);
    const w = this.w;
    if (w) {
      await w.terminate();
      await this.exited;
    }
  }
}
