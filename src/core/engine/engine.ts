// The traffic engine: packet records in (from a file reader or a live
// capture), decoded layers → flow table → application analyzers → typed
// events out to the detectors, and at the end the per-device summary with
// destinations by name plus the detectors' findings. Pure: the adapters do
// the reading; this only sees bytes.
//
// Hot path (every packet): one reused PacketView, numeric flow lookup,
// counters updated in place. Strings and event objects are made once per flow
// or only for the event kinds some detector asked for.
import { copyBytes, i32, ipv4Text, macAt } from '../decode/bytes.js';
import { decodeArp, isEthernetIpv4Arp } from '../decode/arp.js';
import { PacketView, DOUBLE_ZERO } from '../decode/packet-view.js';
import { decodeLayers, ETHERTYPE_ARP } from '../decode/registry.js';
import type { PacketRecordSink } from '../decode/capture-format.js';
import type { DnsMessage } from '../decode/dns.js';
import type { Dhcp } from '../decode/dhcp.js';
import { Flow, FlowTable, Ipv6Texts } from '../flows/flow-table.js';
import { DeviceTable, type DeviceRec } from '../flows/devices.js';
import { DnsNames } from '../flows/dns-names.js';
import { isLocalAddress, isLocalUnicast4, isLocalUnicast6, isMulticast6, isMulticastOrBroadcast4 } from '../flows/local.js';
import { sortFindings, type Finding } from '../model/finding.js';
import { sniffTcp, TCP_APPS, UDP_APPS, type AppHost, type FlowAnalyzer } from './apps.js';
import type {
  AnalyzeDevice,
  AnalyzeResult,
  Detector,
  DetectorContext,
  DeviceRef,
  Endpoint,
  EngineEvent,
  FlowCloseReason,
  FlowInfo,
  PacketEvent,
  Subscription,
  TcpState,
  TransportProto,
} from './events.js';
import { EVENT_KINDS } from './events.js';

export interface EngineOptions {
  detectors?: Detector[];
  /** Called when a detector throws (it is then disabled) or something else worth a line on stderr. */
  onWarning?: (message: string) => void;
  /** Idle timeouts in seconds of capture time. */
  idleTcp?: number;
  idleUdp?: number;
  idleOther?: number;
  /** Open flows above which the table is flooded (see FLOOD_FLOWS); for tests. */
  floodFlows?: number;
  /** Open flows the table holds at most (see MAX_LIVE_FLOWS); for tests. */
  maxLiveFlows?: number;
}

const SWEEP_EVERY = 1 << 15;
/**
 * Open flows above which the flow table is flooded: a scan or a SYN/UDP flood
 * makes a new flow per packet, and holding each for the 30 s after it closed
 * (or for the idle timeout when nobody answered) grows memory without bound.
 * While flooded, as in Suricata's emergency mode, closed flows leave the table
 * after FLOOD_CLOSED_HOLD s and flows the other side never answered after
 * FLOOD_UNANSWERED_IDLE s idle. They are reported as always (flow-close, the
 * device's destinations): nothing is dropped, flows only leave sooner. The
 * corpus and benchmark captures never have more than 5,000 flows open.
 */
const FLOOD_FLOWS = 1 << 16;
const CLOSED_HOLD = 30;
const FLOOD_CLOSED_HOLD = 1;
const FLOOD_UNANSWERED_IDLE = 10;
/**
 * Open flows the table holds at most (~600 bytes each: ~160 MB). A flood
 * whose new flows come faster than even the flood mode lets them go (500,000
 * forged SYNs per second, each held 10 s unanswered: all 2.4 M of a 4.8 s
 * capture open at once, 1.6 GB) makes a sweep come as soon as the table
 * passes this, and that sweep lets go of what it must to get back under 3/4
 * of it: every closed flow, every flow only one side spoke in that is idle
 * over 1 s, then the flows seen longest ago. Like a conntrack table's early
 * drop, but nothing goes uncounted: each leaves with its flow-close and joins
 * its device's destinations; a late packet of one starts a new flow.
 */
const MAX_LIVE_FLOWS = 1 << 18;
const EMERGENCY_IDLE = 1;
/** Out-of-order TCP segments held per direction while waiting for a gap to fill. */
const MAX_OOO = 16;

const protoName = (p: number): TransportProto => (p === 6 ? 'tcp' : p === 17 ? 'udp' : p === 1 ? 'icmp' : p === 58 ? 'icmpv6' : 'other');

/** Ports that say "server" when a flow is first seen mid-conversation (DHCP 67→68 replies, DNS responses...). */
const SERVER_PORTS = new Set([21, 22, 23, 25, 53, 67, 69, 80, 110, 123, 137, 138, 143, 161, 443, 514, 554, 1883, 1900, 2323, 5351, 8080, 8443, 8883]);
const isServicePort = (p: number): boolean => SERVER_PORTS.has(p) || (p >= 0 && p < 1024);
/** The sender is the server when its port is a service port and the receiver's is not (or is the DHCP client port). */
const senderLooksLikeServer = (sp: number, dp: number): boolean =>
  (SERVER_PORTS.has(sp) && !SERVER_PORTS.has(dp)) || (isServicePort(sp) && !isServicePort(dp));

/** The detectors subscribed to one kind, in detector order: their bound handlers and, index for index, the detectors. */
interface Subscribers {
  fns: Array<(e: EngineEvent, ctx: DetectorContext) => void>;
  owners: Detector[];
}

export class TrafficEngine implements PacketRecordSink, AppHost {
  private readonly pv = new PacketView();
  private readonly flows = new FlowTable();
  private readonly devices: DeviceTable;
  private readonly names = new DnsNames();
  private readonly detectors: Detector[];
  private readonly byKind = new Map<Subscription, Subscribers>();
  private readonly want = new Set<Subscription>();
  readonly wanted: Readonly<Record<Subscription, boolean>>;
  /** Subscribers to the `dns` events of queries only. */
  private readonly dnsQueryOnly: Subscribers | undefined;
  private readonly onWarning: (m: string) => void;
  private readonly idleTcp: number;
  private readonly idleUdp: number;
  private readonly idleOther: number;
  private readonly floodFlows: number;
  /** Sweeps that found the table flooded (0: never). */
  private floods = 0;
  private readonly maxLive: number;
  /** Sweeps that found the table over maxLive (0: never). */
  private overfull = 0;
  private readonly ctx: DetectorContext;
  private readonly packetEvent: PacketEvent;

  private input = '';
  private inputs: string[] = [];
  private errors: NonNullable<AnalyzeResult['summary']['errors']> = [];
  private flowSeq = 0;
  private sinceSweep = 0;
  private maxTs = DOUBLE_ZERO;

  /** Current packet (for AppHost). */
  ts = DOUBLE_ZERO;
  frame = 0;
  totalPackets = 0;
  totalBytes = 0;
  undecoded = 0;
  firstTs: number | null = null;
  lastTs: number | null = null;
  flowCount = 0;
  dropped: number | undefined;

  constructor(opts: EngineOptions = {}) {
    this.detectors = opts.detectors ?? [];
    this.onWarning = opts.onWarning ?? (() => undefined);
    this.idleTcp = opts.idleTcp ?? 3600;
    this.idleUdp = opts.idleUdp ?? 180;
    this.idleOther = opts.idleOther ?? 60;
    this.floodFlows = opts.floodFlows ?? FLOOD_FLOWS;
    this.maxLive = opts.maxLiveFlows ?? MAX_LIVE_FLOWS;
    this.devices = new DeviceTable((m) => this.onWarning(`${m} (from frame ${this.frame})`));
    for (const d of this.detectors) {
      const kinds: readonly Subscription[] = d.wants ?? EVENT_KINDS;
      const on = d.onEvent.bind(d);
      for (const k of kinds) {
        // a detector that takes every `dns` event already gets the queries
        if (k === 'dns-query' && kinds.includes('dns')) continue;
        this.want.add(k);
        let s = this.byKind.get(k);
        if (s === undefined) {
          s = { fns: [], owners: [] };
          this.byKind.set(k, s);
        }
        s.fns.push(on);
        s.owners.push(d);
      }
    }
    this.dnsQueryOnly = this.byKind.get('dns-query');
    const wanted = {} as Record<Subscription, boolean>;
    for (const k of [...EVENT_KINDS, 'dns-query' as const]) wanted[k] = this.want.has(k);
    this.wanted = wanted;
    this.ctx = {
      nameFor: (device, ip) => this.names.nameFor(device ? this.devices.lookup(device)?.key : undefined, ip),
      deviceFor: (ref) => this.devices.lookup(ref)?.info(),
      devices: () => this.devices.list().map((d) => d.info()),
      isLocal: (ip) => isLocalAddress(ip),
      now: () => this.maxTs,
    };
    this.packetEvent = { kind: 'packet', ts: 0, frame: 0, file: '', capLen: 0, wireLen: 0, payloadLen: 0 };
  }

  // -------------------------------------------------------------------------
  // inputs

  beginInput(label: string): void {
    this.input = label;
    this.inputs.push(label);
    this.frame = 0;
  }

  /** The input ended (cleanly or not): close its flows (flows never span inputs). */
  endInput(error?: { code: string; message: string; offset?: number }): void {
    if (error) this.errors.push({ input: this.input, ...error });
    for (const f of this.flows.live) this.retire(f, 'end');
    this.flows.clear();
  }

  setDropped(n: number): void {
    this.dropped = n;
  }

  // -------------------------------------------------------------------------
  // AppHost

  emit(e: EngineEvent): void {
    const s = this.byKind.get(e.kind);
    if (s !== undefined) this.deliver(s, e);
    if (this.dnsQueryOnly !== undefined && e.kind === 'dns' && !e.response) this.deliver(this.dnsQueryOnly, e);
  }

  // Handlers are called from an array of bound functions (no megamorphic `onEvent` lookup on
  // a dozen detector objects) inside one try block per event, not one per call.
  private deliver(s: Subscribers, e: EngineEvent): void {
    const fns = s.fns;
    const ctx = this.ctx;
    let i = 0;
    while (i < fns.length) {
      try {
        for (; i < fns.length; i++) fns[i](e, ctx);
      } catch (err) {
        // disabling takes the detector out of this very list: the next one moved into its place
        this.disable(s.owners[i], err);
      }
    }
  }

  get file(): string {
    return this.input;
  }

  deviceRef(flow: Flow): DeviceRef | undefined {
    return this.deviceRefFor(flow);
  }

  private deviceRefFor(flow: Flow): DeviceRef | undefined {
    const d = flow.device;
    if (!d) return undefined;
    // attribution can move once the client's first packet is seen (a capture that starts with a reply)
    if (flow.refDevice === d && flow.deviceRef !== undefined) return flow.deviceRef;
    const ip = d === this.devices.byAddress(flow.clientIp) ? flow.clientIp : d === this.devices.byAddress(flow.serverIp) ? flow.serverIp : undefined;
    const ref = d.ref(ip);
    flow.refDevice = d;
    flow.deviceRef = ref;
    return ref;
  }

  // One Endpoint object per flow side, shared by that flow's events (they are
  // read-only to detectors); the MAC is filled in when that side first speaks.
  client(flow: Flow): Endpoint {
    let e = flow.clientEp;
    if (e === undefined) {
      e = { mac: undefined, ip: flow.clientIp, port: flow.clientPort >= 0 ? flow.clientPort : undefined, local: flow.clientLocal };
      flow.clientEp = e;
    }
    if (e.mac === undefined && flow.clientMac !== undefined) e.mac = flow.clientMac;
    return e;
  }

  server(flow: Flow): Endpoint {
    let e = flow.serverEp;
    if (e === undefined) {
      e = { mac: undefined, ip: flow.serverIp, port: flow.serverPort >= 0 ? flow.serverPort : undefined, local: flow.serverLocal };
      flow.serverEp = e;
    }
    if (e.mac === undefined && flow.serverMac !== undefined) e.mac = flow.serverMac;
    return e;
  }

  dnsSeen(flow: Flow, m: DnsMessage): void {
    if (!m.response || m.rcode !== 0 || m.questions.length === 0) return;
    const qname = m.questions[0].name.toLowerCase();
    // the asker is the side the response goes to: the flow's client for ordinary DNS
    const asker = flow.clientLocal ? this.devices.byAddress(flow.clientIp) ?? flow.device : flow.device;
    for (const a of m.answers) {
      if (a.type === 1 || a.type === 28) this.names.learn(asker?.key, a.data, qname);
    }
  }

  dnsAnswers(flow: Flow, qname: string, addresses: readonly string[]): void {
    if (addresses.length === 0) return;
    const name = qname.toLowerCase();
    const asker = flow.clientLocal ? this.devices.byAddress(flow.clientIp) ?? flow.device : flow.device;
    for (let i = 0; i < addresses.length; i++) this.names.learn(asker?.key, addresses[i], name);
  }

  dhcpSeen(_flow: Flow, d: Dhcp, ts: number): void {
    if (d.clientMac.length !== 17) return;
    const dev = this.devices.observe(d.clientMac, undefined, ts);
    if (!dev) return;
    if (d.op === 1) {
      if (d.hostname) dev.hostname = d.hostname;
      else if (d.fqdn && !dev.hostname) dev.hostname = d.fqdn;
      if (d.vendorClass) dev.vendorClass = d.vendorClass;
      if (d.paramRequestList) dev.dhcpParams = d.paramRequestList;
    } else if (d.messageType === 5 && d.yiaddr !== '0.0.0.0' && isLocalAddress(d.yiaddr)) {
      // DHCPACK: the server gives this MAC its address (RFC 2131 §3.1)
      this.devices.observe(d.clientMac, d.yiaddr, ts);
    }
  }

  mdnsSeen(flow: Flow, m: DnsMessage): void {
    if (!m.response) return;
    const sender = this.devices.byAddress(flow.clientIp);
    if (!sender || sender.hostname) return;
    for (const rr of m.answers) {
      if ((rr.type === 1 || rr.type === 28) && rr.data === flow.clientIp && rr.name.endsWith('.local')) {
        sender.hostname = rr.name.slice(0, -'.local'.length);
        return;
      }
    }
  }

  needsHostname(flow: Flow): boolean {
    const d = this.devices.byAddress(flow.clientIp);
    return d !== undefined && d.hostname === undefined;
  }

  nameHint(flow: Flow, name: string): void {
    if (flow.serverName === undefined && name.length > 0 && name.length < 256) flow.serverName = name.toLowerCase();
  }

  // -------------------------------------------------------------------------
  // the hot path

  onPacket(linktype: number, ts: number, buf: Uint8Array, off: number, capLen: number, wireLen: number): void {
    this.frame++;
    this.totalPackets++;
    this.totalBytes += wireLen;
    this.ts = ts;
    if (ts > this.maxTs) this.maxTs = ts;
    if (ts > 0) {
      if (this.firstTs === null || ts < this.firstTs) this.firstTs = ts;
      if (this.lastTs === null || ts > this.lastTs) this.lastTs = ts;
    }
    const pv = this.pv;
    pv.reset(buf, off, capLen, wireLen, linktype, ts);
    decodeLayers(pv);
    let flow: Flow | undefined;
    let toServer = true;
    if (pv.ipVersion !== 0) {
      flow = this.track(pv);
      if (flow !== undefined) toServer = this.lastToServer;
    } else if (pv.ethertype === ETHERTYPE_ARP) {
      this.arp(pv);
    } else if (pv.reason !== '') {
      this.undecoded++;
    }
    if (this.wanted.packet) this.packetOut(pv, flow, toServer);
    // a sweep visits every live flow: sweeps at least size/2 packets apart cost at most 2 visits per packet
    // (waiting for 2 x size packets never came while a scan added a flow every other packet)
    // and one comes as soon as the table passes its cap (at most every maxLive/8 packets, in case the
    // sweep cannot get it back under: all flows answered and busy)
    const live = this.flows.size;
    if ((++this.sinceSweep >= SWEEP_EVERY && this.sinceSweep * 2 >= live) || (live > this.maxLive && this.sinceSweep >= this.maxLive >> 3)) {
      this.sinceSweep = 0;
      this.sweep();
    }
  }

  private lastToServer = true;

  // Address strings are interned: one string per address, not per flow, and
  // Map lookups on an interned string reuse its cached hash.
  private ip4Cache = new Map<number, string>();
  private ip6 = new Ipv6Texts();
  private macCache = new Map<number, string>();

  readonly ipv4 = (n: number): string => this.ip4(n);

  private ip4(n: number): string {
    let s = this.ip4Cache.get(n);
    if (s === undefined) {
      if (this.ip4Cache.size >= 1 << 17) this.ip4Cache.clear();
      s = ipv4Text(n);
      this.ip4Cache.set(n, s);
    }
    return s;
  }

  private mac(b: Uint8Array, o: number): string {
    const k = ((b[o] << 8) | b[o + 1]) * 4294967296 + (((b[o + 2] << 24) | (b[o + 3] << 16) | (b[o + 4] << 8) | b[o + 5]) >>> 0);
    let s = this.macCache.get(k);
    if (s === undefined) {
      if (this.macCache.size >= 1 << 16) this.macCache.clear();
      s = macAt(b, o);
      this.macCache.set(k, s);
    }
    return s;
  }

  private track(pv: PacketView): Flow | undefined {
    const proto = pv.ipProto;
    const sp = pv.srcPort < 0 ? 0 : pv.srcPort;
    const dp = pv.dstPort < 0 ? 0 : pv.dstPort;
    let flow: Flow | undefined;
    if (pv.ipVersion === 4) {
      flow = this.flows.find4(proto, pv.src4, pv.dst4, sp, dp);
    } else {
      flow = this.flows.find6(proto, pv.buf, pv.src6Off, pv.dst6Off, sp, dp);
    }
    const fromA = this.flows.fromA;
    const isTcp = proto === 6 && pv.srcPort >= 0;
    const flags = pv.tcpFlags;
    // a fresh SYN on a closed flow's tuple is a new connection (port reuse)
    if (flow !== undefined && flow.closed && isTcp && (flags & 0x12) === 0x02) flow = undefined;
    let isNew = false;
    if (flow === undefined) {
      flow = this.open(pv, proto, sp, dp, fromA);
      isNew = true;
    }
    const toServer = fromA === flow.clientIsA;
    this.lastToServer = toServer;
    // learn each side's MAC and device at its first packet
    if (toServer ? flow.pktC === 0 : flow.pktS === 0) this.firstFromSide(pv, flow, toServer);
    const ipBytes = pv.ipLen;
    if (toServer) {
      flow.pktC++;
      flow.bytesC += ipBytes;
      flow.payC += pv.payloadWireLen;
    } else {
      flow.pktS++;
      flow.bytesS += ipBytes;
      flow.payS += pv.payloadWireLen;
    }
    flow.lastTs = pv.ts;
    flow.lastFrame = this.frame;
    if (isNew && this.wanted['flow-open']) this.emit({ kind: 'flow-open', ts: this.ts, frame: this.frame, file: this.input, device: this.deviceRefFor(flow), flow: this.snapshot(flow) });
    if (isTcp) this.tcp(pv, flow, toServer, flags);
    if (flow.analyzer !== null && pv.payloadLen > 0 && !flow.closed) this.app(pv, flow, toServer, isTcp);
    return flow;
  }

  private open(pv: PacketView, proto: number, sp: number, dp: number, fromA: boolean): Flow {
    const f = new Flow();
    f.id = ++this.flowSeq;
    this.flowCount++;
    f.proto = proto;
    f.input = this.input;
    f.firstTs = pv.ts;
    f.firstFrame = this.frame;
    // who is the client: the sender, unless this is a SYN-ACK or (mid-stream) the sender uses a service port and the receiver does not
    let senderIsClient = true;
    if (proto === 6 && pv.srcPort >= 0) {
      const fl = pv.tcpFlags;
      if ((fl & 0x12) === 0x12) senderIsClient = false;
      else if ((fl & 0x02) === 0 && senderLooksLikeServer(sp, dp)) senderIsClient = false;
    } else if (proto === 17 && senderLooksLikeServer(sp, dp)) {
      senderIsClient = false;
    }
    let srcText: string;
    let dstText: string;
    let srcLocal: boolean;
    let dstLocal: boolean;
    if (pv.ipVersion === 4) {
      const s = pv.src4;
      const d = pv.dst4;
      if (fromA) {
        f.a4 = s;
        f.b4 = d;
        f.pa = sp;
        f.pb = dp;
      } else {
        f.a4 = d;
        f.b4 = s;
        f.pa = dp;
        f.pb = sp;
      }
      srcText = this.ip4(s);
      dstText = this.ip4(d);
      srcLocal = isLocalUnicast4(s) || isMulticastOrBroadcast4(s);
      dstLocal = isLocalUnicast4(d) || isMulticastOrBroadcast4(d);
    } else {
      // the key find6 just computed for this packet
      this.flows.setKey6(f);
      srcText = this.ip6.text(pv.buf, pv.src6Off);
      dstText = this.ip6.text(pv.buf, pv.dst6Off);
      srcLocal = isLocalUnicast6(pv.buf, pv.src6Off) || isMulticast6(pv.buf, pv.src6Off);
      dstLocal = isLocalUnicast6(pv.buf, pv.dst6Off) || isMulticast6(pv.buf, pv.dst6Off);
    }
    const hasPorts = pv.srcPort >= 0;
    if (senderIsClient) {
      f.clientIsA = fromA;
      f.clientIp = srcText;
      f.serverIp = dstText;
      f.clientPort = hasPorts ? sp : -1;
      f.serverPort = hasPorts ? dp : -1;
      f.clientLocal = srcLocal;
      f.serverLocal = dstLocal;
    } else {
      f.clientIsA = !fromA;
      f.clientIp = dstText;
      f.serverIp = srcText;
      f.clientPort = hasPorts ? dp : -1;
      f.serverPort = hasPorts ? sp : -1;
      f.clientLocal = dstLocal;
      f.serverLocal = srcLocal;
    }
    if (proto === 6 && hasPorts) {
      const fl = pv.tcpFlags;
      f.tcpState = (fl & 0x12) === 0x02 ? 'syn' : (fl & 0x12) === 0x12 ? 'syn-ack' : 'midstream';
    }
    if (!hasPorts || pv.laterFragment || (proto !== 6 && proto !== 17)) f.analyzer = null;
    this.flows.insert(f);
    return f;
  }

  /** First packet from one side of a flow: its MAC, its device, the flow's attribution and name. */
  private firstFromSide(pv: PacketView, f: Flow, toServer: boolean): void {
    const mac = pv.srcMacOff >= 0 ? this.mac(pv.buf, pv.srcMacOff) : undefined;
    const ip = toServer ? f.clientIp : f.serverIp;
    let unicastLocal: boolean;
    if (pv.ipVersion === 4) unicastLocal = isLocalUnicast4(pv.src4) && pv.src4 !== 0;
    else unicastLocal = isLocalUnicast6(pv.buf, pv.src6Off);
    if (toServer) f.clientMac = mac;
    else f.serverMac = mac;
    let dev: DeviceRec | undefined;
    if (unicastLocal) dev = this.devices.observe(mac, ip, pv.ts);
    else if (pv.ipVersion === 4 && pv.src4 === 0 && mac !== undefined) dev = this.devices.observe(mac, undefined, pv.ts); // DHCP discover from 0.0.0.0
    // attribution: the local client, else the local server, else (no LAN side at all) the client
    if (toServer) {
      if (dev !== undefined && f.clientLocal) {
        if (f.device !== undefined && f.device !== dev) f.peerDevice = f.device;
        f.device = dev;
      } else if (dev !== undefined && f.device === undefined) f.device = dev;
    } else if (dev !== undefined && f.serverLocal) {
      if (f.device === undefined) f.device = dev;
      else if (f.device !== dev) f.peerDevice = dev;
    }
    if (f.device === undefined && !f.clientLocal && !f.serverLocal && toServer) {
      f.device = this.devices.observe(mac, mac === undefined ? ip : undefined, pv.ts);
    }
    if (f.serverName === undefined) {
      const n = this.names.nameFor(f.device?.key, f.serverIp);
      if (n !== undefined) f.serverName = n;
    }
  }

  private tcp(pv: PacketView, f: Flow, toServer: boolean, flags: number): void {
    // after FIN/RST the record only counts the stragglers (last ACKs, duplicate RSTs)
    if (f.closed) return;
    const prev = f.tcpState;
    let next = prev;
    const syn = (flags & 0x02) !== 0;
    const ack = (flags & 0x10) !== 0;
    const fin = (flags & 0x01) !== 0;
    const rst = (flags & 0x04) !== 0;
    if (syn) {
      if (toServer) f.nextC = (pv.seq + 1) >>> 0;
      else f.nextS = (pv.seq + 1) >>> 0;
    }
    if (rst) {
      next = prev === 'syn' && !toServer ? 'rejected' : prev === 'syn' || prev === 'syn-ack' ? 'rejected' : 'reset';
    } else if (syn && ack && !toServer && prev === 'syn') {
      next = 'syn-ack';
    } else if (prev === 'syn-ack' && ack && toServer) {
      next = 'established';
    } else if (prev === 'midstream' && f.pktC > 0 && f.pktS > 0 && pv.payloadLen > 0) {
      next = 'established';
    }
    if (fin) {
      if (toServer) f.finC = true;
      else f.finS = true;
      next = f.finC && f.finS ? 'closed' : 'closing';
    }
    if (next !== prev) {
      f.tcpState = next;
      if (f.acceptFrame === 0 && (next === 'syn-ack' || next === 'established')) f.acceptFrame = this.frame;
      if (this.wanted['flow-state']) this.emit({ kind: 'flow-state', ts: this.ts, frame: this.frame, file: this.input, device: this.deviceRefFor(f), flow: this.snapshot(f), previous: prev });
      if (next === 'closed' || next === 'reset' || next === 'rejected') {
        // flow-close is emitted when the record is retired (a sweep or the end of the input),
        // so its totals include the packets that follow the FIN/RST
        f.closed = true;
        f.closeTs = pv.ts;
        f.closeReason = next === 'closed' ? 'fin' : 'rst';
        this.finishApp(f);
      }
    }
  }

  // -------------------------------------------------------------------------
  // application layer

  private app(pv: PacketView, f: Flow, toServer: boolean, isTcp: boolean): void {
    const b = pv.buf;
    const o = pv.payloadOff;
    const end = o + pv.payloadLen;
    if (!isTcp) {
      let an = f.analyzer as FlowAnalyzer | undefined;
      if (an === undefined) {
        const e = UDP_APPS.get(f.serverPort) ?? UDP_APPS.get(f.clientPort);
        if (e === undefined) {
          f.analyzer = null;
          return;
        }
        f.app = e[0];
        an = e[1]();
        f.analyzer = an;
      }
      this.safeData(an, f, toServer, b, o, end);
      if (an.done) f.analyzer = null;
      return;
    }
    if (f.analyzer === undefined) {
      const side = toServer ? 1 : 2;
      if ((f.sniffed & side) === 0) {
        f.sniffed |= side;
        const s = sniffTcp(b, o, end, this, f);
        let chosen: [string, FlowAnalyzer | null] | undefined = s;
        if (chosen === undefined) {
          const e = TCP_APPS.get(f.serverPort) ?? TCP_APPS.get(f.clientPort);
          if (e !== undefined) chosen = [e[0], e[1](this, f)];
        }
        if (chosen !== undefined) {
          f.app = chosen[0];
          f.analyzer = chosen[1];
          if (chosen[1] === null) return;
          // the stream starts here for the sniffed side if the handshake was missed
          if (toServer && f.nextC < 0) f.nextC = pv.seq;
          if (!toServer && f.nextS < 0) f.nextS = pv.seq;
        } else if (f.sniffed === 3) {
          f.analyzer = null;
          return;
        } else {
          return;
        }
      } else {
        return;
      }
    }
    this.reassemble(pv, f, toServer, f.analyzer as FlowAnalyzer);
  }

  /** Deliver in-order stream bytes to the analyzer, holding a few out-of-order segments. */
  private reassemble(pv: PacketView, f: Flow, toServer: boolean, an: FlowAnalyzer): void {
    const b = pv.buf;
    const len = pv.payloadLen;
    const seq = pv.seq;
    let next = toServer ? f.nextC : f.nextS;
    if (next < 0) next = seq;
    const delta = (seq - next) | 0;
    if (delta <= 0) {
      // 0 - delta, not -delta: for an in-order segment (delta 0) that is -0, a double to V8, and every
      // offset computed from it down the analyzers became a boxed double too
      const skip = 0 - delta;
      if (skip >= len) return; // retransmission of bytes already delivered
      this.safeData(an, f, toServer, b, pv.payloadOff + skip, pv.payloadOff + len);
      next = (next + len - skip) >>> 0;
      // drain held segments that now fit
      const q = toServer ? f.oooC : f.oooS;
      if (q !== undefined && q.length > 0) {
        q.sort((x, y) => ((x[0] - y[0]) | 0));
        while (q.length > 0 && !an.done) {
          const [s, data] = q[0];
          const d = (s - next) | 0;
          if (d > 0) break;
          q.shift();
          if (0 - d < data.length) {
            this.safeData(an, f, toServer, data, 0 - d, data.length);
            next = (next + data.length + d) >>> 0;
          }
        }
      }
    } else {
      // a gap: hold the segment; if too many are held, give up on the gap
      let q = toServer ? f.oooC : f.oooS;
      if (q === undefined) {
        q = [];
        if (toServer) f.oooC = q;
        else f.oooS = q;
      }
      if (q.length < MAX_OOO) {
        q.push([seq, copyBytes(b, pv.payloadOff, pv.payloadOff + len)]);
        return;
      }
      q.length = 0;
      this.safeData(an, f, toServer, b, pv.payloadOff, pv.payloadOff + len);
      next = (seq + len) >>> 0;
    }
    if (toServer) f.nextC = next;
    else f.nextS = next;
    if (an.done) {
      f.analyzer = null;
      f.oooC = undefined;
      f.oooS = undefined;
    }
  }

  private safeData(an: FlowAnalyzer, f: Flow, toServer: boolean, b: Uint8Array, o: number, end: number): void {
    try {
      an.data(this, f, toServer, b, o, end);
    } catch (err) {
      // decoders must not throw; if one does, the flow loses its analyzer, not the run
      an.done = true;
      f.analyzer = null;
      this.onWarning(`analyzer for ${f.app ?? 'flow'} ${f.clientIp}→${f.serverIp} failed at frame ${this.frame}: ${(err as Error).message}`);
    }
  }

  // -------------------------------------------------------------------------
  // ARP and per-packet events

  private arp(pv: PacketView): void {
    // the sender is all the engine needs: its MAC and address from the interned caches (no strings
    // made per packet); the whole message is decoded only for an event
    const b = pv.buf;
    const o = pv.l3Off;
    if (!isEthernetIpv4Arp(b, o, pv.end)) return;
    const senderMac = this.mac(b, o + 8);
    const sipN = i32(b, o + 14);
    const sip = this.ip4(sipN);
    // a local unicast, multicast or broadcast sender address (isLocalAddress of the text), not 0.0.0.0 (a probe)
    const local = sipN !== 0 && (isLocalUnicast4(sipN) || isMulticastOrBroadcast4(sipN));
    const dev = this.devices.observe(senderMac, local ? sip : undefined, pv.ts);
    if (dev) {
      dev.packets++;
      dev.bytes += pv.wireLen;
    }
    if (!this.wanted.arp) return;
    const r = decodeArp(b, o, pv.end);
    if (!r.ok) return;
    const a = r.value;
    // every event of a kind is built with the same fields in the same order: detectors' property reads stay monomorphic
    this.emit({
      kind: 'arp',
      ts: pv.ts,
      frame: this.frame,
      file: this.input,
      device: dev ? dev.ref(sip !== '0.0.0.0' ? sip : undefined) : undefined,
      op: a.op,
      senderMac: a.senderMac,
      senderIp: a.senderIp,
      targetMac: a.targetMac,
      targetIp: a.targetIp,
      gratuitous: a.senderIp === a.targetIp,
    });
  }

  private packetOut(pv: PacketView, flow: Flow | undefined, toServer: boolean): void {
    const e = this.packetEvent;
    e.ts = pv.ts;
    e.frame = this.frame;
    e.file = this.input;
    e.device = flow?.device ? this.deviceRefFor(flow) : undefined;
    e.capLen = pv.capLen;
    e.wireLen = pv.wireLen;
    e.srcMac = pv.srcMacOff >= 0 ? (flow ? (toServer ? flow.clientMac : flow.serverMac) ?? macAt(pv.buf, pv.srcMacOff) : macAt(pv.buf, pv.srcMacOff)) : undefined;
    e.dstMac = pv.dstMacOff >= 0 ? (flow ? (toServer ? flow.serverMac : flow.clientMac) ?? macAt(pv.buf, pv.dstMacOff) : macAt(pv.buf, pv.dstMacOff)) : undefined;
    e.vlan = pv.vlan >= 0 ? pv.vlan : undefined;
    e.ethertype = pv.ethertype >= 0 ? pv.ethertype : undefined;
    e.ipVersion = pv.ipVersion === 4 ? 4 : pv.ipVersion === 6 ? 6 : undefined;
    e.srcIp = flow ? (toServer ? flow.clientIp : flow.serverIp) : undefined;
    e.dstIp = flow ? (toServer ? flow.serverIp : flow.clientIp) : undefined;
    e.ipProto = pv.ipProto >= 0 ? pv.ipProto : undefined;
    e.ttl = pv.ipVersion !== 0 ? pv.ttl : undefined;
    e.fragment = pv.fragment || undefined;
    e.proto = pv.ipVersion !== 0 ? protoName(pv.ipProto) : undefined;
    e.srcPort = pv.srcPort >= 0 ? pv.srcPort : undefined;
    e.dstPort = pv.dstPort >= 0 ? pv.dstPort : undefined;
    e.tcpFlags = pv.ipProto === 6 && pv.srcPort >= 0 ? pv.tcpFlags : undefined;
    e.icmpType = pv.icmpType >= 0 ? pv.icmpType : undefined;
    e.icmpCode = pv.icmpCode >= 0 ? pv.icmpCode : undefined;
    e.payloadLen = pv.payloadWireLen;
    e.flowId = flow?.id;
    e.toServer = flow ? toServer : undefined;
    this.emit(e);
  }

  // -------------------------------------------------------------------------
  // flow ends

  private snapshot(f: Flow): FlowInfo {
    const info: FlowInfo = {
      id: f.id,
      proto: protoName(f.proto),
      ipVersion: f.v6 ? 6 : 4,
      client: this.client(f),
      server: this.server(f),
      firstTs: f.firstTs,
      lastTs: f.lastTs,
      firstFrame: f.firstFrame,
      lastFrame: f.lastFrame,
      packetsToServer: f.pktC,
      packetsToClient: f.pktS,
      bytesToServer: f.bytesC,
      bytesToClient: f.bytesS,
      payloadToServer: f.payC,
      payloadToClient: f.payS,
      serverName: f.serverName,
      app: f.app,
      tcpState: f.tcpState,
      acceptedFrame: f.acceptFrame !== 0 ? f.acceptFrame : undefined,
    };
    return info;
  }

  private finishApp(f: Flow): void {
    if (f.analyzer) {
      const an = f.analyzer as FlowAnalyzer;
      try {
        an.close?.(this, f);
      } catch (err) {
        this.onWarning(`analyzer close failed: ${(err as Error).message}`);
      }
      f.analyzer = null;
    }
    f.oooC = undefined;
    f.oooS = undefined;
  }

  private closeOut(f: Flow, reason: FlowCloseReason): void {
    if (f.analyzer) {
      const an = f.analyzer as FlowAnalyzer;
      try {
        an.close?.(this, f);
      } catch (err) {
        this.onWarning(`analyzer close failed: ${(err as Error).message}`);
      }
      f.analyzer = null;
    }
    f.oooC = undefined;
    f.oooS = undefined;
    if (this.wanted['flow-close']) {
      this.emit({ kind: 'flow-close', ts: f.lastTs, frame: f.lastFrame, file: f.input, device: this.deviceRefFor(f), flow: this.snapshot(f), reason });
    }
  }

  /** Remove a flow from the table for good: close it if still open, and add it to its devices' destinations. */
  private retire(f: Flow, reason: FlowCloseReason): void {
    f.closed = true;
    this.closeOut(f, f.closeReason ?? reason);
    const proto = protoName(f.proto);
    const bytes = f.bytesC + f.bytesS;
    const pkts = f.pktC + f.pktS;
    const port = f.serverPort >= 0 ? f.serverPort : null;
    const d = f.device;
    if (d !== undefined) {
      d.packets += pkts;
      d.bytes += bytes;
      // the device is the client (usual) or, when only the server is local, the server
      const isClient = d === this.devices.byAddress(f.clientIp) || d.mac === f.clientMac || (!f.serverLocal && f.clientLocal) || (!f.clientLocal && !f.serverLocal);
      if (isClient) d.addDest(f.serverIp, port, proto, 'out', f.serverName, bytes, pkts, f.firstTs, f.lastTs);
      else d.addDest(f.clientIp, port, proto, 'in', undefined, bytes, pkts, f.firstTs, f.lastTs);
    }
    const p = f.peerDevice;
    if (p !== undefined && p !== d) {
      p.packets += pkts;
      p.bytes += bytes;
      p.addDest(f.clientIp, port, proto, 'in', undefined, bytes, pkts, f.firstTs, f.lastTs);
    }
  }

  /**
   * Retire idle and closed flows now (their flow-close events go out and they
   * join their devices' destinations). The engine does this by itself every
   * few thousand packets; a live capture calls it on a timer so quiet
   * periods still close flows.
   */
  expire(): void {
    this.sinceSweep = 0;
    this.sweep();
  }

  private sweep(): void {
    const now = this.maxTs;
    const flooded = this.flows.size > this.floodFlows;
    if (flooded && this.floods++ === 0) {
      this.onWarning(
        `over ${this.floodFlows.toLocaleString('en-US')} flows open at once at frame ${this.frame} (a scan or a flood?): closed flows now leave the flow table after ${FLOOD_CLOSED_HOLD} s instead of ${CLOSED_HOLD} s, unanswered ones after ${FLOOD_UNANSWERED_IDLE} s idle, while it lasts (all are still counted)`,
      );
    }
    // keep a closed flow a little while so its last ACKs count in it
    const hold = flooded ? FLOOD_CLOSED_HOLD : CLOSED_HOLD;
    this.flows.sweep((f) => {
      const idle = now - f.lastTs;
      if (f.closed) {
        if (now - f.closeTs > hold || idle > hold) {
          this.retire(f, f.closeReason ?? 'fin');
          return true;
        }
        return false;
      }
      let limit = f.proto === 6 ? this.idleTcp : f.proto === 17 ? this.idleUdp : this.idleOther;
      if (flooded && f.pktS === 0 && limit > FLOOD_UNANSWERED_IDLE) limit = FLOOD_UNANSWERED_IDLE;
      if (idle > limit) {
        this.retire(f, 'idle');
        return true;
      }
      return false;
    });
    if (this.flows.size <= this.maxLive) return;
    // over the cap: back under 3/4 of it (see MAX_LIVE_FLOWS)
    if (this.overfull++ === 0) {
      this.onWarning(
        `over ${this.maxLive.toLocaleString('en-US')} flows open at once at frame ${this.frame}: closed flows now leave the flow table at once, then one-sided flows idle over ${EMERGENCY_IDLE} s, then the flows seen longest ago, until it is under ${((this.maxLive * 3) >> 2).toLocaleString('en-US')}, while it lasts (all are still counted)`,
      );
    }
    const low = (this.maxLive * 3) >> 2;
    this.flows.sweep((f) => {
      if (f.closed || ((f.pktS === 0 || f.pktC === 0) && now - f.lastTs > EMERGENCY_IDLE)) {
        this.retire(f, f.closed ? (f.closeReason ?? 'fin') : 'idle');
        return true;
      }
      return false;
    });
    const need = this.flows.size - low;
    if (need <= 0) return;
    // about the `need` flows seen longest ago (a flood's oldest SYNs before its newest, whose answers may be
    // on the way): the cut-off time is read from an evenly spaced sample of 1,024, not a sort of them all
    const live = this.flows.live;
    const step = Math.max(1, Math.floor(live.length / 1024));
    const sample = new Float64Array(Math.ceil(live.length / step));
    for (let i = 0, j = 0; i < live.length; i += step) sample[j++] = live[i].lastTs;
    sample.sort();
    const cutoff = sample[Math.min(sample.length - 1, Math.floor((need * sample.length) / live.length))];
    let left = need;
    this.flows.sweep((f) => {
      if (left > 0 && f.lastTs <= cutoff) {
        left--;
        this.retire(f, 'idle');
        return true;
      }
      return false;
    });
  }

  private disable(d: Detector, err: unknown): void {
    for (const [k, s] of this.byKind) {
      const i = s.owners.indexOf(d);
      if (i >= 0) {
        s.owners.splice(i, 1);
        s.fns.splice(i, 1);
      }
      if (s.owners.length === 0) {
        this.byKind.delete(k);
        this.want.delete(k);
      }
    }
    this.onWarning(`detector ${d.name} failed and was disabled: ${(err as Error)?.message ?? String(err)}`);
  }

  // -------------------------------------------------------------------------
  // results

  /** Close everything still open, run the detectors' finish(), and build the output. */
  finish(): AnalyzeResult {
    for (const f of this.flows.live) this.retire(f, 'end');
    this.flows.clear();
    const findings: Finding[] = [];
    for (const d of this.detectors) {
      try {
        findings.push(...d.finish(this.ctx));
      } catch (err) {
        this.onWarning(`detector ${d.name} failed in finish(): ${(err as Error)?.message ?? String(err)}`);
      }
    }
    const devices: AnalyzeDevice[] = this.devices
      .list()
      .filter((d) => d.packets > 0 || d.destCount > 0 || d.hostname !== undefined)
      .map((d) => ({
        mac: d.mac ?? null,
        ip: d.ip ?? null,
        ips: [...d.ips].sort(),
        hostname: d.hostname ?? null,
        vendorClass: d.vendorClass ?? null,
        packets: d.packets,
        bytes: d.bytes,
        destinations: d.destinations(),
      }))
      .sort(compareDevices);
    const summary: AnalyzeResult['summary'] = {
      packets: this.totalPackets,
      flows: this.flowCount,
      devices: devices.length,
      bytes: this.totalBytes,
      inputs: this.inputs,
      firstTs: this.firstTs,
      lastTs: this.lastTs,
      undecoded: this.undecoded,
    };
    if (this.dropped !== undefined) summary.dropped = this.dropped;
    if (this.errors.length > 0) summary.errors = this.errors;
    return { summary, devices, findings: sortFindings(findings) };
  }
}

function ipSortKey(ip: string | null): string {
  if (ip === null) return '~';
  if (!ip.includes(':')) return `4${ip.split('.').map((x) => x.padStart(3, '0')).join('.')}`;
  return `6${ip}`;
}

function compareDevices(a: AnalyzeDevice, b: AnalyzeDevice): number {
  return ipSortKey(a.ip).localeCompare(ipSortKey(b.ip)) || (a.mac ?? '').localeCompare(b.mac ?? '');
}

export type { TcpState };
