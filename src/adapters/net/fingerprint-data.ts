// data/fingerprints.json, validated (zod) and compiled once. Kept apart from
// datafiles.ts so discovery can load it in the background while it scans.
import { compileRules, type RuleSet } from '../../core/fingerprint/rules.js';
import { dataPath, readJson } from './datafiles.js';

let rulesCache: RuleSet | undefined;
export function loadFingerprints(path = dataPath('fingerprints.json')): RuleSet {
  if (rulesCache && path === dataPath('fingerprints.json')) return rulesCache;
  const rules = compileRules(readJson(path), path);
  if (path === dataPath('fingerprints.json')) rulesCache = rules;
  return rules;
}
