// Shared helpers for the vulnerability tests: the shipped catalog and a
// compact way to write device evidence.
import type { DeviceEvidence, EvidencePort, KevCatalog, UpnpEvidence } from '../../../src/core/vuln/index.js';
import { loadKevCatalog } from '../../../src/adapters/probe/safe-checks.js';
import { matchDevice } from '../../../src/core/vuln/index.js';

export const catalog: KevCatalog = await loadKevCatalog();

export function dev(
  parts: Partial<Omit<DeviceEvidence, 'openPorts'>> & { openPorts?: EvidencePort[]; upnp?: UpnpEvidence[] } = {},
): DeviceEvidence {
  return { ip: '192.168.1.50', mac: '00:11:22:33:44:55', openPorts: [], ...parts };
}

/** CVE ids (or entry ids) the device matches, sorted. */
export function ids(ev: DeviceEvidence, cat: KevCatalog = catalog): string[] {
  return matchDevice(ev, cat)
    .matches.map((m) => m.entry.id)
    .sort();
}

export function matchOf(ev: DeviceEvidence, id: string, cat: KevCatalog = catalog) {
  return matchDevice(ev, cat).matches.find((m) => m.entry.id === id);
}
