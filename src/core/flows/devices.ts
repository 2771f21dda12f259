// Device attribution: the LAN side of the traffic is the device. A local
// unicast source address belongs to the MAC that sends from it; captures
// without MACs (raw IP, cooked captures of outgoing packets) key devices by
// address. Each device accumulates its destinations from the flows it owns.
import { DOUBLE_ZERO } from '../decode/packet-view.js';
import type { DeviceInfo, DeviceRef, Destination, TransportProto } from '../engine/events.js';

export interface DestRec {
  ip: string;
  port: number | null;
  proto: TransportProto;
  direction: 'out' | 'in';
  name: string | null;
  bytes: number;
  packets: number;
  flows: number;
  firstSeen: number;
  lastSeen: number;
}

/** Above this many addresses, a MAC is a router forwarding other subnets: stop binding addresses to it. */
const MAX_IPS_PER_MAC = 32;
/**
 * Devices made of the addresses behind one such MAC. A router in front of a
 * small office forwards for hundreds; past this many, the sources are forged
 * (a flood with random source addresses) and the rest count on the MAC's own
 * device: one record instead of one per packet (a million forged sources
 * took 3.5 GB and then failed to print).
 */
export const MAX_BEHIND_MAC = 4096;
/** Devices in all. Past this many, new MACs and addresses are not devices (their flows are still counted). */
export const MAX_DEVICES = 65_536;
const MAX_DESTS = 20_000;
/** Past this many destinations on one address (a scanned or scanning host), they are found through an index, not a scan of the list. */
const INDEX_FROM = 8;
const PROTO_CODE: Record<TransportProto, number> = { tcp: 0, udp: 1, icmp: 2, icmpv6: 3, other: 4 };
const destKey = (port: number | null, proto: TransportProto, direction: 'out' | 'in'): number => ((port ?? 65536) * 8 + PROTO_CODE[proto]) * 2 + (direction === 'out' ? 0 : 1);

export class DeviceRec {
  mac: string | undefined;
  ip: string | undefined;
  ips = new Set<string>();
  hostname: string | undefined;
  vendorClass: string | undefined;
  dhcpParams: number[] | undefined;
  firstTs = Infinity;
  lastTs = DOUBLE_ZERO;
  packets = 0;
  bytes = 0;
  /** Destinations by peer address (interned strings: their hash is cached), then a short list per address. */
  dests = new Map<string, DestRec[]>();
  /** For addresses with many destinations: (port, proto, direction) → the record. */
  private destIndex: Map<string, Map<number, DestRec>> | undefined;
  destCount = 0;
  droppedDests = 0;
  /** Address-only devices made for addresses behind this MAC (see MAX_BEHIND_MAC). */
  forwarded = 0;

  constructor(readonly key: string) {}

  touch(ts: number): void {
    if (ts < this.firstTs) this.firstTs = ts;
    if (ts > this.lastTs) this.lastTs = ts;
  }

  addDest(ip: string, port: number | null, proto: TransportProto, direction: 'out' | 'in', name: string | undefined, bytes: number, packets: number, first: number, last: number): void {
    let list = this.dests.get(ip);
    let d: DestRec | undefined;
    if (list !== undefined) {
      if (list.length > INDEX_FROM) d = this.destIndex?.get(ip)?.get(destKey(port, proto, direction));
      else {
        for (const x of list) {
          if (x.port === port && x.proto === proto && x.direction === direction) {
            d = x;
            break;
          }
        }
      }
    }
    if (d === undefined) {
      if (this.destCount >= MAX_DESTS) {
        this.droppedDests++;
        return;
      }
      d = { ip, port, proto, direction, name: name ?? null, bytes: 0, packets: 0, flows: 0, firstSeen: first, lastSeen: last };
      if (list === undefined) {
        list = [];
        this.dests.set(ip, list);
      }
      list.push(d);
      this.destCount++;
      if (list.length > INDEX_FROM) {
        this.destIndex ??= new Map();
        let ix = this.destIndex.get(ip);
        if (ix === undefined) {
          ix = new Map();
          for (const x of list) ix.set(destKey(x.port, x.proto, x.direction), x);
          this.destIndex.set(ip, ix);
        } else ix.set(destKey(port, proto, direction), d);
      }
    }
    if (d.name === null && name !== undefined) d.name = name;
    d.bytes += bytes;
    d.packets += packets;
    d.flows++;
    if (first < d.firstSeen) d.firstSeen = first;
    if (last > d.lastSeen) d.lastSeen = last;
  }

  info(): DeviceInfo {
    return {
      key: this.key,
      mac: this.mac,
      ip: this.ip,
      ips: [...this.ips],
      hostname: this.hostname,
      vendorClass: this.vendorClass,
      dhcpParams: this.dhcpParams,
      firstTs: this.firstTs === Infinity ? 0 : this.firstTs,
      lastTs: this.lastTs,
      packets: this.packets,
      bytes: this.bytes,
    };
  }

  ref(ip?: string): DeviceRef {
    return { mac: this.mac, ip: ip ?? this.ip };
  }

  destinations(): Destination[] {
    return [...this.dests.values()]
      .flat()
      .sort((a, b) => b.bytes - a.bytes || a.ip.localeCompare(b.ip) || (a.port ?? 0) - (b.port ?? 0))
      .map((d) => ({ name: d.name, ip: d.ip, port: d.port, proto: d.proto, direction: d.direction, bytes: d.bytes, packets: d.packets, flows: d.flows, firstSeen: d.firstSeen, lastSeen: d.lastSeen }));
  }
}

export class DeviceTable {
  private byMac = new Map<string, DeviceRec>();
  private byIp = new Map<string, DeviceRec>();
  private all: DeviceRec[] = [];
  /** Sources not made into devices because a cap was reached (MAX_BEHIND_MAC, MAX_DEVICES). */
  overflow = 0;

  /** `onOverflow` is told once, the first time a cap turns a source away. */
  constructor(private readonly onOverflow: (message: string) => void = () => undefined) {}

  private full(why: string): void {
    if (this.overflow++ === 0) this.onOverflow(why);
  }

  /**
   * A frame from `mac` with local unicast source `ip` (either may be absent).
   * Returns the device, creating it when new.
   */
  private lastMac: string | undefined = undefined;
  private lastIp: string | undefined = undefined;
  private last: DeviceRec | undefined = undefined;

  observe(mac: string | undefined, ip: string | undefined, ts: number): DeviceRec | undefined {
    // consecutive flows mostly come from the same device (its DNS queries, its connections)
    if (mac === this.lastMac && ip === this.lastIp && this.last !== undefined && mac !== undefined) {
      this.last.touch(ts);
      return this.last;
    }
    const d = this.observeSlow(mac, ip, ts);
    this.lastMac = mac;
    this.lastIp = ip;
    this.last = d;
    return d;
  }

  private observeSlow(mac: string | undefined, ip: string | undefined, ts: number): DeviceRec | undefined {
    let d: DeviceRec | undefined;
    if (mac !== undefined && mac !== '00:00:00:00:00:00' && mac !== 'ff:ff:ff:ff:ff:ff') {
      d = this.byMac.get(mac);
      if (!d) {
        // an address-only device learnt earlier (e.g. from the other direction) gets its MAC now
        const prior = ip !== undefined ? this.byIp.get(ip) : undefined;
        if (prior && prior.mac === undefined) {
          d = prior;
          d.mac = mac;
        } else {
          if (this.all.length >= MAX_DEVICES) {
            this.full(`more than ${MAX_DEVICES.toLocaleString('en-US')} devices (forged source MACs?): further new MACs and addresses are not made devices; their flows are still counted`);
            return undefined;
          }
          d = new DeviceRec(mac);
          d.mac = mac;
          this.all.push(d);
        }
        this.byMac.set(mac, d);
      }
      if (ip !== undefined && !d.ips.has(ip)) {
        if (d.ips.size >= MAX_IPS_PER_MAC) {
          const known = this.byIp.get(ip);
          if (known === undefined) {
            if (d.forwarded >= MAX_BEHIND_MAC) {
              this.full(`more than ${MAX_BEHIND_MAC.toLocaleString('en-US')} source addresses behind ${mac} (forged sources?): the rest count on that MAC's device`);
              d.touch(ts);
              return d;
            }
            d.forwarded++;
          }
          return this.observeSlow(undefined, ip, ts);
        }
        d.ips.add(ip);
        this.byIp.set(ip, d);
      }
      if (ip !== undefined) d.ip = preferV4(d.ip, ip);
    } else if (ip !== undefined) {
      d = this.byIp.get(ip);
      if (!d) {
        if (this.all.length >= MAX_DEVICES) {
          this.full(`more than ${MAX_DEVICES.toLocaleString('en-US')} devices (forged source addresses?): further new addresses are not made devices; their flows are still counted`);
          return undefined;
        }
        d = new DeviceRec(`ip:${ip}`);
        d.ips.add(ip);
        d.ip = ip;
        this.byIp.set(ip, d);
        this.all.push(d);
      }
    }
    d?.touch(ts);
    return d;
  }

  byAddress(ip: string): DeviceRec | undefined {
    return this.byIp.get(ip);
  }

  byMacAddress(mac: string): DeviceRec | undefined {
    return this.byMac.get(mac);
  }

  lookup(ref: DeviceRef): DeviceRec | undefined {
    if (ref.mac !== undefined) {
      const d = this.byMac.get(ref.mac);
      if (d) return d;
    }
    return ref.ip !== undefined ? this.byIp.get(ref.ip) : undefined;
  }

  list(): DeviceRec[] {
    return this.all;
  }
}

function preferV4(current: string | undefined, ip: string): string {
  if (current === undefined) return ip;
  // an IPv4 address names a device better than a link-local IPv6 one
  if (!ip.includes(':')) return ip;
  return current.includes(':') ? ip : current;
}
