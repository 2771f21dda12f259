// DNS messages (RFC 1035 §4, RFC 6762 for mDNS): header, questions and
// records with name compression. Hand-written because it runs on every DNS
// packet and must return what it could read from a truncated or hostile
// message instead of throwing (dns-packet throws). Caps: 255-byte names,
// 64 pointer jumps, 64 questions, 256 records.
import { hex, i32, ipv4At, ipv4Text, ipv6At, u16, u32, type Decoded, fail } from './bytes.js';

export interface DnsQuestionRec {
  name: string;
  type: number;
  typeName: string;
  class: number;
}
export interface DnsRecord {
  name: string;
  type: number;
  typeName: string;
  class: number;
  ttl: number;
  data: string;
  rdLength: number;
}
export interface DnsMessage {
  id: number;
  response: boolean;
  opcode: number;
  aa: boolean;
  tc: boolean;
  rd: boolean;
  ra: boolean;
  rcode: number;
  questions: DnsQuestionRec[];
  answers: DnsRecord[];
  authority: DnsRecord[];
  additional: DnsRecord[];
  size: number;
  /** True when counts promised more than the bytes held (or a name was bad): what was read is returned. */
  partial: boolean;
}

const TYPE_NAMES: Record<number, string> = {
  1: 'A', 2: 'NS', 5: 'CNAME', 6: 'SOA', 10: 'NULL', 12: 'PTR', 13: 'HINFO', 15: 'MX', 16: 'TXT', 28: 'AAAA',
  33: 'SRV', 35: 'NAPTR', 39: 'DNAME', 41: 'OPT', 43: 'DS', 46: 'RRSIG', 47: 'NSEC', 48: 'DNSKEY', 50: 'NSEC3',
  64: 'SVCB', 65: 'HTTPS', 99: 'SPF', 252: 'AXFR', 255: 'ANY', 257: 'CAA',
};

export function dnsTypeName(t: number): string {
  return TYPE_NAMES[t] ?? `TYPE${t}`;
}

const MAX_Q = 64;
const MAX_RR = 256;

// One scratch buffer for the characters of a name: the string is made once per
// name, not once per label (mDNS messages carry hundreds of names).
// Escapes keep it ASCII, so a byte buffer does; a Buffer turns it into a string natively.
const scratch = Buffer.allocUnsafeSlow(1024);

/** Read a (possibly compressed) name at o; returns [name, offset after the name in place] or undefined. */
export function readName(b: Uint8Array, o: number, start: number, end: number, seen?: Map<number, string>): [string, number] | undefined {
  // a name that is just a pointer to one decoded before in this message (the usual owner name of a record)
  if (seen !== undefined && o + 1 < end && (b[o] & 0xc0) === 0xc0) {
    const hit = seen.get(start + (((b[o] & 0x3f) << 8) | b[o + 1]));
    if (hit !== undefined) return [hit, o + 2];
  }
  let n = 0;
  let p = o;
  let after = -1;
  let jumps = 0;
  let len = 0;
  for (;;) {
    if (p >= end) return undefined;
    const l = b[p];
    if (l === 0) {
      p++;
      break;
    }
    if ((l & 0xc0) === 0xc0) {
      if (p + 1 >= end) return undefined;
      const ptr = start + (((l & 0x3f) << 8) | b[p + 1]);
      if (after < 0) after = p + 2;
      // RFC 1035 §4.1.4 pointers go to a prior occurrence; cap jumps to defeat loops
      if (++jumps > 64 || ptr >= end) return undefined;
      p = ptr;
      continue;
    }
    if ((l & 0xc0) !== 0) return undefined; // 0x40/0x80 label types are obsolete (RFC 6891 §5)
    if (p + 1 + l > end) return undefined;
    len += l + 1;
    if (len > 255) return undefined;
    if (n > 0) scratch[n++] = 0x2e;
    for (let i = p + 1; i <= p + l; i++) {
      const c = b[i];
      if (c > 0x20 && c < 0x7f && c !== 0x2e && c !== 0x5c) scratch[n++] = c;
      else {
        // keep names printable; escape the rest like dig does (\DDD)
        const d = c.toString().padStart(3, '0');
        scratch[n++] = 0x5c;
        scratch[n++] = d.charCodeAt(0);
        scratch[n++] = d.charCodeAt(1);
        scratch[n++] = d.charCodeAt(2);
      }
    }
    p += 1 + l;
  }
  const name = n === 0 ? '' : scratch.toString('latin1', 0, n);
  if (seen !== undefined && seen.size < 256) {
    seen.set(o, name);
    // a name that is a pointer is also the name at its target: the next pointer there needs no walk
    // (a chain of pointers was walked again for every record that pointed into it)
    if ((b[o] & 0xc0) === 0xc0) seen.set(start + (((b[o] & 0x3f) << 8) | b[o + 1]), name);
  }
  return [name, after >= 0 ? after : p];
}

function rdata(b: Uint8Array, type: number, o: number, len: number, start: number, end: number, seen?: Map<number, string>): string {
  const e = o + len;
  switch (type) {
    case 1:
      return len === 4 ? ipv4At(b, o) : hex(b, o, Math.min(len, 64));
    case 28:
      return len === 16 ? ipv6At(b, o) : hex(b, o, Math.min(len, 64));
    case 2:
    case 5:
    case 12:
    case 39: {
      const n = readName(b, o, start, end, seen);
      return n ? n[0] : '';
    }
    case 15: {
      if (len < 3) return '';
      const n = readName(b, o + 2, start, end, seen);
      return `${u16(b, o)} ${n ? n[0] : ''}`;
    }
    case 33: {
      if (len < 7) return '';
      const n = readName(b, o + 6, start, end, seen);
      return `${u16(b, o)} ${u16(b, o + 2)} ${u16(b, o + 4)} ${n ? n[0] : ''}`;
    }
    case 16: {
      const parts: string[] = [];
      let p = o;
      while (p < e && parts.length < 64) {
        const l = b[p];
        if (p + 1 + l > e) break;
        let s = '';
        for (let i = p + 1; i <= p + l; i++) s += String.fromCharCode(b[i]);
        parts.push(s);
        p += 1 + l;
      }
      return parts.join(' ');
    }
    default:
      return hex(b, o, Math.min(len, 64));
  }
}

/** Skip a name in place (RFC 1035 §4.1.4: it ends at a zero label or a pointer); offset after it, or -1. */
function skipName(b: Uint8Array, o: number, end: number): number {
  let p = o;
  for (let i = 0; i < 128 && p < end; i++) {
    const l = b[p];
    if (l === 0) return p + 1;
    if ((l & 0xc0) === 0xc0) return p + 2 <= end ? p + 2 : -1;
    if ((l & 0xc0) !== 0) return -1;
    p += 1 + l;
  }
  return -1;
}

/**
 * What name correlation takes from a response, without building the message:
 * the A and AAAA addresses of the answer section, in order, pushed onto
 * `out`, and the returned first question name. Exactly what
 * `decodeDns(..., true)` would give in `questions[0].name` and `answers`
 * (same caps, same stop at the first bad record) for a successful
 * (RCODE 0) response with one question; undefined for anything else (a
 * query, an error, no question, a bad name, or more than one question: the
 * caller then decodes the message in full). `ipv4` makes the text of an IPv4
 * address (the engine's gives its interned strings).
 */
export function dnsAnswerAddresses(b: Uint8Array, o: number, end: number, out: string[], ipv4: (n: number) => string = ipv4Text): string | undefined {
  if (end - o < 12) return undefined;
  const flags = u16(b, o + 2);
  if ((flags & 0x8000) === 0 || (flags & 0xf) !== 0 || u16(b, o + 4) !== 1) return undefined;
  const an = u16(b, o + 6);
  const n = readName(b, o + 12, o, end);
  if (n === undefined || n[1] + 4 > end) return undefined;
  let p = n[1] + 4;
  for (let i = 0; i < an && i < MAX_RR; i++) {
    const q = skipName(b, p, end);
    if (q < 0 || q + 10 > end) break;
    const type = u16(b, q);
    const rdlen = u16(b, q + 8);
    if (q + 10 + rdlen > end) break;
    if (type === 1 && rdlen === 4) out.push(ipv4(i32(b, q + 10)));
    else if (type === 28 && rdlen === 16) out.push(ipv6At(b, q + 10));
    p = q + 10 + rdlen;
  }
  return n[0];
}

/**
 * Decode one DNS message occupying b[o..end). `addressesOnly`: keep only
 * A/AAAA records, without their owner names (what name correlation needs; a
 * third of the cost of a full decode).
 */
export function decodeDns(b: Uint8Array, o: number, end: number, addressesOnly = false): Decoded<DnsMessage> {
  if (end - o < 12) return fail('truncated');
  const flags = u16(b, o + 2);
  const qd = u16(b, o + 4);
  const an = u16(b, o + 6);
  const ns = u16(b, o + 8);
  const ar = u16(b, o + 10);
  const m: DnsMessage = {
    id: u16(b, o),
    response: (flags & 0x8000) !== 0,
    opcode: (flags >> 11) & 0xf,
    aa: (flags & 0x0400) !== 0,
    tc: (flags & 0x0200) !== 0,
    rd: (flags & 0x0100) !== 0,
    ra: (flags & 0x0080) !== 0,
    rcode: flags & 0xf,
    questions: [],
    answers: [],
    authority: [],
    additional: [],
    size: end - o,
    partial: false,
  };
  let p = o + 12;
  const seen = new Map<number, string>();
  for (let i = 0; i < qd; i++) {
    if (i >= MAX_Q) {
      m.partial = true;
      return { ok: true, value: m };
    }
    const n = readName(b, p, o, end, seen);
    if (!n || n[1] + 4 > end) {
      m.partial = true;
      return { ok: true, value: m };
    }
    p = n[1];
    const type = u16(b, p);
    m.questions.push({ name: n[0], type, typeName: dnsTypeName(type), class: u16(b, p + 2) & 0x7fff });
    p += 4;
  }
  const sections: Array<[number, DnsRecord[]]> = [
    [an, m.answers],
    [ns, m.authority],
    [ar, m.additional],
  ];
  let total = 0;
  for (const [count, list] of sections) {
    for (let i = 0; i < count; i++) {
      if (++total > MAX_RR) {
        m.partial = true;
        return { ok: true, value: m };
      }
      if (addressesOnly) {
        const q = skipName(b, p, end);
        if (q < 0 || q + 10 > end) {
          m.partial = true;
          return { ok: true, value: m };
        }
        const type = u16(b, q);
        const rdlen = u16(b, q + 8);
        if (q + 10 + rdlen > end) {
          m.partial = true;
          return { ok: true, value: m };
        }
        if ((type === 1 && rdlen === 4) || (type === 28 && rdlen === 16)) {
          list.push({ name: '', type, typeName: type === 1 ? 'A' : 'AAAA', class: u16(b, q + 2) & 0x7fff, ttl: u32(b, q + 4), data: type === 1 ? ipv4At(b, q + 10) : ipv6At(b, q + 10), rdLength: rdlen });
        }
        p = q + 10 + rdlen;
        continue;
      }
      const n = readName(b, p, o, end, seen);
      if (!n || n[1] + 10 > end) {
        m.partial = true;
        return { ok: true, value: m };
      }
      p = n[1];
      const type = u16(b, p);
      const rdlen = u16(b, p + 8);
      if (p + 10 + rdlen > end) {
        m.partial = true;
        return { ok: true, value: m };
      }
      list.push({
        name: n[0],
        type,
        typeName: dnsTypeName(type),
        class: u16(b, p + 2) & 0x7fff,
        ttl: u32(b, p + 4),
        data: rdata(b, type, p + 10, rdlen, o, end, seen),
        rdLength: rdlen,
      });
      p += 10 + rdlen;
    }
  }
  return { ok: true, value: m };
}
