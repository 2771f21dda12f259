// The capture supervisor with the real tcpdump on loopback (root only):
// packets reach the reader within libpcap's 1 s ring timeout, statistics
// signals every 200 ms do not disturb the stream, and stop() ends it cleanly.
import { spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { describe, expect, it } from 'vitest';
import { CaptureSupervisor } from '../../../src/adapters/monitor/capture.js';

const canCapture = process.getuid?.() === 0 && spawnSync('sh', ['-c', 'command -v tcpdump']).status === 0;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!canCapture)('CaptureSupervisor on loopback', () => {
  it('delivers packets promptly while tcpdump is asked for statistics', async () => {
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    const sock = createSocket('udp4');
    const send = (n: number) => {
      for (let i = 0; i < n; i++) sock.send(`iotguard capture test ${i}`, port, '127.0.0.1');
    };
    let packets = 0;
    const sup = new CaptureSupervisor({ iface: 'lo', filter: ['udp', 'and', 'dst', 'port', String(port)], statsEveryMs: 200 }, { onPacket: () => void packets++ });
    sup.start();
    try {
      // until tcpdump listens: probe
      const t0 = Date.now();
      while (packets === 0 && Date.now() - t0 < 10_000) {
        send(1);
        await sleep(200);
      }
      expect(packets).toBeGreaterThan(0);
      await sleep(1200); // probes still buffered come through
      const base = packets;
      send(3);
      const t1 = Date.now();
      while (packets < base + 3 && Date.now() - t1 < 5000) await sleep(50);
      expect(packets).toBe(base + 3);
      expect(Date.now() - t1).toBeLessThan(2500);
    } finally {
      await sup.stop();
      sock.close();
    }
    expect(sup.counters.packets).toBe(packets);
    expect(sup.counters.restarts).toBe(0);
  }, 30_000);
});
