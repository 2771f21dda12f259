// HTTP/1.x message heads (RFC 9112 §2-§6): request or status line and header
// fields, from a buffer that holds the whole head (up to CRLFCRLF). Limits:
// 64 KiB head, 128 header fields. Also the SSDP and SOAP front ends use it.
import { latin1, type Decoded, fail } from './bytes.js';

export interface HttpHead {
  kind: 'request' | 'response';
  method: string;
  target: string;
  version: string;
  status: number;
  reason: string;
  /** Header fields in order, names lower-cased. */
  headers: Array<[string, string]>;
  /** Bytes of the head including the final CRLFCRLF. */
  headLength: number;
}

export const HTTP_MAX_HEAD = 64 * 1024;

const METHODS = [
  'GET', 'POST', 'HEAD', 'PUT', 'DELETE', 'OPTIONS', 'PATCH', 'CONNECT', 'TRACE',
  'M-SEARCH', 'NOTIFY', 'SUBSCRIBE', 'UNSUBSCRIBE', 'PROPFIND', 'DESCRIBE', 'SETUP', 'PLAY', 'TEARDOWN', 'ANNOUNCE', 'GET_PARAMETER', 'SET_PARAMETER',
];

/** True when the bytes at o look like the start of an HTTP/1.x (or RTSP/SSDP) message. Cheap: used to sniff and resync. */
export function looksLikeHttpStart(b: Uint8Array, o: number, end: number): boolean {
  const n = end - o;
  if (n < 5) return false;
  const c = b[o];
  // "HTTP/" or "RTSP/" status line: bytes 1-4 as one word against "TTP/" or "TSP/". Every load and
  // compare here runs on every call: a branch first taken late (the first response, the first RTSP
  // message) had no type feedback, and taking it threw away the compiled code of every caller this
  // is inlined into (the HTTP analyzer's, recompiled four times a run for it)
  const w = ((b[o + 1] << 24) | (b[o + 2] << 16) | (b[o + 3] << 8) | b[o + 4]) >>> 0;
  if (w === (c === 0x48 ? 0x5454502f : c === 0x52 ? 0x5453502f : -1)) return true;
  if (c < 0x41 || c > 0x5a) return false;
  for (const m of METHODS) {
    if (m.charCodeAt(0) !== c || n < m.length + 1) continue;
    let ok = true;
    for (let i = 1; i < m.length; i++) {
      if (b[o + i] !== m.charCodeAt(i)) {
        ok = false;
        break;
      }
    }
    if (ok && b[o + m.length] === 0x20) return true;
  }
  return false;
}

/** Characters JavaScript's `trim()` and `\s` treat as white space in Latin-1 text (TAB, LF, VT, FF, CR, SP, NBSP). */
const WS = new Uint8Array(256);
for (const c of [9, 10, 11, 12, 13, 32, 0xa0]) WS[c] = 1;

const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;

/** "HTTP/d.d" or "RTSP/d.d" at t[o..o+8). */
function isVersion(t: string, o: number): boolean {
  const c0 = t.charCodeAt(o);
  const c1 = t.charCodeAt(o + 1);
  const c2 = t.charCodeAt(o + 2);
  const c3 = t.charCodeAt(o + 3);
  return (
    ((c0 === 0x48 && c1 === 0x54 && c2 === 0x54 && c3 === 0x50) || (c0 === 0x52 && c1 === 0x54 && c2 === 0x53 && c3 === 0x50)) &&
    t.charCodeAt(o + 4) === 0x2f && isDigit(t.charCodeAt(o + 5)) && t.charCodeAt(o + 6) === 0x2e && isDigit(t.charCodeAt(o + 7))
  );
}

/**
 * A header filter by (length, first letter lower-cased): the names it keeps
 * with that pair. Most fields it does not keep are passed over without
 * making their name string, and a kept name is the filter's own string
 * (compared case-insensitively in place: no slice, no `toLowerCase`).
 */
const prefilters = new WeakMap<ReadonlySet<string>, Array<string[] | undefined>>();
function prefilterFor(only: ReadonlySet<string>): Array<string[] | undefined> {
  let f = prefilters.get(only);
  if (f === undefined) {
    f = new Array<string[] | undefined>(64 * 128).fill(undefined);
    for (const n of only) {
      if (n.length === 0 || n.length >= 64 || n.charCodeAt(0) >= 128 || n !== n.toLowerCase()) continue;
      (f[n.length * 128 + n.charCodeAt(0)] ??= []).push(n);
    }
    prefilters.set(only, f);
  }
  return f;
}

/** The candidate equal to t[o..o+name.length) ignoring ASCII case, if any. */
function matchName(t: string, o: number, candidates: string[]): string | undefined {
  for (const n of candidates) {
    let i = 1;
    for (; i < n.length; i++) {
      let c = t.charCodeAt(o + i);
      if (c >= 0x41 && c <= 0x5a) c += 0x20;
      if (c !== n.charCodeAt(i)) break;
    }
    if (i === n.length) return n;
  }
  return undefined;
}

/** Target characters the start line's `\S` excludes. */
const TARGET_WS = /[\t-\r \xa0]/;

/**
 * Parse a head that ends at headEnd (index of the CRLFCRLF). With `only`, just
 * the header fields named there are kept (the engine's framing needs three,
 * its events a few more; building every field is what costs).
 *
 * One Latin-1 string for the whole head, scanned with native `indexOf` and
 * `charCodeAt`; names and values are slices of it. The start lines accepted
 * are exactly those of the regular expressions in the comments (a property
 * test holds the parser to a regex reference).
 */
export function decodeHttpHead(b: Uint8Array, o: number, headEnd: number, only?: ReadonlySet<string>): Decoded<HttpHead> {
  if (headEnd - o > HTTP_MAX_HEAD) return fail('head-too-large');
  return decodeHttpHeadText(latin1(b, o, headEnd), only);
}

/** The same, from the head's Latin-1 text up to (not including) its CRLFCRLF: a head that came in several segments is held as text. */
export function decodeHttpHeadText(t: string, only?: ReadonlySet<string>): Decoded<HttpHead> {
  if (t.length > HTTP_MAX_HEAD) return fail('head-too-large');
  const len = t.length;
  let eol = t.indexOf('\n');
  if (eol < 0) eol = len;
  const fe = eol > 0 && t.charCodeAt(eol - 1) === 13 ? eol - 1 : eol;
  const head: HttpHead = { kind: 'request', method: '', target: '', version: '', status: 0, reason: '', headers: [], headLength: len + 4 };
  // /^((?:HTTP|RTSP)\/\d\.\d) (\d{3})(?: (.*))?$/  (`.` is any character but CR here)
  let isResponse = false;
  if (fe >= 12 && isVersion(t, 0) && t.charCodeAt(8) === 0x20 && isDigit(t.charCodeAt(9)) && isDigit(t.charCodeAt(10)) && isDigit(t.charCodeAt(11))) {
    isResponse = fe === 12 || (t.charCodeAt(12) === 0x20 && (fe === 13 || t.indexOf('\r', 13) < 0 || t.indexOf('\r', 13) >= fe));
  }
  if (isResponse) {
    head.kind = 'response';
    head.version = t.slice(0, 8);
    head.status = (t.charCodeAt(9) - 0x30) * 100 + (t.charCodeAt(10) - 0x30) * 10 + (t.charCodeAt(11) - 0x30);
    head.reason = fe > 13 ? t.slice(13, fe) : '';
  } else {
    // /^([A-Z][A-Z_-]{0,19}) (\S{1,8192}) ((?:HTTP|RTSP)\/\d\.\d)$/
    let c = t.charCodeAt(0);
    if (fe === 0 || c < 0x41 || c > 0x5a) return fail('bad-start-line');
    let i = 1;
    while (i < fe && (((c = t.charCodeAt(i)) >= 0x41 && c <= 0x5a) || c === 0x5f || c === 0x2d)) i++;
    const me = i;
    if (me > 20 || i >= fe || t.charCodeAt(i) !== 0x20) return fail('bad-start-line');
    const ts = i + 1;
    // the target runs to the version, the line's last 9 characters, and holds no white space
    const te = fe - 9;
    if (te <= ts || te - ts > 8192 || t.charCodeAt(te) !== 0x20 || !isVersion(t, te + 1)) return fail('bad-start-line');
    const target = t.slice(ts, te);
    if (TARGET_WS.test(target)) return fail('bad-start-line');
    head.method = t.slice(0, me);
    head.target = target;
    head.version = t.slice(te + 1, fe);
  }
  const pre = only === undefined ? undefined : prefilterFor(only);
  let p = eol + 1;
  while (p < len && head.headers.length < 128) {
    let e = t.indexOf('\n', p);
    if (e < 0) e = len;
    const c = t.indexOf(':', p);
    if (c > p && c < e) {
      let ns = p;
      let ne = c;
      while (ns < ne && WS[t.charCodeAt(ns)] === 1) ns++;
      while (ne > ns && WS[t.charCodeAt(ne - 1)] === 1) ne--;
      let first = t.charCodeAt(ns);
      if (first >= 0x41 && first <= 0x5a) first += 0x20;
      let name: string | undefined;
      if (pre === undefined) name = t.slice(ns, ne).toLowerCase();
      else if (ne - ns < 64 && first < 128) {
        const cands = pre[(ne - ns) * 128 + first];
        if (cands !== undefined) name = matchName(t, ns, cands);
      }
      if (name !== undefined) {
        let vs = c + 1;
        let ve = e;
        while (vs < ve && WS[t.charCodeAt(vs)] === 1) vs++;
        while (ve > vs && WS[t.charCodeAt(ve - 1)] === 1) ve--;
        head.headers.push([name, t.slice(vs, ve)]);
      }
    }
    p = e + 1;
  }
  return { ok: true, value: head };
}

export function header(h: HttpHead, name: string): string | undefined {
  for (const [k, v] of h.headers) if (k === name) return v;
  return undefined;
}
