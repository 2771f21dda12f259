// beaconing: machine-timed contact with one destination — new connections to
// the same host and port at a steady period with little jitter. IoT devices
// check in with their vendor's cloud on a timer all day, so periodicity alone
// proves nothing; the detector reports it only when the destination's context
// is odd without any reputation list: an address the device never looked up
// in DNS, or a port that is not an ordinary service port.
import type { DetectorConfig } from './config.js';
import type { Detector, DeviceRef, EngineEvent, EventKind } from '../engine/events.js';
import type { Finding, Severity } from '../model/finding.js';
import { deviceKeyOf, deviceOf, duration, median, prune } from './util.js';

const MAX_STATE = 50_000;

// connection starts are read from closed flows (firstTs): one event kind fewer for the engine to build
const WANTS: readonly EventKind[] = ['flow-close'];
const MAX_STARTS = 5000;

interface Series {
  device: DeviceRef;
  ip: string;
  name?: string;
  port: number;
  proto: string;
  starts: number[];
  frames: number[];
  file: string;
}

export interface Periodicity {
  /** Median interval between connection starts, seconds. */
  period: number;
  /** Median absolute deviation / period. */
  jitter: number;
  /** Share of intervals within the jitter band. */
  regularShare: number;
  intervals: number;
}

/** Period and jitter of connection start times (sorted or not); bursts closer than `minInterval` merge into one start. */
export function periodicity(startsIn: number[], minInterval: number, band = 0.2): Periodicity | undefined {
  const starts = [...startsIn].sort((a, b) => a - b);
  const merged: number[] = [];
  for (const t of starts) if (merged.length === 0 || t - merged[merged.length - 1] >= minInterval) merged.push(t);
  if (merged.length < 3) return undefined;
  const iv: number[] = [];
  for (let i = 1; i < merged.length; i++) iv.push(merged[i] - merged[i - 1]);
  const m = median(iv);
  if (!(m > 0)) return undefined;
  const mad = median(iv.map((x) => Math.abs(x - m)));
  const regular = iv.filter((x) => Math.abs(x - m) <= Math.max(band * m, 1)).length / iv.length;
  return { period: m, jitter: mad / m, regularShare: regular, intervals: iv.length };
}

export function beaconingDetector(cfg: DetectorConfig): Detector {
  const c = cfg.beaconing;
  const ordinary = new Set(c.ordinaryPorts);
  const series = new Map<string, Series>();

  return {
    name: 'beaconing',
    wants: WANTS,
    onEvent(e: EngineEvent, ctx): void {
      if (e.kind !== 'flow-close') return;
      const f = e.flow;
      if (!f.client.local || f.server.local || f.server.port === undefined || (f.proto !== 'tcp' && f.proto !== 'udp')) return;
      // a named host on an ordinary port is never reported (see finish): skip it before any allocation
      const odd = !ordinary.has(f.server.port);
      if (!odd && f.serverName !== undefined) return;
      const name = f.serverName ?? ctx.nameFor(e.device, f.server.ip);
      if (!odd && name !== undefined) return;
      // by name when there is one (a CDN rotates addresses), else by address; the device object is made for a new series only
      const k = `${deviceKeyOf(e, f.client, f.server)}|${name ?? f.server.ip}|${f.server.port}|${f.proto}`;
      let s = series.get(k);
      if (!s) {
        s = { device: deviceOf(e, f.client, f.server), ip: f.server.ip, name, port: f.server.port, proto: f.proto, starts: [], frames: [], file: e.file };
        prune(series, MAX_STATE, (x) => x.starts.length >= 3);
        series.set(k, s);
      }
      if (s.starts.length < MAX_STARTS) {
        s.starts.push(f.firstTs);
        if (s.frames.length < cfg.maxEvidence) s.frames.push(f.firstFrame);
      }
    },
    finish(): Finding[] {
      const out: Finding[] = [];
      for (const s of series.values()) {
        if (s.starts.length < c.minConnections) continue;
        const p = periodicity(s.starts, c.minIntervalSeconds);
        if (!p || p.intervals + 1 < c.minConnections || p.period < c.minIntervalSeconds) continue;
        if (p.jitter > c.maxJitter || p.regularShare < c.minRegularShare) continue;
        const unnamed = s.name === undefined;
        const oddPort = !ordinary.has(s.port);
        // a named cloud host on an ordinary port at a steady period is an ordinary IoT check-in
        if (!unnamed && !oddPort) continue;
        const severity: Severity = unnamed && oddPort ? 'medium' : 'low';
        const dest = `${s.name ? `${s.name} (${s.ip})` : s.ip}:${s.port}/${s.proto}`;
        const who = s.device.ip ?? s.device.mac ?? 'a device';
        out.push({
          id: 'beaconing',
          severity,
          title: `${who} contacts ${dest} every ${duration(p.period)} like clockwork`,
          device: s.device,
          evidence: {
            destination: s.ip,
            ...(s.name ? { name: s.name } : {}),
            port: s.port,
            proto: s.proto,
            connections: s.starts.length,
            periodSeconds: Math.round(p.period * 10) / 10,
            jitter: Math.round(p.jitter * 1000) / 1000,
            regularShare: Math.round(p.regularShare * 100) / 100,
            context: [...(unnamed ? ['address never looked up in DNS'] : []), ...(oddPort ? [`unusual port ${s.port}`] : [])],
            file: s.file,
            frames: s.frames,
          },
          advice:
            'Regular contact with an unnamed address or an unusual port is how malware checks in with its controller: find out what this destination is (the vendor should know), and block it on the router if nobody can explain it.',
        });
      }
      return out;
    },
  };
}
