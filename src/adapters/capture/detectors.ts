// The detectors analyze, capture and monitor run: the pure defaults of
// src/core/detect plus what needs data files read from disk (the UPnP port
// risk table, the known-exploited vulnerability catalogue).
import type { Detector } from '../../core/engine/events.js';
import { defaultDetectors } from '../../core/detect/index.js';
import { kevDetector } from '../../core/vuln/detector.js';
import { loadKevCatalog } from '../probe/kev-catalog.js';
import { loadPortRiskTable } from '../probe/upnp-risk-table.js';

/**
 * Read and validate the detectors' data files (once per process) and return
 * a factory that makes a fresh set of the standard detectors: one set per
 * analysis, or per monitor epoch.
 */
export async function standardDetectorFactory(): Promise<() => Detector[]> {
  const [riskTable, catalog] = await Promise.all([loadPortRiskTable(), loadKevCatalog()]);
  return () => [...defaultDetectors({ riskTable }), kevDetector(catalog)];
}
