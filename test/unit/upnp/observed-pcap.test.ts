// observed.ts against a real capture: nDPI's natpmp.pcap (third-party shared
// data, ../shared/data). Every NAT-PMP mapping request becomes one
// upnp-port-mapping-request finding; answers and address queries do not.
// Expected values are what tshark's NAT-PMP dissector shows for the file.
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { findingFromNatPmpRequest } from '../../../src/core/upnp/observed.js';
import { loadPortRiskTable } from '../../../src/adapters/probe/upnp-risk-table.js';

const file = new URL('../../../../shared/data/pcap/discovery/ndpi/natpmp.pcap', import.meta.url).pathname;
const have = existsSync(file);
if (!have) process.stderr.write(`[upnp] skipping natpmp.pcap test: ${file} is absent (shared test data)\n`);

/** Minimal classic-pcap walk (Ethernet → IPv4 → UDP), enough for this one file. */
function udpPackets(buf: Buffer): Array<{ frame: number; src: string; dst: string; sport: number; dport: number; payload: Uint8Array }> {
  const le = buf.readUInt32LE(0) === 0xa1b2c3d4;
  const u32 = (o: number) => (le ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
  expect(u32(20)).toBe(1); // LINKTYPE_ETHERNET
  const out = [];
  let off = 24;
  let frame = 0;
  while (off + 16 <= buf.length) {
    const incl = u32(off + 8);
    const pkt = buf.subarray(off + 16, off + 16 + incl);
    off += 16 + incl;
    frame++;
    if (pkt.length < 14 + 20 + 8 || pkt.readUInt16BE(12) !== 0x0800) continue;
    const ip = pkt.subarray(14);
    const ihl = (ip[0] & 15) * 4;
    if (ip[9] !== 17) continue;
    const udp = ip.subarray(ihl);
    const len = udp.readUInt16BE(4);
    out.push({ frame, src: [...ip.subarray(12, 16)].join('.'), dst: [...ip.subarray(16, 20)].join('.'), sport: udp.readUInt16BE(0), dport: udp.readUInt16BE(2), payload: new Uint8Array(udp.subarray(8, len)) });
  }
  return out;
}

describe.skipIf(!have)('observed NAT-PMP requests in nDPI natpmp.pcap', () => {
  it('one finding per mapping request, with the ports tshark shows', async () => {
    const table = await loadPortRiskTable();
    const findings = udpPackets(readFileSync(file))
      .filter((p) => p.dport === 5351)
      .map((p) => findingFromNatPmpRequest(p.payload, { srcIp: p.src, dstIp: p.dst, dstPort: p.dport, frames: [p.frame] }, { riskTable: table }))
      .filter((f) => f !== undefined);
    expect(findings.map((f) => (f!.evidence as { frames: number[] }).frames[0])).toEqual([3, 6, 7, 8, 9, 10, 11]);
    expect(findings[0]).toMatchObject({
      id: 'upnp-port-mapping-request',
      severity: 'low',
      device: { ip: '192.168.1.128' },
      evidence: { via: 'nat-pmp', protocol: 'TCP', internalPort: 51413, externalPort: 51413, leaseSeconds: 3600, service: 'bittorrent', gateway: '192.168.1.254:5351' },
    });
    expect(findings[1]).toMatchObject({ device: { ip: '192.168.2.100' }, evidence: { internalPort: 22000, externalPort: 6243, service: 'syncthing' } });
    expect(findings[6]).toMatchObject({ evidence: { internalPort: 22000, externalPort: 20216 } });
  });

  it('the gateway answers (from 5351) are not requests', () => {
    const answers = udpPackets(readFileSync(file)).filter((p) => p.sport === 5351);
    expect(answers.length).toBe(2);
    for (const a of answers) expect(findingFromNatPmpRequest(a.payload, { srcIp: a.src, dstIp: a.dst, dstPort: a.dport })).toBeUndefined();
  });
});
