// RTSP/1.0 (RFC 2326) request building and response-head parsing for the
// credential tester, without I/O. DESCRIBE is the request cameras protect
// with Basic or Digest; the head parser caps sizes and reports garbage as a
// value instead of throwing.

export const MAX_HEAD = 16 * 1024;

export type ResponseHead =
  | { ok: true; protocol: string; status: number; reason: string; headers: Map<string, string[]>; headLength: number }
  | { ok: false; reason: 'incomplete' | 'garbage' | 'too-large' };

/** Parse `PROTO/x.y STATUS REASON` and headers up to the blank line. */
export function parseResponseHead(buf: Buffer, protocolPrefix = 'RTSP/'): ResponseHead {
  const probe = buf.subarray(0, Math.min(buf.length, protocolPrefix.length)).toString('latin1');
  if (!protocolPrefix.startsWith(probe)) return { ok: false, reason: 'garbage' };
  let end = buf.indexOf('\r\n\r\n');
  let sepLen = 4;
  if (end < 0) {
    const lf = buf.indexOf('\n\n');
    if (lf >= 0) {
      end = lf;
      sepLen = 2;
    }
  }
  if (end < 0) return buf.length > MAX_HEAD ? { ok: false, reason: 'too-large' } : { ok: false, reason: 'incomplete' };
  if (end > MAX_HEAD) return { ok: false, reason: 'too-large' };
  const lines = buf.subarray(0, end).toString('latin1').split(/\r?\n/);
  const m = /^([A-Z]+\/\d\.\d) (\d{3})(?: (.*))?$/.exec(lines[0] ?? '');
  if (!m || !m[1].startsWith(protocolPrefix)) return { ok: false, reason: 'garbage' };
  const headers = new Map<string, string[]>();
  for (const line of lines.slice(1)) {
    const at = line.indexOf(':');
    if (at <= 0) continue;
    const k = line.slice(0, at).trim().toLowerCase();
    const v = line.slice(at + 1).trim();
    const list = headers.get(k);
    if (list) list.push(v);
    else headers.set(k, [v]);
  }
  return { ok: true, protocol: m[1], status: Number(m[2]), reason: (m[3] ?? '').slice(0, 80), headers, headLength: end + sepLen };
}

export function rtspDescribe(url: string, cseq: number, authorization?: string): Buffer {
  const lines = [`DESCRIBE ${url} RTSP/1.0`, `CSeq: ${cseq}`, 'Accept: application/sdp', 'User-Agent: iotguard-creds'];
  if (authorization) lines.push(`Authorization: ${authorization}`);
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
}

/** Body length announced by a head, capped (bodies are skipped, not read). */
export function contentLength(head: Extract<ResponseHead, { ok: true }>): number {
  const v = head.headers.get('content-length')?.[0];
  const n = v !== undefined && /^\d{1,9}$/.test(v) ? Number(v) : 0;
  return n;
}
