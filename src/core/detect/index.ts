// The detectors `analyze`, `capture` and `monitor` run by default. Each one is
// a pure Detector (src/core/engine/events.ts): events in, findings out. Owned
// by the detectors work (issue #11); the engine only calls this list.
import type { Detector } from '../engine/events.js';

export const defaultDetectors = (): Detector[] => [];
