// The byte helpers flows keep state in: copies cut from shared slabs must
// hold the same bytes as plain copies, keep them while later copies are cut,
// and never overlap each other.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ByteQueue, copyBytes, copySmall, ipv6At, smallBuffer } from '../../../src/core/decode/bytes.js';

const chunk = fc.uint8Array({ minLength: 0, maxLength: 12_000 });

describe('slab copies', () => {
  it('copySmall gives the bytes a plain copy gives, and keeps them while thousands more are cut', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(chunk, fc.nat(), fc.nat()), { minLength: 1, maxLength: 60 }), (ops) => {
        const kept: Array<[Uint8Array, number[]]> = [];
        for (const [src, a, b] of ops) {
          const s = src.length === 0 ? 0 : a % src.length;
          const e = src.length === 0 ? 0 : s + (b % (src.length - s + 1));
          const v = copySmall(src, s, e);
          const want = [...copyBytes(src, s, e)];
          expect([...v]).toEqual(want);
          kept.push([v, want]);
          // scribble over the source: the copy must not be a view of it
          src.fill(0xee);
        }
        for (const [v, want] of kept) expect([...v]).toEqual(want);
      }),
      { numRuns: 60 },
    );
  });

  it('never hands out overlapping memory: writing one copy changes no other', () => {
    const views: Uint8Array[] = [];
    for (let i = 0; i < 3000; i++) views.push(copySmall(new Uint8Array(1 + (i % 300)).fill(i & 0xff), 0, 1 + (i % 300)));
    for (let i = 0; i < views.length; i += 2) views[i].fill(0xaa);
    for (let i = 1; i < views.length; i += 2) expect(views[i].every((x) => x === (i & 0xff))).toBe(true);
    // a fresh buffer is zero, however many were cut before it
    expect(smallBuffer(5000).every((x) => x === 0)).toBe(true);
    expect(smallBuffer(20_000).length).toBe(20_000);
  });

  it('a ByteQueue holds exactly what was appended, through growth and consumes', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(chunk, fc.nat(), fc.nat({ max: 20_000 })), { maxLength: 40 }), (ops) => {
        const q = new ByteQueue();
        let model: number[] = [];
        for (const [src, k, room] of ops) {
          // reserve() only makes room: it never changes what the queue holds; and it makes room only
          // once a quarter of the total is held or coming (a header alone does not buy its length)
          if (room % 3 === 0) {
            const before = q.buf.length;
            const incoming = k % 2 === 0 ? src.length : 0;
            q.reserve(room, incoming);
            if (room <= 4 * (model.length + incoming)) expect(q.buf.length).toBeGreaterThanOrEqual(room);
            else expect(q.buf.length).toBe(before);
            expect([...q.buf.subarray(0, q.length)]).toEqual(model);
          }
          q.append(src, 0, src.length);
          model.push(...src);
          expect([...q.buf.subarray(0, q.length)]).toEqual(model);
          const drop = model.length === 0 ? 0 : k % (model.length + 1);
          q.consume(drop);
          model = model.slice(drop);
          // other copies cut in between must not disturb the queue
          copySmall(new Uint8Array(700).fill(0x55), 0, 700);
          expect([...q.buf.subarray(0, q.length)]).toEqual(model);
        }
        q.clear();
        expect(q.length).toBe(0);
      }),
      { numRuns: 60 },
    );
  });
});

describe('ipv6At (RFC 5952 text)', () => {
  // groups biased towards zero so that zero runs of every length and place occur
  const group = fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: 0, max: 0xffff }));
  const addr = fc.array(group, { minLength: 8, maxLength: 8 }).map((gs) => Uint8Array.from(gs.flatMap((x) => [x >> 8, x & 255])));

  it('matches the WHATWG URL serializer (the same rules) outside IPv4-mapped addresses', () => {
    fc.assert(
      fc.property(addr, fc.integer({ min: 0, max: 5 }), (a, off) => {
        const b = new Uint8Array(off + 16 + 3);
        b.set(a, off);
        const text = ipv6At(b, off);
        const mapped = a.subarray(0, 10).every((x) => x === 0) && a[10] === 0xff && a[11] === 0xff;
        if (mapped) expect(text).toBe(`::ffff:${a[12]}.${a[13]}.${a[14]}.${a[15]}`);
        else expect(text).toBe(new URL(`http://[${text}]/`).hostname.slice(1, -1));
        // and it is the address: the URL parser reads back the same 16 bytes
        const groups = new URL(`http://[${mapped ? `::ffff:${a[12]}.${a[13]}.${a[14]}.${a[15]}` : text}]/`).hostname.slice(1, -1);
        expect(groups).toBe(new URL(`http://[${[...Array(8).keys()].map((i) => ((a[2 * i] << 8) | a[2 * i + 1]).toString(16)).join(':')}]/`).hostname.slice(1, -1));
      }),
      { numRuns: 3000 },
    );
  });

  it('compresses the longest run, the first of equal ones, and never a single zero group', () => {
    const at = (...gs: number[]) => ipv6At(Uint8Array.from(gs.flatMap((x) => [x >> 8, x & 255])), 0);
    expect(at(0x2001, 0xdb8, 0, 0, 1, 0, 0, 1)).toBe('2001:db8::1:0:0:1');
    expect(at(0x2001, 0xdb8, 0, 1, 1, 1, 1, 1)).toBe('2001:db8:0:1:1:1:1:1');
    expect(at(0x2001, 0, 0, 1, 0, 0, 0, 1)).toBe('2001:0:0:1::1');
    expect(at(0, 0, 0, 0, 0, 0, 0, 0)).toBe('::');
    expect(at(0, 0, 0, 0, 0, 0, 0, 1)).toBe('::1');
    expect(at(0xfe80, 0, 0, 0, 0, 0, 0, 0)).toBe('fe80::');
    expect(at(0, 0, 0, 0, 0, 0xffff, 0xc000, 0x0280)).toBe('::ffff:192.0.2.128');
    expect(at(0xABCD, 0xef01, 0x2345, 0x6789, 0xabcd, 0xef01, 0x2345, 0x6789)).toBe('abcd:ef01:2345:6789:abcd:ef01:2345:6789');
  });
});
