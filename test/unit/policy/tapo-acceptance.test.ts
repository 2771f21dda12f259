// Acceptance (issue #8): the smart-plug capture paired with its MUDgee MUD in
// ../shared/data gives a learned profile whose names cover the published ones.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importMudText } from '../../../src/core/policy/import.js';
import { learnProfile } from '../../../src/core/policy/learn.js';
import { profileNames } from '../../../src/core/policy/profile.js';
import { checkTraffic } from '../../../src/core/policy/check.js';
import { inferNetwork, pickDevice, trafficFromCaptures } from '../../../src/adapters/policy/engine.js';
import { sharedData } from './corpus.js';

const truthFile = join(sharedData, 'ground-truth.json');
const have = existsSync(truthFile);
if (!have) console.warn(`[policy] tapo acceptance skipped: ${truthFile} not found`);

describe.skipIf(!have)('policy learn: pcap paired with its MUDgee MUD (ground-truth "paired_mud_file")', () => {
  it('learns names that cover the published MUD, and reports the overlap', async () => {
    const truth = JSON.parse(readFileSync(truthFile, 'utf8')) as Record<string, { expected?: { paired_mud_file?: string; device_mac?: string; gateway?: string } }>;
    const pairs = Object.entries(truth).filter(([, v]) => v.expected?.paired_mud_file && v.expected.device_mac);
    expect(pairs.length).toBeGreaterThan(0);
    for (const [pcap, v] of pairs) {
      const published = importMudText(readFileSync(join(sharedData, v.expected!.paired_mud_file!), 'utf8'));
      expect(published.ok).toBe(true);
      if (!published.ok) continue;
      const ct = await trafficFromCaptures([join(sharedData, pcap)]);
      const dev = pickDevice(ct, v.expected!.device_mac!);
      const net = inferNetwork(dev, {});
      if (v.expected!.gateway) expect(net.router).toBe(v.expected!.gateway);
      const learned = learnProfile(dev, { ...net, now: new Date('2026-01-01T00:00:00Z') });
      const want = profileNames(published.profile);
      const got = learned.names;
      const overlap = want.filter((n) => got.includes(n));
      const extra = got.filter((n) => !want.includes(n));
      console.log(`${pcap}: published MUD names ${want.length}, learned ${got.length}, overlap ${overlap.length}/${want.length} (${overlap.join(', ')}); learned only: ${extra.join(', ') || 'none'}`);
      expect(overlap).toEqual(want);
      // the learned profile allows everything the capture did
      const back = importMudText(JSON.stringify(learned.mud));
      expect(back.ok && checkTraffic(back.profile, dev, net)).toEqual([]);
    }
  });
});
