// Folding mDNS / DNS-SD answers (RFC 6762/6763) into per-host service lists:
// PTR (service type → instance), SRV (instance → host:port), TXT, A/AAAA
// (host → address). Pure: the browser adapter feeds it decoded records.

export interface MdnsRecord {
  name: string;
  type: string;
  /** A/AAAA: address; PTR: target name; SRV: { port, target }; TXT: Buffer[] or string[]. */
  data: unknown;
}

export interface MdnsServiceInstance {
  /** Service type, e.g. `_http._tcp`. */
  type: string;
  /** Instance name without the type suffix, e.g. `Living Room`. */
  name: string;
  host?: string;
  port?: number;
  txt?: Record<string, string>;
}

export interface MdnsHostInfo {
  address: string;
  hostname?: string;
  services: MdnsServiceInstance[];
}

export interface MdnsState {
  /** Service types seen in the _services._dns-sd._udp enumeration (to query next). */
  types: Set<string>;
  instances: Map<string, MdnsServiceInstance & { from?: string }>;
  /** host name → addresses */
  addresses: Map<string, Set<string>>;
}

export function newMdnsState(): MdnsState {
  return { types: new Set(), instances: new Map(), addresses: new Map() };
}

const lower = (s: string) => s.toLowerCase().replace(/\.$/, '');

/** `Living Room._raop._tcp.local` → { name: 'Living Room', type: '_raop._tcp' }. */
export function splitInstance(full: string): { name: string; type: string } | undefined {
  const m = /^(.*)\.(_[^.]+\._(?:tcp|udp))\.local\.?$/i.exec(full);
  if (!m) return undefined;
  return { name: m[1], type: m[2].toLowerCase() };
}

function txtToMap(data: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  const parts = Array.isArray(data) ? data : [data];
  for (const p of parts.slice(0, 64)) {
    const s = typeof p === 'string' ? p : p instanceof Uint8Array ? new TextDecoder().decode(p) : '';
    if (!s) continue;
    const eq = s.indexOf('=');
    const k = (eq >= 0 ? s.slice(0, eq) : s).slice(0, 64);
    if (k && !(k in out)) out[k] = eq >= 0 ? s.slice(eq + 1, eq + 257) : '';
  }
  return out;
}

/** Adds the records of one response, received from `from`, to the state. */
export function foldMdns(state: MdnsState, from: string, records: MdnsRecord[]): void {
  for (const r of records.slice(0, 512)) {
    if (!r || typeof r.name !== 'string') continue;
    const name = lower(r.name);
    if (r.type === 'PTR' && typeof r.data === 'string') {
      const target = lower(r.data);
      if (name === '_services._dns-sd._udp.local') {
        const t = /^(_[^.]+\._(?:tcp|udp))\.local$/i.exec(target);
        if (t) state.types.add(t[1].toLowerCase());
        continue;
      }
      const inst = splitInstance(r.data.replace(/\.$/, ''));
      if (inst) {
        const key = lower(`${inst.name}.${inst.type}`);
        if (!state.instances.has(key)) state.instances.set(key, { ...inst, from });
        state.types.add(inst.type);
      }
    } else if (r.type === 'SRV' && r.data && typeof r.data === 'object') {
      const inst = splitInstance(r.name.replace(/\.$/, ''));
      if (!inst) continue;
      const key = lower(`${inst.name}.${inst.type}`);
      const cur = state.instances.get(key) ?? { ...inst, from };
      const d = r.data as { port?: unknown; target?: unknown };
      if (typeof d.port === 'number') cur.port = d.port;
      if (typeof d.target === 'string') cur.host = lower(d.target);
      state.instances.set(key, cur);
    } else if (r.type === 'TXT') {
      const inst = splitInstance(r.name.replace(/\.$/, ''));
      if (!inst) continue;
      const key = lower(`${inst.name}.${inst.type}`);
      const cur = state.instances.get(key) ?? { ...inst, from };
      cur.txt = txtToMap(r.data);
      state.instances.set(key, cur);
    } else if ((r.type === 'A' || r.type === 'AAAA') && typeof r.data === 'string') {
      const set = state.addresses.get(name) ?? new Set<string>();
      set.add(r.data);
      state.addresses.set(name, set);
    }
  }
}

/** Groups what was learnt by IPv4 address: the host's A record when known, else who answered. */
export function mdnsHosts(state: MdnsState): MdnsHostInfo[] {
  const byIp = new Map<string, MdnsHostInfo>();
  const get = (ip: string) => {
    let h = byIp.get(ip);
    if (!h) byIp.set(ip, (h = { address: ip, services: [] }));
    return h;
  };
  for (const [host, addrs] of state.addresses) {
    for (const a of addrs) if (!a.includes(':')) get(a).hostname ??= host;
  }
  for (const inst of state.instances.values()) {
    const v4 = inst.host ? [...(state.addresses.get(inst.host) ?? [])].find((a) => !a.includes(':')) : undefined;
    const ip = v4 ?? inst.from;
    if (!ip) continue;
    const h = get(ip);
    if (inst.host && !h.hostname) h.hostname = inst.host;
    const { from: _from, ...svc } = inst;
    h.services.push(svc);
  }
  for (const h of byIp.values()) h.services.sort((a, b) => a.type.localeCompare(b.type) || a.name.localeCompare(b.name));
  return [...byIp.values()].filter((h) => h.services.length > 0 || h.hostname);
}
