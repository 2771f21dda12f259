// The passive detector on the traffic engine: a capture of an affected
// product's SSDP announcement is reported with its frame number, and the
// public captures in ../shared/data (IoT Sentinel devices, nDPI, Zeek,
// Suricata...) give no known-vulnerability finding, since none of their
// devices is a catalogued product.
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { analyzeFiles } from '../../../src/adapters/capture/analyze-files.js';
import { kevDetector } from '../../../src/core/vuln/index.js';
import { catalog } from './helpers.js';

const shared = fileURLToPath(new URL('../../../../shared/data', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'iotguard-vuln-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function ipChecksum(h: Buffer): number {
  let sum = 0;
  for (let i = 0; i < h.length; i += 2) sum += h.readUInt16BE(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** A classic pcap (LINKTYPE_ETHERNET) with UDP datagrams. */
function udpPcap(packets: { srcMac: string; srcIp: string; dstIp: string; sport: number; dport: number; payload: string }[]): Buffer {
  const gh = Buffer.alloc(24);
  gh.writeUInt32LE(0xa1b2c3d4, 0);
  gh.writeUInt16LE(2, 4);
  gh.writeUInt16LE(4, 6);
  gh.writeUInt32LE(65535, 16);
  gh.writeUInt32LE(1, 20);
  const parts = [gh];
  packets.forEach((p, i) => {
    const payload = Buffer.from(p.payload, 'latin1');
    const udp = Buffer.alloc(8);
    udp.writeUInt16BE(p.sport, 0);
    udp.writeUInt16BE(p.dport, 2);
    udp.writeUInt16BE(8 + payload.length, 4);
    const ip = Buffer.alloc(20);
    ip[0] = 0x45;
    ip.writeUInt16BE(20 + 8 + payload.length, 2);
    ip[8] = 4;
    ip[9] = 17;
    p.srcIp.split('.').forEach((o, k) => (ip[12 + k] = Number(o)));
    p.dstIp.split('.').forEach((o, k) => (ip[16 + k] = Number(o)));
    ip.writeUInt16BE(ipChecksum(ip), 10);
    const eth = Buffer.concat([Buffer.from('01005e7ffffa', 'hex'), Buffer.from(p.srcMac.replace(/:/g, ''), 'hex'), Buffer.from([0x08, 0x00])]);
    const frame = Buffer.concat([eth, ip, udp, payload]);
    const rh = Buffer.alloc(16);
    rh.writeUInt32LE(1_700_000_000 + i, 0);
    rh.writeUInt32LE(frame.length, 8);
    rh.writeUInt32LE(frame.length, 12);
    parts.push(rh, frame);
  });
  return Buffer.concat(parts);
}

function notify(server: string): string {
  return [
    'NOTIFY * HTTP/1.1',
    'HOST: 239.255.255.250:1900',
    'CACHE-CONTROL: max-age=180',
    'LOCATION: http://192.168.0.1:52869/picsdesc.xml',
    `SERVER: ${server}`,
    'NT: urn:schemas-upnp-org:device:InternetGatewayDevice:1',
    'USN: uuid:12342409-1234-1234-5678-ee1234cc5678::urn:schemas-upnp-org:device:InternetGatewayDevice:1',
    'NTS: ssdp:alive',
    '',
    '',
  ].join('\r\n');
}

describe('known-vulnerability detector on captures', () => {
  it('reports a Realtek SDK router from its SSDP NOTIFY, with the frame that shows it', async () => {
    const file = join(tmp, 'realtek-notify.pcap');
    // The NOTIFY layout of the Realtek SDK (its source documents this exact announcement).
    writeFileSync(
      file,
      udpPcap([
        { srcMac: '00:e0:4c:81:96:01', srcIp: '192.168.0.2', dstIp: '239.255.255.250', sport: 1900, dport: 1900, payload: notify('Linux/3.10 UPnP/1.0 Debian-MiniUPnPd/2.3.1') },
        { srcMac: '00:e0:4c:81:96:c1', srcIp: '192.168.0.1', dstIp: '239.255.255.250', sport: 1900, dport: 1900, payload: notify('OS 1.0 UPnP/1.0 Realtek/V1.3') },
      ]),
    );
    const det = kevDetector(catalog);
    const { result } = await analyzeFiles([file], { detectors: [det] });
    const kev = result.findings.filter((f) => f.id === 'known-vulnerability');
    expect(kev.map((f) => [f.evidence.cve, f.device.ip, f.device.mac]).sort()).toEqual([
      ['CVE-2014-8361', '192.168.0.1', '00:e0:4c:81:96:c1'],
      ['CVE-2021-35394', '192.168.0.1', '00:e0:4c:81:96:c1'],
    ]);
    expect(kev[0].evidence.packets).toEqual([{ field: 'ssdpServer', value: 'OS 1.0 UPnP/1.0 Realtek/V1.3', file, frame: 2 }]);
  });

  it.skipIf(!existsSync(shared))('every public capture in ../shared/data gives no match, though their devices announce themselves', async () => {
    const files: string[] = [];
    const walk = (d: string) => {
      for (const n of readdirSync(d)) {
        const p = join(d, n);
        if (statSync(p).isDirectory()) walk(p);
        else if (/\.(pcap|pcapng|cap)(\.gz)?$/i.test(n)) files.push(p);
      }
    };
    walk(shared);
    expect(files.length).toBeGreaterThan(200);
    const det = kevDetector(catalog);
    const { result } = await analyzeFiles(files.sort(), { detectors: [det] });
    const kev = result.findings.filter((f) => f.id === 'known-vulnerability');
    // Every match would be listed here with its evidence; there must be none.
    expect(kev.map((f) => ({ device: f.device, cve: f.evidence.cve, matched: f.evidence.matched }))).toEqual([]);
    // The detector did see the devices' own words (so "no match" is a real answer).
    const seen = det.evidence();
    const servers = new Set(seen.flatMap((e) => [...(e.ssdpServer ?? []), ...e.openPorts.map((p) => p.http?.server ?? '')]));
    for (const s of ['Linux,    UPnP/1.0 DCS-935L/1.0', 'Linux/3.14.0 UPnP/1.0 IpBridge/1.9.0', 'GoAhead-Webs']) {
      expect(servers.has(s), s).toBe(true);
    }
    expect([...servers].some((s) => /MiniUPnPd\/1\.6/.test(s))).toBe(true);
  }, 120_000);
});
