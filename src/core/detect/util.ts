// Small helpers every detector shares: which device an event belongs to, a
// capped evidence list, entropy, and the flow description that goes into a
// finding's evidence. Pure and allocation-light.
import type { DeviceRef, Endpoint, EngineEvent } from '../engine/events.js';

/**
 * The device a finding is about: `prefer` (the side that acts: the client) when
 * it is on the LAN, else `other` when that is; with the engine's attribution
 * (MAC + address) when it names that side, else the endpoint's own MAC and
 * address. A capture that starts mid-connection can leave the flow attributed
 * to the other side, so the attribution is only trusted when it matches.
 */
export function deviceOf(e: { device?: DeviceRef }, prefer?: Endpoint, other?: Endpoint): DeviceRef {
  const ep = prefer?.local ? prefer : other?.local ? other : undefined;
  const d = e.device;
  if (ep === undefined) {
    if (d && (d.mac || d.ip)) return { ...d };
    const x = prefer ?? other;
    return { ...(x?.mac ? { mac: x.mac } : {}), ...(x?.ip ? { ip: x.ip } : {}) };
  }
  if (d && d.ip === ep.ip) return { ...d };
  return { ...(ep.mac ? { mac: ep.mac } : {}), ip: ep.ip };
}

/** The grouping key of deviceOf(e, prefer, other) without building the object (hot paths). */
export function deviceKeyOf(e: { device?: DeviceRef }, prefer?: Endpoint, other?: Endpoint): string {
  const ep = prefer?.local ? prefer : other?.local ? other : undefined;
  const d = e.device;
  if (ep === undefined) {
    if (d && (d.mac || d.ip)) return d.mac ?? `ip:${d.ip}`;
    const x = prefer ?? other;
    return x?.mac ?? `ip:${x?.ip ?? '?'}`;
  }
  if (d && d.ip === ep.ip) return d.mac ?? `ip:${d.ip}`;
  return ep.mac ?? `ip:${ep.ip}`;
}

/** A stable key for grouping by device. */
export function deviceKey(d: DeviceRef): string {
  return d.mac ?? `ip:${d.ip ?? '?'}`;
}

/** Keeps the first `cap` items and counts the rest. */
export class Capped<T> {
  readonly items: T[] = [];
  total = 0;
  constructor(private readonly cap: number) {}
  push(x: T): void {
    this.total++;
    if (this.items.length < this.cap) this.items.push(x);
  }
}

/** Where a packet is: file label and 1-based frame. */
export interface FrameRef {
  file: string;
  frame: number;
}

export const frameOf = (e: EngineEvent): FrameRef => ({ file: e.file, frame: e.frame });

/** Frames as evidence: a plain list of numbers when they all come from one file, else `file#frame` strings. */
export function framesEvidence(frames: FrameRef[]): { file?: string; frames: Array<number | string> } {
  if (frames.length === 0) return { frames: [] };
  const f0 = frames[0].file;
  if (frames.every((f) => f.file === f0)) return { file: f0, frames: frames.map((f) => f.frame) };
  return { frames: frames.map((f) => `${f.file}#${f.frame}`) };
}

export function endpointText(ep: Endpoint): string {
  const host = ep.ip.includes(':') ? `[${ep.ip}]` : ep.ip;
  return ep.port === undefined ? host : `${host}:${ep.port}`;
}

/** A flow as evidence: `client → server` with the proto. */
export function flowText(client: Endpoint, server: Endpoint, proto = 'tcp'): string {
  return `${endpointText(client)} → ${endpointText(server)}/${proto}`;
}

/** Shannon entropy in bits per character. */
export function entropy(s: string): number {
  if (s.length === 0) return 0;
  const counts = new Map<number, number>();
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    counts.set(c, (counts.get(c) ?? 0) + 1);
  }
  let h = 0;
  for (const n of counts.values()) {
    const p = n / s.length;
    h -= p * Math.log2(p);
  }
  return h;
}

export function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Printable ASCII only, cut to `max` characters (names and paths from the wire go into reports). */
export function printable(s: string, max = 200): string {
  const t = s.replace(/[^\x20-\x7e]/g, '?');
  return t.length > max ? `${t.slice(0, max)}…` : t;
}

/** Seconds as a short human duration. */
export function duration(s: number): string {
  if (s < 90) return `${Math.round(s)} s`;
  if (s < 5400) return `${Math.round(s / 60)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}

/**
 * Bounded state for long live captures (monitor): when a map reaches `max`
 * entries, drop those `keep` says cannot lead to a finding (the small ones),
 * or the oldest half if that frees nothing.
 */
export function prune<K, V>(m: Map<K, V>, max: number, keep: (v: V) => boolean): void {
  if (m.size < max) return;
  for (const [k, v] of m) if (!keep(v)) m.delete(k);
  if (m.size < max * 0.9) return;
  let n = m.size >> 1;
  for (const k of m.keys()) {
    if (n-- <= 0) break;
    m.delete(k);
  }
}
