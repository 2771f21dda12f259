// Reverse DNS (PTR) for discovered addresses, asked of one chosen server —
// by default the LAN's router, whose DHCP server knows every client's name —
// never the host's upstream resolvers, so no query leaves the scanned network.
import { Resolver } from 'node:dns/promises';

export async function reverseLookup(ips: string[], server: string, timeoutMs = 1500): Promise<Map<string, string>> {
  const resolver = new Resolver({ timeout: timeoutMs, tries: 1 });
  resolver.setServers([server]);
  const out = new Map<string, string>();
  let i = 0;
  const worker = async () => {
    while (i < ips.length) {
      const ip = ips[i++];
      try {
        const names = await resolver.reverse(ip);
        const name = names.find((n) => n && !/\.in-addr\.arpa$/i.test(n));
        if (name) out.set(ip, name.replace(/\.$/, ''));
      } catch {
        // no PTR record (NXDOMAIN) or no answer: the host just has no name here
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(16, ips.length) }, worker));
  return out;
}
