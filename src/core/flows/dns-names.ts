// DNS correlation: which name each device looked up for each address, so a
// destination IP carries the name the device asked for (not a reverse lookup).
// Bounded: the oldest entries go first (an eighth at a time) when a map is full.

const PER_DEVICE = 50_000;
const GLOBAL = 200_000;

function setCapped(m: Map<string, string>, k: string, v: string, cap: number): void {
  const old = m.get(k);
  if (old === v) return;
  if (old === undefined && m.size >= cap) {
    // full: forget the oldest eighth (Map keeps insertion order). One at a time, each
    // `keys().next()` stepped over every slot deleted before it: O(cap) per answer.
    let n = Math.max(1, cap >> 3);
    for (const key of m.keys()) {
      m.delete(key);
      if (--n === 0) break;
    }
  }
  // the most recent answer wins
  m.set(k, v);
}

export class DnsNames {
  private perDevice = new Map<string, Map<string, string>>();
  private global = new Map<string, string>();

  learn(deviceKey: string | undefined, ip: string, name: string): void {
    if (deviceKey !== undefined) {
      let m = this.perDevice.get(deviceKey);
      if (!m) {
        m = new Map();
        this.perDevice.set(deviceKey, m);
      }
      setCapped(m, ip, name, PER_DEVICE);
    }
    setCapped(this.global, ip, name, GLOBAL);
  }

  /** The device's own lookup first; else what any device looked up (e.g. a capture that missed this device's query). */
  nameFor(deviceKey: string | undefined, ip: string): string | undefined {
    if (deviceKey !== undefined) {
      const n = this.perDevice.get(deviceKey)?.get(ip);
      if (n !== undefined) return n;
    }
    return this.global.get(ip);
  }
}
