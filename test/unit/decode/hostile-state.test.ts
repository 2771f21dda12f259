// State that hostile traffic can push to its limits: a telnet stream of
// backspaces, DNS answers past the name maps' caps, and TLS headers that
// claim more than they bring. Each must give the
// same answers as ordinary input and stay linear (the bounds leave 10x or
// more of room over what these take; the quadratic versions took 30-90 s).
import { describe, expect, it } from 'vitest';
import { TelnetLogin } from '../../../src/core/decode/login.js';
import { DnsNames } from '../../../src/core/flows/dns-names.js';
import { decodeDns } from '../../../src/core/decode/dns.js';
import { TlsRecordStream } from '../../../src/core/decode/tls.js';
import type { ByteQueue } from '../../../src/core/decode/bytes.js';

const bytes = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'latin1'));

describe('telnet text with backspaces', () => {
  it('applies BS and DEL to the user name, across segments', () => {
    const t = new TelnetLogin();
    t.fromServer(bytes('\r\nlogin: '), 0, 8);
    t.fromClient(bytes('rooX\x08t'), 0, 6);
    t.fromClient(bytes('\x7f\x7ft\r\n'), 0, 5);
    t.fromServer(bytes('Password: '), 0, 10);
    const steps = t.fromClient(bytes('secret\r\n'), 0, 8);
    expect(steps).toEqual([{ step: 'attempt', username: 'rot', attempt: 1 }]);
  });

  it('reads a 1 MB segment of typing and backspaces in linear time', () => {
    const t = new TelnetLogin();
    t.fromServer(bytes('login: '), 0, 7);
    const seg = bytes('ab\x08'.repeat(350_000) + '\r\n');
    const started = performance.now();
    t.fromClient(seg, 0, seg.length);
    expect(performance.now() - started).toBeLessThan(3000);
    t.fromServer(bytes('Password: '), 0, 10);
    // 350,000 a's typed, the b's erased; the name is kept to 64 characters
    expect(t.fromClient(bytes('x\r\n'), 0, 3)).toEqual([{ step: 'attempt', username: 'a'.repeat(64), attempt: 1 }]);
  });
});

describe('DNS name correlation past its caps', () => {
  it('forgets the oldest names first, keeps the newest, and stays linear', () => {
    const n = new DnsNames();
    const ip = (i: number) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
    const started = performance.now();
    // 400,000 answers to one device: twice the global cap, eight times the device's
    for (let i = 0; i < 400_000; i++) n.learn('dev', ip(i), `h${i}.example`);
    expect(performance.now() - started).toBeLessThan(8000);
    expect(n.nameFor('dev', ip(399_999))).toBe('h399999.example');
    expect(n.nameFor('dev', ip(360_000))).toBe('h360000.example');
    // gone from the device's map and from the global one
    expect(n.nameFor('dev', ip(0))).toBeUndefined();
    expect(n.nameFor(undefined, ip(100_000))).toBeUndefined();
    // the global map still has recent ones another device can use
    expect(n.nameFor('other', ip(250_000))).toBe('h250000.example');
  });
});

describe('DNS names behind pointer chains', () => {
  it('reads each name once per message, however many records point into a 63-deep chain', () => {
    // 64 questions and 50 PTR records, all naming the top of a chain of 63 pointers to a 254-byte name
    const Q = 64;
    const R = 50;
    const hdr = [0, 0, 0x81, 0x80, 0, Q, 0, R, 0, 0, 0, 0];
    const chainAt = 12 + Q * 6 + R * 14;
    const base: number[] = [];
    for (let i = 0; i < 127; i++) base.push(1, 0x61 + (i % 26));
    base.push(0);
    const ptrs: number[] = [];
    let prev = chainAt;
    let at = chainAt + base.length;
    for (let i = 0; i < 63; i++) {
      ptrs.push(0xc0 | (prev >> 8), prev & 0xff);
      prev = at;
      at += 2;
    }
    const top = [0xc0 | (prev >> 8), prev & 0xff];
    const body: number[] = [];
    for (let i = 0; i < Q; i++) body.push(...top, 0, 12, 0, 1);
    for (let i = 0; i < R; i++) body.push(...top, 0, 12, 0, 1, 0, 0, 0, 60, 0, 2, ...top);
    const msg = new Uint8Array([...hdr, ...body, ...base, ...ptrs]);
    const name = Array.from({ length: 127 }, (_, i) => String.fromCharCode(0x61 + (i % 26))).join('.');
    const started = performance.now();
    for (let k = 0; k < 2000; k++) {
      const r = decodeDns(msg, 0, msg.length);
      if (!r.ok) throw new Error(r.reason);
      if (k === 0) {
        expect(r.value.questions).toHaveLength(Q);
        expect(r.value.questions.every((q) => q.name === name)).toBe(true);
        expect(r.value.answers).toHaveLength(R);
        expect(r.value.answers.every((a) => a.name === name && a.data === name)).toBe(true);
      }
    }
    // walking the chain for each of the 114 names took ~0.3 ms per message; cached, ~0.02 ms
    expect(performance.now() - started).toBeLessThan(300);
  });
});


describe('TLS headers that claim more than they bring', () => {
  // white box: the stream's record queue, to see how much room each flow holds
  const room = (s: TlsRecordStream) => (s as unknown as { rec: ByteQueue }).rec.buf.length;
  const sink = (out: number[]) => ({ handshake: (t: number) => void out.push(t), alert: () => undefined, sslv2Hello: () => void out.push(-2) });

  it('a 5-byte record header claiming 18 KiB holds no more than a small queue, and the record still arrives whole', () => {
    const seen: number[] = [];
    const s = new TlsRecordStream(sink(seen));
    // a Certificate handshake message (type 11) of 18,428 bytes in one 18,432-byte record
    const body = new Uint8Array(18_432);
    body.set([11, 0, 0x47, 0xfc]);
    const rec = new Uint8Array([0x16, 3, 3, 0x48, 0x00, ...body]);
    s.push(rec, 0, 5);
    expect(room(s)).toBeLessThanOrEqual(512);
    // then the rest, 1,000 bytes at a time: the room never runs far ahead of what came
    for (let o = 5; o < rec.length; o += 1000) {
      s.push(rec, o, Math.min(rec.length, o + 1000));
      expect(room(s)).toBeLessThanOrEqual(Math.max(512, 4 * Math.min(rec.length, o + 1000)));
    }
    expect(seen).toEqual([11]);
  });

  it('an SSLv2-format hello header claiming 32 KiB holds no more than a small queue either', () => {
    const seen: number[] = [];
    const s = new TlsRecordStream(sink(seen));
    // msg_length 0x7ff2 = 9 + 32,697 bytes of specs (10,899 of them) + 16 of session id + 32 of challenge
    const specs = 32_697;
    const total = 2 + 9 + specs + 16 + 32;
    const hello = new Uint8Array(total);
    hello.set([0x80 | ((total - 2) >> 8), (total - 2) & 255, 1, 3, 1, specs >> 8, specs & 255, 0, 16, 0, 32]);
    s.push(hello, 0, 11);
    expect(room(s)).toBeLessThanOrEqual(512);
    for (let o = 11; o < total; o += 1000) s.push(hello, o, Math.min(total, o + 1000));
    expect(seen).toEqual([-2]);
  });
});
