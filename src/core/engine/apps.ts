// Application analyzers (Suricata-style, one per protocol): each takes the
// in-order bytes of a flow (TCP) or a datagram (UDP) from the engine, runs the
// pure decoder and turns the result into events. The registries at the end
// pick an analyzer by content first (TLS, HTTP, SSH, MQTT look unmistakable)
// and by port second.
import { ByteQueue, copySmall, indexOfHeaderEnd, latin1, smallBuffer, u16, type Decoded } from '../decode/bytes.js';
import { decodeDns, dnsAnswerAddresses, type DnsMessage } from '../decode/dns.js';
import { decodeDhcp, DHCP_MESSAGE_TYPES, type Dhcp } from '../decode/dhcp.js';
import { decodeHttpHead, decodeHttpHeadText, header, looksLikeHttpStart, HTTP_MAX_HEAD, type HttpHead } from '../decode/http.js';
import { decodeSsdp, type Ssdp } from '../decode/ssdp.js';
import { decodePortMap } from '../decode/natpmp.js';
import { decodeMqttConnack, decodeMqttConnect, mqttVarint } from '../decode/mqtt.js';
import { FtpLogin, TelnetLogin, type LoginStep } from '../decode/login.js';
import { decodeSoapCall } from '../decode/soap.js';
import { TlsRecordStream, decodeCertificateList, decodeClientHello, decodeServerHello, decodeSslv2ClientHello, sslv2HelloLength, tlsVersionName, type ClientHello } from '../decode/tls.js';
import { ja3, ja3s, ja4 } from '../decode/tls-fingerprint.js';
import { cipherName } from '../decode/tls-ciphers.js';
import { summarizeCertificate } from '../decode/x509.js';
import type { Flow } from '../flows/flow-table.js';
import type {
  DeviceRef,
  DnsAnswer,
  Endpoint,
  EngineEvent,
  HttpAuth,
  LoginEvent,
  Subscription,
  TlsCertificateInfo,
} from './events.js';

/**
 * What analyzers may ask of the engine. Events spell out their base fields
 * (`ts`, `frame`, `file: host.file`, `device: host.deviceRef(flow)`) instead
 * of spreading a base object: an object spread costs ~0.2 µs per event,
 * which was a tenth of the detectors' overhead.
 */
export interface AppHost {
  /** Whether some detector subscribed to a kind (read on every message: a property load, not a set lookup). */
  readonly wanted: Readonly<Record<Subscription, boolean>>;
  emit(e: EngineEvent): void;
  /** The input being read (events' `file`). */
  readonly file: string;
  /** The device reference events of this flow carry. */
  deviceRef(flow: Flow): DeviceRef | undefined;
  client(flow: Flow): Endpoint;
  server(flow: Flow): Endpoint;
  /** A DNS message crossed the flow: learn names for correlation. */
  dnsSeen(flow: Flow, m: DnsMessage): void;
  /** The text of an IPv4 address (a number), one string per address. */
  readonly ipv4: (n: number) => string;
  /** The same for a successful response already reduced to its question name and answer addresses. */
  dnsAnswers(flow: Flow, qname: string, addresses: readonly string[]): void;
  dhcpSeen(flow: Flow, d: Dhcp, ts: number): void;
  mdnsSeen(flow: Flow, m: DnsMessage): void;
  /** True when the flow's sender has no host name yet (mDNS is then worth decoding). */
  needsHostname(flow: Flow): boolean;
  /** A name for the server side from the protocol itself (SNI, Host). */
  nameHint(flow: Flow, name: string): void;
  readonly ts: number;
  readonly frame: number;
}

export interface FlowAnalyzer {
  /** True when the analyzer needs no more bytes (the engine stops reassembling). */
  done: boolean;
  data(host: AppHost, flow: Flow, toServer: boolean, b: Uint8Array, o: number, end: number): void;
  /** The flow ended: flush anything pending. */
  close?(host: AppHost, flow: Flow): void;
}

const BODY_PREFIX = 256;
const SOAP_BODY = 32 * 1024;
const EMPTY: Uint8Array = new Uint8Array(0);

// ---------------------------------------------------------------------------
// DNS / mDNS

// The decoder's arrays are fresh per message and shaped as the events want: handed over as they are.
// One literal with every field: all events of a kind share one shape (detectors' property reads stay monomorphic).
function dnsFields<K extends 'dns' | 'mdns'>(kind: K, host: AppHost, flow: Flow, m: DnsMessage, transport: 'udp' | 'tcp', queryTs?: number) {
  return {
    kind,
    ts: host.ts,
    frame: host.frame,
    file: host.file,
    device: host.deviceRef(flow),
    id: m.id,
    response: m.response,
    opcode: m.opcode,
    rcode: m.rcode,
    questions: m.questions,
    answers: m.answers as DnsAnswer[],
    additional: (m.authority.length === 0 ? m.additional : m.additional.length === 0 ? m.authority : [...m.authority, ...m.additional]) as DnsAnswer[],
    size: m.size,
    transport,
    client: host.client(flow),
    server: host.server(flow),
    flowId: flow.id,
    partial: m.partial,
    queryTs,
  };
}

/** True when some detector takes this message as an event: `dns` takes all, `dns-query` only queries (QR bit clear, RFC 1035 §4.1.1). */
const dnsEventWanted = (host: AppHost, response: boolean): boolean => host.wanted['dns'] || (!response && host.wanted['dns-query']);

function emitDns(host: AppHost, flow: Flow, m: DnsMessage, transport: 'udp' | 'tcp', pending: Map<number, number> | undefined): void {
  host.dnsSeen(flow, m);
  if (!dnsEventWanted(host, m.response)) return;
  let queryTs: number | undefined;
  if (pending) {
    if (!m.response) {
      if (pending.size < 1024) pending.set(m.id, host.ts);
    } else {
      queryTs = pending.get(m.id);
      pending.delete(m.id);
    }
  }
  host.emit(dnsFields('dns', host, flow, m, transport, queryTs));
}

/** Scratch list for dnsAnswerAddresses (the engine reads it before the next message). */
const ANSWERS: string[] = [];

class UdpDns implements FlowAnalyzer {
  done = false;
  private pending: Map<number, number> | undefined;
  data(host: AppHost, flow: Flow, _toServer: boolean, b: Uint8Array, o: number, end: number): void {
    // queries matter only to detectors; responses also feed name correlation (QR bit, RFC 1035 §4.1.1)
    const response = end - o >= 3 && (b[o + 2] & 0x80) !== 0;
    const full = dnsEventWanted(host, response) || host.wanted['anomaly'];
    if (!full && !response) return;
    if (!full) {
      // names only: the addresses and the question, no message built
      const ips = ANSWERS;
      ips.length = 0;
      const qname = dnsAnswerAddresses(b, o, end, ips, host.ipv4);
      if (qname !== undefined) {
        host.dnsAnswers(flow, qname, ips);
        return;
      }
    }
    const r = decodeDns(b, o, end, !full);
    if (!r.ok) {
      if (host.wanted['anomaly']) host.emit({ kind: 'anomaly', ts: host.ts, frame: host.frame, file: host.file, device: host.deviceRef(flow), layer: 'dns', reason: r.reason, flowId: flow.id });
      return;
    }
    if (this.pending === undefined && host.wanted['dns']) this.pending = new Map();
    emitDns(host, flow, r.value, 'udp', this.pending);
  }
}

/** DNS over TCP (RFC 1035 §4.2.2, RFC 7766): 2-byte length prefix per message. */
class TcpDns implements FlowAnalyzer {
  done = false;
  /** Per direction, a message not yet whole: appended to, never re-copied whole. */
  private q: [ByteQueue, ByteQueue] = [new ByteQueue(), new ByteQueue()];
  private count = 0;
  data(host: AppHost, flow: Flow, toServer: boolean, b: Uint8Array, o: number, end: number): void {
    const q = this.q[toServer ? 0 : 1];
    const held = q.length > 0;
    if (held) q.append(b, o, end);
    const d = held ? q.buf : b;
    const n = held ? q.length : end;
    const s = held ? 0 : o;
    let p = s;
    while (p + 2 <= n) {
      const len = u16(d, p);
      if (p + 2 + len > n) break;
      const r = decodeDns(d, p + 2, p + 2 + len, !dnsEventWanted(host, len >= 3 && (d[p + 4] & 0x80) !== 0));
      if (r.ok) emitDns(host, flow, r.value, 'tcp', undefined);
      p += 2 + len;
      if (++this.count >= 256) {
        this.done = true;
        q.clear();
        return;
      }
    }
    if (n - p > 70000) {
      this.done = true;
      q.clear();
    } else if (held) q.consume(p);
    else if (p < n) q.append(d, p, n);
  }
}

class Mdns implements FlowAnalyzer {
  done = false;
  data(host: AppHost, flow: Flow, _toServer: boolean, b: Uint8Array, o: number, end: number): void {
    // without listeners, mDNS only names devices: a few tries per flow are enough
    if (!host.wanted['mdns'] && (flow.pktC + flow.pktS > 8 || !host.needsHostname(flow))) return;
    const r = decodeDns(b, o, end);
    if (!r.ok) return;
    const m = r.value;
    host.mdnsSeen(flow, m);
    if (!host.wanted['mdns']) return;
    const all = [...m.answers, ...m.authority, ...m.additional];
    const services = new Set<string>();
    const hostnames = new Set<string>();
    for (const rr of all) {
      if (rr.type === 12 && /\._(?:tcp|udp)\.local$/i.test(rr.name)) services.add(rr.data);
      if ((rr.type === 1 || rr.type === 28) && rr.name) hostnames.add(rr.name);
    }
    host.emit({ ...dnsFields('mdns', host, flow, m, 'udp'), services: [...services], hostnames: [...hostnames] });
  }
}

// ---------------------------------------------------------------------------
// DHCP, SSDP, NAT-PMP/PCP

class DhcpApp implements FlowAnalyzer {
  done = false;
  data(host: AppHost, flow: Flow, _toServer: boolean, b: Uint8Array, o: number, end: number): void {
    const r = decodeDhcp(b, o, end);
    if (!r.ok) return;
    const d = r.value;
    host.dhcpSeen(flow, d, host.ts);
    if (!host.wanted['dhcp']) return;
    host.emit({
      kind: 'dhcp',
      ts: host.ts,
      frame: host.frame,
      file: host.file,
      device: host.deviceRef(flow),
      op: d.op,
      messageType: d.messageType,
      messageTypeName: d.messageType !== undefined ? DHCP_MESSAGE_TYPES[d.messageType] ?? `TYPE${d.messageType}` : undefined,
      xid: d.xid,
      clientMac: d.clientMac,
      ciaddr: d.ciaddr,
      yiaddr: d.yiaddr,
      requestedIp: d.requestedIp,
      hostname: d.hostname,
      paramRequestList: d.paramRequestList,
      vendorClass: d.vendorClass,
      clientId: d.clientId,
      fqdn: d.fqdn,
      serverId: d.serverId,
      options: d.options,
    });
  }
}

const SSDP_CACHE = 1024;

class SsdpApp implements FlowAnalyzer {
  done = false;
  /**
   * A device repeats the same few announcements every few seconds: each
   * distinct datagram is decoded once (the result is read-only). One UPnP
   * device sends 5-15 distinct ones (one per device and service type), so the
   * cache holds 1,024: the 93 IoT Sentinel setups have 264, and 64 entries
   * were cleared over and over (4,308 decodes per 15,750 datagrams; now 264).
   */
  private seen: Map<string, Ssdp | null> | undefined;
  data(host: AppHost, flow: Flow, toServer: boolean, b: Uint8Array, o: number, end: number): void {
    if (!host.wanted['ssdp']) return;
    const key = end - o <= 2048 ? latin1(b, o, end) : undefined;
    let s = key === undefined ? undefined : this.seen?.get(key);
    if (s === undefined) {
      const r = decodeSsdp(b, o, end);
      s = r.ok ? r.value : null;
      if (key !== undefined) {
        this.seen ??= new Map();
        if (this.seen.size >= SSDP_CACHE) this.seen.clear();
        this.seen.set(key, s);
      }
    }
    if (s === null) return;
    const c = host.client(flow);
    const sv = host.server(flow);
    host.emit({
      kind: 'ssdp',
      ts: host.ts, frame: host.frame, file: host.file, device: host.deviceRef(flow),
      client: toServer ? c : sv,
      server: toServer ? sv : c,
      method: s.method,
      target: s.target,
      nts: s.nts,
      usn: s.usn,
      location: s.location,
      serverHeader: s.server,
      userAgent: s.userAgent,
      igd: s.igd,
    });
  }
}

class PortMapApp implements FlowAnalyzer {
  done = false;
  data(host: AppHost, flow: Flow, _toServer: boolean, b: Uint8Array, o: number, end: number): void {
    if (!host.wanted['natpmp']) return;
    const r = decodePortMap(b, o, end);
    if (!r.ok) return;
    host.emit({ kind: 'natpmp', ts: host.ts, frame: host.frame, file: host.file, device: host.deviceRef(flow), client: host.client(flow), server: host.server(flow), ...r.value });
  }
}

// ---------------------------------------------------------------------------
// HTTP/1.x (+ UPnP SOAP control)

interface PendingMsg {
  head: HttpHead;
  frame: number;
  ts: number;
  body: Uint8Array[];
  bodyLen: number;
  want: number;
  contentLength: number | undefined;
  /** For a response: the request it answers. */
  request?: { method: string; path: string; host?: string; frame: number };
  /** Unknown body length: after the prefix, look for the next message start. */
  resyncAfter?: boolean;
}

interface HttpDir {
  mode: 'head' | 'body' | 'resync';
  /**
   * The text of a head that began in an earlier segment (embedded servers
   * often send the status line in a segment of its own: 42% of the heads
   * in the IoT Sentinel captures). Held as a string, because the parser
   * works on the head's text anyway: each piece is appended (a rope, made
   * flat once when the head is parsed), no buffer is allocated or copied into.
   */
  headText: string;
  /** Its last 3 characters (looked at for a CRLFCRLF straddling segments without touching the rope: a slice would flatten it every time). */
  headTail: string;
  bodyLeft: number;
  pending: PendingMsg | undefined;
}

function contentLength(h: HttpHead): number | undefined {
  const v = header(h, 'content-length');
  if (v === undefined || !/^\d{1,15}$/.test(v)) return undefined;
  return Number(v);
}

function parseAuth(v: string | undefined): HttpAuth | undefined {
  if (!v) return undefined;
  const sp = v.indexOf(' ');
  const scheme = sp < 0 ? v : v.slice(0, sp);
  const rest = sp < 0 ? '' : v.slice(sp + 1).trim();
  const auth: HttpAuth = { scheme, cleartextPassword: false };
  if (/^basic$/i.test(scheme)) {
    const dec = Buffer.from(rest, 'base64').toString('latin1');
    const c = dec.indexOf(':');
    auth.username = (c < 0 ? dec : dec.slice(0, c)).slice(0, 128);
    auth.cleartextPassword = c >= 0;
  } else if (/^digest$/i.test(scheme)) {
    const m = /username="([^"]{0,128})"/i.exec(rest);
    if (m) auth.username = m[1];
  }
  return auth;
}

/** The fields the engine itself needs from a head: framing and the server name. */
const FRAMING_HEADERS: ReadonlySet<string> = new Set(['host', 'content-length', 'transfer-encoding']);
/** And the fields its HTTP events carry (the parser makes strings only for these). */
const EVENT_HEADERS: ReadonlySet<string> = new Set([...FRAMING_HEADERS, 'user-agent', 'content-type', 'soapaction', 'authorization', 'server', 'www-authenticate']);

class HttpApp implements FlowAnalyzer {
  done = false;

  private active(host: AppHost): boolean {
    return host.wanted['http-request'] || host.wanted['http-response'] || host.wanted['upnp-soap'];
  }

  private dirs: [HttpDir, HttpDir] = [
    { mode: 'head', headText: '', headTail: '', bodyLeft: 0, pending: undefined },
    { mode: 'head', headText: '', headTail: '', bodyLeft: 0, pending: undefined },
  ];
  private requests: Array<{ method: string; path: string; host?: string; frame: number }> = [];
  private messages = 0;

  data(host: AppHost, flow: Flow, toServer: boolean, b: Uint8Array, o: number, end: number): void {
    const d = this.dirs[toServer ? 0 : 1];
    // the middle of a body whose prefix is already taken (most segments of a download): only count it
    if (d.mode === 'body' && d.pending === undefined && end - o < d.bodyLeft) {
      d.bodyLeft -= end - o;
      return;
    }
    let p = o;
    let guard = 0;
    while (p < end && guard++ < 64) {
      if (d.mode === 'resync') {
        if (!looksLikeHttpStart(b, p, end)) return;
        d.mode = 'head';
      }
      if (d.mode === 'body') {
        const take = Math.min(d.bodyLeft, end - p);
        this.collect(host, flow, toServer, d, b, p, p + take);
        p += take;
        d.bodyLeft -= take;
        if (d.bodyLeft === 0) {
          this.flush(host, flow, toServer, d);
          d.mode = 'head';
        }
        continue;
      }
      // head mode
      const only = this.active(host) ? EVENT_HEADERS : FRAMING_HEADERS;
      const held = d.headText;
      const h = held.length;
      let r: Decoded<HttpHead>;
      if (h > 0) {
        // the rest of a head that began in an earlier segment. First a CRLFCRLF that straddles the old
        // end: it lies in the held text's last 3 characters and this segment's first 3 bytes, and it
        // starts in the held text (the held text holds no whole one)
        const k = d.headTail.length;
        const i = (d.headTail + latin1(b, p, Math.min(end, p + 3))).indexOf('\r\n\r\n');
        let text: string;
        if (i >= 0) {
          text = held.slice(0, h - k + i);
          p += i + 4 - k;
        } else {
          const j = indexOfHeaderEnd(b, p, end);
          if (j < 0) {
            if (h + (end - p) > HTTP_MAX_HEAD) {
              d.headText = '';
              d.headTail = '';
              d.mode = 'resync';
              return;
            }
            d.headText = held + latin1(b, p, end);
            d.headTail = end - p >= 3 ? latin1(b, end - 3, end) : (d.headTail + latin1(b, p, end)).slice(-3);
            return;
          }
          text = held + latin1(b, p, j);
          p = j + 4;
        }
        d.headText = '';
        d.headTail = '';
        r = decodeHttpHeadText(text, only);
      } else {
        if (!looksLikeHttpStart(b, p, end) && !(end - p < 8)) {
          d.mode = 'resync';
          return;
        }
        const he = indexOfHeaderEnd(b, p, end);
        if (he < 0) {
          if (end - p > HTTP_MAX_HEAD) {
            d.mode = 'resync';
            return;
          }
          d.headText = latin1(b, p, end);
          d.headTail = latin1(b, end - 3 > p ? end - 3 : p, end);
          return;
        }
        r = decodeHttpHead(b, p, he, only);
        p = he + 4;
      }
      if (!r.ok) {
        d.mode = 'resync';
        continue;
      }
      this.flush(host, flow, toServer, d);
      this.startMessage(host, flow, toServer, d, r.value);
      if (!this.active(host) && (flow.serverName !== undefined || r.value.kind === 'request')) {
        // nobody listens to HTTP events: the first request's Host was all the engine needed
        this.done = true;
        return;
      }
      if (++this.messages > 10_000) {
        this.done = true;
        return;
      }
    }
  }

  private startMessage(host: AppHost, flow: Flow, toServer: boolean, d: HttpDir, h: HttpHead): void {
    const cl = contentLength(h);
    // with no detector listening, only framing (to find the next head) and the Host name matter
    const active = this.active(host);
    let bodyLen: number | undefined;
    let request: PendingMsg['request'];
    if (h.kind === 'request') {
      const hostHdr = header(h, 'host');
      if (hostHdr && flow.serverName === undefined) host.nameHint(flow, hostHdr.indexOf(':') < 0 ? hostHdr : hostHdr.replace(/:\d+$/, ''));
      if (active && this.requests.length < 64) this.requests.push({ method: h.method, path: h.target, host: hostHdr, frame: host.frame });
      const te = cl === undefined ? header(h, 'transfer-encoding') : undefined;
      bodyLen = cl ?? (te !== undefined && /chunked/i.test(te) ? undefined : 0);
    } else {
      const req = this.requests[0];
      request = req;
      if (h.status >= 200 || h.status < 100) this.requests.shift();
      if (req?.method === 'HEAD' || h.status === 204 || h.status === 304 || (h.status >= 100 && h.status < 200)) bodyLen = 0;
      else bodyLen = cl;
    }
    const soap = h.kind === 'request' && h.method === 'POST' && (header(h, 'soapaction') !== undefined || /xml/i.test(header(h, 'content-type') ?? ''));
    if (!active) {
      d.pending = undefined;
      if (bodyLen === 0) d.mode = 'head';
      else if (bodyLen === undefined) d.mode = 'resync';
      else {
        d.bodyLeft = bodyLen;
        d.mode = 'body';
      }
      return;
    }
    d.pending = { head: h, frame: host.frame, ts: host.ts, body: [], bodyLen: 0, want: soap ? SOAP_BODY : BODY_PREFIX, contentLength: cl, request };
    if (bodyLen === 0) {
      this.flush(host, flow, toServer, d);
      d.mode = 'head';
    } else if (bodyLen === undefined) {
      // unknown length (chunked or close-delimited): collect the prefix, then look for the next message start
      d.mode = 'body';
      d.bodyLeft = d.pending.want;
      d.pending.resyncAfter = true;
    } else {
      d.bodyLeft = bodyLen;
      d.mode = 'body';
    }
  }

  private collect(host: AppHost, flow: Flow, toServer: boolean, d: HttpDir, b: Uint8Array, o: number, end: number): void {
    const m = d.pending;
    if (!m || m.bodyLen >= m.want) return;
    const n = Math.min(end - o, m.want - m.bodyLen);
    if (n <= 0) return;
    m.body.push(copySmall(b, o, o + n));
    m.bodyLen += n;
    if (m.bodyLen >= m.want) {
      const resync = m.resyncAfter;
      this.flush(host, flow, toServer, d);
      if (resync) {
        d.mode = 'resync';
        d.bodyLeft = 0;
      }
    }
  }

  private flush(host: AppHost, flow: Flow, _toServer: boolean, d: HttpDir): void {
    const m = d.pending;
    if (!m) return;
    d.pending = undefined;
    const h = m.head;
    let body = EMPTY;
    if (m.body.length === 1) body = m.body[0];
    else if (m.body.length > 1) {
      body = smallBuffer(m.bodyLen);
      let q = 0;
      for (const c of m.body) {
        body.set(c, q);
        q += c.length;
      }
    }
    const file = host.file;
    const device = host.deviceRef(flow);
    const prefix = body.length > BODY_PREFIX ? copySmall(body, 0, BODY_PREFIX) : body;
    if (h.kind === 'request') {
      if (host.wanted['http-request']) {
        host.emit({
          kind: 'http-request',
          ts: m.ts,
          frame: m.frame,
          file,
          device,
          flowId: flow.id,
          client: host.client(flow),
          server: host.server(flow),
          method: h.method,
          path: h.target,
          version: h.version,
          host: header(h, 'host'),
          userAgent: header(h, 'user-agent'),
          contentType: header(h, 'content-type'),
          contentLength: m.contentLength,
          soapAction: header(h, 'soapaction')?.replace(/^"|"$/g, ''),
          authorization: parseAuth(header(h, 'authorization')),
          bodyPrefix: prefix,
        });
      }
      if (m.want === SOAP_BODY && host.wanted['upnp-soap']) {
        const call = decodeSoapCall(header(h, 'soapaction'), latin1(body, 0, body.length));
        if (call) {
          const a = call.args;
          const num = (v: string | undefined): number | undefined => (v !== undefined && /^\d{1,10}$/.test(v.trim()) ? Number(v.trim()) : undefined);
          const mapping =
            call.action === 'AddPortMapping' || call.action === 'DeletePortMapping' || call.action === 'AddAnyPortMapping'
              ? {
                  protocol: a.NewProtocol,
                  externalPort: num(a.NewExternalPort),
                  internalPort: num(a.NewInternalPort),
                  internalClient: a.NewInternalClient,
                  description: a.NewPortMappingDescription,
                  leaseSeconds: num(a.NewLeaseDuration),
                  remoteHost: a.NewRemoteHost,
                  enabled: a.NewEnabled === undefined ? undefined : a.NewEnabled.trim() === '1' || /^true$/i.test(a.NewEnabled.trim()),
                }
              : undefined;
          host.emit({
            kind: 'upnp-soap',
            ts: m.ts,
          frame: m.frame,
          file,
          device,
            flowId: flow.id,
            client: host.client(flow),
            server: host.server(flow),
            action: call.action,
            serviceType: call.serviceType,
            controlPath: h.target,
            args: call.args,
            mapping,
          });
        }
      }
    } else if (host.wanted['http-response']) {
      const req = m.request;
      host.emit({
        kind: 'http-response',
        ts: m.ts,
        frame: m.frame,
        file,
        device,
        flowId: flow.id,
        client: host.client(flow),
        server: host.server(flow),
        status: h.status,
        reason: h.reason,
        version: h.version,
        contentType: header(h, 'content-type'),
        contentLength: m.contentLength,
        serverHeader: header(h, 'server'),
        authChallenge: header(h, 'www-authenticate')?.split(' ')[0],
        request: req,
        bodyPrefix: prefix,
      });
    }
  }

  close(host: AppHost, flow: Flow): void {
    this.flush(host, flow, true, this.dirs[0]);
    this.flush(host, flow, false, this.dirs[1]);
  }
}

// ---------------------------------------------------------------------------
// TLS

class TlsApp implements FlowAnalyzer {
  done = false;
  private c: TlsRecordStream;
  private s: TlsRecordStream;
  private sni: string | undefined;
  private tls13 = false;
  private seen = 0;

  constructor(private readonly host: AppHost, private readonly flow: Flow) {
    this.c = new TlsRecordStream({
      handshake: (type, b, o, end, rv) => this.handshake(true, type, b, o, end, rv),
      alert: (level, desc) => this.alert(false, level, desc),
      sslv2Hello: (b, o, end) => this.clientHello(decodeSslv2ClientHello(b, o, end)),
    });
    this.s = new TlsRecordStream({
      handshake: (type, b, o, end, rv) => this.handshake(false, type, b, o, end, rv),
      alert: (level, desc) => this.alert(true, level, desc),
    });
  }

  data(_host: AppHost, _flow: Flow, toServer: boolean, b: Uint8Array, o: number, end: number): void {
    this.seen += end - o;
    (toServer ? this.c : this.s).push(b, o, end);
    if ((this.c.done && this.s.done) || this.seen > 512 * 1024) this.done = true;
  }

  private alert(fromServer: boolean, level: number | undefined, description: number | undefined): void {
    const host = this.host;
    if (level === undefined || !host.wanted['tls-alert']) return;
    host.emit({ kind: 'tls-alert', ts: host.ts, frame: host.frame, file: host.file, device: host.deviceRef(this.flow), flowId: this.flow.id, client: host.client(this.flow), server: host.server(this.flow), fromServer, level, description });
  }

  /** A ClientHello, in TLS's format or SSLv2's (RFC 5246 Appendix E.2: no extensions, no JA3 or JA4). */
  private clientHello(r: Decoded<ClientHello>): void {
    if (!r.ok) return;
    const host = this.host;
    const flow = this.flow;
    const ch = r.value;
    this.sni = ch.sni;
    if (ch.sni) host.nameHint(flow, ch.sni);
    if (!host.wanted['tls-client-hello'] && !host.wanted['tls-server-hello'] && !host.wanted['tls-certificate'] && !host.wanted['tls-alert']) {
      // the SNI was all the engine needed
      this.c.stop();
      this.s.stop();
      this.done = true;
      return;
    }
    // the ClientHello is all the client side gives (its later records matter only to alert listeners)
    if (!host.wanted['tls-alert']) this.c.stop();
    if (!host.wanted['tls-client-hello']) return;
    const v2 = ch.sslv2Ciphers !== undefined;
    const j3 = v2 ? { text: '', hash: '' } : ja3(ch);
    const versions = ch.supportedVersions.length > 0 ? ch.supportedVersions : [ch.helloVersion];
    host.emit({
      kind: 'tls-client-hello',
      ts: host.ts, frame: host.frame, file: host.file, device: host.deviceRef(flow),
      flowId: flow.id,
      client: host.client(flow),
      server: host.server(flow),
      recordVersion: ch.recordVersion,
      helloVersion: ch.helloVersion,
      supportedVersions: ch.supportedVersions,
      maxVersion: tlsVersionName(Math.max(...versions)),
      sni: ch.sni,
      alpn: ch.alpn,
      ciphers: ch.ciphers,
      extensions: ch.extensions,
      groups: ch.groups,
      pointFormats: ch.pointFormats,
      signatureAlgorithms: ch.signatureAlgorithms,
      ja3: j3.text,
      ja3Hash: j3.hash,
      ja4: v2 ? '' : ja4(ch),
      ...(v2 ? { sslv2Ciphers: ch.sslv2Ciphers } : {}),
    });
  }

  private handshake(fromClient: boolean, type: number, b: Uint8Array, o: number, end: number, rv: number): void {
    const host = this.host;
    const flow = this.flow;
    if (fromClient && type === 1) {
      this.clientHello(decodeClientHello(b, o, end, rv));
    } else if (!fromClient && type === 2) {
      const r = decodeServerHello(b, o, end, rv);
      if (!r.ok) return;
      const sh = r.value;
      if (sh.version === 0x0304) {
        // TLS 1.3 (RFC 8446 §2): everything after the ServerHello is encrypted
        this.tls13 = true;
        this.s.stop();
        this.c.stop();
      }
      // nothing after the ServerHello is wanted: stop reading the server side (the engine then stops reassembling the flow)
      if (!host.wanted['tls-certificate'] && !host.wanted['tls-alert']) this.s.stop();
      if (!host.wanted['tls-server-hello']) return;
      const j = ja3s(sh);
      host.emit({
        kind: 'tls-server-hello',
        ts: host.ts, frame: host.frame, file: host.file, device: host.deviceRef(flow),
        flowId: flow.id,
        client: host.client(flow),
        server: host.server(flow),
        recordVersion: sh.recordVersion,
        helloVersion: sh.helloVersion,
        version: sh.version,
        versionName: tlsVersionName(sh.version),
        cipher: sh.cipher,
        cipherName: cipherName(sh.cipher),
        alpn: sh.alpn,
        extensions: sh.extensions,
        ja3s: j.text,
        ja3sHash: j.hash,
      });
    } else if (!fromClient && type === 11) {
      if (!host.wanted['tls-certificate']) return;
      const r = decodeCertificateList(b, o, end, this.tls13);
      if (!r.ok) return;
      const chain: TlsCertificateInfo[] = [];
      let unparsed = 0;
      for (const der of r.value) {
        const c = summarizeCertificate(der);
        if (c) chain.push(c);
        else unparsed++;
      }
      // one Certificate per handshake: the rest of the server's flight matters only to alert listeners
      if (!host.wanted['tls-alert']) this.s.stop();
      const leaf = chain[0];
      const t = host.ts * 1000;
      host.emit({
        kind: 'tls-certificate',
        ts: host.ts, frame: host.frame, file: host.file, device: host.deviceRef(flow),
        flowId: flow.id,
        client: host.client(flow),
        server: host.server(flow),
        sni: this.sni,
        chain,
        unparsed,
        expiredAtCapture: leaf !== undefined && Date.parse(leaf.validTo) < t,
        notYetValidAtCapture: leaf !== undefined && Date.parse(leaf.validFrom) > t,
      });
    } else if (!fromClient && type === 14) {
      // ServerHelloDone: the server's handshake messages are over; a fatal alert may still come in clear
      // (a client certificate it wanted and did not get), for those who listen
      if (!host.wanted['tls-alert']) this.s.stop();
    }
  }
}

// ---------------------------------------------------------------------------
// MQTT

class MqttApp implements FlowAnalyzer {
  done = false;
  /** Per direction, the first packet until it is whole. */
  private q: [ByteQueue, ByteQueue] = [new ByteQueue(), new ByteQueue()];
  private got: [boolean, boolean] = [false, false];

  data(host: AppHost, flow: Flow, toServer: boolean, b: Uint8Array, o: number, end: number): void {
    const i = toServer ? 0 : 1;
    if (this.got[i]) return;
    const q = this.q[i];
    const held = q.length > 0;
    if (held) q.append(b, o, end);
    const d = held ? q.buf : b;
    const n = held ? q.length : end;
    const s = held ? 0 : o;
    const rl = mqttVarint(d, s + 1, n);
    if (!rl) {
      if (n - s >= 5) {
        this.got[i] = true;
        q.clear();
      } else if (!held) q.append(d, s, n);
      this.check();
      return;
    }
    const total = 1 + rl[1] + rl[0];
    if (n - s < total && total < 65536) {
      if (!held) q.append(d, s, n);
      return;
    }
    this.got[i] = true;
    if (toServer) {
      const r = decodeMqttConnect(d, s, n);
      if (r.ok && host.wanted['mqtt-connect']) {
        host.emit({ kind: 'mqtt-connect', ts: host.ts, frame: host.frame, file: host.file, device: host.deviceRef(flow), flowId: flow.id, client: host.client(flow), server: host.server(flow), ...r.value });
      }
    } else {
      const r = decodeMqttConnack(d, s, n);
      if (r.ok && host.wanted['mqtt-connack']) {
        host.emit({ kind: 'mqtt-connack', ts: host.ts, frame: host.frame, file: host.file, device: host.deviceRef(flow), flowId: flow.id, client: host.client(flow), server: host.server(flow), returnCode: r.value.returnCode, accepted: r.value.returnCode === 0 });
      }
    }
    q.clear();
    this.check();
  }

  private check(): void {
    if (this.got[0] && this.got[1]) this.done = true;
  }
}

// ---------------------------------------------------------------------------
// telnet / FTP logins

const LOGIN_CAP = 256 * 1024;

class LoginApp implements FlowAnalyzer {
  done = false;
  private sm: TelnetLogin | FtpLogin;
  constructor(private readonly service: LoginEvent['service']) {
    this.sm = service === 'telnet' ? new TelnetLogin() : new FtpLogin();
  }
  data(host: AppHost, flow: Flow, toServer: boolean, b: Uint8Array, o: number, end: number): void {
    // a login is over long before LOGIN_CAP bytes: never read past it, however large the segment
    const stop = Math.min(end, o + Math.max(1, LOGIN_CAP + 1 - this.sm.seen));
    const steps: LoginStep[] = toServer ? this.sm.fromClient(b, o, stop) : this.sm.fromServer(b, o, stop);
    if (this.sm.done || this.sm.seen > LOGIN_CAP) this.done = true;
    if (steps.length === 0 || !host.wanted['login']) return;
    for (const s of steps) {
      host.emit({
        kind: 'login',
        ts: host.ts, frame: host.frame, file: host.file, device: host.deviceRef(flow),
        service: this.service,
        flowId: flow.id,
        client: host.client(flow),
        server: host.server(flow),
        step: s.step,
        username: s.username,
        passwordInClear: s.step === 'attempt',
        attempt: s.attempt,
        serverText: s.serverText,
      });
    }
  }
}

// ---------------------------------------------------------------------------
// registries

/** Shared, stateless analyzers for UDP services, keyed by port. */
const udpDhcp = new DhcpApp();
const udpSsdp = new SsdpApp();
const udpPortMap = new PortMapApp();
const udpMdns = new Mdns();

export const UDP_APPS = new Map<number, [string, () => FlowAnalyzer]>([
  [53, ['dns', () => new UdpDns()]],
  [5353, ['mdns', () => udpMdns]],
  [5355, ['llmnr', () => new UdpDns()]],
  [67, ['dhcp', () => udpDhcp]],
  [68, ['dhcp', () => udpDhcp]],
  [1900, ['ssdp', () => udpSsdp]],
  [5351, ['natpmp', () => udpPortMap]],
  [5350, ['natpmp', () => udpPortMap]],
]);

export const TCP_APPS = new Map<number, [string, (host: AppHost, flow: Flow) => FlowAnalyzer]>([
  [80, ['http', () => new HttpApp()]],
  [8080, ['http', () => new HttpApp()]],
  [8000, ['http', () => new HttpApp()]],
  [8008, ['http', () => new HttpApp()]],
  [8081, ['http', () => new HttpApp()]],
  [5000, ['http', () => new HttpApp()]],
  [49152, ['http', () => new HttpApp()]],
  [443, ['tls', (h, f) => new TlsApp(h, f)]],
  [8443, ['tls', (h, f) => new TlsApp(h, f)]],
  [8883, ['tls', (h, f) => new TlsApp(h, f)]],
  [1883, ['mqtt', () => new MqttApp()]],
  [23, ['telnet', () => new LoginApp('telnet')]],
  [2323, ['telnet', () => new LoginApp('telnet')]],
  [21, ['ftp', () => new LoginApp('ftp')]],
  [53, ['dns', () => new TcpDns()]],
]);

/** Recognise a TCP application from the first payload bytes of either side. */
export function sniffTcp(b: Uint8Array, o: number, end: number, host: AppHost, flow: Flow): [string, FlowAnalyzer | null] | undefined {
  const n = end - o;
  if (n >= 3 && b[o] === 0x16 && b[o + 1] === 3 && b[o + 2] <= 4) return ['tls', new TlsApp(host, flow)];
  // an old client's SSLv2-format ClientHello (RFC 5246 Appendix E.2)
  if (sslv2HelloLength(b, o, end) > 0) return ['tls', new TlsApp(host, flow)];
  if (looksLikeHttpStart(b, o, end)) {
    // RTSP shares the syntax; keep the app name honest
    const rtsp = b[o] === 0x52 && b[o + 1] === 0x54 && b[o + 2] === 0x53 && b[o + 3] === 0x50;
    return [rtsp ? 'rtsp' : 'http', new HttpApp()];
  }
  if (n >= 4 && b[o] === 0x53 && b[o + 1] === 0x53 && b[o + 2] === 0x48 && b[o + 3] === 0x2d) return ['ssh', null];
  if (n >= 8 && b[o] === 0x10) {
    const rl = mqttVarint(b, o + 1, end);
    if (rl) {
      const p = o + 1 + rl[1];
      if (p + 6 <= end && b[p] === 0 && (b[p + 1] === 4 || b[p + 1] === 6) && b[p + 2] === 0x4d && b[p + 3] === 0x51) return ['mqtt', new MqttApp()];
    }
  }
  return undefined;
}
