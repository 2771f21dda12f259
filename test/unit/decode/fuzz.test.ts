// Hostile bytes into every decoder (fast-check): nothing throws, nothing hangs,
// and nothing reads past the end it was given — checked differentially: the
// same bytes followed by two different paddings must decode identically.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeArp } from '../../../src/core/decode/arp.js';
import { decodeDns, dnsAnswerAddresses, readName } from '../../../src/core/decode/dns.js';
import { decodeDhcp } from '../../../src/core/decode/dhcp.js';
import { decodeHttpHead, looksLikeHttpStart } from '../../../src/core/decode/http.js';
import { decodeSsdp } from '../../../src/core/decode/ssdp.js';
import { decodePortMap } from '../../../src/core/decode/natpmp.js';
import { decodeMqttConnack, decodeMqttConnect } from '../../../src/core/decode/mqtt.js';
import { TlsRecordStream, decodeCertificateList, decodeClientHello, decodeServerHello, decodeSslv2ClientHello } from '../../../src/core/decode/tls.js';
import { ja3, ja4 } from '../../../src/core/decode/tls-fingerprint.js';
import { FtpLogin, TelnetLogin } from '../../../src/core/decode/login.js';
import { decodeSoapCall } from '../../../src/core/decode/soap.js';
import { summarizeCertificate } from '../../../src/core/decode/x509.js';
import { PacketView } from '../../../src/core/decode/packet-view.js';
import { LINK_DECODERS, decodeLayers } from '../../../src/core/decode/registry.js';
import { CaptureReader } from '../../../src/core/decode/capture-reader.js';
import { indexOfHeaderEnd } from '../../../src/core/decode/bytes.js';
import { ACK, PSH, TcpConv, bytes, dnsResponse, eth, ipv4, pcap, udp } from '../engine/pkt.js';
import { runEngine } from '../engine/run.js';

const RUNS = 400;
const bytesArb = fc.uint8Array({ minLength: 0, maxLength: 600 });

function padded(x: Uint8Array, fill: number, extra = 64): Uint8Array {
  const b = new Uint8Array(x.length + extra).fill(fill);
  b.set(x);
  return b;
}

/** decode(x + padding A) deep-equals decode(x + padding B): the decoder stayed inside [0, x.length). */
function inBounds<T>(decode: (b: Uint8Array, o: number, end: number) => T): void {
  fc.assert(
    fc.property(bytesArb, (x) => {
      const a = decode(padded(x, 0x00), 0, x.length);
      const b = decode(padded(x, 0xff), 0, x.length);
      expect(b).toEqual(a);
    }),
    { numRuns: RUNS },
  );
}

describe('fuzz: application decoders stay in bounds and never throw', () => {
  it('ARP', () => inBounds(decodeArp));
  it('DNS (full and addresses-only)', () => {
    inBounds(decodeDns);
    inBounds((b, o, e) => decodeDns(b, o, e, true));
    inBounds((b, o, e) => readName(b, o, o, e));
    inBounds((b, o, e) => {
      const out: string[] = [];
      return [dnsAnswerAddresses(b, o, e, out), out];
    });
  });
  it('DHCP', () => inBounds(decodeDhcp));
  it('HTTP head and sniffing', () => {
    inBounds((b, o, e) => {
      const he = indexOfHeaderEnd(b, o, e);
      return [looksLikeHttpStart(b, o, e), he, he >= 0 ? decodeHttpHead(b, o, he) : null];
    });
  });
  it('SSDP', () => inBounds(decodeSsdp));
  it('NAT-PMP / PCP', () => inBounds(decodePortMap));
  it('MQTT CONNECT / CONNACK', () => {
    inBounds(decodeMqttConnect);
    inBounds(decodeMqttConnack);
  });
  it('TLS hellos, fingerprints, certificate list', () => {
    inBounds((b, o, e) => {
      const ch = decodeClientHello(b, o, e);
      return ch.ok ? [ch, ja3(ch.value), ja4(ch.value)] : ch;
    });
    inBounds(decodeServerHello);
    inBounds(decodeSslv2ClientHello);
    inBounds((b, o, e) => decodeCertificateList(b, o, e));
    inBounds((b, o, e) => decodeCertificateList(b, o, e, true));
  });
  it('X.509 summary of hostile DER', () => {
    fc.assert(fc.property(bytesArb, (x) => void summarizeCertificate(x)), { numRuns: 200 });
  });
  it('TLS record stream under arbitrary chunking', () => {
    fc.assert(
      fc.property(bytesArb, fc.integer({ min: 1, max: 50 }), (x, step) => {
        const seen: number[] = [];
        const s = new TlsRecordStream({ handshake: (t) => seen.push(t), alert: () => undefined });
        for (let i = 0; i < x.length; i += step) s.push(x, i, Math.min(x.length, i + step));
        const whole: number[] = [];
        const w = new TlsRecordStream({ handshake: (t) => whole.push(t), alert: () => undefined });
        w.push(x, 0, x.length);
        expect(seen).toEqual(whole);
      }),
      { numRuns: RUNS },
    );
  });
  it('TLS record stream that opens with an SSLv2-format hello, under arbitrary chunking', () => {
    // a valid hello (its lengths add up: 9 + 3 specs x 3 + 16 challenge), then hostile bytes or TLS records
    const hello = [0x80, 34, 1, 3, 1, 0, 9, 0, 0, 0, 16, 0, 0, 0x39, 0x07, 0x00, 0xc0, 0, 0, 0xff, ...Array.from({ length: 16 }, (_, i) => i)];
    const alert = [0x15, 3, 1, 0, 2, 2, 40];
    const tail = fc.oneof(bytesArb, fc.constant(new Uint8Array(alert)), bytesArb.map((b) => new Uint8Array([...alert, ...b])));
    fc.assert(
      fc.property(tail, fc.integer({ min: 0, max: 40 }), fc.integer({ min: 1, max: 50 }), (rest, cut, step) => {
        const x = new Uint8Array([...hello.slice(0, hello.length - (cut % 3 === 0 ? 0 : cut % 7)), ...rest]);
        const record = (out: string[]) => new TlsRecordStream({ handshake: (t) => out.push(`hs ${t}`), alert: (l, d) => out.push(`alert ${l} ${d}`), sslv2Hello: (b, o, e) => out.push(`v2 ${e - o} ${decodeSslv2ClientHello(b, o, e).ok}`) });
        const seen: string[] = [];
        const s = record(seen);
        for (let i = 0; i < x.length; i += step) s.push(x, i, Math.min(x.length, i + step));
        const whole: string[] = [];
        record(whole).push(x, 0, x.length);
        expect(seen).toEqual(whole);
        if (cut % 3 === 0) expect(whole[0]).toBe('v2 36 true');
      }),
      { numRuns: RUNS },
    );
  });
  it('telnet and FTP login state machines', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), bytesArb), { maxLength: 20 }), (parts) => {
        const t = new TelnetLogin();
        const f = new FtpLogin();
        for (const [server, x] of parts) {
          if (server) {
            t.fromServer(x, 0, x.length);
            f.fromServer(x, 0, x.length);
          } else {
            t.fromClient(x, 0, x.length);
            f.fromClient(x, 0, x.length);
          }
        }
      }),
      { numRuns: RUNS },
    );
  });
  it('SOAP bodies', () => {
    fc.assert(fc.property(fc.option(fc.string()), fc.string({ maxLength: 2000 }), (a, body) => void decodeSoapCall(a ?? undefined, body)), { numRuns: RUNS });
    // catastrophic backtracking guard: a long hostile body finishes fast
    const t0 = performance.now();
    decodeSoapCall('x#y', `<a:b xmlns:c="urn:${'x:'.repeat(20000)}`.repeat(3));
    expect(performance.now() - t0).toBeLessThan(2000);
  });
});

describe('fuzz: link/network/transport layers', () => {
  it('every link type stays in bounds', () => {
    const pv1 = new PacketView();
    const pv2 = new PacketView();
    for (const lt of LINK_DECODERS.keys()) {
      fc.assert(
        fc.property(bytesArb, (x) => {
          pv1.reset(padded(x, 0), 0, x.length, x.length, lt, 1);
          decodeLayers(pv1);
          pv2.reset(padded(x, 0xff), 0, x.length, x.length, lt, 1);
          decodeLayers(pv2);
          const strip = (p: PacketView) => ({ ...p, buf: null });
          expect(strip(pv2)).toEqual(strip(pv1));
          expect(pv1.payloadOff + pv1.payloadLen).toBeLessThanOrEqual(x.length);
          expect(pv1.l3End).toBeLessThanOrEqual(x.length);
        }),
        { numRuns: 200 },
      );
    }
  });
});

describe('fuzz: capture readers and the whole engine', () => {
  it('random bytes after a valid header never throw and never loop', () => {
    const heads = [pcap([]), pcap([], { bigEndian: true }), Uint8Array.from([0x0a, 0x0d, 0x0d, 0x0a, 28, 0, 0, 0, 0x4d, 0x3c, 0x2b, 0x1a, 1, 0, 0, 0, 255, 255, 255, 255, 255, 255, 255, 255, 28, 0, 0, 0])];
    fc.assert(
      fc.property(fc.constantFrom(...heads), bytesArb, fc.integer({ min: 1, max: 100 }), (head, x, step) => {
        const file = new Uint8Array(head.length + x.length);
        file.set(head);
        file.set(x, head.length);
        let n = 0;
        const r = new CaptureReader({ onPacket: () => void n++ });
        let err;
        for (let i = 0; i < file.length && !err; i += step) err = r.feed(file.subarray(i, i + step));
        err ??= r.end();
        if (err) expect(err.offset).toBeGreaterThanOrEqual(0);
      }),
      { numRuns: RUNS },
    );
  });

  // realistic frames with random bytes flipped reach the deep decoders (TLS, HTTP, DNS, DHCP...)
  const CAM = { mac: '18:80:25:00:77:20', ip: '192.168.77.20' };
  const GW = { mac: '14:75:90:00:77:01', ip: '192.168.77.1' };
  const conv = new TcpConv({ ...CAM, port: 50000 }, { mac: GW.mac, ip: '5.45.1.30', port: 443 })
    .handshake()
    .client([0x16, 3, 1, 0, 60, 1, 0, 0, 56, 3, 3, ...new Array(32).fill(7), 0, 0, 4, 0x13, 1, 0xc0, 0x2f, 1, 0, 0, 13, 0, 0, 0, 9, 0, 7, 0, 0, 4, ...bytes('a.io')]);
  const http = new TcpConv({ ...CAM, port: 50001 }, { ...GW, port: 80 }).handshake().client('POST /ctl HTTP/1.1\r\nHost: x\r\nSOAPAction: "urn:x#AddPortMapping"\r\nContent-Length: 40\r\n\r\n<NewExternalPort>23</NewExternalPort>');
  const telnet = new TcpConv({ ...CAM, port: 50002 }, { ...GW, port: 23 }).handshake().client([255, 251, 1]).client('root\r\n');
  const mqtt = new TcpConv({ ...CAM, port: 50003 }, { ...GW, port: 1883 }).handshake().client([0x10, 16, 0, 4, ...bytes('MQTT'), 4, 0xc2, 0, 60, 0, 1, 65, 0, 1, 66, 0, 1, 67]);
  const base = [
    ...conv.frames,
    ...http.frames,
    ...telnet.frames,
    ...mqtt.frames,
    { ts: 1, data: eth(GW.mac, CAM.mac, 0x0800, ipv4(GW.ip, CAM.ip, 17, udp(53, 40000, dnsResponse(1, 'a.example', ['1.2.3.4'])))) },
    { ts: 2, data: eth(CAM.mac, GW.mac, 0x0800, ipv4(CAM.ip, GW.ip, 17, udp(5350, 5351, [0, 2, 0, 0, 0, 23, 0, 23, 0, 0, 1, 0]))) },
    { ts: 3, data: eth(CAM.mac, GW.mac, 0x0800, ipv4(CAM.ip, '239.255.255.250', 17, udp(1900, 1900, bytes('NOTIFY * HTTP/1.1\r\nNT: upnp:rootdevice\r\n\r\n')))) },
    { ts: 4, data: eth(CAM.mac, 'ff:ff:ff:ff:ff:ff', 0x0806, [0, 1, 8, 0, 6, 4, 0, 1, 0x18, 0x80, 0x25, 0, 0x77, 0x20, 192, 168, 77, 20, 0, 0, 0, 0, 0, 0, 192, 168, 77, 1]) },
    { ts: 5, data: eth(CAM.mac, GW.mac, 0x0800, ipv4(CAM.ip, GW.ip, 17, udp(68, 67, [1, 1, 6, 0, ...new Array(232).fill(0), 99, 130, 83, 99, 53, 1, 1, 12, 3, 65, 66, 67, 81, 4, 4, 0, 0, 3, 255]))) },
    { ts: 6, data: eth(CAM.mac, GW.mac, 0x0800, ipv4(CAM.ip, GW.ip, 17, udp(5353, 5353, dnsResponse(0, 'cam.local', [CAM.ip])))) },
  ].map((f) => ({ ts: f.ts, data: [...f.data] }));
  void ACK;
  void PSH;

  it('mutated real frames through the engine with every event wanted: no analyzer throws', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(base.length - 1), fc.nat(2000), fc.integer({ min: 0, max: 255 })), { maxLength: 12 }), fc.boolean(), (muts, truncate) => {
        const frames = base.map((f) => ({ ts: f.ts, data: [...f.data] }));
        for (const [fi, pos, val] of muts) {
          const d = frames[fi].data;
          d[pos % d.length] = val;
          if (truncate) d.length = Math.max(1, d.length - (pos % 40));
        }
        const { warnings, result } = runEngine(pcap(frames));
        expect(warnings).toEqual([]);
        expect(result.summary.packets).toBe(frames.length);
      }),
      { numRuns: 300 },
    );
  }, 120_000);

  it('random frames of every link type through the engine', () => {
    fc.assert(
      fc.property(fc.constantFrom(...LINK_DECODERS.keys()), fc.array(bytesArb, { maxLength: 20 }), (lt, frames) => {
        const { warnings, result } = runEngine(pcap(frames.map((d, i) => ({ ts: i, data: [...d] })), { linktype: lt }));
        expect(warnings).toEqual([]);
        expect(result.summary.packets).toBe(frames.length);
      }),
      { numRuns: 200 },
    );
  }, 120_000);
});
