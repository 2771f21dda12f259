// The detectors `analyze`, `capture` and `monitor` run by default. Each one is
// a pure Detector (src/core/engine/events.ts): events in, findings out. Owned
// by the detectors work (issue #11); the engine only calls this list.
import type { Detector } from '../engine/events.js';
import type { PortRiskTable } from '../upnp/risk.js';
import { resolveDetectorConfig, type DetectorConfig, type DetectorConfigInput } from './config.js';
import { beaconingDetector } from './beaconing.js';
import { dnsBypassDetector } from './dns-bypass.js';
import { dnsTunnelDetector } from './dns-tunnel.js';
import { insecureServiceDetector } from './insecure-service.js';
import { lateralScanDetector } from './lateral-scan.js';
import { loginBruteForceDetector } from './login-brute-force.js';
import { plaintextCredentialsDetector } from './plaintext-credentials.js';
import { plaintextFirmwareDetector } from './plaintext-firmware.js';
import { remoteAccessDetector } from './remote-access.js';
import { tlsWeakDetector } from './tls-weak.js';
import { upnpPortMappingRequestDetector } from './upnp-port-mapping-request.js';

export { DEFAULT_DETECTOR_CONFIG, resolveDetectorConfig, type DetectorConfig, type DetectorConfigInput } from './config.js';

export interface DetectorOptions {
  /** Threshold overrides (see config.ts for every knob and its default). */
  config?: DetectorConfigInput;
  /** The UPnP port risk table (loaded by an adapter from data/port-risk.json) to rate requested mappings by port. */
  riskTable?: PortRiskTable;
  /** Run only these detectors (by name). */
  only?: readonly string[];
}

/** Every detector name, in the order they run. */
export const DETECTOR_NAMES = [
  'plaintext-firmware',
  'plaintext-credentials',
  'insecure-service',
  'tls-weak',
  'dns-tunnel',
  'dns-bypass',
  'lateral-scan',
  'login-brute-force',
  'beaconing',
  'upnp-port-mapping-request',
  'remote-access',
] as const;

export function createDetectors(cfg: DetectorConfig, riskTable?: PortRiskTable): Detector[] {
  return [
    plaintextFirmwareDetector(cfg),
    plaintextCredentialsDetector(cfg),
    insecureServiceDetector(cfg),
    tlsWeakDetector(cfg),
    dnsTunnelDetector(cfg),
    dnsBypassDetector(cfg),
    lateralScanDetector(cfg),
    loginBruteForceDetector(cfg),
    beaconingDetector(cfg),
    upnpPortMappingRequestDetector(cfg, riskTable),
    remoteAccessDetector(cfg),
  ];
}

/** A fresh set of detectors (they keep state: one set per run). */
export const defaultDetectors = (opts: DetectorOptions = {}): Detector[] => {
  const all = createDetectors(resolveDetectorConfig(opts.config), opts.riskTable);
  return opts.only ? all.filter((d) => opts.only!.includes(d.name)) : all;
};
