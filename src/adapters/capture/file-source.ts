// Reads capture files (pcap, pcapng, either gzip-compressed) as a stream into
// a packet sink: 1 MiB chunks, constant memory whatever the file size. A
// malformed file stops at the bad record with an error naming its offset;
// the packets before it have already been delivered.
import { createReadStream, promises as fsp } from 'node:fs';
import { createGunzip } from 'node:zlib';
import type { Readable } from 'node:stream';
import { CaptureReader, sniffFormat } from '../../core/decode/capture-reader.js';
import type { PacketRecordSink } from '../../core/decode/capture-format.js';
import { ErrorCodes, IotguardError } from '../../core/model/errors.js';

export interface ReadResult {
  packets: number;
  format: 'pcap' | 'pcapng' | undefined;
  gzip: boolean;
  /** Set when the input could not be read to its end. */
  error?: IotguardError;
}

const CHUNK = 1 << 20;
/** Plain files are read into two reused buffers: no per-chunk allocation, so no GC churn at 500k+ packets/s. */
const FILE_CHUNK = 4 << 20;

// The read buffers start on a page boundary. The kernel copies page-cache
// bytes into a 16-byte-aligned buffer (what malloc gives a plain
// Uint8Array: 16 bytes past a page) about 4x slower than into an aligned one
// on the AMD EPYC machines we measure on: 0.40-0.45 s against 0.10-0.11 s of
// system time for a 660 MiB capture, the same as `dd bs=4M` (bench/read.mjs).
// A WebAssembly memory is page-aligned by construction; where WebAssembly is
// unavailable (node --jitless) plain arrays still work, only slower. The
// pairs are pooled: one allocation per process for sequential reads, and
// concurrent reads each get their own pair.
const freePairs: Array<[Uint8Array, Uint8Array]> = [];
// (the project's TypeScript libs carry no WebAssembly declarations; Node always has the global)
const WasmMemory = (globalThis as unknown as { WebAssembly?: { Memory: new (d: { initial: number; maximum?: number }) => { buffer: ArrayBuffer } } }).WebAssembly?.Memory;

/** Two page-aligned FILE_CHUNK buffers (plain Uint8Arrays: same element kind for the decoders). */
export function acquireChunkPair(): [Uint8Array, Uint8Array] {
  const p = freePairs.pop();
  if (p !== undefined) return p;
  try {
    if (WasmMemory === undefined) throw new Error('no WebAssembly');
    const mem = new WasmMemory({ initial: (2 * FILE_CHUNK) / 65536, maximum: (2 * FILE_CHUNK) / 65536 });
    return [new Uint8Array(mem.buffer, 0, FILE_CHUNK), new Uint8Array(mem.buffer, FILE_CHUNK, FILE_CHUNK)];
  } catch {
    return [new Uint8Array(FILE_CHUNK), new Uint8Array(FILE_CHUNK)];
  }
}

export function releaseChunkPair(p: [Uint8Array, Uint8Array]): void {
  if (freePairs.length < 4) freePairs.push(p);
}

// Two buffers, one read ahead: while the engine decodes one chunk, the
// thread pool fills the other, so the file read (a page-cache copy) overlaps
// the decoding on a second core. The readers copy any partial record they
// keep, so a buffer can be refilled once it was fed.
export async function* fileChunks(path: string): AsyncGenerator<Uint8Array> {
  const fh = await fsp.open(path, 'r');
  // plain Uint8Arrays: subarray() on them is cheaper than on Buffers, and decoders take many
  const bufs = acquireChunkPair();
  let i = 0;
  let next: Promise<{ bytesRead: number }> = fh.read(bufs[0], 0, FILE_CHUNK, null);
  try {
    for (;;) {
      const { bytesRead } = await next;
      if (bytesRead === 0) return;
      const cur = bufs[i];
      i ^= 1;
      // reads stay in file order: the next one starts only after this one completed
      next = fh.read(bufs[i], 0, FILE_CHUNK, null);
      yield bytesRead === FILE_CHUNK ? cur : cur.subarray(0, bytesRead);
    }
  } finally {
    // the consumer may stop early (a malformed record): let the read in flight finish before closing
    await next.catch(() => undefined);
    releaseChunkPair(bufs);
    await fh.close();
  }
}

/** Stream capture bytes from any readable (file, gunzip, tcpdump's stdout, an SSH channel) through the readers. */
export async function readCaptureStream(
  stream: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  sink: PacketRecordSink,
  label: string,
  opts: { onChunk?: (bytes: number) => void } = {},
): Promise<{ packets: number; format: 'pcap' | 'pcapng' | undefined; error?: IotguardError }> {
  const reader = new CaptureReader(sink);
  let failed = reader.error;
  try {
    for await (const chunk of stream) {
      opts.onChunk?.(chunk.length);
      failed = reader.feed(chunk);
      if (failed) break;
    }
    if (!failed) failed = reader.end();
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const gz = err.code === 'Z_DATA_ERROR' || err.code === 'Z_BUF_ERROR' || err.errno === -3 || err.errno === -5;
    return {
      packets: reader.packets,
      format: reader.format,
      error: new IotguardError(gz ? ErrorCodes.CAPTURE_FORMAT : ErrorCodes.CAPTURE_FAILED, `${label}: ${gz ? 'corrupt gzip data' : 'read failed'} after ${reader.packets} packets: ${err.message}`, { cause: e, details: { packets: reader.packets } }),
    };
  }
  if (failed) {
    const code = failed.kind === 'truncated' ? ErrorCodes.CAPTURE_TRUNCATED : ErrorCodes.CAPTURE_FORMAT;
    return {
      packets: reader.packets,
      format: reader.format,
      error: new IotguardError(code, `${label}: ${failed.message} (after ${reader.packets} packets)`, { details: { offset: failed.offset, packets: reader.packets } }),
    };
  }
  return { packets: reader.packets, format: reader.format };
}

export async function readCaptureFile(path: string, sink: PacketRecordSink, opts: { onChunk?: (bytes: number) => void } = {}): Promise<ReadResult> {
  let head: Buffer;
  try {
    const fh = await fsp.open(path, 'r');
    try {
      head = Buffer.alloc(4);
      const { bytesRead } = await fh.read(head, 0, 4, 0);
      head = head.subarray(0, bytesRead);
    } finally {
      await fh.close();
    }
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOENT') throw new IotguardError(ErrorCodes.FILE_NOT_FOUND, `no such file: ${path}`, { cause: e });
    if (err.code === 'EISDIR') throw new IotguardError(ErrorCodes.CAPTURE_FORMAT, `${path} is a directory, not a capture file`, { cause: e });
    if (err.code === 'EACCES') throw new IotguardError(ErrorCodes.NOT_ROOT, `cannot read ${path}: permission denied`, { cause: e });
    throw new IotguardError(ErrorCodes.CAPTURE_FAILED, `cannot read ${path}: ${err.message}`, { cause: e });
  }
  const gzip = sniffFormat(head) === 'gzip';
  if (!gzip) return { ...(await readCaptureStream(fileChunks(path), sink, path, opts)), gzip };
  const file = createReadStream(path, { highWaterMark: CHUNK });
  const gun = createGunzip({ chunkSize: CHUNK });
  file.on('error', (e) => gun.destroy(e));
  const stream: Readable = file.pipe(gun);
  try {
    const r = await readCaptureStream(stream, sink, path, opts);
    return { ...r, gzip };
  } finally {
    file.destroy();
    stream.destroy();
  }
}
