// Recovering where a redirected connection was going. After nftables DNAT the
// socket's local address is the interceptor's; the kernel keeps the original
// tuple in conntrack. Node cannot call getsockopt(SO_ORIGINAL_DST), so the
// adapter reads the conntrack table (/proc/net/nf_conntrack, or `conntrack -L`
// which prints the same key=value tuples) and this module finds the entry.

export interface OriginalDestination {
  ip: string;
  port: number;
}

interface Tuple {
  src: string;
  dst: string;
  sport: number;
  dport: number;
}

/** The original and reply tuples of one conntrack line; undefined for non-TCP or unreadable lines. */
export function parseConntrackLine(line: string): { orig: Tuple; reply: Tuple } | undefined {
  if (!/\btcp\b/.test(line)) return undefined;
  const tuples: Array<Partial<Tuple>> = [{}, {}];
  let i = 0;
  for (const tok of line.split(/\s+/)) {
    const eq = tok.indexOf('=');
    if (eq <= 0) continue;
    const k = tok.slice(0, eq);
    const v = tok.slice(eq + 1);
    if (k !== 'src' && k !== 'dst' && k !== 'sport' && k !== 'dport') continue;
    const t = tuples[i];
    if (t === undefined) break;
    if (k === 'src' || k === 'dst') t[k] = v;
    else t[k] = Number(v);
    if (t.src !== undefined && t.dst !== undefined && t.sport !== undefined && t.dport !== undefined) i++;
  }
  const ok = (t: Partial<Tuple>): t is Tuple =>
    typeof t.src === 'string' && typeof t.dst === 'string' && Number.isInteger(t.sport) && Number.isInteger(t.dport);
  const [orig, reply] = tuples;
  if (!ok(orig) || !ok(reply)) return undefined;
  return { orig, reply };
}

/**
 * The original destination of the connection the interceptor accepted from
 * `client` (address, port) on `local` (its own address, port): the entry whose
 * original tuple starts at the client and whose reply tuple comes from the
 * interceptor — that is exactly what DNAT rewrote.
 */
export function findOriginalDestination(
  table: string,
  client: { ip: string; port: number },
  local: { ip: string; port: number },
): OriginalDestination | undefined {
  for (const line of table.split('\n')) {
    if (!line.includes(`sport=${client.port}`)) continue;
    const e = parseConntrackLine(line);
    if (!e) continue;
    if (e.orig.src !== client.ip || e.orig.sport !== client.port) continue;
    if (e.reply.src !== local.ip || e.reply.sport !== local.port) continue;
    if (e.orig.dst === local.ip && e.orig.dport === local.port) return undefined; // not redirected: a direct connection to the interceptor
    return { ip: e.orig.dst, port: e.orig.dport };
  }
  return undefined;
}
