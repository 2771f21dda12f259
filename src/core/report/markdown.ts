// The audit as Markdown: the same content as the HTML report, for a terminal,
// a ticket or a wiki.
import type { AuditResult } from './model.js';

const cell = (s: unknown) => String(s ?? '').replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function renderMarkdown(r: AuditResult): string {
  const out: string[] = [];
  out.push(`# iotguard report`, '', `${r.scope.cidrs.join(', ') || 'LAN'} · ${r.startedAt} · iotguard ${r.tool.version}${r.scope.authorized ? ' · intrusive checks authorised' : ' · safe checks only'}`, '');
  out.push('## Summary', '');
  out.push(`- ${r.devices.length} devices, ${r.devices.filter((d) => d.risk.level === 'critical' || d.risk.level === 'high').length} at high or critical risk`);
  out.push(`- findings: ${Object.entries(r.summary.findings).map(([k, v]) => `${v} ${k}`).join(', ') || 'none'}`);
  out.push(`- UPnP holes in the router: ${r.gateways.reduce((n, g) => n + g.mappings, 0)}`, '');
  out.push('| device | type | risk | top advice |', '|---|---|---|---|');
  for (const d of [...r.devices].sort((a, b) => b.risk.score - a.risk.score)) {
    out.push(`| ${cell(d.ip)} ${cell(d.hostname ?? d.vendor ?? '')} | ${cell(d.type)} | ${d.risk.level} ${d.risk.score} | ${cell(d.advice[0]?.text ?? '-')} |`);
  }
  if (r.networkFindings.length) {
    out.push('', '## The network and the router', '');
    for (const f of r.networkFindings) out.push(`- **${f.severity}** \`${f.id}\` ${f.title} — ${f.advice}`);
  }
  out.push('', '## Devices');
  for (const d of [...r.devices].sort((a, b) => b.risk.score - a.risk.score)) {
    out.push('', `### ${d.ip} — ${d.hostname ?? d.vendor ?? d.type} (${d.risk.level}, ${d.risk.score}/100)`, '');
    out.push(`${d.type} · MAC ${d.mac ?? 'unknown'} · ${d.vendor ?? 'unknown vendor'}`, '');
    if (d.risk.explanation.length) {
      out.push('Why this score:', '');
      for (const l of d.risk.explanation) out.push(`- +${l.points}: ${l.why}`);
      out.push('');
    }
    if (d.advice.length) {
      out.push('What to do, most effective first:', '');
      d.advice.forEach((a, i) => out.push(`${i + 1}. ${a.text}${a.command ? `  \n   \`${a.command}\`` : ''}`));
      out.push('');
    }
    if (d.findings.length) {
      out.push('Findings:', '');
      for (const f of d.findings) out.push(`- **${f.severity}** \`${f.id}\` ${f.title}`);
      out.push('');
    }
    if (d.openPorts.length) out.push(`Open ports: ${d.openPorts.map((p) => `${p.port}/${p.service}`).join(', ')}`, '');
  }
  out.push('', '## How this was measured', '', '| step | status | seconds | detail |', '|---|---|---|---|');
  for (const s of r.steps) out.push(`| ${cell(s.name)} | ${s.status} | ${s.seconds.toFixed(1)} | ${cell(s.detail ?? '')} |`);
  return `${out.join('\n')}\n`;
}
