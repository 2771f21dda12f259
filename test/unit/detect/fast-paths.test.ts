// The detectors' per-event fast paths against the plain code they replaced
// (the address test they share is in test/unit/engine/local.test.ts): the
// dns-tunnel name cache (a name seen again, in any case or with a final dot,
// counts exactly as the first time).
import { describe, expect, it } from 'vitest';
import { resolveDetectorConfig } from '../../../src/core/detect/index.js';
import { dnsTunnelDetector } from '../../../src/core/detect/dns-tunnel.js';
import { dnsQuery, ep, run } from './helpers.js';

describe('dns-tunnel: the name cache', () => {
  const cfg = resolveDetectorConfig();
  const dev = ep('192.168.1.50', 40000, 'aa:bb:cc:00:00:50');
  const resolver = ep('192.168.1.1', 53);
  // an iodine-like channel: long base32 labels under one zone
  const label = (i: number): string => Array.from({ length: 50 }, (_, k) => 'abcdefghijklmnopqrstuvwxyz234567'[(i * 7 + k * 13 + ((i * k) % 11)) % 32]).join('');
  it('counts a repeated name (other case, final dot) as the first time', () => {
    const names = Array.from({ length: 60 }, (_, i) => `${label(i % 30)}.t.tunnel-zone.example`);
    const plain = run(dnsTunnelDetector(cfg), names.map((n, i) => dnsQuery(1000 + i, dev, resolver, n, 10, 'NULL')));
    const mixed = run(
      dnsTunnelDetector(cfg),
      names.map((n, i) => dnsQuery(1000 + i, dev, resolver, i % 3 === 0 ? n.toUpperCase() : i % 3 === 1 ? `${n}.` : n, 10, 'NULL')),
    );
    expect(plain).toHaveLength(1);
    const strip = (f: (typeof plain)[number]) => ({ ...f, evidence: { ...f.evidence, frames: undefined, sampleNames: undefined, queryBytes: undefined } });
    // (the helper sizes a message by its name: a final dot is one byte more)
    expect(mixed.map(strip)).toEqual(plain.map(strip));
    expect(plain[0].evidence.uniqueSubdomains).toBe(30);
    expect(plain[0].evidence.queries).toBe(60);
    expect(plain[0].evidence.domain).toBe('t.tunnel-zone.example');
  });
  it('skips reverse, .local and single-label names however often they come', () => {
    const d = dnsTunnelDetector(cfg);
    const evs = [];
    for (let i = 0; i < 200; i++) for (const n of [`${label(i)}.in-addr.arpa`, `${label(i)}.local`, label(i)]) evs.push(dnsQuery(2000 + i, dev, resolver, n, 16, 'TXT'));
    expect(run(d, evs)).toEqual([]);
  });
});

describe('dns-tunnel: the group index', () => {
  it('finds a group again after groups were pruned (a pruned domain starts afresh, a kept one carries on)', () => {
    const cfg = resolveDetectorConfig();
    const d = dnsTunnelDetector(cfg);
    const inf = ep('192.168.1.66', 5000, 'aa:bb:cc:00:00:66');
    const res = ep('192.168.1.1', 53);
    const b32 = (i: number): string => Array.from({ length: 40 }, (_, k) => 'abcdefghijklmnopqrstuvwxyz234567'[(i * 31 + k * 7 + ((i + 3) * k * k) % 13) % 32]).join('');
    const evs = [dnsQuery(1, inf, res, 'www.evil-c2.net'), dnsQuery(2, inf, res, `${b32(999)}.kept-zone.org`, 16, 'TXT')];
    // 30,000 one-query domains: the groups are pruned past 20,000 (the evil-c2.net group with them, kept-zone.org kept)
    for (let i = 0; i < 30_000; i++) evs.push(dnsQuery(10 + i, inf, res, `www.site${i}.com`));
    for (let i = 0; i < 30; i++) {
      evs.push(dnsQuery(40_000 + i, inf, res, `${b32(i)}.x.evil-c2.net`, 16, 'TXT'));
      evs.push(dnsQuery(40_100 + i, inf, res, `${b32(i + 500)}.kept-zone.org`, 16, 'TXT'));
    }
    const f = run(d, evs);
    const by = Object.fromEntries(f.map((x) => [x.evidence.registeredDomain, x.evidence]));
    expect(Object.keys(by).sort()).toEqual(['evil-c2.net', 'kept-zone.org']);
    // the pruned group's one early query is gone; the kept group has all 31
    expect(by['evil-c2.net'].queries).toBe(30);
    expect(by['kept-zone.org'].queries).toBe(31);
  });
});
