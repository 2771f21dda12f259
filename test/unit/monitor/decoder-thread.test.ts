// The monitor's decoding worker: recorded captures fed in chunks (as
// tcpdump's pipe delivers them) give the same devices, flows and findings as
// the in-thread path; flow control holds under a tiny high-water mark; a
// worker that crashes is restarted, the capture restarted with a fresh pcap
// stream, and an alert raised. The worker runs the TypeScript sources
// through a test-only loader (fixtures/ts-register.mjs).
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { standardDetectorFactory } from '../../../src/adapters/capture/detectors.js';

const standardDetectors = await standardDetectorFactory();
import { readCaptureStream } from '../../../src/adapters/capture/file-source.js';
import { DecoderThread, type DecoderThreadOptions } from '../../../src/adapters/monitor/decoder-thread.js';
import { Monitor } from '../../../src/adapters/monitor/daemon.js';
import { epochSink } from '../../../src/adapters/monitor/epoch.js';
import { MonitorStore } from '../../../src/adapters/monitor/store.js';
import { openStore, type Store } from '../../../src/adapters/store/db.js';
import type { AnalyzeResult } from '../../../src/core/engine/events.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../../..');
const pcaps = resolve(root, '../shared/data/pcap');
const SCAN = join(pcaps, 'scan-telnet-malware/slips/test7-malicious.pcap');
const HTTP_AUTH = join(pcaps, 'http-download/ndpi/http_auth.pcap');
const haveData = existsSync(SCAN) && existsSync(HTTP_AUTH);

/** The worker from source: the .ts entry, with the loader. */
const fromSource: Pick<DecoderThreadOptions, 'workerUrl' | 'execArgv'> = {
  workerUrl: pathToFileURL(join(root, 'src/adapters/monitor/decode-worker.ts')),
  execArgv: ['--import', pathToFileURL(join(here, 'fixtures/ts-register.mjs')).href],
};

/** A file as a pipe delivers it: chunks of uneven sizes (records split across chunks), from a shared buffer. */
function* chunks(path: string, sizes = [65536, 4093, 1, 30000, 777]): Generator<Uint8Array> {
  const data = readFileSync(path);
  const pool = new Uint8Array(data.length + 64);
  pool.set(data, 32); // an offset into a larger buffer, as pooled stream chunks have
  let off = 0;
  for (let i = 0; off < data.length; i++) {
    const n = Math.min(sizes[i % sizes.length], data.length - off);
    yield pool.subarray(32 + off, 32 + off + n);
    off += n;
  }
}

async function inThread(files: string[]): Promise<{ result: AnalyzeResult; packets: number }> {
  const sink = epochSink('live:test0', standardDetectors, () => undefined);
  let packets = 0;
  for (const f of files) packets += (await readCaptureStream(chunks(f), sink, 'live:test0')).packets;
  return { result: sink.rotate(), packets };
}

/** What the store takes from an epoch: devices with their destinations, flows and findings. */
const essentials = (r: AnalyzeResult) => ({ summary: r.summary, devices: r.devices, findings: r.findings });

describe.skipIf(!haveData)('DecoderThread', () => {
  const threads: DecoderThread[] = [];
  afterEach(async () => {
    for (const t of threads.splice(0)) await t.close();
  });

  it('gives the same devices, flows and findings as the in-thread path, one pcap stream per capture run', async () => {
    const t = new DecoderThread({ label: 'live:test0', ...fromSource });
    threads.push(t);
    let counted = 0;
    const count = (n: number) => (counted += n);
    // two runs, as after a tcpdump restart: each begins with its own global header
    expect(await t.consume(chunks(SCAN), 'live:test0', count)).toEqual({ error: undefined });
    expect(await t.consume(chunks(HTTP_AUTH), 'live:test0', count)).toEqual({ error: undefined });
    const got = await t.rotate();
    const want = await inThread([SCAN, HTTP_AUTH]);
    expect(got).toBeDefined();
    expect(essentials(got!)).toEqual(essentials(want.result));
    expect(got!.findings.map((f) => f.id).sort()).toEqual(expect.arrayContaining(['lateral-scan', 'plaintext-credentials']));
    expect(counted).toBe(want.packets);
    expect(t.packets).toBe(want.packets);
    // the next epoch starts empty
    const next = await t.rotate();
    expect(next!.summary.packets).toBe(0);
    expect(next!.devices).toEqual([]);
  });

  it('pauses reading above the high-water mark and still loses nothing', async () => {
    const t = new DecoderThread({ label: 'live:test0', ...fromSource, highWaterBytes: 8192, ackBytes: 2048 });
    threads.push(t);
    let reads = 0;
    async function* slowlyCounted(): AsyncGenerator<Uint8Array> {
      for (const c of chunks(SCAN, [4096])) {
        reads++;
        yield c;
      }
    }
    await t.consume(slowlyCounted(), 'live:test0', () => undefined);
    const got = await t.rotate();
    const want = await inThread([SCAN]);
    expect(reads).toBeGreaterThan(50);
    expect(essentials(got!)).toEqual(essentials(want.result));
  });

  const dist = join(root, 'dist/adapters/monitor/decoder-thread.js');
  it.skipIf(!existsSync(dist))('the built daemon finds its worker and the standard detectors beside it in dist/', async () => {
    const { DecoderThread: Built } = (await import(pathToFileURL(dist).href)) as { DecoderThread: typeof DecoderThread };
    const t = new Built({ label: 'live:test0' });
    threads.push(t);
    await t.consume(chunks(HTTP_AUTH), 'live:test0', () => undefined);
    const got = await t.rotate();
    expect(got!.findings.map((f) => f.id)).toContain('plaintext-credentials');
  });

  it('reports a stream that is not a capture', async () => {
    const t = new DecoderThread({ label: 'live:test0', ...fromSource });
    threads.push(t);
    const r = await t.consume([new TextEncoder().encode('tcpdump: that is not a pcap header')], 'live:test0', () => undefined);
    expect(r.error).toMatch(/not a pcap or pcapng capture/);
  });

  it('ends the run when the pipe fails, and the next run starts clean', async () => {
    const t = new DecoderThread({ label: 'live:test0', ...fromSource });
    threads.push(t);
    async function* failing(): AsyncGenerator<Uint8Array> {
      yield* chunks(SCAN, [50_000]);
      throw new Error('EPIPE');
    }
    expect((await t.consume(failing(), 'live:test0', () => undefined)).error).toBe('read failed: EPIPE');
    expect(await t.consume(chunks(HTTP_AUTH), 'live:test0', () => undefined)).toEqual({ error: undefined });
    const got = await t.rotate();
    expect(got!.findings.map((f) => f.id)).toContain('plaintext-credentials');
  });

  it('a worker that cannot load its detectors is restarted with backoff and reported each time', async () => {
    const crashes: string[] = [];
    const t = new DecoderThread({
      label: 'live:test0',
      ...fromSource,
      detectors: { module: pathToFileURL(join(here, 'fixtures/crash-detectors.mjs')).href, name: 'noSuchExport' },
      minBackoffMs: 50,
      maxBackoffMs: 100,
      onCrash: (c) => crashes.push(c.reason),
    });
    threads.push(t);
    t.start();
    const t0 = Date.now();
    while (crashes.length < 2 && Date.now() - t0 < 15_000) await new Promise((r) => setTimeout(r, 50));
    expect(crashes.length).toBeGreaterThanOrEqual(2);
    expect(crashes[0]).toMatch(/has no function noSuchExport/);
    expect(await t.rotate()).toBeUndefined();
  });
});

describe.skipIf(!haveData)('Monitor with the decoding worker', () => {
  let dir: string;
  let store: Store;
  let ms: MonitorStore;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'igdec-'));
    store = openStore(join(dir, 'm.db'));
    ms = new MonitorStore(store);
  });
  afterEach(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  // a fake tcpdump: the capture on stdout, then it keeps running like the real one
  const fakeTcpdump = (file: string) => [process.execPath, '-e', `process.stdout.write(require('fs').readFileSync(${JSON.stringify(file)})); setInterval(() => {}, 1000)`];

  it('a crashed worker is restarted with an alert, the capture restarted, and the next epoch is complete', async () => {
    const httpPackets = (await readCaptureStream(chunks(HTTP_AUTH), { onPacket() {} }, 'count')).packets;
    const marker = join(dir, 'crash-armed');
    writeFileSync(marker, '1');
    process.env.IG_DECODER_CRASH_MARKER = marker;
    const m = new Monitor(
      { store: ms },
      {
        capture: { iface: 'fake0', command: fakeTcpdump(HTTP_AUTH), minBackoffMs: 50 },
        worker: { ...fromSource, detectors: { module: pathToFileURL(join(here, 'fixtures/crash-detectors.mjs')).href, name: 'crashOnce' }, minBackoffMs: 50 },
        epochMs: 1e9,
        learnMs: 0,
      },
    );
    try {
      m.start();
      // the first worker crashes on the first packet; the second gets a fresh stream from a new tcpdump and all of it
      const t0 = Date.now();
      const done = () => m.decoderThread()!.crashes >= 1 && m.captureCounters()!.restarts >= 1 && m.captureCounters()!.packets >= httpPackets;
      while (Date.now() - t0 < 15_000 && !done()) await new Promise((r) => setTimeout(r, 100));
      await m.endEpoch();
      await m.idle();
    } finally {
      await m.stop();
      delete process.env.IG_DECODER_CRASH_MARKER;
    }
    expect(existsSync(marker)).toBe(false);
    expect(m.decoderThread()!.crashes).toBe(1);
    const downs = ms.alerts().filter((a) => a.kind === 'capture-down');
    expect(downs).toHaveLength(1);
    expect(downs[0].title).toMatch(/Capture decoding on fake0 crashed \(Error: decoder crash test\)/);
    expect(downs[0].details.component).toBe('decoder');
    // tcpdump was recycled for the new worker (a fresh pcap stream), not counted as a capture failure
    expect(m.captureCounters()!.restarts).toBe(1);
    // the epoch after the crash has the device and its finding
    const d = ms.device('28:cf:e9:21:3c:2b');
    expect(d?.findings.map((f) => f.id)).toContain('plaintext-credentials');
  }, 30_000);

  it('stops promptly while a crashed worker waits for its restart', async () => {
    const m = new Monitor(
      { store: ms },
      {
        capture: { iface: 'fake0', command: fakeTcpdump(SCAN) },
        worker: { ...fromSource, detectors: { module: pathToFileURL(join(here, 'fixtures/crash-detectors.mjs')).href, name: 'noSuchExport' }, minBackoffMs: 60_000 },
        epochMs: 1e9,
      },
    );
    m.start();
    const t0 = Date.now();
    while (Date.now() - t0 < 10_000 && m.decoderThread()!.crashes < 1) await new Promise((r) => setTimeout(r, 50));
    expect(m.decoderThread()!.crashes).toBe(1);
    const t1 = Date.now();
    await m.stop();
    expect(Date.now() - t1).toBeLessThan(5000);
    expect(m.captureCounters()!.up).toBe(false);
    await m.idle();
    expect(ms.alerts().filter((a) => a.kind === 'capture-down')).toHaveLength(1);
  });

  it('keeps packet counts and writes the final epoch on stop', async () => {
    const m = new Monitor({ store: ms }, { capture: { iface: 'fake0', command: fakeTcpdump(SCAN) }, worker: fromSource, epochMs: 1e9, learnMs: 0 });
    m.start();
    const t0 = Date.now();
    while (Date.now() - t0 < 10_000 && (m.captureCounters()?.packets ?? 0) < 2000) await new Promise((r) => setTimeout(r, 50));
    await m.stop();
    expect(m.captureCounters()!.packets).toBe(2000);
    expect(m.decoderThread()!.crashes).toBe(0);
    expect(ms.devices().flatMap((d) => d.findings.map((f) => f.id))).toContain('lateral-scan');
  });
});
