// Client/server TLS fingerprints: JA3/JA3S (Salesforce) and JA4 (FoxIO,
// https://github.com/FoxIO-LLC/ja4/blob/main/technical_details/JA4.md).
// GREASE values are already removed by the hello decoders.
import { createHash } from 'node:crypto';
import type { ClientHello, ServerHello } from './tls.js';

export function ja3(ch: ClientHello): { text: string; hash: string } {
  const text = [ch.helloVersion, ch.ciphers.join('-'), ch.extensions.join('-'), ch.groups.join('-'), ch.pointFormats.join('-')].join(',');
  return { text, hash: md5Hex(text) };
}

// Servers answer with the same few hellos again and again: hash each distinct text once.
const md5Memo = new Map<string, string>();
function md5Hex(text: string): string {
  let h = md5Memo.get(text);
  if (h === undefined) {
    h = createHash('md5').update(text).digest('hex');
    if (md5Memo.size >= 4096) md5Memo.clear();
    md5Memo.set(text, h);
  }
  return h;
}

export function ja3s(sh: ServerHello): { text: string; hash: string } {
  const text = `${sh.helloVersion},${sh.cipher},${sh.extensions.join('-')}`;
  return { text, hash: md5Hex(text) };
}

function ja4Version(v: number): string {
  switch (v) {
    case 0x0304:
      return '13';
    case 0x0303:
      return '12';
    case 0x0302:
      return '11';
    case 0x0301:
      return '10';
    case 0x0300:
      return 's3';
    case 0x0002:
      return 's2';
    case 0xfeff:
      return 'd1';
    case 0xfefd:
      return 'd2';
    case 0xfefc:
      return 'd3';
    default:
      return '00';
  }
}

const h4 = (v: number): string => v.toString(16).padStart(4, '0');
const sha12 = (s: string): string => createHash('sha256').update(s).digest('hex').slice(0, 12);
const isAlnum = (c: number): boolean => (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);

export function ja4(ch: ClientHello, transport: 't' | 'q' = 't'): string {
  const version = ch.supportedVersions.length > 0 ? Math.max(...ch.supportedVersions) : ch.helloVersion;
  const sni = ch.sni !== undefined ? 'd' : 'i';
  const cc = String(Math.min(ch.ciphers.length, 99)).padStart(2, '0');
  const ec = String(Math.min(ch.extensions.length, 99)).padStart(2, '0');
  let alpn = '00';
  const first = ch.alpn[0];
  if (first !== undefined && first.length > 0) {
    const a = first.charCodeAt(0);
    const z = first.charCodeAt(first.length - 1);
    if (isAlnum(a) && isAlnum(z)) alpn = first[0] + first[first.length - 1];
    else {
      const hx = Buffer.from(first, 'latin1').toString('hex');
      alpn = hx[0] + hx[hx.length - 1];
    }
  }
  const a = `${transport}${ja4Version(version)}${sni}${cc}${ec}${alpn}`;
  const b = ch.ciphers.length === 0 ? '000000000000' : sha12([...ch.ciphers].sort((x, y) => x - y).map(h4).join(','));
  const exts = ch.extensions.filter((e) => e !== 0 && e !== 16).sort((x, y) => x - y).map(h4).join(',');
  const sigs = ch.signatureAlgorithms.map(h4).join(',');
  const c = ch.extensions.length === 0 ? '000000000000' : sha12(sigs ? `${exts}_${sigs}` : exts);
  return `${a}_${b}_${c}`;
}
