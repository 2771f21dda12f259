// A detector that only listens: the DNS names each device asked for, which
// learn needs (tunnel-shaped names are recognised from the whole set) and
// which the engine's per-destination names do not carry when no flow followed.
import type { Detector, DnsEvent, EngineEvent } from '../engine/events.js';

export interface QueryLog {
  /** Device key (client MAC, else client IP) -> names asked (lower case), capped. */
  byDevice: Map<string, Set<string>>;
}

const MAX_NAMES_PER_DEVICE = 50_000;

export function createQueryCollector(): Detector & { log: QueryLog } {
  const log: QueryLog = { byDevice: new Map() };
  const add = (key: string, name: string) => {
    let s = log.byDevice.get(key);
    if (!s) log.byDevice.set(key, (s = new Set()));
    if (s.size < MAX_NAMES_PER_DEVICE) s.add(name.toLowerCase().replace(/\.$/, ''));
  };
  return {
    name: 'policy-dns-queries',
    wants: ['dns'],
    log,
    onEvent(e: EngineEvent) {
      const d = e as DnsEvent;
      if (d.response) return;
      const q = d.questions[0];
      if (!q || !q.name) return;
      if (d.client.mac) add(d.client.mac.toLowerCase(), q.name);
      add(d.client.ip, q.name);
    },
    finish() {
      return [];
    },
  };
}
