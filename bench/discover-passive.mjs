#!/usr/bin/env node
// Passive identity on the IoT Sentinel captures (Miettinen et al., ICDCS 2017;
// ../shared/data/pcap/iot-devices/iot-sentinel, labels = folder names, device
// MAC in _iotdevice-mac.txt): for every setup capture, the labelled device's
// MAC, vendor and type guess from `discover --pcap`'s code path. Two scores:
//  - coarse type (camera, plug, hub, sensor, ...) from data/fingerprints.json
//    against a category per label (below), no training;
//  - the 27 device types of the paper, by the nearest labelled capture
//    (Jaccard over identity tokens), leave-one-capture-out.
// Needs a build (dist/). Reads files only.
//   node bench/discover-passive.mjs [--json] [--data DIR]
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const di = args.indexOf('--data');
const data = di >= 0 ? args[di + 1] : path.join(root, '..', 'shared', 'data', 'pcap', 'iot-devices', 'iot-sentinel');
if (!existsSync(data)) {
  process.stderr.write(`IoT Sentinel captures not found at ${data}; skipping\n`);
  process.exit(0);
}
const { analyzeFiles } = await import(path.join(root, 'dist/adapters/capture/analyze-files.js'));
const { createIdentityObserver } = await import(path.join(root, 'dist/core/inventory/passive.js'));
const { loadFingerprints } = await import(path.join(root, 'dist/adapters/net/fingerprint-data.js'));
const { preloadOui, vendorOf } = await import(path.join(root, 'dist/adapters/net/oui.js'));
const { identityTokens, jaccard } = await import(path.join(root, 'dist/core/fingerprint/tokens.js'));
const { COARSE, paperType } = await import(path.join(root, 'bench/iot-sentinel-labels.mjs'));
await preloadOui();
const rules = loadFingerprints();

const t0 = performance.now();
const rows = [];
for (const label of readdirSync(data).filter((d) => !d.includes('.')).sort()) {
  const mac = readFileSync(path.join(data, label, '_iotdevice-mac.txt'), 'utf8').trim().toLowerCase();
  for (const f of readdirSync(path.join(data, label)).filter((x) => x.endsWith('.pcap')).sort()) {
    const obs = createIdentityObserver();
    await analyzeFiles([path.join(data, label, f)], { detectors: [obs] });
    const d = obs.devices(rules, vendorOf).find((x) => x.mac === mac);
    rows.push({ file: `${label}/${f}`, label, type: paperType(label), coarse: COARSE[label], mac, found: !!d, vendor: d?.vendor ?? null, guess: d?.type ?? 'unknown', evidence: d?.typeEvidence?.slice(0, 2).map((e) => `${e.field}=${e.value}`) ?? [], tokens: d ? identityTokens(d) : new Set() });
  }
}
const seconds = (performance.now() - t0) / 1000;
// leave-one-capture-out nearest neighbour over the 27 paper types
for (const r of rows) {
  let best = { sim: 0, type: 'unknown' };
  for (const o of rows) {
    if (o === r) continue;
    const sim = jaccard(r.tokens, o.tokens);
    if (sim > best.sim) best = { sim, type: o.type };
  }
  r.nearest = best.type;
}
const n = rows.length;
const found = rows.filter((r) => r.found).length;
const withVendor = rows.filter((r) => r.vendor).length;
const coarseOk = rows.filter((r) => r.guess === r.coarse).length;
const fineOk = rows.filter((r) => r.nearest === r.type).length;
const types = [...new Set(rows.map((r) => r.type))];
const perType = types.map((t) => {
  const rs = rows.filter((r) => r.type === t);
  return { type: t, captures: rs.length, coarse: rs[0].coarse, coarseCorrect: rs.filter((r) => r.guess === r.coarse).length, guesses: [...new Set(rs.map((r) => r.guess))].join('/'), nearestCorrect: rs.filter((r) => r.nearest === r.type).length, vendor: rs[0].vendor };
});
const result = {
  captures: n,
  devices: new Set(rows.map((r) => r.label)).size,
  paperTypes: types.length,
  macFound: found,
  vendorFound: withVendor,
  coarseAccuracy: coarseOk / n,
  paperTypeAccuracyLoo: fineOk / n,
  seconds,
  perType,
};
if (args.includes('--json')) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
else {
  for (const t of perType) {
    process.stdout.write(`${t.type.padEnd(20)} ${String(t.captures).padStart(2)}  ${(t.vendor ?? '-').slice(0, 26).padEnd(26)} coarse ${t.coarse.padEnd(9)} guessed ${t.guesses.padEnd(16)} ${t.coarseCorrect}/${t.captures}   nearest ${t.nearestCorrect}/${t.captures}\n`);
  }
  process.stdout.write(`\n${n} captures, ${result.devices} devices, ${types.length} types; labelled MAC found in ${found}/${n}, vendor named for ${withVendor}/${n}\n`);
  process.stdout.write(`coarse type accuracy (rules, no training):       ${(100 * result.coarseAccuracy).toFixed(1)}%\n`);
  process.stdout.write(`27-type accuracy (nearest capture, leave-one-out): ${(100 * result.paperTypeAccuracyLoo).toFixed(1)}%   (IoT Sentinel paper: ~81%)\n`);
  process.stdout.write(`${seconds.toFixed(1)} s\n`);
}
