// What learn and check need to know about a device's traffic, independent of
// the capture engine: per device, the flows it took part in (who opened them,
// the far end by address and, where it was looked up, by name) and the DNS
// names it asked for. The engine's analyze output adapts to this in a few
// lines (src/adapters/policy/engine.ts).

export interface ObservedFlow {
  /** Who opened the flow: the device (client) or the far end. */
  initiator: 'device' | 'remote';
  proto: 'tcp' | 'udp' | 'icmp' | 'icmpv6' | 'other';
  family: 'ipv4' | 'ipv6';
  remoteIp: string;
  /** DNS name the device resolved to remoteIp before the flow (or TLS SNI / HTTP Host). */
  remoteName?: string;
  /** Port on the far end (destination port when the device opened the flow). */
  remotePort?: number;
  /** Port on the device (destination port when the far end opened the flow). */
  localPort?: number;
  icmpType?: number;
  packets?: number;
  bytes?: number;
  flows?: number;
  firstTs?: number;
  /** Set when a detector tied this flow to an attack (dns-tunnel, lateral-scan...): never learned. */
  suspicious?: string;
}

export interface ObservedQuery {
  name: string;
  /** Set when a detector tied this name to an attack (a tunnel domain). */
  suspicious?: string;
}

export interface DeviceTraffic {
  mac?: string;
  ip?: string;
  flows: ObservedFlow[];
  queries: ObservedQuery[];
}

export interface NetworkContext {
  /** The LAN, e.g. 192.168.77.0/24. */
  lan: string;
  /** The router's LAN address. */
  router: string;
}
