// Passive identity on the IoT Sentinel captures (shared third-party data,
// ../shared/data from the repo root; skipped when absent). Every capture must
// yield the labelled device's MAC and vendor; type accuracy must stay at or
// above what was measured when this test was written (docs/performance.md).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeFiles } from '../../../src/adapters/capture/analyze-files.js';
import { loadFingerprints } from '../../../src/adapters/net/fingerprint-data.js';
import { preloadOui, vendorOf } from '../../../src/adapters/net/oui.js';
import { identityTokens, jaccard } from '../../../src/core/fingerprint/tokens.js';
import { createIdentityObserver } from '../../../src/core/inventory/passive.js';
import type { Device } from '../../../src/core/model/device.js';
// @ts-expect-error: plain ESM data module shared with the bench
import { COARSE, paperType } from '../../../bench/iot-sentinel-labels.mjs';

const data = fileURLToPath(new URL('../../../../shared/data/pcap/iot-devices/iot-sentinel/', import.meta.url));
const present = existsSync(data);
if (!present) console.warn(`[iot-sentinel] skipped: ${data} is absent (shared test data)`);

describe.skipIf(!present)('passive identity from the IoT Sentinel captures', () => {
  it('finds each labelled device with its vendor and types it', async () => {
    await preloadOui();
    const rules = loadFingerprints();
    const rows: Array<{ label: string; type: string; coarse: string; device?: Device; tokens: Set<string> }> = [];
    for (const label of readdirSync(data).filter((d) => !d.includes('.')).sort()) {
      const mac = readFileSync(join(data, label, '_iotdevice-mac.txt'), 'utf8').trim().toLowerCase();
      for (const f of readdirSync(join(data, label)).filter((x) => x.endsWith('.pcap'))) {
        const obs = createIdentityObserver();
        await analyzeFiles([join(data, label, f)], { detectors: [obs] });
        const device = obs.devices(rules, vendorOf).find((d) => d.mac === mac);
        rows.push({ label, type: paperType(label) as string, coarse: (COARSE as Record<string, string>)[label], device, tokens: device ? identityTokens(device) : new Set() });
      }
    }
    expect(rows.length).toBeGreaterThanOrEqual(90);
    expect(new Set(rows.map((r) => r.type)).size).toBe(27);
    for (const r of rows) {
      expect(r.device, `${r.label}: labelled MAC not found`).toBeDefined();
      expect(r.device!.vendor, r.label).toBeTruthy();
    }
    const coarse = rows.filter((r) => r.device!.type === r.coarse).length / rows.length;
    let nearestOk = 0;
    for (const r of rows) {
      let best = { sim: 0, type: 'unknown' };
      for (const o of rows) if (o !== r && jaccard(r.tokens, o.tokens) > best.sim) best = { sim: jaccard(r.tokens, o.tokens), type: o.type };
      if (best.type === r.type) nearestOk++;
    }
    const fine = nearestOk / rows.length;
    console.info(`[iot-sentinel] ${rows.length} captures: coarse type ${(100 * coarse).toFixed(1)}%, 27 types (leave-one-out) ${(100 * fine).toFixed(1)}%`);
    expect(coarse).toBeGreaterThanOrEqual(0.65);
    expect(fine).toBeGreaterThanOrEqual(0.9);
    // Cameras and plugs announced by model name are never mistaken.
    for (const r of rows.filter((x) => /^(D-LinkCam|D-LinkDayCam|TP-LinkPlugHS1\d0|WeMoSwitch\d?)$/.test(x.label))) expect(r.device!.type, r.label).toBe(r.coarse);
  }, 120_000);
});
