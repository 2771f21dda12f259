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
  // "HTTP/" or "RTSP/" status line
  if ((b[o] === 0x48 && b[o + 1] === 0x54 && b[o + 2] === 0x54 && b[o + 3] === 0x50 && b[o + 4] === 0x2f) ||
      (b[o] === 0x52 && b[o + 1] === 0x54 && b[o + 2] === 0x53 && b[o + 3] === 0x50 && b[o + 4] === 0x2f)) return true;
  const c = b[o];
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

/**
 * Parse a head that ends at headEnd (index of the CRLFCRLF). With `only`, just
 * the header fields named there are kept (the engine's framing needs three;
 * building every field is what costs when no detector wants them).
 */
export function decodeHttpHead(b: Uint8Array, o: number, headEnd: number, only?: ReadonlySet<string>): Decoded<HttpHead> {
  if (headEnd - o > HTTP_MAX_HEAD) return fail('head-too-large');
  const text = latin1(b, o, headEnd);
  let eol = text.indexOf('\n');
  if (eol < 0) eol = text.length;
  const first = text.charCodeAt(eol - 1) === 13 ? text.slice(0, eol - 1) : text.slice(0, eol);
  const head: HttpHead = { kind: 'request', method: '', target: '', version: '', status: 0, reason: '', headers: [], headLength: headEnd - o + 4 };
  let m = /^((?:HTTP|RTSP)\/\d\.\d) (\d{3})(?: (.*))?$/.exec(first);
  if (m) {
    head.kind = 'response';
    head.version = m[1];
    head.status = Number(m[2]);
    head.reason = m[3] ?? '';
  } else {
    m = /^([A-Z][A-Z_-]{0,19}) (\S{1,8192}) ((?:HTTP|RTSP)\/\d\.\d)$/.exec(first);
    if (!m) return fail('bad-start-line');
    head.method = m[1];
    head.target = m[2];
    head.version = m[3];
  }
  let p = eol + 1;
  while (p < text.length && head.headers.length < 128) {
    let e = text.indexOf('\n', p);
    if (e < 0) e = text.length;
    const c = text.indexOf(':', p);
    if (c > p && c < e) {
      const name = text.slice(p, c).trim().toLowerCase();
      if (only === undefined || only.has(name)) head.headers.push([name, text.slice(c + 1, e).trim()]);
    }
    p = e + 1;
  }
  return { ok: true, value: head };
}

export function header(h: HttpHead, name: string): string | undefined {
  for (const [k, v] of h.headers) if (k === name) return v;
  return undefined;
}
