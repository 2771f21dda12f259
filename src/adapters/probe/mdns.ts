// mDNS / DNS-SD browser: asks `_services._dns-sd._udp.local` for the service
// types on the link, then each type for its instances. Queries go from an
// ephemeral port, so responders answer us by unicast (RFC 6762 §6.7, "legacy
// unicast") and we need not bind 5353 next to a local avahi.
import dgram from 'node:dgram';
import dnsPacket from 'dns-packet';
import { foldMdns, mdnsHosts, newMdnsState, type MdnsHostInfo, type MdnsRecord } from '../../core/inventory/mdns.js';

export interface MdnsBrowseOptions {
  /** Source address (selects the interface for multicast). */
  bindAddress?: string;
  /** Where to send queries: the mDNS group by default; tests point it at a loopback responder. */
  address?: string;
  port?: number;
  /** Longest listening time, ms. */
  timeoutMs?: number;
  /** Stop once nothing new arrived for this long (after the first answer), ms. */
  quietMs?: number;
  /** Only keep answers from addresses for which this returns true (stay inside the scanned networks). */
  accept?: (ip: string) => boolean;
}

export const MDNS_GROUP = '224.0.0.251';

export async function mdnsBrowse(opts: MdnsBrowseOptions = {}): Promise<MdnsHostInfo[]> {
  const address = opts.address ?? MDNS_GROUP;
  const port = opts.port ?? 5353;
  const timeoutMs = opts.timeoutMs ?? 1500;
  const quietMs = opts.quietMs ?? 300;
  let lastNews = 0;
  const state = newMdnsState();
  const asked = new Set<string>();
  const sock = dgram.createSocket({ type: 'udp4', reuseAddr: true });
  sock.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    sock.once('error', reject);
    sock.bind({ address: opts.bindAddress, port: 0 }, () => {
      sock.off('error', reject);
      resolve();
    });
  });
  if (address === MDNS_GROUP) {
    try {
      if (opts.bindAddress) sock.setMulticastInterface(opts.bindAddress);
      sock.setMulticastTTL(255);
    } catch {
      // leave the kernel's defaults
    }
  }
  let id = 1;
  const ask = (names: string[]) => {
    const fresh = names.filter((n) => !asked.has(n));
    if (fresh.length === 0) return;
    for (const n of fresh) asked.add(n);
    const buf = dnsPacket.encode({ type: 'query', id: id++, flags: 0, questions: fresh.map((name) => ({ type: 'PTR', name, class: 'IN' })) });
    sock.send(buf, port, address);
  };
  sock.on('message', (msg, rinfo) => {
    if (opts.accept && !opts.accept(rinfo.address)) return;
    let pkt: dnsPacket.DecodedPacket;
    try {
      pkt = dnsPacket.decode(msg);
    } catch {
      return;
    }
    if (pkt.type !== 'response') return;
    const records = [...(pkt.answers ?? []), ...(pkt.additionals ?? []), ...(pkt.authorities ?? [])] as unknown as MdnsRecord[];
    const before = state.types.size;
    lastNews = Date.now();
    foldMdns(state, rinfo.address, records);
    if (state.types.size !== before) ask([...state.types].map((t) => `${t}.local`));
  });
  ask(['_services._dns-sd._udp.local']);
  // Repeat once: the first query may race ARP or a responder's probe delay.
  const again = setTimeout(() => {
    asked.delete('_services._dns-sd._udp.local');
    ask(['_services._dns-sd._udp.local', ...[...state.types].map((t) => `${t}.local`)].filter((n) => n === '_services._dns-sd._udp.local' || !asked.has(n)));
  }, Math.min(300, timeoutMs / 3));
  // Answers to legacy-unicast queries come at once; stop when the link has been quiet a while.
  const t0 = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    await new Promise((r) => setTimeout(r, 50));
    if (lastNews > 0 && Date.now() - lastNews >= quietMs && Date.now() - t0 >= Math.min(600, timeoutMs)) break;
  }
  clearTimeout(again);
  sock.close();
  return mdnsHosts(state);
}
