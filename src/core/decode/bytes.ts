// Byte helpers for the decoders: big-endian reads without DataView (faster in
// V8 on small reads), address formatting, bounded ASCII extraction. Callers
// check lengths before reading; these helpers never read past `end`.

export const u16 = (b: Uint8Array, o: number): number => (b[o] << 8) | b[o + 1];
export const u32 = (b: Uint8Array, o: number): number => ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
/**
 * The same four bytes as a signed 32-bit integer. IPv4 addresses are kept so
 * on the hot path: V8 stores a signed 32-bit value in a field or compares it
 * as a small integer, where an unsigned one of 2^31 or more (every address
 * from 128.0.0.0, 192.168/16 included) is a boxed double: one more memory
 * load for every flow-table probe. `>>> 0` gives the unsigned value back.
 */
export const i32 = (b: Uint8Array, o: number): number => (b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3];
export const u16le = (b: Uint8Array, o: number): number => b[o] | (b[o + 1] << 8);
export const u32le = (b: Uint8Array, o: number): number => (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;

const HEX: string[] = [];
for (let i = 0; i < 256; i++) HEX.push(i.toString(16).padStart(2, '0'));

export function macAt(b: Uint8Array, o: number): string {
  return `${HEX[b[o]]}:${HEX[b[o + 1]]}:${HEX[b[o + 2]]}:${HEX[b[o + 3]]}:${HEX[b[o + 4]]}:${HEX[b[o + 5]]}`;
}

export function ipv4Text(n: number): string {
  return `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

export function ipv4At(b: Uint8Array, o: number): string {
  return `${b[o]}.${b[o + 1]}.${b[o + 2]}.${b[o + 3]}`;
}

/** The eight 16-bit groups of the address being formatted (scratch: no array per call). */
const GROUPS = new Int32Array(8);

/**
 * IPv6 text form per RFC 5952 (lower case, longest zero run of 2+ groups
 * compressed, first on ties). Built by concatenation from a scratch array:
 * the arrays of the map/slice/join version changed shape with the place of
 * the zero run, and V8 dropped and recompiled this function five times in a
 * run for it.
 */
export function ipv6At(b: Uint8Array, o: number): string {
  const g = GROUPS;
  for (let i = 0; i < 8; i++) g[i] = (b[o + 2 * i] << 8) | b[o + 2 * i + 1];
  // RFC 5952 §5: IPv4-mapped addresses keep the dotted quad
  if (g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff) {
    return `::ffff:${b[o + 12]}.${b[o + 13]}.${b[o + 14]}.${b[o + 15]}`;
  }
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  let s = '';
  if (bestStart < 0) {
    for (let i = 0; i < 8; i++) s += i === 0 ? g[i].toString(16) : `:${g[i].toString(16)}`;
    return s;
  }
  for (let i = 0; i < bestStart; i++) s += i === 0 ? g[i].toString(16) : `:${g[i].toString(16)}`;
  s += '::';
  const after = bestStart + bestLen;
  for (let i = after; i < 8; i++) s += i === after ? g[i].toString(16) : `:${g[i].toString(16)}`;
  return s;
}

export function hex(b: Uint8Array, o: number, len: number): string {
  let s = '';
  for (let i = 0; i < len; i++) s += HEX[b[o + i]];
  return s;
}

/** Buffer views over large backing stores (the readers' reused chunk buffers), made once each. */
const bufferViews = new WeakMap<ArrayBufferLike, Buffer>();
const VIEW_MIN = 64 * 1024;

/** Latin-1 text of b[o..end) (bytes map 1:1 to code points, so never throws). */
export function latin1(b: Uint8Array, o: number, end: number): string {
  if (end <= o) return '';
  const ab = b.buffer;
  if (ab.byteLength >= VIEW_MIN) {
    // one Buffer over the whole store, reused for every string cut from it: no object per call
    let v = bufferViews.get(ab);
    if (v === undefined) {
      v = Buffer.from(ab);
      bufferViews.set(ab, v);
    }
    return v.toString('latin1', b.byteOffset + o, b.byteOffset + end);
  }
  // short runs: no Buffer object to make
  if (end - o <= 64) return String.fromCharCode.apply(null, b.subarray(o, end) as unknown as number[]);
  // a Buffer view over the same memory (no copy); latin1 decoding cannot fail
  return Buffer.from(ab, b.byteOffset + o, end - o).toString('latin1');
}

const utf8 = new TextDecoder('utf-8', { fatal: false });
/** UTF-8 text (invalid sequences become U+FFFD, never throws). */
export function utf8Text(b: Uint8Array, o: number, end: number): string {
  return utf8.decode(b.subarray(o, end));
}

/** Printable ASCII with other bytes shown as '.', for evidence snippets. */
export function printable(b: Uint8Array, o: number, end: number, max = 120): string {
  let s = '';
  const stop = Math.min(end, o + max);
  for (let i = o; i < stop; i++) {
    const c = b[i];
    s += c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : c === 0x0a || c === 0x0d ? ' ' : '.';
  }
  return s.replace(/\s+/g, ' ').trim();
}

/** Index of needle (ASCII) in b[o..end), or -1. */
export function indexOfAscii(b: Uint8Array, needle: string, o: number, end: number): number {
  const n = needle.length;
  const first = needle.charCodeAt(0);
  outer: for (let i = o; i + n <= end; i++) {
    if (b[i] !== first) continue;
    for (let j = 1; j < n; j++) if (b[i + j] !== needle.charCodeAt(j)) continue outer;
    return i;
  }
  return -1;
}

/** Index of CRLF CRLF (end of an HTTP-style header block) in b[o..end), or -1. */
export function indexOfHeaderEnd(b: Uint8Array, o: number, end: number): number {
  // Boyer-Moore-Horspool on the needle's last byte: most head bytes are neither CR nor LF, so the window moves by 4
  let i = o;
  while (i + 3 < end) {
    const c = b[i + 3];
    if (c === 10) {
      if (b[i + 2] === 13 && b[i + 1] === 10 && b[i] === 13) return i;
      i += 2;
    } else if (c === 13) i += 1;
    else i += 4;
  }
  return -1;
}

/** Result of an application decoder: a bad message is data, never an exception. */
export type Decoded<T> = { ok: true; value: T } | { ok: false; reason: string };
export const fail = (reason: string): { ok: false; reason: string } => ({ ok: false, reason });

/**
 * A copy of b[start..end) as a plain Uint8Array. Never use `.slice()` on
 * packet bytes: on a Node Buffer it returns a view, and the reader reuses its
 * buffer for the next chunk.
 */
export function copyBytes(b: Uint8Array, start = 0, end = b.length): Uint8Array {
  return Uint8Array.prototype.slice.call(b, start, end);
}

/**
 * Small copies that a flow holds for a while (a message head split across
 * segments, an HTTP body prefix, a TLS record in assembly), cut from shared
 * 32 KiB slabs. In V8 a typed array over 64 bytes gets its own off-heap
 * ArrayBuffer: allocation, zero-fill and an external-memory record the GC
 * must sweep cost ~1-2.5 µs each (`new Uint8Array(256)` ~1.0 µs, 2,896 bytes
 * ~2.5 µs on this project's machines), against ~0.2 µs for a view into a slab.
 *
 * Slabs are never reused: a full one is dropped and lives only while a view
 * of it does, so a view's bytes never change under its holder. The price is
 * that a kept view keeps its whole slab (32 KiB, less than the 64 KiB a
 * flow may already hold for one HTTP head or the 256 KiB of a TLS
 * handshake); what lives long or is large (over 8 KiB) gets a buffer of its
 * own.
 */
const NONE = new Uint8Array(0);
const SLAB_SIZE = 32 * 1024;
const SLAB_MAX = 8 * 1024;
let slab = new Uint8Array(SLAB_SIZE);
let slabUsed = 0;

/** A copy of b[start..end) that may share its memory (see above); the same bytes as `copyBytes`. */
export function copySmall(b: Uint8Array, start: number, end: number): Uint8Array {
  const n = end - start;
  if (n > SLAB_MAX) return copyBytes(b, start, end);
  const v = slabRun(n);
  if (n <= 32) for (let i = 0; i < n; i++) v[i] = b[start + i];
  else v.set(b.subarray(start, end));
  return v;
}

/** n fresh zero bytes, from a slab when n <= 8 KiB (slabs are never reused). */
export function smallBuffer(n: number): Uint8Array {
  return n > SLAB_MAX ? new Uint8Array(n) : slabRun(n);
}

function slabRun(n: number): Uint8Array {
  if (n <= 0) return NONE;
  if (slabUsed + n > SLAB_SIZE) {
    slab = new Uint8Array(SLAB_SIZE);
    slabUsed = 0;
  }
  const at = slabUsed;
  // 8-byte steps keep neighbouring views off each other's words
  slabUsed = (at + n + 7) & ~7;
  return slab.subarray(at, at + n);
}

/**
 * Bytes waiting for the rest of a message (a TLS record, a handshake message):
 * appended in place with doubling capacity, so a message that arrives in k
 * segments costs its size once, not k times. `buf[0..length)` is the content;
 * a consumer reads it during the call and must copy what it keeps. Capacity
 * up to 8 KiB comes from the slabs.
 */
export class ByteQueue {
  buf: Uint8Array = NONE;
  length = 0;

  append(b: Uint8Array, o: number, end: number): void {
    const n = end - o;
    if (n <= 0) return;
    if (this.length + n > this.buf.length) {
      const cap = Math.max(512, (this.length + n) * 2);
      const grown = cap <= SLAB_MAX ? slabRun(cap) : new Uint8Array(cap);
      grown.set(this.buf.subarray(0, this.length), 0);
      this.buf = grown;
    }
    this.buf.set(b.subarray(o, end), this.length);
    this.length += n;
  }

  /**
   * Make room for `total` bytes in all (when the message's full length is
   * known, e.g. from a TLS record header): one allocation of the exact size
   * instead of doubling steps that copy the bytes again (a 4 KiB certificate
   * record in three segments grew 2,896 -> 8,688 bytes, the last step an
   * off-heap buffer of its own).
   *
   * Only once a quarter of it is here (held, or `incoming` about to be
   * appended): a header alone does not buy the length it claims. Hostile
   * flows that each send a 5-byte TLS header claiming 18 KiB, and nothing
   * more, would otherwise hold 18 KiB apiece (4.8 GB at the flow cap);
   * until then the queue grows by doubling what it holds.
   */
  reserve(total: number, incoming = 0): void {
    if (total <= this.buf.length || total > 4 * (this.length + incoming)) return;
    const grown = total <= SLAB_MAX ? slabRun(total) : new Uint8Array(total);
    grown.set(this.buf.subarray(0, this.length), 0);
    this.buf = grown;
  }

  /** Drop the first p bytes. */
  consume(p: number): void {
    if (p >= this.length) this.length = 0;
    else if (p > 0) {
      this.buf.copyWithin(0, p, this.length);
      this.length -= p;
    }
  }

  clear(): void {
    this.buf = NONE;
    this.length = 0;
  }
}
