// The names-only DNS path (dnsAnswerAddresses) against the full decoder: for
// any response it accepts, it must give exactly the question name and the
// A/AAAA answers decodeDns(..., addressesOnly) gives, and it must accept every
// successful one-question response the full decoder reads a question from
// (else name correlation would silently fall back, or worse, differ).
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeDns, dnsAnswerAddresses } from '../../../src/core/decode/dns.js';

const be16 = (n: number): number[] => [(n >> 8) & 255, n & 255];

const label = fc.oneof(
  fc.stringMatching(/^[a-z0-9-]{1,12}$/),
  // escapes and odd bytes in labels
  fc.uint8Array({ minLength: 1, maxLength: 8 }).map((u) => String.fromCharCode(...u)),
);
const nameBytes = fc.array(label, { minLength: 0, maxLength: 4 }).map((ls) => [...ls.flatMap((l) => [l.length, ...[...l].map((c) => c.charCodeAt(0) & 255)]), 0]);

const record = fc.record({
  // owner: a pointer to the question (the usual), a literal name, or a pointer anywhere
  owner: fc.oneof(fc.constant([0xc0, 12]), nameBytes, fc.tuple(fc.integer({ min: 0, max: 0x3fff })).map(([p]) => [0xc0 | (p >> 8), p & 255])),
  type: fc.constantFrom(1, 28, 5, 16, 12, 2),
  rdata: fc.oneof(fc.uint8Array({ minLength: 4, maxLength: 4 }), fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.uint8Array({ minLength: 0, maxLength: 20 })),
  lenDelta: fc.constantFrom(0, 0, 0, 0, 1, -1, 300),
});

const message = fc.record({
  id: fc.integer({ min: 0, max: 0xffff }),
  qr: fc.constantFrom(1, 1, 1, 0),
  rcode: fc.constantFrom(0, 0, 0, 3, 2),
  qd: fc.constantFrom(1, 1, 1, 0, 2),
  qname: nameBytes,
  records: fc.array(record, { minLength: 0, maxLength: 6 }),
  anDelta: fc.constantFrom(0, 0, 0, 1, -1, 200),
  cut: fc.option(fc.integer({ min: 0, max: 300 }), { nil: undefined }),
  garbage: fc.uint8Array({ minLength: 0, maxLength: 4 }),
});

function build(m: typeof message extends fc.Arbitrary<infer T> ? T : never): Uint8Array {
  const an = Math.max(0, m.records.length + m.anDelta);
  const out = [...be16(m.id), (m.qr << 7) | 0x01, 0x80 | m.rcode, ...be16(m.qd), ...be16(an), 0, 0, 0, 0];
  for (let i = 0; i < m.qd; i++) out.push(...m.qname, 0, 1, 0, 1);
  for (const r of m.records) out.push(...r.owner, ...be16(r.type), 0, 1, 0, 0, 1, 44, ...be16(Math.max(0, r.rdata.length + r.lenDelta) & 0xffff), ...r.rdata);
  out.push(...m.garbage);
  const b = Uint8Array.from(out);
  return m.cut === undefined ? b : b.subarray(0, Math.min(b.length, m.cut));
}

/** What name correlation learns through the full decoder (the engine's dnsSeen). */
function viaFullDecoder(b: Uint8Array, o: number, end: number): { name: string; addresses: string[] } | undefined {
  const r = decodeDns(b, o, end, true);
  if (!r.ok) return undefined;
  const m = r.value;
  if (!m.response || m.rcode !== 0 || m.questions.length === 0) return undefined;
  return { name: m.questions[0].name, addresses: m.answers.filter((a) => a.type === 1 || a.type === 28).map((a) => a.data) };
}

describe('dnsAnswerAddresses (the names-only path)', () => {
  it('gives what the full decoder gives, whenever it answers', () => {
    fc.assert(
      fc.property(message, fc.integer({ min: 0, max: 7 }), (m, off) => {
        const msg = build(m);
        // at an offset inside a larger buffer with other bytes around it
        const buf = new Uint8Array(off + msg.length + 8).fill(0xc0);
        buf.set(msg, off);
        const out: string[] = [];
        const name = dnsAnswerAddresses(buf, off, off + msg.length, out);
        const full = viaFullDecoder(buf, off, off + msg.length);
        if (name !== undefined) {
          expect(full).toEqual({ name, addresses: out });
        } else if (full !== undefined) {
          // declined: only for what it leaves to the full decoder (not one question)
          expect(msg.length >= 6 && ((msg[4] << 8) | msg[5]) !== 1).toBe(true);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('reads a plain answer and stops at the first bad record like the full decoder', () => {
    const q = [7, ...Buffer.from('example'), 3, ...Buffer.from('com'), 0, 0, 1, 0, 1];
    const a = (ip: number[]) => [0xc0, 12, 0, 1, 0, 1, 0, 0, 1, 44, 0, 4, ...ip];
    const aaaa = [0xc0, 12, 0, 28, 0, 1, 0, 0, 1, 44, 0, 16, 0x20, 0x01, 0x0d, 0xb8, ...Array(11).fill(0), 1];
    const cname = [0xc0, 12, 0, 5, 0, 1, 0, 0, 1, 44, 0, 2, 0xc0, 12];
    const msg = Uint8Array.from([0x12, 0x34, 0x81, 0x80, 0, 1, 0, 5, 0, 0, 0, 0, ...q, ...cname, ...a([93, 184, 216, 34]), ...aaaa, ...a([10, 0, 0, 1]), 0xc0]);
    const out: string[] = [];
    expect(dnsAnswerAddresses(msg, 0, msg.length, out)).toBe('example.com');
    // the fifth record is cut off after its first byte: the first four are kept
    expect(out).toEqual(['93.184.216.34', '2001:db8::1', '10.0.0.1']);
    expect(viaFullDecoder(msg, 0, msg.length)).toEqual({ name: 'example.com', addresses: out });
    // the engine passes its interning of IPv4 text: the same strings, one per address
    const interned = new Map<number, string>();
    const intern = (n: number): string => {
      let t = interned.get(n);
      if (t === undefined) interned.set(n, (t = `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`));
      return t;
    };
    const out2: string[] = [];
    expect(dnsAnswerAddresses(msg, 0, msg.length, out2, intern)).toBe('example.com');
    expect(out2).toEqual(out);
    expect([...interned.keys()]).toEqual([0x5db8d822, 0x0a000001]);
    // a query, an error response and a two-question response are left to the full decoder
    const query = Uint8Array.from(msg);
    query[2] = 0x01;
    expect(dnsAnswerAddresses(query, 0, query.length, [])).toBeUndefined();
    const nx = Uint8Array.from(msg);
    nx[3] = 0x83;
    expect(dnsAnswerAddresses(nx, 0, nx.length, [])).toBeUndefined();
    const two = Uint8Array.from([0x12, 0x34, 0x81, 0x80, 0, 2, 0, 0, 0, 0, 0, 0, ...q, ...q]);
    expect(dnsAnswerAddresses(two, 0, two.length, [])).toBeUndefined();
  });
});
