// The capture supervisor with the real tcpdump on loopback (root only): the
// buffered pcap stream reaches the reader within the SIGUSR2 flush period,
// and what tcpdump still holds in its output buffer when the monitor stops
// comes through (tcpdump flushes it as it exits on SIGTERM), not lost.
import { spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { describe, expect, it } from 'vitest';
import { CaptureSupervisor } from '../../../src/adapters/monitor/capture.js';

const canCapture = process.getuid?.() === 0 && spawnSync('sh', ['-c', 'command -v tcpdump']).status === 0;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!canCapture)('CaptureSupervisor on loopback', () => {
  it('delivers buffered packets within the flush period', async () => {
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    const sock = createSocket('udp4');
    const send = (n: number) => {
      for (let i = 0; i < n; i++) sock.send(`iotguard capture test ${i}`, port, '127.0.0.1');
    };
    let packets = 0;
    const sup = new CaptureSupervisor({ iface: 'lo', filter: ['udp', 'and', 'dst', 'port', String(port)], flushEveryMs: 500 }, { onPacket: () => void packets++ });
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
      // three small packets never fill tcpdump's buffer: only the periodic flush delivers them this soon
      expect(Date.now() - t1).toBeLessThan(2000);
    } finally {
      await sup.stop();
      sock.close();
    }
    expect(sup.counters.packets).toBe(packets);
    expect(sup.counters.restarts).toBe(0);
  }, 30_000);

  it('gets what tcpdump still holds in its buffer when it is stopped', async () => {
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    const sock = createSocket('udp4');
    let packets = 0;
    let up = false;
    // no periodic flush within the test: the packets wait in tcpdump's output buffer
    const sup = new CaptureSupervisor({ iface: 'lo', filter: ['udp', 'and', 'dst', 'port', String(port)], flushEveryMs: 600_000, onUp: () => (up = true) }, { onPacket: () => void packets++ });
    sup.start();
    try {
      const t0 = Date.now();
      while (!up && Date.now() - t0 < 5000) await sleep(50);
      await sleep(3000); // tcpdump listening
      for (let i = 0; i < 3; i++) sock.send(`iotguard capture test ${i}`, port, '127.0.0.1');
      await sleep(1500); // past libpcap's 1 s ring timeout: tcpdump has them, in its buffer
      expect(packets).toBe(0);
    } finally {
      await sup.stop();
      sock.close();
    }
    expect(packets).toBe(3);
  }, 30_000);
});
