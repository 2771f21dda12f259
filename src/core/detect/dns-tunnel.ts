// dns-tunnel: DNS used as a data channel. Per device and registered domain
// (tldts, private suffixes such as dynamic-DNS zones included), the detector
// keeps what distinguishes a tunnel from lookups: many distinct names below
// one zone, long high-entropy labels, the share of TXT/NULL/CNAME/MX/SRV
// queries, the volume. Known tools (iodine, dnscat2, dns2tcp, DNSExfiltrator,
// sods) are recognised by the shapes their encoders leave in the names, and
// the finding names the tunnel's zone (the suffix every data query shares).
import { getDomain } from 'tldts';
import type { DetectorConfig } from './config.js';
import type { Detector, DeviceRef, DnsEvent, EngineEvent, Subscription } from '../engine/events.js';
import type { Finding } from '../model/finding.js';
import { Capped, deviceKeyOf, deviceOf, endpointText, entropy, printable, prune } from './util.js';

const MAX_GROUPS = 20_000;

const WANTS: readonly Subscription[] = ['dns-query'];

/** Record types a tunnel uses to carry data back (RFC 1035 NULL/TXT/CNAME/MX, SRV, iodine's PRIVATE 65399, ANY). */
const ODD_TYPES = new Set([5, 10, 15, 16, 33, 65399, 255]);

export type TunnelTool = 'iodine' | 'dnscat2' | 'dns2tcp' | 'DNSExfiltrator' | 'sods';

const MAX_NAMES = 256;
const MAX_UNIQUE = 20_000;
/** Queried names whose domain and subdomain are remembered (cleared when full). */
const MAX_NAME_CACHE = 10_000;

interface NameInfo {
  name: string;
  domain: string;
  sub: string;
}

/** A name's signature of a known tool, judged from the name alone (and its query type). */
export function toolSignature(name: string, type: number): { tool: TunnelTool; strong: boolean } | undefined {
  const n = name.toLowerCase();
  // iodine's handshake probes the path with fixed strings (its source: "Aaahhh-Drink-mal-ein-Jägermeister")
  if (n.includes('aaahhh-drink-mal-ein')) return { tool: 'iodine', strong: true };
  // dns2tcp: "<data>.=auth.<zone>", "=connect", "=resource"
  if (/(?:^|\.)=(?:auth|connect|resource)\./.test(n)) return { tool: 'dns2tcp', strong: true };
  // DNSExfiltrator: "init.<base32 file info>.base64.<zone>" (or base32) opens the transfer
  if (/^init\.[a-z2-7]{8,}\.(?:base64|base32)\./.test(n)) return { tool: 'DNSExfiltrator', strong: true };
  // sods: "<seq>-<rand>.id-<session>.down.<zone>" / "...id-<session>.up.<zone>"
  if (/(?:^|\.)id-\d{1,6}\.(?:up|down)\./.test(n)) return { tool: 'sods', strong: true };
  if (n.startsWith('dnscat.')) return { tool: 'dnscat2', strong: true };
  // iodine data/handshake queries ride NULL (or PRIVATE) records
  if (type === 10 || type === 65399) return { tool: 'iodine', strong: false };
  // dnscat2: hex of [packet id:2][type:1 (00 SYN, 01 MSG, 02 FIN, 03 ENC, ff PING)][session:2]...
  const first = n.split('.', 1)[0];
  if (/^[0-9a-f]{18,}$/.test(first) && first.length % 2 === 0 && /^(?:00|01|02|03|ff)$/.test(first.slice(4, 6))) return { tool: 'dnscat2', strong: false };
  // DNSExfiltrator data: "<chunk no>.<base64url>.<base64url>...<zone>"
  if (/^\d{1,6}\.[a-z0-9_-]{30,}\./.test(n)) return { tool: 'DNSExfiltrator', strong: false };
  return undefined;
}

/** True when a name's labels look like encoded data (one long, high-entropy label). */
export function looksEncoded(sub: string, minLen: number, minEntropy: number): boolean {
  for (const l of sub.split('.')) {
    if (l.length >= minLen && entropy(l) >= minEntropy) return true;
  }
  // many medium labels joined (base32 split every 63 chars is caught above; this catches 3 x 16+)
  const joined = sub.replace(/\./g, '');
  return joined.length >= minLen * 2 && entropy(joined) >= minEntropy + 0.4;
}

/** Longest common label suffix of the names. */
export function commonZone(names: string[]): string {
  if (names.length === 0) return '';
  let suffix = names[0].toLowerCase().split('.').reverse();
  for (const n of names.slice(1)) {
    const l = n.toLowerCase().split('.').reverse();
    let i = 0;
    while (i < suffix.length && i < l.length && suffix[i] === l[i]) i++;
    suffix = suffix.slice(0, i);
    if (suffix.length === 0) break;
  }
  return suffix.reverse().join('.');
}

interface Group {
  device: DeviceRef;
  /** deviceKey(device): the group's place in the index. */
  deviceKey: string;
  domain: string;
  queries: number;
  /** Bytes of the queries (DNS message sizes). */
  bytes: number;
  /** Distinct (subdomain, record type) → its classification. */
  unique: Map<string, { enc: boolean; sig: { tool: TunnelTool; strong: boolean } | undefined }>;
  /** Distinct subdomains. */
  subs: Set<string>;
  subLenSum: number;
  /** Character counts over every distinct subdomain (for the entropy of the channel). */
  chars: Map<number, number>;
  charTotal: number;
  encoded: number;
  oddTypes: number;
  types: Map<string, number>;
  tools: Map<TunnelTool, { hits: number; strong: boolean }>;
  /** Names that carry data (encoded or signed), to find the zone. */
  dataNames: string[];
  samples: string[];
  frames: Capped<number>;
  file: string;
  firstTs: number;
  lastTs: number;
  resolvers: Set<string>;
  /** The resolver of the previous query (a device asks the same one again and again: its text is made once). */
  lastResolver: string;
}

export function dnsTunnelDetector(cfg: DetectorConfig): Detector {
  const c = cfg.dnsTunnel;
  const groups = new Map<string, Group>();
  /** The same groups by device key, then registered domain. */
  const index = new Map<string, Map<string, Group>>();
  const domainCache = new Map<string, string | null>();

  const registered = (name: string): string | null => {
    // keyed by the last four labels: the registered domain never needs more (public suffixes have at most three)
    let cut = name.length;
    for (let i = 0; i < 4 && cut > 0; i++) cut = name.lastIndexOf('.', cut - 1);
    const tail = cut > 0 ? name.slice(cut + 1) : name;
    let d = domainCache.get(tail);
    if (d === undefined) {
      d = getDomain(tail, { allowPrivateDomains: true, validateHostname: false });
      if (domainCache.size > 50_000) domainCache.clear();
      domainCache.set(tail, d);
    }
    return d;
  };

  /**
   * A queried name as the statistics see it (lower case, no final dot), its
   * registered domain and the subdomain under it; null for names never
   * counted. Devices ask for the same few names over and over: each is worked
   * out once (a tunnel's names are all new, and pass through).
   */
  const names = new Map<string, NameInfo | null>();
  const nameInfo = (raw: string): NameInfo | null => {
    let info = names.get(raw);
    if (info !== undefined) return info;
    let name = raw;
    if (name.charCodeAt(name.length - 1) === 46) name = name.slice(0, -1);
    name = name.toLowerCase();
    const domain = name.endsWith('.arpa') || name.endsWith('.local') || name.indexOf('.') < 0 ? null : registered(name);
    info = domain ? { name, domain, sub: name.length > domain.length ? name.slice(0, name.length - domain.length - 1) : '' } : null;
    if (names.size >= MAX_NAME_CACHE) names.clear();
    names.set(raw, info);
    return info;
  };

  const onDns = (e: DnsEvent) => {
    // the queries carry the data upstream and are what the statistics describe; answers are skipped (half the events)
    if (e.response) return;
    const q = e.questions[0];
    if (!q || q.name.length === 0) return;
    const info = nameInfo(q.name);
    if (info === null) return;
    const { name, domain, sub } = info;
    const dk = deviceKeyOf(e, e.client, e.server);
    // found through device, then domain: no key string is built per query
    let byDomain = index.get(dk);
    let g = byDomain?.get(domain);
    if (!g) {
      const device = deviceOf(e, e.client, e.server);
      g = {
        device,
        deviceKey: dk,
        domain,
        queries: 0,
        bytes: 0,
        unique: new Map(),
        subs: new Set(),
        subLenSum: 0,
        chars: new Map(),
        charTotal: 0,
        encoded: 0,
        oddTypes: 0,
        types: new Map(),
        tools: new Map(),
        dataNames: [],
        samples: [],
        frames: new Capped(cfg.maxEvidence),
        file: e.file,
        firstTs: e.ts,
        lastTs: e.ts,
        resolvers: new Set(),
        lastResolver: '',
      };
      const before = groups.size;
      prune(groups, MAX_GROUPS, (x) => x.queries >= c.minQueries || x.encoded > 0 || x.tools.size > 0);
      if (groups.size !== before) {
        // groups went: the index is made again from those kept (rare: only at MAX_GROUPS)
        index.clear();
        for (const x of groups.values()) {
          let m = index.get(x.deviceKey);
          if (m === undefined) index.set(x.deviceKey, (m = new Map()));
          m.set(x.domain, x);
        }
        byDomain = index.get(dk);
      }
      groups.set(`${dk}|${domain}`, g);
      if (byDomain === undefined) index.set(dk, (byDomain = new Map()));
      byDomain.set(domain, g);
    }
    g.bytes += e.size;
    if (e.ts > g.lastTs) g.lastTs = e.ts;
    g.queries++;
    if (g.resolvers.size < 5 && (e.server.ip !== g.lastResolver || g.resolvers.size === 0)) {
      g.resolvers.add(endpointText(e.server));
      g.lastResolver = e.server.ip;
    }
    g.frames.push(e.frame);
    g.types.set(q.typeName, (g.types.get(q.typeName) ?? 0) + 1);
    if (ODD_TYPES.has(q.type)) g.oddTypes++;
    // the costly part (entropy, signatures) runs once per distinct name; repeated lookups reuse it
    const key = q.type === 10 || q.type === 65399 ? `${sub}\u0000${q.type}` : sub;
    let cls = g.unique.get(key);
    if (cls === undefined) {
      const enc = sub !== '' && looksEncoded(sub, c.encodedLabelLength, c.encodedLabelEntropy);
      cls = { enc, sig: c.recogniseTools ? toolSignature(name, q.type) : undefined };
      if (g.unique.size < MAX_UNIQUE && sub !== '') {
        g.unique.set(key, cls);
        if (!g.subs.has(sub)) {
          g.subs.add(sub);
          g.subLenSum += sub.length;
          for (let i = 0; i < sub.length; i++) {
            const ch = sub.charCodeAt(i);
            if (ch === 46) continue;
            g.chars.set(ch, (g.chars.get(ch) ?? 0) + 1);
            g.charTotal++;
          }
        }
      }
    }
    const enc = cls.enc;
    if (enc) g.encoded++;
    const sig = cls.sig;
    if (sig) {
      const t = g.tools.get(sig.tool) ?? { hits: 0, strong: false };
      t.hits++;
      t.strong ||= sig.strong;
      g.tools.set(sig.tool, t);
    }
    if ((enc || sig) && g.dataNames.length < MAX_NAMES) g.dataNames.push(name);
    if (g.samples.length < 5 && (enc || sig || g.samples.length < 2) && !g.samples.includes(name)) g.samples.push(printable(name, 120));
  };

  return {
    name: 'dns-tunnel',
    wants: WANTS,
    onEvent(e: EngineEvent): void {
      if (e.kind === 'dns') onDns(e);
    },
    finish(): Finding[] {
      const out: Finding[] = [];
      for (const g of groups.values()) {
        if (g.queries === 0) continue;
        const unique = g.subs.size;
        const meanSub = unique > 0 ? g.subLenSum / unique : 0;
        let h = 0;
        for (const n of g.chars.values()) {
          const p = n / g.charTotal;
          h -= p * Math.log2(p);
        }
        const encodedShare = g.encoded / g.queries;
        const oddShare = g.oddTypes / g.queries;
        // a named tool: a strong mark, or the weak mark on most of the queries
        let tool: TunnelTool | undefined;
        let best = 0;
        for (const [t, v] of g.tools) {
          const ok = (v.strong && v.hits >= 1 && unique >= 3) || (v.hits >= 3 && v.hits >= g.queries * 0.5 && unique >= 3);
          if (ok && v.hits > best) {
            tool = t;
            best = v.hits;
          }
        }
        // the statistics: most names encoded, or fewer encoded names but carried in data records (TXT/NULL/CNAME...)
        const base = g.queries >= c.minQueries && unique >= c.minUniqueSubdomains;
        const mostlyEncoded = encodedShare >= c.minEncodedShare && (meanSub >= c.minMeanSubdomainLength || h >= c.minEntropy);
        const dataRecords = encodedShare >= c.minEncodedShareWithOddTypes && oddShare >= c.minOddTypeShare && h >= c.minEntropy && meanSub >= c.minMeanSubdomainLength;
        const generic = base && (mostlyEncoded || dataRecords);
        if (!tool && !generic) continue;
        const zone = g.dataNames.length >= 2 ? commonZone(g.dataNames) : g.domain;
        const tunnelZone = zone.length >= g.domain.length && zone.endsWith(g.domain) ? zone : g.domain;
        const span = Math.max(0, g.lastTs - g.firstTs);
        const minutes = Math.max(span / 60, 1 / 60);
        const who = g.device.ip ?? g.device.mac ?? 'a device';
        const types: Record<string, number> = {};
        for (const [t, n] of [...g.types].sort((a, b) => b[1] - a[1])) types[t] = n;
        out.push({
          id: 'dns-tunnel',
          severity: 'high',
          title: `${who} tunnels data through DNS under ${tunnelZone}${tool ? ` (${tool})` : ''}`,
          device: g.device,
          evidence: {
            domain: tunnelZone,
            registeredDomain: g.domain,
            ...(tool ? { tool } : {}),
            queries: g.queries,
            uniqueSubdomains: unique,
            uniqueSubdomainsPerMinute: Math.round((unique / minutes) * 10) / 10,
            meanSubdomainLength: Math.round(meanSub * 10) / 10,
            entropy: Math.round(h * 100) / 100,
            encodedShare: Math.round(encodedShare * 100) / 100,
            queryTypes: types,
            queryBytes: g.bytes,
            resolvers: [...g.resolvers],
            seconds: Math.round(span * 10) / 10,
            sampleNames: g.samples,
            file: g.file,
            frames: g.frames.items,
          },
          advice: `This device hides traffic inside DNS lookups for ${tunnelZone}, which is what malware and data thieves do: disconnect it, reset it to factory settings, and block ${g.domain} on your router.`,
        });
      }
      return out;
    },
  };
}
