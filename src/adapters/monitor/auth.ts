// Dashboard password and sessions. The password is hashed with scrypt
// (node:crypto) and stored as `scrypt$N$r$p$salt$hash`; it is never logged
// or kept in clear. Sessions live in memory (a restart logs everyone out) and
// each carries its own CSRF token.
import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';

const scrypt = (pw: string, salt: Buffer, len: number, o: ScryptOptions) =>
  new Promise<Buffer>((resolve, reject) => scryptCb(pw, salt, len, o, (e, k) => (e ? reject(e) : resolve(k))));

export async function hashPassword(pw: string, o: { N?: number; r?: number; p?: number } = {}): Promise<string> {
  const N = o.N ?? 16384;
  const r = o.r ?? 8;
  const p = o.p ?? 1;
  const salt = randomBytes(16);
  const key = await scrypt(pw, salt, 32, { N, r, p, maxmem: 128 * N * r * 2 });
  return `scrypt$${N}$${r}$${p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

export async function verifyPassword(pw: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [N, r, p] = parts.slice(1, 4).map(Number);
  if (![N, r, p].every((x) => Number.isInteger(x) && x > 0) || N > 1 << 20) return false;
  const salt = Buffer.from(parts[4], 'base64');
  const want = Buffer.from(parts[5], 'base64');
  if (want.length < 16) return false;
  const got = await scrypt(pw, salt, want.length, { N, r, p, maxmem: 128 * N * r * 2 });
  return timingSafeEqual(got, want);
}

export interface Session {
  id: string;
  csrf: string;
  authenticated: boolean;
  expires: number;
}

export class Sessions {
  private readonly map = new Map<string, Session>();
  constructor(private readonly ttlMs = 12 * 3600_000) {}

  create(authenticated: boolean, now = Date.now()): Session {
    this.sweep(now);
    const s = { id: randomBytes(24).toString('base64url'), csrf: randomBytes(24).toString('base64url'), authenticated, expires: now + this.ttlMs };
    this.map.set(s.id, s);
    while (this.map.size > 10_000) this.map.delete(this.map.keys().next().value as string);
    return s;
  }

  get(id: string | undefined, now = Date.now()): Session | undefined {
    if (!id) return undefined;
    const s = this.map.get(id);
    if (!s || s.expires < now) {
      if (s) this.map.delete(id);
      return undefined;
    }
    return s;
  }

  destroy(id: string): void {
    this.map.delete(id);
  }

  private sweep(now: number): void {
    for (const [k, s] of this.map) if (s.expires < now) this.map.delete(k);
  }
}

/** Constant-time string comparison for tokens. */
export function sameToken(a: string | undefined, b: string): boolean {
  if (typeof a !== 'string') return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
