// Test helpers: build Ethernet/IPv4/IPv6/TCP/UDP frames and pcap/pcapng
// files byte by byte, so engine tests control every field.

export const mac = (s: string): number[] => s.split(':').map((x) => parseInt(x, 16));
export const ip4 = (s: string): number[] => s.split('.').map(Number);
const be16 = (n: number): number[] => [(n >> 8) & 255, n & 255];
const be32 = (n: number): number[] => [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
export const bytes = (s: string): number[] => [...Buffer.from(s, 'latin1')];

export interface Tcp {
  sport: number;
  dport: number;
  seq?: number;
  ack?: number;
  flags: number;
  payload?: number[];
}

export function ipv4(src: string, dst: string, proto: number, l4: number[], opts: { id?: number; frag?: number; ttl?: number } = {}): number[] {
  const total = 20 + l4.length;
  return [0x45, 0, ...be16(total), ...be16(opts.id ?? 1), ...be16(opts.frag ?? 0), opts.ttl ?? 64, proto, 0, 0, ...ip4(src), ...ip4(dst), ...l4];
}

export function tcp(t: Tcp): number[] {
  return [...be16(t.sport), ...be16(t.dport), ...be32(t.seq ?? 0), ...be32(t.ack ?? 0), 0x50, t.flags, 0xff, 0xff, 0, 0, 0, 0, ...(t.payload ?? [])];
}

export function udp(sport: number, dport: number, payload: number[]): number[] {
  return [...be16(sport), ...be16(dport), ...be16(8 + payload.length), 0, 0, ...payload];
}

export function eth(src: string, dst: string, ethertype: number, payload: number[], vlan?: number): number[] {
  const tag = vlan === undefined ? [] : [0x81, 0x00, ...be16(vlan)];
  return [...mac(dst), ...mac(src), ...tag, ...be16(ethertype), ...payload];
}

export const SYN = 0x02;
export const ACK = 0x10;
export const PSH = 0x08;
export const FIN = 0x01;
export const RST = 0x04;

export interface Frame {
  ts: number;
  data: number[];
}

export function pcap(frames: Frame[], opts: { linktype?: number; bigEndian?: boolean; nano?: boolean } = {}): Uint8Array {
  const out: number[] = [];
  const w32 = (n: number) => out.push(...(opts.bigEndian ? be32(n) : be32(n).reverse()));
  const w16 = (n: number) => out.push(...(opts.bigEndian ? be16(n) : be16(n).reverse()));
  w32(opts.nano ? 0xa1b23c4d : 0xa1b2c3d4);
  w16(2);
  w16(4);
  w32(0);
  w32(0);
  w32(262144);
  w32(opts.linktype ?? 1);
  for (const f of frames) {
    const sec = Math.floor(f.ts);
    w32(sec);
    w32(Math.round((f.ts - sec) * (opts.nano ? 1e9 : 1e6)));
    w32(f.data.length);
    w32(f.data.length);
    out.push(...f.data);
  }
  return Uint8Array.from(out);
}

/** pcapng with one section and the given interfaces (link types); frames name their interface. */
export function pcapng(ifaces: number[], frames: Array<Frame & { iface?: number }>, opts: { bigEndian?: boolean; tsresol?: number } = {}): Uint8Array {
  const out: number[] = [];
  const le = !opts.bigEndian;
  const w32 = (a: number[], n: number) => a.push(...(le ? be32(n).reverse() : be32(n)));
  const w16 = (a: number[], n: number) => a.push(...(le ? be16(n).reverse() : be16(n)));
  const block = (type: number, body: number[]) => {
    while (body.length % 4) body.push(0);
    const len = body.length + 12;
    w32(out, type);
    w32(out, len);
    out.push(...body);
    w32(out, len);
  };
  const shb: number[] = [];
  w32(shb, 0x1a2b3c4d);
  w16(shb, 1);
  w16(shb, 0);
  shb.push(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff);
  block(0x0a0d0d0a, shb);
  for (const lt of ifaces) {
    const idb: number[] = [];
    w16(idb, lt);
    w16(idb, 0);
    w32(idb, 262144);
    if (opts.tsresol !== undefined) {
      w16(idb, 9);
      w16(idb, 1);
      idb.push(opts.tsresol, 0, 0, 0);
      w16(idb, 0);
      w16(idb, 0);
    }
    block(1, idb);
  }
  const units = opts.tsresol === undefined ? 1e6 : 10 ** opts.tsresol;
  for (const f of frames) {
    const epb: number[] = [];
    const t = BigInt(Math.round(f.ts * units));
    w32(epb, f.iface ?? 0);
    w32(epb, Number(t >> 32n));
    w32(epb, Number(t & 0xffffffffn));
    w32(epb, f.data.length);
    w32(epb, f.data.length);
    epb.push(...f.data);
    block(6, epb);
  }
  return Uint8Array.from(out);
}

/** A DNS response for name → addresses (A records, name compression pointer to the question). */
export function dnsResponse(id: number, name: string, addrs: string[]): number[] {
  const q = [...name.split('.').flatMap((l) => [l.length, ...bytes(l)]), 0];
  const out = [...be16(id), 0x81, 0x80, ...be16(1), ...be16(addrs.length), 0, 0, 0, 0, ...q, 0, 1, 0, 1];
  for (const a of addrs) out.push(0xc0, 12, 0, 1, 0, 1, ...be32(300), 0, 4, ...ip4(a));
  return out;
}

export function dnsQuery(id: number, name: string, type = 1): number[] {
  const q = [...name.split('.').flatMap((l) => [l.length, ...bytes(l)]), 0];
  return [...be16(id), 0x01, 0x00, ...be16(1), 0, 0, 0, 0, 0, 0, ...q, ...be16(type), 0, 1];
}

/** A small conversation builder that tracks sequence numbers both ways. */
export class TcpConv {
  private cseq = 1000;
  private sseq = 5000;
  frames: Frame[] = [];
  constructor(
    readonly c: { mac: string; ip: string; port: number },
    readonly s: { mac: string; ip: string; port: number },
    private ts = 1700000000,
  ) {}
  private push(fromClient: boolean, flags: number, payload: number[] = []) {
    const a = fromClient ? this.c : this.s;
    const b = fromClient ? this.s : this.c;
    const seq = fromClient ? this.cseq : this.sseq;
    const ack = fromClient ? this.sseq : this.cseq;
    this.frames.push({ ts: (this.ts += 0.001), data: eth(a.mac, b.mac, 0x0800, ipv4(a.ip, b.ip, 6, tcp({ sport: a.port, dport: b.port, seq, ack, flags, payload }))) });
    const adv = payload.length + (flags & (SYN | FIN) ? 1 : 0);
    if (fromClient) this.cseq += adv;
    else this.sseq += adv;
    return this;
  }
  handshake() {
    return this.push(true, SYN).push(false, SYN | ACK).push(true, ACK);
  }
  client(p: number[] | string) {
    return this.push(true, PSH | ACK, typeof p === 'string' ? bytes(p) : p);
  }
  server(p: number[] | string) {
    return this.push(false, PSH | ACK, typeof p === 'string' ? bytes(p) : p);
  }
  close() {
    return this.push(true, FIN | ACK).push(false, FIN | ACK).push(true, ACK);
  }
}
