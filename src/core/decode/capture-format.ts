// Shared pieces of the capture-file readers (pcap.ts, pcapng.ts): the sink
// they deliver packet records to, the error they report, and the streaming
// base that carries a partial record from one chunk to the next. Readers are
// push-based (feed chunks, then end) so a file or a pipe streams through in
// constant memory; nothing here throws on malformed input.

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
    let data = chunk;
    if (this.pending && this.pending.length > 0) {
      const joined = new Uint8Array(this.pending.length + chunk.length);
      joined.set(this.pending, 0);
      joined.set(chunk, this.pending.length);
      data = joined;
    }
    const pos = this.parse(data);
    if (this.error) return this.error;
    this.base += pos;
    // keep the incomplete tail; copy it when small so a large chunk is not retained
    const rest = data.length - pos;
    this.pending = rest === 0 ? undefined : rest < 65536 ? data.slice(pos) : data.subarray(pos);
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
