// HTTP (and RTSP) authentication without I/O: the WWW-Authenticate challenge
// list (RFC 7235 §4.1, RFC 9110 §11.6.1), Basic (RFC 7617) and Digest
// (RFC 7616, with MD5, SHA-256, SHA-512-256 and their -sess variants, qop
// auth/auth-int, userhash; RFC 2069 without qop). Malformed headers give an
// empty or partial list, never an exception.
import { createHash, randomBytes } from 'node:crypto';

export interface Challenge {
  /** Lower-cased scheme, e.g. `basic`, `digest`. */
  scheme: string;
  /** Parameter names lower-cased; values unquoted. */
  params: Record<string, string>;
  token68?: string;
}

const MAX_HEADER = 8192;
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Parse one or more WWW-Authenticate values (several headers may be joined with commas). */
export function parseChallenges(header: string | string[] | undefined): Challenge[] {
  if (header === undefined) return [];
  const text = (Array.isArray(header) ? header.join(', ') : header).slice(0, MAX_HEADER);
  const out: Challenge[] = [];
  let i = 0;
  const n = text.length;
  const skipWs = () => {
    while (i < n && (text[i] === ' ' || text[i] === '\t')) i++;
  };
  const readToken = (): string => {
    const s = i;
    while (i < n && /[!#$%&'*+.^_`|~0-9A-Za-z-]/.test(text[i])) i++;
    return text.slice(s, i);
  };
  const readQuoted = (): string | undefined => {
    // at the opening quote; RFC 9110 §5.6.4 quoted-pair
    i++;
    let v = '';
    while (i < n) {
      const c = text[i];
      if (c === '\\' && i + 1 < n) {
        v += text[i + 1];
        i += 2;
        continue;
      }
      if (c === '"') {
        i++;
        return v;
      }
      v += c;
      i++;
    }
    return undefined;
  };
  let current: Challenge | undefined;
  while (i < n) {
    skipWs();
    if (text[i] === ',') {
      i++;
      continue;
    }
    const start = i;
    const tok = readToken();
    if (tok.length === 0) {
      // garbage: skip to the next comma
      while (i < n && text[i] !== ',') i++;
      continue;
    }
    skipWs();
    if (text[i] === '=') {
      // could be a param of the current challenge, or token68 padding
      i++;
      skipWs();
      let value: string | undefined;
      if (text[i] === '"') value = readQuoted();
      else {
        const vs = i;
        while (i < n && text[i] !== ',' && text[i] !== ' ' && text[i] !== '\t') i++;
        value = text.slice(vs, i);
      }
      if (current && value !== undefined && TOKEN.test(tok)) current.params[tok.toLowerCase()] = value;
      continue;
    }
    // a new scheme; maybe followed by a token68 or by params
    current = { scheme: tok.toLowerCase(), params: {} };
    out.push(current);
    skipWs();
    const save = i;
    const t68 = /^[A-Za-z0-9\-._~+/]+=*/.exec(text.slice(i));
    if (t68 && t68[0].length > 0) {
      const after = text.slice(i + t68[0].length).trimStart();
      // token68 only if not the start of `name=value`
      if ((after === '' || after.startsWith(',')) && !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+=[^=]/.test(text.slice(i))) {
        current.token68 = t68[0];
        i += t68[0].length;
        continue;
      }
    }
    i = save;
    if (i === start) i++; // never loop in place
  }
  return out;
}

export function basicAuthorization(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`;
}

const DIGEST_ALGS: Record<string, string> = {
  md5: 'md5',
  'sha-256': 'sha256',
  'sha-512-256': 'sha512-256',
};

function digestHashName(algorithm: string | undefined): { hash: string; sess: boolean } | undefined {
  const a = (algorithm ?? 'MD5').toLowerCase();
  const sess = a.endsWith('-sess');
  const base = sess ? a.slice(0, -5) : a;
  const hash = DIGEST_ALGS[base];
  return hash ? { hash, sess } : undefined;
}

function strength(c: Challenge): number {
  if (c.scheme === 'digest') {
    const h = digestHashName(c.params.algorithm);
    if (!h || !c.params.nonce) return -1;
    return h.hash === 'md5' ? 2 : 3;
  }
  if (c.scheme === 'basic') return 1;
  return -1;
}

/** The challenge we can answer, strongest first (Digest SHA-256 > Digest MD5 > Basic). */
export function pickChallenge(challenges: Challenge[]): Challenge | undefined {
  let best: Challenge | undefined;
  for (const c of challenges) if (strength(c) > 0 && (!best || strength(c) > strength(best))) best = c;
  return best;
}

export interface DigestInput {
  username: string;
  password: string;
  method: string;
  uri: string;
  /** Request nonce count for this nonce (1 for the first use). */
  nc: number;
  cnonce?: string;
  /** Body for qop=auth-int (empty for GET/DESCRIBE). */
  body?: Buffer;
}

const q = (s: string) => `"${s.replace(/(["\\])/g, '\\$1')}"`;

/** The Authorization value answering a Digest challenge (RFC 7616 §3.4). */
export function digestAuthorization(ch: Challenge, input: DigestInput): string | undefined {
  const alg = digestHashName(ch.params.algorithm);
  const nonce = ch.params.nonce;
  if (!alg || nonce === undefined) return undefined;
  const H = (s: string | Buffer) => createHash(alg.hash).update(s).digest('hex');
  const realm = ch.params.realm ?? '';
  const qops = (ch.params.qop ?? '')
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
  const qop = qops.includes('auth') ? 'auth' : qops.includes('auth-int') ? 'auth-int' : undefined;
  const cnonce = input.cnonce ?? randomBytes(12).toString('hex');
  const nc = input.nc.toString(16).padStart(8, '0');
  let ha1 = H(`${input.username}:${realm}:${input.password}`);
  if (alg.sess) ha1 = H(`${ha1}:${nonce}:${cnonce}`);
  const a2 = qop === 'auth-int' ? `${input.method}:${input.uri}:${H(input.body ?? Buffer.alloc(0))}` : `${input.method}:${input.uri}`;
  const ha2 = H(a2);
  const response = qop ? H(`${ha1}:${nonce}:${nc}:${cnonce}:${qop}:${ha2}`) : H(`${ha1}:${nonce}:${ha2}`);
  const userhash = (ch.params.userhash ?? '').toLowerCase() === 'true';
  const parts = [
    `username=${q(userhash ? H(`${input.username}:${realm}`) : input.username)}`,
    `realm=${q(realm)}`,
    `nonce=${q(nonce)}`,
    `uri=${q(input.uri)}`,
    `response=${q(response)}`,
  ];
  if (ch.params.algorithm) parts.push(`algorithm=${ch.params.algorithm}`);
  if (ch.params.opaque !== undefined) parts.push(`opaque=${q(ch.params.opaque)}`);
  if (qop) parts.push(`qop=${qop}`, `nc=${nc}`, `cnonce=${q(cnonce)}`);
  if (userhash) parts.push('userhash=true');
  return `Digest ${parts.join(', ')}`;
}

/** Authorization for the picked challenge, Basic or Digest. */
export function authorizationFor(ch: Challenge, input: DigestInput): string | undefined {
  if (ch.scheme === 'basic') return basicAuthorization(input.username, input.password);
  if (ch.scheme === 'digest') return digestAuthorization(ch, input);
  return undefined;
}

/** A short, secret-free description of a challenge for evidence: `Digest SHA-256 realm="cam"`. */
export function describeChallenge(ch: Challenge): string {
  const realm = ch.params.realm !== undefined ? ` realm="${ch.params.realm.slice(0, 60).replace(/[^\x20-\x7e]/g, '')}"` : '';
  if (ch.scheme === 'digest') return `Digest ${(ch.params.algorithm ?? 'MD5').slice(0, 20)}${realm}`;
  return `${ch.scheme[0].toUpperCase()}${ch.scheme.slice(1)}${realm}`;
}
