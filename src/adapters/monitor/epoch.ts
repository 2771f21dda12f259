// The monitor's epoch sink, shared by the in-thread path and the decoding
// worker: packets go to the current traffic engine; rotate() swaps in a
// fresh one and returns the old one's summary, so flow state never outlives
// an epoch.
import type { PacketRecordSink } from '../../core/decode/capture-format.js';
import { TrafficEngine } from '../../core/engine/engine.js';
import type { AnalyzeResult, Detector } from '../../core/engine/events.js';

export class EpochSink implements PacketRecordSink {
  private engine: TrafficEngine;
  constructor(private readonly make: () => TrafficEngine) {
    this.engine = make();
  }
  onPacket(lt: number, ts: number, b: Uint8Array, off: number, cap: number, wire: number): void {
    this.engine.onPacket(lt, ts, b, off, cap, wire);
  }
  rotate(): AnalyzeResult {
    const old = this.engine;
    this.engine = this.make();
    return old.finish();
  }
}

/** An epoch sink whose engines run these detectors (a fresh set per epoch: detectors keep state). */
export function epochSink(label: string, detectors: () => Detector[], onWarning: (m: string) => void): EpochSink {
  return new EpochSink(() => {
    const e = new TrafficEngine({ detectors: detectors(), onWarning });
    e.beginInput(label);
    return e;
  });
}
