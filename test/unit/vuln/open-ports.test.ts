// The passive KEV detector learns a device's open TCP ports from the flows
// the engine closes: a port that answered the SYN (or carried data both ways
// mid-stream) is open, with the frame of the answer as evidence; a refused
// SYN, a silent one, or a server outside the LAN is not.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { hasTitleTag, kevDetector } from '../../../src/core/vuln/detector.js';
import { ACK, PSH, RST, SYN, TcpConv, eth, ipv4, pcap, tcp, udp, type Frame } from '../engine/pkt.js';
import { runEngine } from '../engine/run.js';
import { catalog } from './helpers.js';

const cam = { mac: 'b0:c5:54:25:5b:0e', ip: '192.168.1.20' };
const pc = { mac: '00:11:22:33:44:55', ip: '192.168.1.10' };
const cloud = { mac: '02:00:00:00:00:01', ip: '5.45.1.30' };

function frame(ts: number, a: typeof cam, ap: number, b: typeof cam, bp: number, flags: number, seq = 1): Frame {
  return { ts, data: eth(a.mac, b.mac, 0x0800, ipv4(a.ip, b.ip, 6, tcp({ sport: ap, dport: bp, seq, ack: 0, flags, payload: [] }))) };
}

describe('KEV evidence: open ports from closed flows', () => {
  it('lists accepted ports with the frame of the SYN-ACK, and nothing refused, silent or remote', () => {
    const web = new TcpConv({ ...pc, port: 40000 }, { ...cam, port: 80 }).handshake().client('GET / HTTP/1.1\r\nHost: cam\r\n\r\n').close();
    const frames: Frame[] = [...web.frames];
    let ts = 1700000100;
    // 23: SYN answered by RST (closed port); 554: SYN never answered
    frames.push(frame(ts++, pc, 40001, cam, 23, SYN), frame(ts++, cam, 23, pc, 40001, RST | ACK));
    frames.push(frame(ts++, pc, 40002, cam, 554, SYN));
    // mid-stream flow to 8000: data both ways, no handshake seen
    frames.push({ ts: ts++, data: eth(pc.mac, cam.mac, 0x0800, ipv4(pc.ip, cam.ip, 6, tcp({ sport: 40003, dport: 8000, seq: 9, ack: 1, flags: PSH | ACK, payload: [1, 2, 3] }))) });
    frames.push({ ts: ts++, data: eth(cam.mac, pc.mac, 0x0800, ipv4(cam.ip, pc.ip, 6, tcp({ sport: 8000, dport: 40003, seq: 1, ack: 12, flags: PSH | ACK, payload: [4, 5] }))) });
    // the camera's own connection to a cloud server: the cloud's port is not the camera's
    frames.push(...new TcpConv({ ...cam, port: 50000 }, { ...cloud, port: 443 }, ts).handshake().close().frames);
    const kev = kevDetector(catalog);
    runEngine(pcap(frames), { extra: [kev] });
    const ev = kev.evidence();
    const camEv = ev.find((d) => d.ip === cam.ip);
    expect(camEv?.openPorts.map((p) => p.port).sort((a, b) => a - b)).toEqual([80, 8000]);
    expect(ev.find((d) => d.ip === cloud.ip)).toBeUndefined();
    expect(ev.find((d) => d.ip === pc.ip)?.openPorts ?? []).toEqual([]);
  });

  it('keeps every one of thousands of open ports once, and at most 64 SSDP SERVER strings per device', () => {
    const frames: Frame[] = [];
    let ts = 1700000200;
    // 3,000 ports accepted (SYN, SYN-ACK, RST), each twice from different client ports
    for (let round = 0; round < 2; round++) {
      for (let port = 1000; port < 4000; port++) {
        const cp = 20000 + round * 5000 + (port % 5000);
        frames.push(frame((ts += 0.001), pc, cp, cam, port, SYN), frame((ts += 0.001), cam, port, pc, cp, SYN | ACK), frame((ts += 0.001), pc, cp, cam, port, RST));
      }
    }
    // 200 NOTIFYs, each with another SERVER string (and each repeated)
    const notify = (n: number) => `NOTIFY * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nNT: upnp:rootdevice\r\nNTS: ssdp:alive\r\nSERVER: Linux/3.10 UPnP/1.0 cam/${n}\r\nUSN: uuid:1::upnp:rootdevice\r\n\r\n`;
    for (let n = 0; n < 400; n++) {
      frames.push({ ts: (ts += 0.01), data: eth(cam.mac, '01:00:5e:7f:ff:fa', 0x0800, ipv4(cam.ip, '239.255.255.250', 17, udp(1900, 1900, [...Buffer.from(notify(n % 200))]))) });
    }
    const kev = kevDetector(catalog);
    runEngine(pcap(frames), { extra: [kev] });
    const camEv = kev.evidence().find((d) => d.ip === cam.ip);
    const ports = camEv?.openPorts.map((p) => p.port) ?? [];
    expect(ports).toHaveLength(3000);
    expect(new Set(ports).size).toBe(3000);
    expect(camEv?.ssdpServer).toEqual(Array.from({ length: 64 }, (_, n) => `Linux/3.10 UPnP/1.0 cam/${n}`));
  });
});

describe('KEV evidence: the title gate', () => {
  it('hasTitleTag finds `<title` exactly where the title regex could match', () => {
    const bytes = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0) & 255);
    for (const s of ['<title>x</title>', '<TITLE>x', 'ab<TiTlE x', '<titl', '<title', 'x<title', '', '<<title>', '\u00bctitle', '<tItle>'])
      expect(hasTitleTag(bytes(s)), s).toBe(/<title/i.test(s));
    fc.assert(
      fc.property(fc.array(fc.constantFrom('<', 't', 'T', 'i', 'I', 'l', 'L', 'e', 'E', 'x', '>', '\u00d4', '\u00c9'), { maxLength: 40 }), (cs) => {
        const s = cs.join('');
        // a byte whose low bits lower-case to a letter (0xd4 | 0x20 = 0xf4) must not pass for it
        expect(hasTitleTag(bytes(s))).toBe(/<title/i.test(s));
      }),
      { numRuns: 20000 },
    );
  });
});
