// The file reader's chunk buffers: page-aligned (a WebAssembly memory), pooled
// per process, and never shared by two reads in flight. What must hold: every
// byte of the file comes through in order, concurrent analyses do not see
// each other's bytes, and without WebAssembly (node --jitless) the reader
// falls back to plain arrays with the same result.
import { describe, expect, it, beforeAll } from 'vitest';
import { createHash, randomFillSync } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { acquireChunkPair, fileChunks, releaseChunkPair } from '../../../src/adapters/capture/file-source.js';
import { analyzeFiles } from '../../../src/adapters/capture/analyze-files.js';
import { TcpConv, dnsQuery, dnsResponse, eth, ipv4, pcap, udp } from './pkt.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'ig-file-source-'));
const CHUNK = 4 << 20;

/** A capture of one device's traffic repeated until it is over `minBytes` (so reads refill both buffers several times). */
function bigCapture(dev: { mac: string; ip: string }, name: string, server: string, minBytes: number): Uint8Array {
  const gw = '14:75:90:00:77:01';
  const t = 1700000000;
  // each round is a DNS lookup and a short HTTP exchange on a new port: many flows, names and destinations
  const one = pcap(
    Array.from({ length: 40 }, (_, i) => {
      const conv = new TcpConv({ ...dev, port: 40000 + i }, { mac: gw, ip: server, port: 80 }, t + i)
        .handshake()
        .client(`GET /poll/${i} HTTP/1.1\r\nHost: ${name}\r\nUser-Agent: test/${dev.ip}\r\n\r\n`)
        .server('HTTP/1.1 204 No Content\r\n\r\n')
        .close();
      return [
        { ts: t + i, data: eth(dev.mac, gw, 0x0800, ipv4(dev.ip, '192.168.77.1', 17, udp(41000 + i, 53, dnsQuery(i + 1, name)))) },
        { ts: t + i + 0.01, data: eth(gw, dev.mac, 0x0800, ipv4('192.168.77.1', dev.ip, 17, udp(53, 41000 + i, dnsResponse(i + 1, name, [server])))) },
        ...conv.frames,
      ];
    }).flat(),
  );
  // the pcap header once, then the records again and again
  const records = one.subarray(24);
  const n = Math.ceil((minBytes - 24) / records.length);
  const out = new Uint8Array(24 + n * records.length);
  out.set(one.subarray(0, 24), 0);
  for (let i = 0; i < n; i++) out.set(records, 24 + i * records.length);
  return out;
}

beforeAll(() => {
  writeFileSync(join(dir, 'a.pcap'), bigCapture({ mac: '2c:cf:67:00:77:10', ip: '192.168.77.10' }, 'cloud.plugco.example', '5.45.1.30', 3 * CHUNK + 12345));
  writeFileSync(join(dir, 'b.pcap'), bigCapture({ mac: '2c:cf:67:00:77:20', ip: '192.168.77.20' }, 'relay.camco.example', '5.45.1.41', 2 * CHUNK + 777));
  writeFileSync(join(dir, 'blob.bin'), randomFillSync(Buffer.alloc(2 * CHUNK + CHUNK / 2 + 3)));
});

describe('capture file reader', () => {
  it('gives every byte of the file, in order, in 4 MiB chunks', async () => {
    const file = join(dir, 'blob.bin');
    const h = createHash('sha256');
    const sizes: number[] = [];
    for await (const c of fileChunks(file)) {
      h.update(c);
      sizes.push(c.length);
    }
    expect(sizes).toEqual([CHUNK, CHUNK, CHUNK / 2 + 3]);
    expect(h.digest('hex')).toBe(createHash('sha256').update(readFileSync(file)).digest('hex'));
  });

  it('reads into a page-aligned WebAssembly memory, one pair per read in flight, reused afterwards', () => {
    const p = acquireChunkPair();
    const q = acquireChunkPair();
    // both halves of one memory: offsets 0 and 4 MiB of a buffer of exactly 8 MiB (64 KiB wasm pages)
    // identity checks as booleans: a failing diff of two 4 MiB arrays would swamp the report
    expect(p[0].buffer === p[1].buffer).toBe(true);
    expect(p[0].buffer.byteLength).toBe(2 * CHUNK);
    expect([p[0].byteOffset, p[1].byteOffset]).toEqual([0, CHUNK]);
    expect(q[0].buffer === p[0].buffer).toBe(false);
    p[0][0] = 1;
    q[0][0] = 2;
    expect(p[0][0]).toBe(1);
    releaseChunkPair(q);
    releaseChunkPair(p);
    expect(acquireChunkPair() === p).toBe(true);
    expect(acquireChunkPair() === q).toBe(true);
    releaseChunkPair(q);
    releaseChunkPair(p);
  });

  it('two analyses at once give what each gives alone (no shared buffer)', async () => {
    const a = join(dir, 'a.pcap');
    const b = join(dir, 'b.pcap');
    const aloneA = await analyzeFiles([a]);
    const aloneB = await analyzeFiles([b]);
    expect(aloneA.result.summary.packets).toBeGreaterThan(50_000);
    expect(aloneA.result.devices.map((d) => d.ip)).toContain('192.168.77.10');
    const [togetherA, togetherB] = await Promise.all([analyzeFiles([a]), analyzeFiles([b])]);
    expect(togetherA).toEqual(aloneA);
    expect(togetherB).toEqual(aloneB);
  });

  it('without WebAssembly (node --jitless) falls back to plain buffers with the same output', () => {
    const bin = join(root, 'bin', 'iotguard.js');
    if (!existsSync(join(root, 'dist', 'cli', 'main.js'))) throw new Error('run npm run build first');
    const file = join(dir, 'b.pcap');
    const normal = spawnSync(process.execPath, [bin, 'analyze', file, '--json'], { encoding: 'utf8', timeout: 120_000 });
    const jitless = spawnSync(process.execPath, ['--jitless', bin, 'analyze', file, '--json'], { encoding: 'utf8', timeout: 300_000 });
    expect(normal.status, normal.stderr).toBe(0);
    expect(jitless.status, jitless.stderr).toBe(0);
    expect(JSON.parse(jitless.stdout)).toEqual(JSON.parse(normal.stdout));
  }, 400_000);
});
