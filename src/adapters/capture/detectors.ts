// The detectors analyze and capture run: the pure defaults of src/core/detect
// plus what needs data files read from disk (the UPnP port risk table, the
// known-exploited vulnerability catalogue).
import type { Detector } from '../../core/engine/events.js';
import { defaultDetectors } from '../../core/detect/index.js';
import { kevDetector } from '../../core/vuln/detector.js';
import { loadKevCatalog } from '../probe/safe-checks.js';
import { loadPortRiskTable } from '../probe/upnp-risk-table.js';

export function standardDetectors(): Detector[] {
  return [...defaultDetectors({ riskTable: loadPortRiskTable() }), kevDetector(loadKevCatalog())];
}
