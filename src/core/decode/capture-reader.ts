// Format detection in front of the pcap and pcapng readers: the first bytes of
// the (already decompressed) input choose the reader. gzip is undone by the
// adapter, which sees the 1f 8b magic before handing bytes here.
import { type CaptureFormatError, type PacketRecordSink } from './capture-format.js';
import { PcapReader, PCAP_MAGICS } from './pcap.js';
import { PcapngReader, PCAPNG_SHB } from './pcapng.js';
import { copyBytes, u32 } from './bytes.js';

export type CaptureFormat = 'pcap' | 'pcapng';

export function sniffFormat(head: Uint8Array): CaptureFormat | 'gzip' | undefined {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length < 4) return undefined;
  const m = u32(head, 0);
  if (m === PCAPNG_SHB) return 'pcapng';
  if (PCAP_MAGICS.includes(m)) return 'pcap';
  return undefined;
}

/** Streams either format; decides on the first 4 bytes. */
export class CaptureReader {
  private inner: PcapReader | PcapngReader | undefined;
  private head: Uint8Array | undefined;
  error: CaptureFormatError | undefined;
  format: CaptureFormat | undefined;

  constructor(private readonly sink: PacketRecordSink) {}

  get packets(): number {
    return this.inner?.packets ?? 0;
  }

  feed(chunk: Uint8Array): CaptureFormatError | undefined {
    if (this.error) return this.error;
    if (!this.inner) {
      const data = this.head ? concat(this.head, chunk) : chunk;
      if (data.length < 4) {
        this.head = copyBytes(data);
        return undefined;
      }
      this.head = undefined;
      const f = sniffFormat(data);
      if (f === 'pcap') this.inner = new PcapReader(this.sink);
      else if (f === 'pcapng') this.inner = new PcapngReader(this.sink);
      else {
        const m = u32(data, 0).toString(16).padStart(8, '0');
        this.error = {
          kind: 'format',
          message: f === 'gzip' ? 'gzip data inside gzip (double compression) at byte offset 0' : `not a pcap or pcapng capture (first bytes 0x${m}) at byte offset 0`,
          offset: 0,
        };
        return this.error;
      }
      this.format = f;
      this.error = this.inner.feed(data);
      return this.error;
    }
    this.error = this.inner.feed(chunk);
    return this.error;
  }

  end(): CaptureFormatError | undefined {
    if (this.error) return this.error;
    if (!this.inner) {
      this.error = { kind: 'truncated', message: 'input is empty or shorter than a file header', offset: 0 };
      return this.error;
    }
    this.error = this.inner.end();
    return this.error;
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
