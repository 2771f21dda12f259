// The traffic engine's contract with detectors (Zeek's analyzer/script split):
// the engine decodes packets and emits the typed events below; a detector is a
// pure object that receives events and, at the end, returns findings. Decoders
// make no judgement; detectors never parse bytes.
//
// Stability: fields are only ever added. Every event carries `kind`, the packet
// that triggered it (`frame`, `ts`, `file`) and, when known, the LAN `device`
// it is attributed to (see DeviceRef below). Addresses are strings in their
// usual text form (MAC lower-case colon-separated, IPv4 dotted, IPv6 RFC 5952).
//
// Lifetime: every event object except `packet` may be kept by a detector, read
// only: the Endpoint and DeviceRef objects inside are shared between the
// events of one flow (and an Endpoint gains its `mac` once that side speaks). The
// `packet` event is one scratch object the engine rewrites for every packet
// (that is what keeps the hot path allocation-free): copy the fields you need.
// Events are built only when at least one detector `wants` their kind, so a
// detector that lists its kinds makes the engine faster.
import type { DeviceRef, Finding } from '../model/finding.js';
import type { PortMap } from '../decode/natpmp.js';
import type { CertSummary } from '../decode/x509.js';

export type { DeviceRef, Finding } from '../model/finding.js';

/** Transport protocol of a flow or packet. */
export type TransportProto = 'tcp' | 'udp' | 'icmp' | 'icmpv6' | 'other';

/** What every event says about where it came from. */
export interface EventBase {
  /** Capture time of the triggering packet, seconds since the Unix epoch (fractional). */
  ts: number;
  /** 1-based frame number of the triggering packet within its file (as tshark/Wireshark number it). */
  frame: number;
  /** Label of the input the packet came from (file path, or `live:IFACE`). */
  file: string;
  /** The LAN device this event is attributed to, when the engine could tell (see attribution rules in DeviceRef). */
  device?: DeviceRef;
}

/** One side of a conversation. */
export interface Endpoint {
  /** Link-layer address of this side as seen in the capture (for a remote host: the router's MAC). */
  mac?: string;
  ip: string;
  /** TCP/UDP port; absent for other protocols. */
  port?: number;
  /** True when `ip` is private, link-local, CGNAT, loopback, ULA or multicast (i.e. not an internet host). */
  local: boolean;
}

// ---------------------------------------------------------------------------
// Packets

/**
 * Per-packet metadata. Emitted for every decoded packet to detectors that want
 * 'packet' (REUSED OBJECT: copy what you keep). Fields a layer did not have are
 * undefined (e.g. no ports for ICMP, no IPs for ARP).
 */
export interface PacketEvent extends EventBase {
  kind: 'packet';
  /** Bytes captured for this packet (may be less than wireLen with a snaplen). */
  capLen: number;
  /** Bytes on the wire. */
  wireLen: number;
  srcMac?: string;
  dstMac?: string;
  /** 802.1Q VLAN id of the outermost tag. */
  vlan?: number;
  /** Ethertype after VLAN tags (0x0800 IPv4, 0x86dd IPv6, 0x0806 ARP...). */
  ethertype?: number;
  ipVersion?: 4 | 6;
  srcIp?: string;
  dstIp?: string;
  /** IP protocol number (6 TCP, 17 UDP, 1 ICMP, 58 ICMPv6...). */
  ipProto?: number;
  ttl?: number;
  /** IPv4: true for a non-first fragment or a first fragment with more-fragments set. */
  fragment?: boolean;
  proto?: TransportProto;
  srcPort?: number;
  dstPort?: number;
  /** TCP flags byte (FIN 0x01, SYN 0x02, RST 0x04, PSH 0x08, ACK 0x10, URG 0x20). */
  tcpFlags?: number;
  icmpType?: number;
  icmpCode?: number;
  /** Transport payload length (0 for a bare ACK). */
  payloadLen: number;
  /** Id of the flow this packet belongs to (see FlowInfo.id). */
  flowId?: number;
  /** True when the packet travels from the flow's client to its server. */
  toServer?: boolean;
}

// ---------------------------------------------------------------------------
// Flows

/**
 * TCP connection state as seen by a passive observer.
 * - `syn`: SYN seen, no answer yet; `rejected`: SYN answered by RST (closed port);
 * - `syn-ack`: SYN+ACK seen; `established`: handshake completed or data both ways;
 * - `midstream`: the capture started inside the connection;
 * - `closing`: one FIN seen; `closed`: FIN both ways; `reset`: RST after establishment.
 */
export type TcpState = 'syn' | 'syn-ack' | 'established' | 'midstream' | 'closing' | 'closed' | 'reset' | 'rejected';

/** Why the engine closed a flow record. */
export type FlowCloseReason = 'fin' | 'rst' | 'idle' | 'end';

/** A bidirectional conversation keyed by the 5-tuple; client = the side that sent the first packet (the SYN for TCP). */
export interface FlowInfo {
  /** Unique within one engine run, increasing in order of first packet. */
  id: number;
  proto: TransportProto;
  ipVersion: 4 | 6;
  client: Endpoint;
  server: Endpoint;
  /** Name for the server side: what the attributed device looked up in DNS for this IP, else TLS SNI, else HTTP Host. */
  serverName?: string;
  /** Application protocol recognised in the flow, when any ('dns', 'http', 'tls', 'ssdp', 'mdns', 'dhcp', 'mqtt', 'telnet', 'ftp', 'ssh', 'natpmp', ...). */
  app?: string;
  firstTs: number;
  lastTs: number;
  firstFrame: number;
  lastFrame: number;
  packetsToServer: number;
  packetsToClient: number;
  /** Bytes on the wire (IP packet length incl. headers), per direction. */
  bytesToServer: number;
  bytesToClient: number;
  /** Transport payload bytes per direction. */
  payloadToServer: number;
  payloadToClient: number;
  /** TCP only. */
  tcpState?: TcpState;
  /** TCP only: frame at which the server accepted the connection (its SYN-ACK, or data both ways in a flow caught mid-stream); absent when it never did. */
  acceptedFrame?: number;
}

export interface FlowOpenEvent extends EventBase {
  kind: 'flow-open';
  /** Snapshot at the first packet; the engine keeps updating its own copy. */
  flow: FlowInfo;
}

/** TCP state change (syn → syn-ack → established → closing ...). Snapshot, safe to keep. */
export interface FlowStateEvent extends EventBase {
  kind: 'flow-state';
  flow: FlowInfo;
  previous: TcpState | undefined;
}

/** A flow ended (FIN/RST, idle timeout, or end of input). Snapshot with final totals. */
export interface FlowCloseEvent extends EventBase {
  kind: 'flow-close';
  flow: FlowInfo;
  reason: FlowCloseReason;
}

// ---------------------------------------------------------------------------
// Link layer

export interface ArpEvent extends EventBase {
  kind: 'arp';
  /** 1 request, 2 reply (RFC 826). */
  op: number;
  senderMac: string;
  senderIp: string;
  targetMac: string;
  targetIp: string;
  /** Sender announces its own address (senderIp === targetIp). */
  gratuitous: boolean;
}

// ---------------------------------------------------------------------------
// DNS, mDNS

export interface DnsQuestion {
  name: string;
  /** Numeric type (1 A, 28 AAAA, 5 CNAME, 16 TXT, 10 NULL, 12 PTR, 33 SRV, 65 HTTPS...). */
  type: number;
  /** Text type ('A', 'AAAA', 'TXT', 'NULL', ... or 'TYPE123'). */
  typeName: string;
  /** Class with the mDNS unicast-response bit cleared. */
  class: number;
}

export interface DnsAnswer {
  name: string;
  type: number;
  typeName: string;
  ttl: number;
  /** Decoded RDATA: an address for A/AAAA, a name for CNAME/PTR/NS, joined strings for TXT, `prio name` for MX, `prio weight port target` for SRV; hex for other types (first 64 bytes). */
  data: string;
  /** RDATA length in bytes. */
  rdLength: number;
}

interface DnsMessageFields {
  /** DNS message id. */
  id: number;
  response: boolean;
  opcode: number;
  /** RCODE (0 NOERROR, 2 SERVFAIL, 3 NXDOMAIN...); 0 for queries. */
  rcode: number;
  questions: DnsQuestion[];
  answers: DnsAnswer[];
  /** Authority + additional records (mDNS announces put records here too). */
  additional: DnsAnswer[];
  /** Size of the DNS message in bytes. */
  size: number;
  /** Transport: 'udp' or 'tcp' (DNS over TCP, length-prefixed). */
  transport: 'udp' | 'tcp';
  client: Endpoint;
  server: Endpoint;
  flowId?: number;
  /** True when the message could be decoded only in part (truncated, bad pointer...). */
  partial: boolean;
}

/** Unicast DNS (port 53). `client` is the asker, `server` the resolver, whichever direction the message goes. */
export interface DnsEvent extends EventBase, DnsMessageFields {
  kind: 'dns';
  /** For a response: the matching query's timestamp when seen (for latency/beaconing). */
  queryTs?: number;
}

/** Multicast DNS / DNS-SD (port 5353). */
export interface MdnsEvent extends EventBase, DnsMessageFields {
  kind: 'mdns';
  /** DNS-SD service instances named in the message (PTR targets under _tcp/_udp.local). */
  services: string[];
  /** Host names announced (A/AAAA owner names). */
  hostnames: string[];
}

// ---------------------------------------------------------------------------
// DHCP (RFC 2131/2132)

export interface DhcpEvent extends EventBase {
  kind: 'dhcp';
  /** 1 BOOTREQUEST, 2 BOOTREPLY. */
  op: number;
  /** Option 53: 1 DISCOVER, 2 OFFER, 3 REQUEST, 4 DECLINE, 5 ACK, 6 NAK, 7 RELEASE, 8 INFORM. */
  messageType?: number;
  messageTypeName?: string;
  xid: number;
  /** chaddr (the client's hardware address). */
  clientMac: string;
  ciaddr: string;
  yiaddr: string;
  /** Option 50. */
  requestedIp?: string;
  /** Option 12. */
  hostname?: string;
  /** Option 55: parameter request list, in order (a fingerprint). */
  paramRequestList?: number[];
  /** Option 60. */
  vendorClass?: string;
  /** Option 61 as hex (type byte first). */
  clientId?: string;
  /** Option 81: the FQDN the client wants registered. */
  fqdn?: string;
  /** Option 54. */
  serverId?: string;
  /** All option codes present, in order. */
  options: number[];
}

// ---------------------------------------------------------------------------
// HTTP/1.x

export interface HttpAuth {
  /** Scheme as sent ('Basic', 'Digest', 'Bearer', 'NTLM', ...). */
  scheme: string;
  /** User name when the scheme carries it in clear (Basic, Digest). Never the password. */
  username?: string;
  /** True when a password/secret travels in a recoverable form (Basic). */
  cleartextPassword: boolean;
}

export interface HttpRequestEvent extends EventBase {
  kind: 'http-request';
  flowId: number;
  client: Endpoint;
  server: Endpoint;
  method: string;
  /** Request target as sent (path and query, or absolute URI for proxies). */
  path: string;
  /** 'HTTP/1.0' or 'HTTP/1.1'. */
  version: string;
  host?: string;
  userAgent?: string;
  contentType?: string;
  contentLength?: number;
  /** SOAPAction header (UPnP control), without quotes. */
  soapAction?: string;
  authorization?: HttpAuth;
  /** First bytes of the body seen (up to 256), for magic detection. Empty when none. Read-only: it may share memory with other copies (bytes.ts, copySmall). */
  bodyPrefix: Uint8Array;
}

export interface HttpResponseEvent extends EventBase {
  kind: 'http-response';
  flowId: number;
  client: Endpoint;
  server: Endpoint;
  status: number;
  reason: string;
  version: string;
  contentType?: string;
  contentLength?: number;
  /** Server header. */
  serverHeader?: string;
  /** WWW-Authenticate scheme offered, if any. */
  authChallenge?: string;
  /** The request this answers (HTTP/1.x pipelining order), when seen. */
  request?: { method: string; path: string; host?: string; frame: number };
  /** First bytes of the body seen (up to 256): ELF, gzip, zip, firmware magics. Read-only: it may share memory with other copies (bytes.ts, copySmall). */
  bodyPrefix: Uint8Array;
}

// ---------------------------------------------------------------------------
// TLS (RFC 8446 / 5246)

export interface TlsClientHelloEvent extends EventBase {
  kind: 'tls-client-hello';
  flowId: number;
  client: Endpoint;
  server: Endpoint;
  /** Record layer version (0x0301...). */
  recordVersion: number;
  /** legacy_version in the hello (0x0303 for TLS 1.2 and 1.3). */
  helloVersion: number;
  /** supported_versions extension (GREASE removed), highest first as sent. */
  supportedVersions: number[];
  /** Highest version offered, as text ('TLS 1.3', 'TLS 1.2', 'TLS 1.0', 'SSL 3.0'). */
  maxVersion: string;
  sni?: string;
  alpn: string[];
  /** Cipher suites offered (GREASE removed). */
  ciphers: number[];
  /** Extension types in order (GREASE removed). */
  extensions: number[];
  /** supported_groups. */
  groups: number[];
  /** ec_point_formats. */
  pointFormats: number[];
  signatureAlgorithms: number[];
  /** JA3 string and its MD5 ('' for an SSLv2-format hello, which JA3 does not cover). */
  ja3: string;
  ja3Hash: string;
  /** JA4 (FoxIO, TLS over TCP: 't...'; '' for an SSLv2-format hello). */
  ja4: string;
  /**
   * Only for an SSLv2-format hello (RFC 5246 Appendix E.2; recordVersion is
   * then 0x0002): the SSL 2.0 cipher kinds offered, 3-byte values such as
   * 0x0700c0 (SSL2_DES_192_EDE3_CBC_WITH_MD5). Its TLS suites are in `ciphers`.
   */
  sslv2Ciphers?: number[];
}

export interface TlsServerHelloEvent extends EventBase {
  kind: 'tls-server-hello';
  flowId: number;
  client: Endpoint;
  server: Endpoint;
  recordVersion: number;
  helloVersion: number;
  /** Version actually negotiated (supported_versions if present, else helloVersion). */
  version: number;
  versionName: string;
  cipher: number;
  /** IANA name of the cipher when known, else hex. */
  cipherName: string;
  alpn?: string;
  extensions: number[];
  ja3s: string;
  ja3sHash: string;
}

/** One certificate of a chain, as the X.509 decoder summarises it (src/core/decode/x509.ts). */
export type TlsCertificateInfo = CertSummary;

/** Server certificate chain (TLS ≤ 1.2 only: TLS 1.3 encrypts it). Leaf first. */
export interface TlsCertificateEvent extends EventBase {
  kind: 'tls-certificate';
  flowId: number;
  client: Endpoint;
  server: Endpoint;
  /** SNI the client sent in this flow, when seen. */
  sni?: string;
  chain: TlsCertificateInfo[];
  /** Certificates that could not be parsed (count). */
  unparsed: number;
  /** Leaf validity vs the capture time of the message. */
  expiredAtCapture: boolean;
  notYetValidAtCapture: boolean;
}

/** TLS alert record seen in clear (before encryption or with a fatal alert). */
export interface TlsAlertEvent extends EventBase {
  kind: 'tls-alert';
  flowId: number;
  client: Endpoint;
  server: Endpoint;
  /** Sent by the server side? */
  fromServer: boolean;
  /** 1 warning, 2 fatal (undefined when the alert is encrypted). */
  level?: number;
  /** Alert description (42 bad_certificate, 48 unknown_ca, 46 certificate_unknown...). */
  description?: number;
}

// ---------------------------------------------------------------------------
// Discovery and port mapping

/** SSDP over UDP 1900 (M-SEARCH, NOTIFY, or a unicast search response). */
export interface SsdpEvent extends EventBase {
  kind: 'ssdp';
  client: Endpoint;
  server: Endpoint;
  /** 'M-SEARCH', 'NOTIFY' or 'RESPONSE'. */
  method: 'M-SEARCH' | 'NOTIFY' | 'RESPONSE';
  /** ST (search target) or NT (notification type). */
  target?: string;
  /** NTS for NOTIFY (ssdp:alive / ssdp:byebye). */
  nts?: string;
  usn?: string;
  location?: string;
  serverHeader?: string;
  userAgent?: string;
  /** True when the target is an Internet Gateway Device / WANIPConnection / WANPPPConnection. */
  igd: boolean;
}

/** A NAT-PMP (RFC 6886) or PCP (RFC 6887) message on UDP 5351; the fields are the decoder's (src/core/decode/natpmp.ts). */
export interface PortMapRequestEvent extends EventBase, PortMap {
  kind: 'natpmp';
  client: Endpoint;
  server: Endpoint;
}

/** A UPnP IGD SOAP control call seen in an HTTP POST (AddPortMapping, DeletePortMapping, GetExternalIPAddress...). */
export interface UpnpSoapEvent extends EventBase {
  kind: 'upnp-soap';
  flowId: number;
  client: Endpoint;
  /** The gateway's control endpoint. */
  server: Endpoint;
  /** Action name, e.g. 'AddPortMapping'. */
  action: string;
  /** Service type URN from the SOAPAction header or the body. */
  serviceType?: string;
  controlPath: string;
  /** Arguments by name as sent (NewExternalPort, NewProtocol, NewInternalPort, NewInternalClient, NewEnabled, NewPortMappingDescription, NewLeaseDuration, NewRemoteHost). */
  args: Record<string, string>;
  /** Convenience for AddPortMapping/DeletePortMapping. */
  mapping?: {
    protocol?: string;
    externalPort?: number;
    internalPort?: number;
    internalClient?: string;
    description?: string;
    leaseSeconds?: number;
    remoteHost?: string;
    enabled?: boolean;
  };
}

// ---------------------------------------------------------------------------
// MQTT, telnet, FTP

/** MQTT CONNECT (3.1, 3.1.1, 5). The password is never carried, only whether one was sent. */
export interface MqttConnectEvent extends EventBase {
  kind: 'mqtt-connect';
  flowId: number;
  client: Endpoint;
  server: Endpoint;
  protocolName: string;
  /** 3 (3.1), 4 (3.1.1), 5. */
  protocolLevel: number;
  clientId: string;
  username?: string;
  passwordPresent: boolean;
  keepAlive: number;
  cleanSession: boolean;
  willTopic?: string;
}

/** MQTT CONNACK: tells whether a CONNECT was accepted (brute force, default credentials). */
export interface MqttConnackEvent extends EventBase {
  kind: 'mqtt-connack';
  flowId: number;
  client: Endpoint;
  server: Endpoint;
  /** 0 = accepted (3.1.1 return code or v5 reason code). */
  returnCode: number;
  accepted: boolean;
}

/**
 * Login activity on a cleartext login service. One event per step, so a
 * detector can count attempts (brute force) and see credentials in clear.
 * - `prompt`: the server asked for a user name/password;
 * - `attempt`: the client sent a user name and a password (complete attempt);
 * - `success` / `failure`: the server's verdict on the last attempt.
 */
export interface LoginEvent extends EventBase {
  kind: 'login';
  service: 'telnet' | 'ftp' | 'pop3' | 'imap' | 'rtsp' | 'other';
  flowId: number;
  client: Endpoint;
  server: Endpoint;
  step: 'prompt' | 'attempt' | 'success' | 'failure';
  /** User name typed (telnet/FTP USER), when seen. Never the password. */
  username?: string;
  /** The password crossed the wire in clear in this attempt. */
  passwordInClear: boolean;
  /** Attempt number within the flow (1-based). */
  attempt: number;
  /** A few printable bytes of the server's text around the verdict (banner, 'Login incorrect', '230 ...'). */
  serverText?: string;
}

/** Decoder-level oddities a detector may care about (not errors of the engine). */
export interface AnomalyEvent extends EventBase {
  kind: 'anomaly';
  /** Layer that noticed it ('ipv4', 'tcp', 'dns', 'tls', ...). */
  layer: string;
  /** Short machine-readable reason ('truncated', 'bad-checksum', 'bad-length', 'port-0', ...). */
  reason: string;
  flowId?: number;
}

// ---------------------------------------------------------------------------

export type EngineEvent =
  | PacketEvent
  | FlowOpenEvent
  | FlowStateEvent
  | FlowCloseEvent
  | ArpEvent
  | DnsEvent
  | MdnsEvent
  | DhcpEvent
  | HttpRequestEvent
  | HttpResponseEvent
  | TlsClientHelloEvent
  | TlsServerHelloEvent
  | TlsCertificateEvent
  | TlsAlertEvent
  | SsdpEvent
  | PortMapRequestEvent
  | UpnpSoapEvent
  | MqttConnectEvent
  | MqttConnackEvent
  | LoginEvent
  | AnomalyEvent;

export type EventKind = EngineEvent['kind'];

export const EVENT_KINDS: readonly EventKind[] = [
  'packet',
  'flow-open',
  'flow-state',
  'flow-close',
  'arp',
  'dns',
  'mdns',
  'dhcp',
  'http-request',
  'http-response',
  'tls-client-hello',
  'tls-server-hello',
  'tls-certificate',
  'tls-alert',
  'ssdp',
  'natpmp',
  'upnp-soap',
  'mqtt-connect',
  'mqtt-connack',
  'login',
  'anomaly',
] as const;

/**
 * What a detector can ask for: an event kind, or `dns-query`, the `dns`
 * events of queries only. With no `dns` subscriber, responses are then
 * decoded only as far as name correlation needs and never become events.
 */
export type Subscription = EventKind | 'dns-query';

/** Whether a detector with these `wants` receives an event: the engine's rule, for code that feeds detectors directly. */
export function receives(wants: readonly Subscription[] | undefined, e: EngineEvent): boolean {
  return wants === undefined || wants.includes(e.kind) || (e.kind === 'dns' && !e.response && wants.includes('dns-query'));
}

/** The event with a given kind: `EventOf<'dns'>` is DnsEvent. */
export type EventOf<K extends EventKind> = Extract<EngineEvent, { kind: K }>;

// ---------------------------------------------------------------------------
// Devices

/**
 * A LAN device as the engine attributes traffic. Rules: an IP is local when
 * private/link-local/CGNAT/ULA; a local IP belongs to the MAC that sends from
 * it (the router's MAC is never a device's MAC for a non-local IP); a flow is
 * attributed to its client if the client is local, else to its server if local.
 * Both local: the client (the one who started it).
 */
export interface DeviceInfo {
  /** Primary key: the MAC when seen, else `ip:<address>` (e.g. raw-IP captures). */
  key: string;
  mac?: string;
  /** Most recently used IPv4 (else IPv6) address. */
  ip?: string;
  /** Every local address seen for this MAC. */
  ips: string[];
  /** From DHCP option 12/81, mDNS announcements, or DNS PTR answers. */
  hostname?: string;
  /** DHCP option 60. */
  vendorClass?: string;
  /** DHCP option 55, the DHCP fingerprint. */
  dhcpParams?: number[];
  firstTs: number;
  lastTs: number;
  packets: number;
  bytes: number;
}

/** What a detector can ask the engine while it runs (read-only). */
export interface DetectorContext {
  /** The name `device` looked up that resolved to `ip` (latest answer before now), if any. */
  nameFor(device: DeviceRef | undefined, ip: string): string | undefined;
  /** The device owning a MAC or local IP. */
  deviceFor(ref: DeviceRef): DeviceInfo | undefined;
  /** Every device seen so far. */
  devices(): DeviceInfo[];
  /** True when the address is a local (LAN-side) address by the engine's rules. */
  isLocal(ip: string): boolean;
  /** Timestamp of the latest packet processed (capture time, not wall-clock). */
  now(): number;
}

/**
 * A detector: events in, findings out; no I/O, no parsing. `onEvent` is called
 * synchronously in capture order; `finish` once at the end of the input (or
 * when a live capture stops). A new instance is made per run.
 */
export interface Detector {
  /** Stable short name (used in logs and in `--detectors` filters). */
  readonly name: string;
  /** Event kinds this detector handles (or `dns-query`); the engine delivers only these. Omit to receive everything (slower). */
  readonly wants?: readonly Subscription[];
  onEvent(e: EngineEvent, ctx: DetectorContext): void;
  finish(ctx: DetectorContext): Finding[];
}

// ---------------------------------------------------------------------------
// `iotguard analyze` / `capture` output (CONTRACT.md)

export interface Destination {
  /** DNS name the device looked up for this IP (else TLS SNI / HTTP Host); null when none was seen. */
  name: string | null;
  ip: string;
  /** Server port (undefined for ICMP). */
  port: number | null;
  proto: TransportProto;
  /** 'out': the device started the flows (it is the client); 'in': the peer connected to the device's `port`. */
  direction: 'out' | 'in';
  /** Bytes both ways (IP length). */
  bytes: number;
  packets: number;
  flows: number;
  firstSeen: number;
  lastSeen: number;
}

export interface AnalyzeDevice {
  mac: string | null;
  ip: string | null;
  ips: string[];
  hostname: string | null;
  vendorClass: string | null;
  packets: number;
  bytes: number;
  /** Sorted by bytes, largest first. */
  destinations: Destination[];
}

export interface AnalyzeSummary {
  packets: number;
  flows: number;
  devices: number;
  bytes: number;
  /** Input files (or live interfaces) read. */
  inputs: string[];
  /** Capture time span in seconds. */
  firstTs: number | null;
  lastTs: number | null;
  /** Packets that could not be decoded past the link layer (unknown link type/ethertype or truncated). */
  undecoded: number;
  /** Live capture only: packets the kernel dropped (tcpdump's summary). */
  dropped?: number;
  /** Set when an input ended in error after `packets` packets (e.g. a malformed block). */
  errors?: Array<{ input: string; code: string; message: string; offset?: number }>;
}

export interface AnalyzeResult {
  summary: AnalyzeSummary;
  devices: AnalyzeDevice[];
  findings: Finding[];
}
