import { describe, expect, it } from 'vitest';
import { CaptureReader } from '../../../src/core/decode/capture-reader.js';
import type { PacketRecordSink } from '../../../src/core/decode/capture-format.js';
import { pcap, pcapng } from '../engine/pkt.js';

interface Rec {
  lt: number;
  ts: number;
  data: number[];
  wire: number;
}

function read(file: Uint8Array, chunk = file.length): { recs: Rec[]; err: ReturnType<CaptureReader['end']> } {
  const recs: Rec[] = [];
  const sink: PacketRecordSink = { onPacket: (lt, ts, b, o, c, w) => recs.push({ lt, ts, data: [...b.subarray(o, o + c)], wire: w }) };
  const r = new CaptureReader(sink);
  let err: ReturnType<CaptureReader['end']>;
  for (let i = 0; i < file.length && !err; i += chunk) {
    // a Buffer reused between chunks, as the file adapter does: readers must copy what they keep
    const scratch = Buffer.alloc(chunk);
    scratch.set(file.subarray(i, i + chunk));
    err = r.feed(scratch.subarray(0, Math.min(chunk, file.length - i)));
    scratch.fill(0xee);
  }
  return { recs, err: err ?? r.end() };
}

const frames = [
  { ts: 1700000000.25, data: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15] },
  { ts: 1700000001.5, data: Array.from({ length: 300 }, (_, i) => i & 255) },
  { ts: 1700000002.000001, data: [0xaa] },
];

describe('capture readers', () => {
  for (const [name, file] of [
    ['pcap little-endian µs', pcap(frames)],
    ['pcap big-endian µs', pcap(frames, { bigEndian: true })],
    ['pcap nanosecond', pcap(frames, { nano: true })],
    ['pcapng little-endian', pcapng([1], frames)],
    ['pcapng big-endian, ns resolution', pcapng([1], frames, { bigEndian: true, tsresol: 9 })],
  ] as const) {
    it(`${name}: same records whatever the chunking`, () => {
      const whole = read(file);
      expect(whole.err).toBeUndefined();
      expect(whole.recs.map((r) => r.data)).toEqual(frames.map((f) => f.data));
      whole.recs.forEach((r, i) => expect(r.ts).toBeCloseTo(frames[i].ts, 5));
      for (const chunk of [1, 3, 7, 16, 64]) {
        const split = read(file, chunk);
        expect(split.err).toBeUndefined();
        expect(split.recs).toEqual(whole.recs);
      }
    });
  }

  it('pcapng: per-interface link types', () => {
    const f = pcapng([1, 113, 101], [
      { ts: 1, data: [1], iface: 2 },
      { ts: 2, data: [2], iface: 0 },
      { ts: 3, data: [3], iface: 1 },
    ]);
    expect(read(f).recs.map((r) => r.lt)).toEqual([101, 1, 113]);
  });

  it('pcapng: a packet naming an interface that does not exist is an error with its offset', () => {
    const f = pcapng([1], [{ ts: 1, data: [1, 2, 3, 4], iface: 0 }, { ts: 2, data: [9], iface: 3 }]);
    const { recs, err } = read(f, 5);
    expect(recs).toHaveLength(1);
    expect(err?.kind).toBe('format');
    expect(err?.message).toMatch(/interface 3/);
    // SHB 28 + IDB 20 + first EPB 36 bytes
    expect(err?.offset).toBe(28 + 20 + 36);
  });

  it('a file cut inside a record: truncated, at the record offset, earlier packets kept', () => {
    const f = pcap(frames);
    const cut = f.subarray(0, f.length - 1);
    const { recs, err } = read(cut, 10);
    expect(recs).toHaveLength(2);
    expect(err).toMatchObject({ kind: 'truncated', offset: 24 + 16 + 15 + 16 + 300 });
  });

  it('not a capture: one clear error', () => {
    const { err } = read(Buffer.from('hello world, this is text'));
    expect(err?.message).toMatch(/not a pcap or pcapng capture/);
    expect(read(new Uint8Array(0)).err?.message).toMatch(/empty/);
  });

  it('a pcapng block whose trailing length disagrees is rejected at that block', () => {
    const f = pcapng([1], frames);
    const bad = Uint8Array.from(f);
    bad[28 + 20 + 48 - 4] ^= 0xff; // trailing length of the first EPB (20 + 16 data + 12 framing)
    const { recs, err } = read(bad);
    expect(recs).toHaveLength(0);
    expect(err?.offset).toBe(48);
    expect(err?.message).toMatch(/trailing length/);
  });
});
