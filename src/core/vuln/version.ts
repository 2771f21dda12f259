// Firmware version comparison for the loose version strings embedded devices
// print: "1.0.7.6", "V5.4.0 build 160530", "1.04b12", "15.03.05.19_multi".
// Numbers compare numerically, letters lexically; a leading "v" is ignored.
import type { VersionRange } from './schema.js';

type Token = number | string;

export function versionTokens(v: string): Token[] {
  const s = v.trim().toLowerCase().replace(/^v(?=\d)/, '');
  const out: Token[] = [];
  for (const m of s.matchAll(/(\d+)|([a-z]+)/g)) {
    out.push(m[1] !== undefined ? Number(m[1]) : m[2]);
  }
  return out;
}

/** Negative when a < b, 0 when equal, positive when a > b. */
export function compareVersions(a: string, b: string): number {
  const ta = versionTokens(a);
  const tb = versionTokens(b);
  const n = Math.max(ta.length, tb.length);
  for (let i = 0; i < n; i++) {
    const x = ta[i];
    const y = tb[i];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    if (typeof x === 'number' && typeof y === 'number') {
      if (x !== y) return x - y;
    } else if (typeof x === 'number') {
      return 1;
    } else if (typeof y === 'number') {
      return -1;
    } else if (x !== y) {
      return x < y ? -1 : 1;
    }
  }
  return 0;
}

/** True when `version` falls in the range (introduced <= v < fixed, v <= lastAffected). */
export function inRange(version: string, r: VersionRange): boolean {
  // A version without a single number ("unknown", "beta") is no version at all.
  if (!versionTokens(version).some((t) => typeof t === 'number')) return false;
  if (r.introduced !== undefined && compareVersions(version, r.introduced) < 0) return false;
  if (r.fixed !== undefined && compareVersions(version, r.fixed) >= 0) return false;
  if (r.lastAffected !== undefined && compareVersions(version, r.lastAffected) > 0) return false;
  return true;
}
