// The nftables table tls-check adds on the router, as text, and the reading of
// its sets. One table of our own (family ip), so removing it is one
// `delete table` and the rest of the router's ruleset is never edited.

export const TLSCHECK_TABLE = 'iotguard_tlscheck';

/** Ports redirected from the start: HTTPS and MQTT over TLS. */
export const DEFAULT_TLS_PORTS = [443, 8883];

/**
 * Ports never learned from the device's traffic: cleartext protocols where the
 * server speaks first or TLS is very unlikely, so redirecting them would only
 * add latency.
 */
export const NEVER_LEARN_PORTS = new Set([21, 22, 23, 25, 53, 80, 110, 143, 554, 1883, 2323]);

export interface InterceptTableOptions {
  table?: string;
  device: string;
  listenIp: string;
  listenPort: number;
  ports: number[];
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

export function renderInterceptTable(o: InterceptTableOptions): string {
  const table = o.table ?? TLSCHECK_TABLE;
  if (!/^[a-z][a-z0-9_]{0,31}$/.test(table)) throw new Error(`bad table name ${table}`);
  if (!IPV4.test(o.device) || !IPV4.test(o.listenIp)) throw new Error('device and listen address must be IPv4 addresses');
  if (!Number.isInteger(o.listenPort) || o.listenPort < 1 || o.listenPort > 65535) throw new Error('bad listen port');
  const ports = [...new Set(o.ports)].filter((p) => Number.isInteger(p) && p > 0 && p < 65536).sort((a, b) => a - b);
  if (ports.length === 0) throw new Error('no ports to redirect');
  return [
    `table ip ${table} {`,
    '  set ports {',
    '    type inet_service',
    `    elements = { ${ports.join(', ')} }`,
    '  }',
    '  set seen {',
    '    type inet_service',
    '    size 1024',
    '    flags dynamic',
    '  }',
    '  chain prerouting {',
    // before the router's own dstnat chains (priority -100), so a UPnP or port-forward rule never sees these packets first
    '    type nat hook prerouting priority dstnat - 10; policy accept;',
    `    ip saddr ${o.device} tcp dport @ports fib daddr type != local counter dnat to ${o.listenIp}:${o.listenPort}`,
    '  }',
    '  chain forward {',
    '    type filter hook forward priority filter - 10; policy accept;',
    // remember the device's other TCP destination ports: TLS may run there too
    `    ip saddr ${o.device} ct state new tcp dport != @ports add @seen { tcp dport }`,
    '  }',
    '}',
    '',
  ].join('\n');
}

/** Elements of a set from `nft -j list set ...` output; [] when unreadable. */
export function parseNftSetJson(text: string): number[] {
  try {
    const doc = JSON.parse(text) as { nftables?: Array<{ set?: { elem?: unknown[] } }> };
    const set = doc.nftables?.find((x) => x.set)?.set;
    const out: number[] = [];
    for (const e of set?.elem ?? []) {
      if (typeof e === 'number' && Number.isInteger(e) && e > 0 && e < 65536) out.push(e);
      else if (e && typeof e === 'object' && 'elem' in e) {
        const v = (e as { elem: { val?: unknown } | number }).elem;
        const n = typeof v === 'number' ? v : typeof v?.val === 'number' ? v.val : NaN;
        if (Number.isInteger(n) && n > 0 && n < 65536) out.push(n);
      }
    }
    return out;
  } catch {
    return [];
  }
}

/** Whether `nft list tables` output shows our table. */
export function hasTable(listTables: string, table = TLSCHECK_TABLE): boolean {
  return listTables.split('\n').some((l) => l.trim() === `table ip ${table}`);
}

/** Packets counted by the DNAT rule, from `nft -j list chain ip TABLE prerouting`; undefined when unreadable. */
export function parseRedirectCounter(text: string): number | undefined {
  try {
    const doc = JSON.parse(text) as { nftables?: Array<{ rule?: { expr?: Array<{ counter?: { packets?: number } }> } }> };
    for (const item of doc.nftables ?? []) {
      for (const e of item.rule?.expr ?? []) {
        if (typeof e.counter?.packets === 'number') return e.counter.packets;
      }
    }
  } catch {
    /* unreadable */
  }
  return undefined;
}
