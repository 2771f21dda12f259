// Run bytes of a capture through the engine in memory, recording events.
import { CaptureReader } from '../../../src/core/decode/capture-reader.js';
import { TrafficEngine, type EngineOptions } from '../../../src/core/engine/engine.js';
import type { AnalyzeResult, Detector, EngineEvent, EventKind } from '../../../src/core/engine/events.js';
import type { Finding } from '../../../src/core/model/finding.js';

export interface Run {
  result: AnalyzeResult;
  events: EngineEvent[];
  warnings: string[];
}

export function runEngine(file: Uint8Array, opts: { wants?: EventKind[]; extra?: Detector[]; findings?: Finding[]; engine?: Omit<EngineOptions, 'detectors' | 'onWarning'> } = {}): Run {
  const events: EngineEvent[] = [];
  const rec: Detector = {
    name: 'recorder',
    wants: opts.wants,
    onEvent: (e) => events.push(e.kind === 'packet' ? { ...e } : e),
    finish: () => opts.findings ?? [],
  };
  const warnings: string[] = [];
  const eng = new TrafficEngine({ ...opts.engine, detectors: [rec, ...(opts.extra ?? [])], onWarning: (m) => warnings.push(m) });
  eng.beginInput('mem');
  const r = new CaptureReader(eng);
  const err = r.feed(file) ?? r.end();
  eng.endInput(err ? { code: err.kind, message: err.message, offset: err.offset } : undefined);
  return { result: eng.finish(), events, warnings };
}

export const ofKind = <K extends EventKind>(events: EngineEvent[], k: K) => events.filter((e): e is Extract<EngineEvent, { kind: K }> => e.kind === k);
