// Device type from facts: every rule that matches adds its weight to its
// type (once per rule); the heaviest type wins and the matching rules are the
// evidence. Nothing matched, or a tie between types, gives 'unknown'.
import type { DeviceType, TypeEvidence } from '../model/device.js';
import type { DeviceFacts } from './facts.js';
import type { RuleSet } from './rules.js';

export interface TypeGuess {
  type: DeviceType;
  /** Share of the winning type in all matched weight, damped when the evidence is thin; 0 for unknown. */
  confidence: number;
  /** Evidence for the winning type first (heaviest first), then the rest. */
  evidence: TypeEvidence[];
  scores: Partial<Record<DeviceType, number>>;
}

/** Below this total weight a winner is still reported, with low confidence. */
const SOLID = 6;

export function classify(facts: DeviceFacts, rules: RuleSet): TypeGuess {
  const evidence: TypeEvidence[] = [];
  for (const r of rules.rules) {
    if (r.field === 'port') {
      const hit = facts.port?.find((p) => r.ports?.has(p));
      if (hit !== undefined) evidence.push({ rule: r.id, field: 'port', value: String(hit), type: r.type, weight: r.weight });
      continue;
    }
    const values = facts[r.field];
    if (!values || !r.regex) continue;
    for (const v of values) {
      // Cap what a regex sees: banners can be long and hostile.
      const text = v.length > 2048 ? v.slice(0, 2048) : v;
      if (r.regex.test(text)) {
        evidence.push({ rule: r.id, field: r.field, value: text.length > 120 ? `${text.slice(0, 117)}...` : text, type: r.type, weight: r.weight });
        break;
      }
    }
  }
  const scores: Partial<Record<DeviceType, number>> = {};
  for (const e of evidence) scores[e.type] = (scores[e.type] ?? 0) + e.weight;
  const ranked = (Object.entries(scores) as Array<[DeviceType, number]>).sort((a, b) => b[1] - a[1]);
  const total = ranked.reduce((s, [, w]) => s + w, 0);
  let type: DeviceType = 'unknown';
  let confidence = 0;
  if (ranked.length > 0 && (ranked.length === 1 || ranked[0][1] > ranked[1][1])) {
    type = ranked[0][0];
    confidence = Math.round((ranked[0][1] / total) * Math.min(1, ranked[0][1] / SOLID) * 100) / 100;
  }
  evidence.sort((a, b) => Number(b.type === type) - Number(a.type === type) || b.weight - a.weight || a.rule.localeCompare(b.rule));
  return { type, confidence, evidence, scores };
}
