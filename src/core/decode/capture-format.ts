// Shared pieces of the capture-file readers (pcap.ts, pcapng.ts): the sink
// they deliver packet records to, the error they report, and the streaming
// base that carries a partial record from one chunk to the next. Readers are
// push-based (feed chunks, then end) so a file or a pipe streams through in
// constant memory; nothing here throws on malformed input.

import { copyBytes } from './bytes.js';

export interface PacketRecordSink {
  /**
   * One captured packet. `buf[off .. off+capLen)` holds its bytes and is valid
   * only during the call. `ts` is seconds since the epoch (fractional).
   */
  onPacket(linktype: number, ts: number, buf: Uint8Array, off: number, capLen: number, wireLen: number): void;
}

export interface CaptureFormatError {
  /** 'format': the bytes are not what the format allows; 'truncated': the input ended inside a record. */
  kind: 'format' | 'truncated';
  message: string;
  /** Byte offset (from the start of the uncompressed input) of the header or block at fault. */
  offset: number;
}

/** Largest record we accept; anything larger is treated as corruption, not buffered. */
export const MAX_RECORD = 64 * 1024 * 1024;

export abstract class StreamingReader {
  /** Packets delivered so far. */
  packets = 0;
  error: CaptureFormatError | undefined;
  protected pending: Uint8Array | undefined;
  /** Absolute offset of pending[0] / of the next chunk's first byte when nothing is pending. */
  protected base = 0;

  constructor(protected readonly sink: PacketRecordSink) {}

  /** Feed the next chunk; returns the error that stopped reading, if any (then further chunks are ignored). */
  feed(chunk: Uint8Array): CaptureFormatError | undefined {
    if (this.error) return this.error;
    let c = 0;
    // finish a record split across chunks by copying only the bytes it lacks (never the whole chunk)
    while (this.pending !== undefined && this.pending.length > 0) {
      const have = this.pending.length;
      const need = Math.max(this.need(this.pending), have + 1);
      const take = Math.min(chunk.length - c, need - have);
      if (take <= 0) return undefined;
      const joined = new Uint8Array(have + take);
      joined.set(this.pending, 0);
      joined.set(chunk.subarray(c, c + take), have);
      c += take;
      this.pending = joined;
      if (joined.length < need) return undefined;
      const pos = this.parse(joined);
      if (this.error) return this.error;
      this.base += pos;
      this.pending = pos < joined.length ? copyBytes(joined, pos) : undefined;
      if (pos === 0 && c >= chunk.length) return undefined;
    }
    if (c >= chunk.length) return undefined;
    const data = c === 0 ? chunk : chunk.subarray(c);
    const pos = this.parse(data);
    if (this.error) return this.error;
    this.base += pos;
    const rest = data.length - pos;
    // keep the incomplete tail as a copy so the big chunk can be freed
    this.pending = rest === 0 ? undefined : copyBytes(data, pos);
    return undefined;
  }

  /** The input is over: an incomplete record left over is a truncation error. */
  end(): CaptureFormatError | undefined {
    if (this.error) return this.error;
    if (this.pending && this.pending.length > 0) {
      this.error = {
        kind: 'truncated',
        message: `input ends inside a record at byte offset ${this.base} (${this.pending.length} bytes left over)`,
        offset: this.base,
      };
    } else if (!this.sawHeader()) {
      this.error = { kind: 'truncated', message: 'input is empty or shorter than a file header', offset: 0 };
    }
    return this.error;
  }

  protected fail(kind: CaptureFormatError['kind'], message: string, relOffset: number): number {
    const offset = this.base + relOffset;
    this.error = { kind, message: `${message} at byte offset ${offset}`, offset };
    return relOffset;
  }

  /** Bytes needed from d[0] to hold the next whole unit (file header, record header or record). */
  protected abstract need(d: Uint8Array): number;
  /** Parse whole records from data starting at 0; return the position of the first unconsumed byte. */
  protected abstract parse(data: Uint8Array): number;
  protected abstract sawHeader(): boolean;
}

/** Link-layer types (LINKTYPE_* from tcpdump.org) the engine decodes. */
export const LINKTYPE = {
  NULL: 0,
  ETHERNET: 1,
  RAW: 101,
  LOOP: 108,
  LINUX_SLL: 113,
  IPV4: 228,
  IPV6: 229,
  LINUX_SLL2: 276,
} as const;
