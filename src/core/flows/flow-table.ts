// The flow table: bidirectional 5-tuple conversations, IPv4 and IPv6, in one
// open-addressing hash table probed with numbers only: no string key is made
// on the hot path (an IPv6 key used to be a string of both addresses' text
// per packet, which made IPv6 traffic 2-2.6x slower than IPv4). A flow record
// is one object made at the first packet and updated in place afterwards.
// Also here: the interning of IPv6 address texts (Ipv6Texts), which shares
// the table's seeded hash.
import { randomBytes } from 'node:crypto';
import { i32 as word, ipv6At } from '../decode/bytes.js';
import { DOUBLE_ZERO } from '../decode/packet-view.js';
import type { DeviceRef, Endpoint, TcpState } from '../engine/events.js';
import type { DeviceRec } from './devices.js';

/** What an application analyzer attached to a flow looks like to the table. */
export interface FlowAnalyzerLike {
  done: boolean;
}

/**
 * V8 treats each field of an object layout as a constant until a second,
 * different value is stored in it, and then throws away the optimised code
 * that relied on the constant. A flow's `v6` first changes at the first IPv6
 * flow, which comes in the middle of a run: the flow lookup was recompiled
 * then. Changing it once at load time, before anything is optimised, settles
 * the layout (FlowTable does the same for `live` in its constructor).
 */
function settleLayout(): void {
  const f = new Flow();
  f.v6 = true;
}

/** No sequence number yet: negative, and not a small integer (see the fields nextC, nextS). */
const NO_SEQ = -(2 ** 32);

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
  /**
   * IPv6 canonical key: endpoint a's address as four big-endian 32-bit words,
   * then b's (all 0 for IPv4). Fields, not an array: a lookup compares them
   * without following a pointer to another object.
   */
  k0 = 0;
  k1 = 0;
  k2 = 0;
  k3 = 0;
  k4 = 0;
  k5 = 0;
  k6 = 0;
  k7 = 0;
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
  firstTs = DOUBLE_ZERO;
  lastTs = DOUBLE_ZERO;
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
  closeTs = DOUBLE_ZERO;
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
  // TCP reassembly of the first bytes, per direction (negative: unknown). The sentinel is a
  // double, as the sequence numbers that replace it mostly are (see DOUBLE_ZERO)
  nextC = NO_SEQ;
  nextS = NO_SEQ;
  oooC: Array<[number, Uint8Array]> | undefined = undefined;
  oooS: Array<[number, Uint8Array]> | undefined = undefined;
  input = '';
}

const EMPTY = undefined;

/**
 * A per-process random seed, and a final avalanche (MurmurHash3's fmix32):
 * without them the hash could be inverted, and traffic crafted so every flow
 * lands on one probe run made each lookup scan all of them (40,000 such SYNs
 * took 24 s against 0.7 s for random ports). Seeded, which keys collide is not
 * known in advance.
 */
const SEED = randomBytes(4).readUInt32LE(0);

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function hash6(proto: number, k0: number, k1: number, k2: number, k3: number, k4: number, k5: number, k6: number, k7: number, ports: number): number {
  let h = Math.imul(k0 ^ SEED, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 15) ^ k1, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 13) ^ k2, 0x27d4eb2f);
  h = Math.imul(h ^ (h >>> 15) ^ k3, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13) ^ k4, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 15) ^ k5, 0x27d4eb2f);
  h = Math.imul(h ^ (h >>> 13) ^ k6, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 15) ^ k7, 0xc2b2ae35);
  h ^= Math.imul(ports ^ (h >>> 13), 0x27d4eb2f);
  return fmix(h ^ proto);
}

/** The same IPv6 key in two flows. */
const same6 = (f: Flow, g: Flow): boolean =>
  f.k0 === g.k0 && f.k1 === g.k1 && f.k2 === g.k2 && f.k3 === g.k3 && f.k4 === g.k4 && f.k5 === g.k5 && f.k6 === g.k6 && f.k7 === g.k7;

function hash4(proto: number, a: number, b: number, ports: number): number {
  let h = Math.imul(a ^ SEED, 0x85ebca6b);
  h ^= Math.imul(b ^ (h >>> 15), 0xc2b2ae35);
  h ^= Math.imul(ports ^ (h >>> 13), 0x27d4eb2f);
  return fmix(h ^ proto);
}

export class FlowTable {
  private slots: Array<Flow | undefined>;
  private mask: number;
  private used = 0;
  /** Flows in the table (open or recently closed). */
  live: Flow[] = [];
  /** Direction of the last lookup: true when the packet's source is endpoint a. */
  fromA = true;
  /** The canonical IPv6 key and ports of the last find6 (open() copies them into a new flow). */
  readonly key6 = new Int32Array(8);
  pa6 = 0;
  pb6 = 0;

  constructor(capacity = 1 << 14) {
    this.slots = new Array(capacity).fill(EMPTY);
    this.mask = capacity - 1;
    // a second value now: see settleLayout
    this.live = [];
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

  /** Insert a new flow whose key fields are set (a4, b4 or k6; pa, pb; proto; v6); replaces a closed flow with the same key. */
  insert(f: Flow): void {
    if ((this.used + 1) * 2 > this.slots.length) this.grow();
    this.place(f);
    this.live.push(f);
  }

  /** Put f in the first empty slot of its probe path, or in the slot of an older flow with the same key. */
  private place(f: Flow): void {
    const v6 = f.v6;
    const ports = ((f.pa << 16) | f.pb) >>> 0;
    let i = (v6 ? hash6(f.proto, f.k0, f.k1, f.k2, f.k3, f.k4, f.k5, f.k6, f.k7, ports) : hash4(f.proto, f.a4, f.b4, ports)) & this.mask;
    for (;;) {
      const g = this.slots[i];
      if (g === undefined) {
        this.slots[i] = f;
        this.used++;
        return;
      }
      // the same kind and key (an IPv6 flow's a4 and b4 are 0: it must never stand for the IPv4 flow 0.0.0.0 <-> 0.0.0.0)
      if (g.v6 === v6 && g.pa === f.pa && g.pb === f.pb && g.proto === f.proto && (v6 ? same6(g, f) : g.a4 === f.a4 && g.b4 === f.b4)) {
        this.slots[i] = f;
        return;
      }
      i = (i + 1) & this.mask;
    }
  }

  /** Find the IPv6 flow for a packet whose addresses are at b[src..src+16) and b[dst..dst+16); sets fromA, key6, pa6 and pb6. */
  find6(proto: number, b: Uint8Array, src: number, dst: number, sp: number, dp: number): Flow | undefined {
    const s0 = word(b, src);
    const s1 = word(b, src + 4);
    const s2 = word(b, src + 8);
    const s3 = word(b, src + 12);
    const d0 = word(b, dst);
    const d1 = word(b, dst + 4);
    const d2 = word(b, dst + 8);
    const d3 = word(b, dst + 12);
    // endpoint a is the lower (address, port), the address compared as an unsigned 128-bit number:
    // word by word, unsigned (the first differing byte decides, as in a byte-wise comparison)
    const fromA =
      s0 !== d0 ? s0 >>> 0 < d0 >>> 0 : s1 !== d1 ? s1 >>> 0 < d1 >>> 0 : s2 !== d2 ? s2 >>> 0 < d2 >>> 0 : s3 !== d3 ? s3 >>> 0 < d3 >>> 0 : sp <= dp;
    this.fromA = fromA;
    const k = this.key6;
    let k0: number, k1: number, k2: number, k3: number, k4: number, k5: number, k6: number, k7: number;
    if (fromA) {
      k0 = s0; k1 = s1; k2 = s2; k3 = s3; k4 = d0; k5 = d1; k6 = d2; k7 = d3;
    } else {
      k0 = d0; k1 = d1; k2 = d2; k3 = d3; k4 = s0; k5 = s1; k6 = s2; k7 = s3;
    }
    k[0] = k0; k[1] = k1; k[2] = k2; k[3] = k3; k[4] = k4; k[5] = k5; k[6] = k6; k[7] = k7;
    const pa = fromA ? sp : dp;
    const pb = fromA ? dp : sp;
    this.pa6 = pa;
    this.pb6 = pb;
    let i = hash6(proto, k0, k1, k2, k3, k4, k5, k6, k7, ((pa << 16) | pb) >>> 0) & this.mask;
    for (;;) {
      const f = this.slots[i];
      if (f === undefined) return undefined;
      if (f.v6 && f.pa === pa && f.pb === pb && f.proto === proto && f.k0 === k0 && f.k1 === k1 && f.k2 === k2 && f.k3 === k3 && f.k4 === k4 && f.k5 === k5 && f.k6 === k6 && f.k7 === k7) return f;
      i = (i + 1) & this.mask;
    }
  }

  /** Give a new IPv6 flow the key the last find6 computed (its a/b words and ports). */
  setKey6(f: Flow): void {
    const k = this.key6;
    f.v6 = true;
    f.k0 = k[0];
    f.k1 = k[1];
    f.k2 = k[2];
    f.k3 = k[3];
    f.k4 = k[4];
    f.k5 = k[5];
    f.k6 = k[6];
    f.k7 = k[7];
    f.pa = this.pa6;
    f.pb = this.pb6;
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
    // a newer flow with the same key wins (live is in creation order)
    for (const f of this.live) this.place(f);
  }
}

/**
 * Interned IPv6 address texts, found by the address's four 32-bit words in an
 * open-addressing table (as the IPv4 ones are by their number): a flow's
 * addresses are made text once per address, not once per flow, and the maps
 * keyed by them (devices, names, destinations) hash each string once.
 * Emptied when half full, so it stays bounded; seeded like the flow table's
 * hash, so addresses cannot be chosen to fall into one probe run.
 */
export class Ipv6Texts {
  private static readonly SLOTS = 1 << 15;
  private readonly words = new Int32Array(Ipv6Texts.SLOTS * 4);
  private readonly texts: Array<string | undefined> = new Array<string | undefined>(Ipv6Texts.SLOTS).fill(undefined);
  private used = 0;

  text(b: Uint8Array, o: number): string {
    const w0 = word(b, o);
    const w1 = word(b, o + 4);
    const w2 = word(b, o + 8);
    const w3 = word(b, o + 12);
    let h = Math.imul(w0 ^ SEED, 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 15) ^ w1, 0xc2b2ae35);
    h = Math.imul(h ^ (h >>> 13) ^ w2, 0x27d4eb2f);
    h = fmix(Math.imul(h ^ (h >>> 15) ^ w3, 0x85ebca6b));
    const mask = Ipv6Texts.SLOTS - 1;
    const words = this.words;
    let i = h & mask;
    for (;;) {
      const t = this.texts[i];
      if (t === undefined) break;
      const j = i * 4;
      if (words[j] === w0 && words[j + 1] === w1 && words[j + 2] === w2 && words[j + 3] === w3) return t;
      i = (i + 1) & mask;
    }
    if (this.used >= Ipv6Texts.SLOTS >> 1) {
      this.texts.fill(undefined);
      this.used = 0;
      i = h & mask;
    }
    const t = ipv6At(b, o);
    const j = i * 4;
    words[j] = w0;
    words[j + 1] = w1;
    words[j + 2] = w2;
    words[j + 3] = w3;
    this.texts[i] = t;
    this.used++;
    return t;
  }
}

settleLayout();
