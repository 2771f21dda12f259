// The per-name "looks encoded" test behind dns-tunnel, measured on 33k
// labelled query names (netrack/learn in ../shared/data; skipped when absent),
// and the detectors fed random events (they must never throw).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { getDomain } from 'tldts';
import { describe, expect, it } from 'vitest';
import { defaultDetectors, resolveDetectorConfig } from '../../../src/core/detect/index.js';
import { looksEncoded } from '../../../src/core/detect/dns-tunnel.js';
import type { EngineEvent } from '../../../src/core/engine/events.js';
import { receives } from '../../../src/core/engine/events.js';
import { ctx, dnsQuery, ep, flow } from './helpers.js';

const DIR = join(fileURLToPath(new URL('../../..', import.meta.url)), '../shared/data/dns-tunnel/labelled-qnames/netrack-learn');
const present = existsSync(DIR);
if (!present) process.stderr.write(`[detect qnames] skipping: no labelled names at ${DIR}\n`);

function share(file: string): { n: number; encoded: number } {
  const c = resolveDetectorConfig().dnsTunnel;
  const lines = readFileSync(join(DIR, file), 'utf8').split('\n').slice(1).filter(Boolean);
  let encoded = 0;
  for (const l of lines) {
    const q = l.slice(l.indexOf(',') + 1).toLowerCase().replace(/\.$/, '');
    const d = getDomain(q.split('.').slice(-4).join('.'), { allowPrivateDomains: true, validateHostname: false }) ?? '';
    const sub = q.length > d.length ? q.slice(0, q.length - d.length - 1) : '';
    if (sub && looksEncoded(sub, c.encodedLabelLength, c.encodedLabelEntropy)) encoded++;
  }
  return { n: lines.length, encoded };
}

describe.skipIf(!present)('encoded-name test on labelled query names', () => {
  it('flags tunnel names and (almost) no plain names', () => {
    const r = Object.fromEntries(['iodine', 'dnscapy', 'dns2tcp', 'plain'].map((n) => [n, share(`${n}-qnames.csv`)]));
    process.stdout.write(`\nencoded share: ${Object.entries(r).map(([k, v]) => `${k} ${v.encoded}/${v.n} (${((100 * v.encoded) / v.n).toFixed(1)}%)`).join(', ')}\n`);
    expect(r.plain.encoded / r.plain.n).toBeLessThan(0.001);
    expect(r.iodine.encoded / r.iodine.n).toBeGreaterThan(0.95);
    expect(r.dnscapy.encoded / r.dnscapy.n).toBeGreaterThan(0.9);
    // dns2tcp's short keep-alive polls carry no data; the data queries are what count
    expect(r.dns2tcp.encoded / r.dns2tcp.n).toBeGreaterThan(0.5);
  });
});

describe('detectors on random events', () => {
  const ip = fc.oneof(fc.ipV4(), fc.constantFrom('192.168.1.2', '10.0.0.1', '::1', 'fe80::1', '255.255.255.255', '0.0.0.0'));
  const port = fc.option(fc.integer({ min: 0, max: 65535 }), { nil: undefined });
  const ts = fc.double({ min: 0, max: 2e9, noNaN: true });
  const event: fc.Arbitrary<EngineEvent> = fc.oneof(
    fc.tuple(ts, ip, ip, fc.string({ maxLength: 300 }), fc.integer({ min: 0, max: 65535 }), fc.boolean()).map(([t, a, b, n, ty, r]) => dnsQuery(t, ep(a, 5000), ep(b, 53), n, ty, 'T', r)),
    fc.tuple(ts, ip, ip, port, port, fc.constantFrom('tcp', 'udp', 'icmp'), fc.constantFrom('syn', 'rejected', 'closed', 'established'), fc.double({ min: 0, max: 1e4, noNaN: true })).map(
      ([t, a, b, p1, p2, proto, st, dur]) => ({ kind: 'flow-close', ts: t, frame: 1, file: 'f', flow: flow(ep(a, p1), ep(b, p2), { proto: proto as 'tcp', tcpState: st as 'syn', firstTs: t, lastTs: t + dur }), reason: 'end' }) as EngineEvent,
    ),
    fc.tuple(ts, ip, ip, port, port).map(([t, a, b, p1, p2]) => ({ kind: 'flow-open', ts: t, frame: 1, file: 'f', flow: flow(ep(a, p1), ep(b, p2), { firstTs: t }) }) as EngineEvent),
    fc.tuple(ts, ip, ip, fc.string({ maxLength: 200 }), fc.uint8Array({ maxLength: 64 }), fc.integer({ min: 0, max: 999 }), fc.boolean()).map(
      ([t, a, b, path, body, status, req]): EngineEvent =>
        req
          ? { kind: 'http-request', ts: t, frame: 2, file: 'f', flowId: 7, client: ep(a, 1), server: ep(b, 80), method: 'GET', path, version: 'HTTP/1.1', bodyPrefix: body, contentType: 'application/x-www-form-urlencoded', authorization: { scheme: 'Basic', username: path.slice(0, 5), cleartextPassword: true } }
          : { kind: 'http-response', ts: t, frame: 3, file: 'f', flowId: 7, client: ep(a, 1), server: ep(b, 80), status, reason: '', version: 'HTTP/1.1', bodyPrefix: body, contentType: 'application/octet-stream', contentLength: status * 1000 },
    ),
    fc.tuple(ts, ip, fc.ipV4()).map(([t, a, b]) => ({ kind: 'arp', ts: t, frame: 4, file: 'f', op: 1, senderMac: '00:00:00:00:00:01', senderIp: a, targetMac: '00:00:00:00:00:00', targetIp: b, gratuitous: a === b }) as EngineEvent),
    fc.tuple(ts, ip, ip, fc.constantFrom('attempt', 'failure', 'success', 'prompt'), fc.integer({ min: 1, max: 5 })).map(
      ([t, a, b, step, id]) => ({ kind: 'login', ts: t, frame: 5, file: 'f', service: 'telnet', flowId: id, client: ep(a, 2), server: ep(b, 23), step, passwordInClear: step === 'attempt', attempt: 1 }) as EngineEvent,
    ),
  );
  it('never throw and always return well-formed findings', () => {
    fc.assert(
      fc.property(fc.array(event, { maxLength: 60 }), (evs) => {
        const c = ctx();
        for (const d of defaultDetectors()) {
          for (const e of evs) if (receives(d.wants, e)) d.onEvent(e, c);
          for (const f of d.finish(c)) {
            expect(typeof f.title).toBe('string');
            expect(f.advice.length).toBeGreaterThan(10);
          }
        }
      }),
      { numRuns: 150 },
    );
  });
});
