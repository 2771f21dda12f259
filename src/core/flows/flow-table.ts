// The flow table: bidirectional 5-tuple conversations. IPv4 flows live in an
// open-addressing hash table probed with numbers only (no string keys on the
// hot path); IPv6 flows, rarer, in a Map keyed by a string. A flow record is
// one object made at the first packet and updated in place afterwards.
import type { DeviceRef, Endpoint, TcpState } from '../engine/events.js';
import type { DeviceRec } from './devices.js';

/** What an application analyzer attached to a flow looks like to the table. */
export interface FlowAnalyzerLike {
  done: boolean;
}

export class Flow {
  id = 0;
  /** IP protocol number (6 TCP, 17 UDP, 1 ICMP, 58 ICMPv6, other). */
  proto = 0;
  v6 = false;
  // canonical key (a = the lower endpoint)
  a4 = 0;
  b4 = 0;
  pa = 0;
  pb = 0;
  key6 = '';
  /** True when the client is endpoint a. */
  clientIsA = true;
  clientIp = '';
  serverIp = '';
  clientPort = -1;
  serverPort = -1;
  clientMac: string | undefined = undefined;
  serverMac: string | undefined = undefined;
  clientLocal = false;
  serverLocal = false;
  firstTs = 0;
  lastTs = 0;
  firstFrame = 0;
  lastFrame = 0;
  pktC = 0;
  pktS = 0;
  bytesC = 0;
  bytesS = 0;
  payC = 0;
  payS = 0;
  tcpState: TcpState | undefined = undefined;
  /** Frame at which the server accepted (its SYN-ACK, or data both ways mid-stream); 0 = not (yet). */
  acceptFrame = 0;
  finC = false;
  finS = false;
  /** Flow record closed (FIN/RST): later packets still count, a new SYN starts a new flow. */
  closed = false;
  closeTs = 0;
  /** Why the record closed (FIN both ways, or RST); reported in flow-close when it is retired. */
  closeReason: 'fin' | 'rst' | undefined = undefined;
  app: string | undefined = undefined;
  serverName: string | undefined = undefined;
  device: DeviceRec | undefined = undefined;
  /** Endpoint objects shared by this flow's events. */
  clientEp: Endpoint | undefined = undefined;
  serverEp: Endpoint | undefined = undefined;
  /** The DeviceRef events carry for this flow, and the device it was made for. */
  deviceRef: DeviceRef | undefined = undefined;
  refDevice: DeviceRec | undefined = undefined;
  /** The server side's device when it is local too (LAN-to-LAN). */
  peerDevice: DeviceRec | undefined = undefined;
  /** undefined: not chosen yet; null: nothing to analyse. */
  analyzer: FlowAnalyzerLike | null | undefined = undefined;
  /** Sniffing state: bit 0 client payload seen, bit 1 server payload seen. */
  sniffed = 0;
  // TCP reassembly of the first bytes, per direction (-1 = unknown)
  nextC = -1;
  nextS = -1;
  oooC: Array<[number, Uint8Array]> | undefined = undefined;
  oooS: Array<[number, Uint8Array]> | undefined = undefined;
  input = '';
}

const EMPTY = undefined;

function hash4(proto: number, a: number, b: number, ports: number): number {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b);
  h ^= Math.imul(b ^ (h >>> 15), 0xc2b2ae35);
  h ^= Math.imul(ports ^ (h >>> 13), 0x27d4eb2f);
  h ^= proto;
  h ^= h >>> 16;
  return h >>> 0;
}

export class FlowTable {
  private slots: Array<Flow | undefined>;
  private mask: number;
  private used = 0;
  private v6 = new Map<string, Flow>();
  /** Flows in the table (open or recently closed). */
  live: Flow[] = [];
  /** Direction of the last lookup: true when the packet's source is endpoint a. */
  fromA = true;

  constructor(capacity = 1 << 14) {
    this.slots = new Array(capacity).fill(EMPTY);
    this.mask = capacity - 1;
  }

  get size(): number {
    return this.live.length;
  }

  /** Find the IPv4 flow for a packet; sets fromA. */
  find4(proto: number, src: number, dst: number, sp: number, dp: number): Flow | undefined {
    let a: number, b: number, pa: number, pb: number;
    if (src < dst || (src === dst && sp <= dp)) {
      a = src;
      b = dst;
      pa = sp;
      pb = dp;
      this.fromA = true;
    } else {
      a = dst;
      b = src;
      pa = dp;
      pb = sp;
      this.fromA = false;
    }
    const ports = ((pa << 16) | pb) >>> 0;
    let i = hash4(proto, a, b, ports) & this.mask;
    for (;;) {
      const f = this.slots[i];
      if (f === undefined) return undefined;
      if (f.a4 === a && f.b4 === b && f.pa === pa && f.pb === pb && f.proto === proto && !f.v6) return f;
      i = (i + 1) & this.mask;
    }
  }

  /** Insert a new IPv4 flow whose key fields are set; replaces a closed flow with the same key. */
  insert4(f: Flow): void {
    if ((this.used + 1) * 2 > this.slots.length) this.grow();
    const ports = ((f.pa << 16) | f.pb) >>> 0;
    let i = hash4(f.proto, f.a4, f.b4, ports) & this.mask;
    for (;;) {
      const g = this.slots[i];
      if (g === undefined) {
        this.slots[i] = f;
        this.used++;
        break;
      }
      if (g.a4 === f.a4 && g.b4 === f.b4 && g.pa === f.pa && g.pb === f.pb && g.proto === f.proto && !g.v6) {
        this.slots[i] = f;
        break;
      }
      i = (i + 1) & this.mask;
    }
    this.live.push(f);
  }

  find6(key: string): Flow | undefined {
    return this.v6.get(key);
  }

  insert6(f: Flow): void {
    this.v6.set(f.key6, f);
    this.live.push(f);
  }

  /**
   * Drop flows for which `remove` says so (it has already reported them) and
   * rebuild the index from the survivors. Runs every few thousand packets.
   */
  sweep(remove: (f: Flow) => boolean): void {
    const keep: Flow[] = [];
    for (const f of this.live) if (!remove(f)) keep.push(f);
    if (keep.length === this.live.length) return;
    this.rebuild(keep);
  }

  clear(): void {
    this.rebuild([]);
  }

  private grow(): void {
    this.slots = new Array(this.slots.length * 2).fill(EMPTY);
    this.mask = this.slots.length - 1;
    this.reindex();
  }

  private rebuild(keep: Flow[]): void {
    this.live = keep;
    // shrink back when the table emptied (memory stays flat on long captures)
    let cap = 1 << 14;
    while (cap < keep.length * 4) cap *= 2;
    if (cap !== this.slots.length) {
      this.slots = new Array(cap).fill(EMPTY);
      this.mask = cap - 1;
    }
    this.reindex();
  }

  private reindex(): void {
    this.slots.fill(EMPTY);
    this.used = 0;
    this.v6.clear();
    for (const f of this.live) {
      if (f.v6) {
        // a newer flow with the same key wins (live is in creation order)
        this.v6.set(f.key6, f);
        continue;
      }
      const ports = ((f.pa << 16) | f.pb) >>> 0;
      let i = hash4(f.proto, f.a4, f.b4, ports) & this.mask;
      for (;;) {
        const g = this.slots[i];
        if (g === undefined) {
          this.slots[i] = f;
          this.used++;
          break;
        }
        if (g.a4 === f.a4 && g.b4 === f.b4 && g.pa === f.pa && g.pb === f.pb && g.proto === f.proto) {
          this.slots[i] = f;
          break;
        }
        i = (i + 1) & this.mask;
      }
    }
  }
}
