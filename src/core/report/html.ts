// The audit as one self-contained HTML file: inline CSS and SVG, no script,
// no external asset, readable offline. A summary a person reads in a minute,
// a network map, charts, then one section per device with evidence and advice.
import type { Finding } from '../model/finding.js';
import type { AuditDevice, AuditResult } from './model.js';

export function esc(s: unknown): string {
  return String(s ?? '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

const LEVEL_COLOR: Record<string, string> = { critical: '#b00020', high: '#e65100', medium: '#f9a825', low: '#2e7d32', none: '#607d8b', info: '#607d8b' };

export function deviceAnchor(d: { ip: string }): string {
  return `device-${d.ip.replace(/[^0-9a-zA-Z]/g, '-')}`;
}

function label(d: AuditDevice): string {
  return d.hostname ?? d.vendor ?? d.type;
}

/** The network map: internet, gateway, devices; red arrows for risky inbound mappings, blue for outbound destinations. */
export function networkMap(r: AuditResult): string {
  const devs = r.devices;
  const perRow = 6;
  const boxW = 150;
  const boxH = 54;
  const gapX = 24;
  const rows = Math.max(1, Math.ceil(devs.length / perRow));
  const width = Math.max(700, perRow * (boxW + gapX) + gapX);
  const height = 230 + rows * (boxH + 70);
  const cx = width / 2;
  const inetY = 20;
  const gwY = 130;
  const parts: string[] = [];
  const boxes: string[] = [];
  parts.push(`<svg class="map" role="img" aria-label="network map" viewBox="0 0 ${width} ${height}" width="100%" xmlns="http://www.w3.org/2000/svg">`);
  parts.push('<defs><marker id="ar" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="context-stroke"/></marker></defs>');
  parts.push(`<ellipse cx="${cx}" cy="${inetY + 28}" rx="110" ry="28" fill="#e3f2fd" stroke="#1565c0"/><text x="${cx}" y="${inetY + 33}" text-anchor="middle" class="t">Internet</text>`);
  const gw = r.gateways[0];
  parts.push(`<rect x="${cx - 95}" y="${gwY}" width="190" height="46" rx="8" fill="#eceff1" stroke="#37474f"/><text x="${cx}" y="${gwY + 20}" text-anchor="middle" class="t">Router${gw?.ip ? ` ${esc(gw.ip)}` : ''}</text><text x="${cx}" y="${gwY + 37}" text-anchor="middle" class="s">${gw ? `UPnP on, ${gw.mappings} mapping(s)` : 'no UPnP IGD found'}</text>`);
  parts.push(`<line x1="${cx}" y1="${inetY + 56}" x2="${cx}" y2="${gwY}" stroke="#90a4ae" stroke-width="2"/>`);
  devs.forEach((d, i) => {
    const row = Math.floor(i / perRow);
    const inRow = Math.min(perRow, devs.length - row * perRow);
    const rowW = inRow * boxW + (inRow - 1) * gapX;
    const x = cx - rowW / 2 + (i % perRow) * (boxW + gapX);
    const y = gwY + 120 + row * (boxH + 70);
    const color = LEVEL_COLOR[d.risk.level] ?? '#607d8b';
    parts.push(`<line x1="${cx}" y1="${gwY + 46}" x2="${x + boxW / 2}" y2="${y}" stroke="#cfd8dc" stroke-width="1.5"/>`);
    const risky = d.mappings.filter((m) => m.risk === 'critical' || m.risk === 'high');
    if (risky.length) {
      parts.push(`<path d="M${cx - 60},${inetY + 50} Q${x + boxW / 2 - 40},${(inetY + y) / 2} ${x + 20},${y}" fill="none" stroke="#b00020" stroke-width="2.5" stroke-dasharray="6 4" marker-end="url(#ar)"><title>${esc(risky.map((m) => `${m.protocol}/${m.externalPort} -> ${d.ip}:${m.internalPort}`).join(', '))}</title></path>`);
      boxes.push(`<text x="${x + 24}" y="${y - 6}" class="s" fill="#b00020">${esc(risky.map((m) => `${m.protocol} ${m.externalPort}→${m.internalPort}`).join(', '))}</text>`);
    }
    const outbound = new Set(d.destinations.filter((t) => !isLan(t.ip)).map((t) => t.name ?? t.ip));
    if (outbound.size) {
      parts.push(`<path d="M${x + boxW - 20},${y} Q${x + boxW / 2 + 40},${(inetY + y) / 2} ${cx + 60},${inetY + 50}" fill="none" stroke="#1565c0" stroke-width="1.2" marker-end="url(#ar)" opacity="0.6"><title>${esc([...outbound].join(', '))}</title></path>`);
    }
    boxes.push(`<a href="#${deviceAnchor(d)}"><rect x="${x}" y="${y}" width="${boxW}" height="${boxH}" rx="8" fill="#fff" stroke="${color}" stroke-width="3"/>`);
    boxes.push(`<text x="${x + boxW / 2}" y="${y + 20}" text-anchor="middle" class="t">${esc(d.ip)}</text><text x="${x + boxW / 2}" y="${y + 38}" text-anchor="middle" class="s">${esc(truncate(label(d), 18))} · ${esc(d.risk.level)}</text></a>`);
  });
  // boxes last, so no line crosses over a device
  parts.push(...boxes, '</svg>');
  return parts.join('');
}

function truncate(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}

function isLan(ip: string): boolean {
  return /^(10\.|192\.168\.|172\.(1[6-9]|2\d|3[01])\.|169\.254\.|fe80:|ff0|224\.|239\.|255\.)/.test(ip);
}

/** A horizontal bar chart as inline SVG. */
export function barChart(title: string, rows: Array<{ label: string; value: number; color?: string }>, unit = ''): string {
  if (rows.length === 0) return '';
  const max = Math.max(1, ...rows.map((r) => r.value));
  const h = 22;
  const labelW = 170;
  const barW = 380;
  const height = rows.length * h + 30;
  const bars = rows
    .map((r, i) => {
      const w = Math.max(1, Math.round((r.value / max) * barW));
      const y = 24 + i * h;
      return `<text x="${labelW - 6}" y="${y + 14}" text-anchor="end" class="s">${esc(truncate(r.label, 26))}</text><rect x="${labelW}" y="${y + 3}" width="${w}" height="${h - 8}" fill="${r.color ?? '#1565c0'}"/><text x="${labelW + w + 6}" y="${y + 14}" class="s">${esc(fmtNum(r.value))}${esc(unit)}</text>`;
    })
    .join('');
  return `<figure class="chart"><svg role="img" aria-label="${esc(title)}" viewBox="0 0 ${labelW + barW + 90} ${height}" width="100%" xmlns="http://www.w3.org/2000/svg"><text x="0" y="14" class="t">${esc(title)}</text>${bars}</svg></figure>`;
}

function fmtNum(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (n >= 1e4) return `${(n / 1e3).toFixed(0)}k`;
  return String(n);
}

function findingRow(f: Finding): string {
  const ev = JSON.stringify(f.evidence, null, 1);
  return `<tr><td><span class="sev ${esc(f.severity)}">${esc(f.severity)}</span></td><td><code>${esc(f.id)}</code></td><td>${esc(f.title)}<details><summary>evidence</summary><pre>${esc(ev.length > 4000 ? `${ev.slice(0, 4000)}…` : ev)}</pre></details></td><td>${esc(f.advice)}</td></tr>`;
}

function devicePage(d: AuditDevice): string {
  const lvl = esc(d.risk.level);
  const ports = d.openPorts.length
    ? `<table><tr><th>port</th><th>service</th><th>banner</th></tr>${d.openPorts.map((p) => `<tr><td>${p.port}/${esc(p.proto)}</td><td>${esc(p.service)}</td><td><code>${esc(truncate(p.banner, 120))}</code></td></tr>`).join('')}</table>`
    : '<p class="muted">no open TCP port found</p>';
  const maps = d.mappings.length
    ? `<h4>UPnP port mappings it holds</h4><table><tr><th>mapping</th><th>description</th><th>risk</th></tr>${d.mappings.map((m) => `<tr><td>${esc(m.protocol)} ${m.externalPort} → ${m.internalPort}</td><td>${esc(m.description)}</td><td><span class="sev ${esc(m.risk)}">${esc(m.risk)}</span></td></tr>`).join('')}</table>${d.upnpImpact ? `<p><b>If UPnP is turned off:</b> ${esc(d.upnpImpact)}</p>` : ''}`
    : '';
  const creds = d.credentials.filter((c) => c.status === 'default-credentials');
  const credHtml = creds.length
    ? `<h4>Default passwords that work</h4><ul>${creds.map((c) => `<li>${esc(c.service)} (port ${c.port}): <code>${esc(c.username ?? '')}</code> / <code>${esc(c.password ?? '')}</code></li>`).join('')}</ul>`
    : '';
  const dests = d.destinations.filter((t) => !isLan(t.ip));
  const destHtml = dests.length
    ? `<h4>Where it talks on the internet</h4><table><tr><th>destination</th><th>port</th><th>bytes</th></tr>${dests.slice(0, 30).map((t) => `<tr><td>${esc(t.name ?? t.ip)}${t.name ? ` <span class="muted">${esc(t.ip)}</span>` : ''}</td><td>${t.port}/${esc(t.proto)}</td><td>${t.bytes}</td></tr>`).join('')}</table>`
    : '';
  const advice = d.advice.length
    ? `<h4>What to do, most effective first</h4><ol class="advice">${d.advice.map((a) => `<li>${esc(a.text)}${a.command ? `<br><code>${esc(a.command)}</code>` : ''}</li>`).join('')}</ol>`
    : '<p class="muted">Nothing to do for this device.</p>';
  const explain = d.risk.explanation.length
    ? `<details><summary>why ${d.risk.score}/100</summary><ul>${d.risk.explanation.map((l) => `<li>+${l.points}: ${esc(l.why)}</li>`).join('')}</ul></details>`
    : '';
  const findings = d.findings.length
    ? `<h4>Findings</h4><table class="findings"><tr><th>severity</th><th>id</th><th>what</th><th>advice</th></tr>${d.findings.map(findingRow).join('')}</table>`
    : '';
  return `<section class="device" id="${deviceAnchor(d)}"><h3><span class="badge ${lvl}">${lvl} ${d.risk.score}</span> ${esc(d.ip)} — ${esc(label(d))}</h3>
<p class="muted">${esc(d.type)} · MAC ${esc(d.mac ?? 'unknown')} · ${esc(d.vendor ?? 'unknown vendor')}</p>
${explain}${advice}${credHtml}${maps}${findings}<h4>Open ports</h4>${ports}${destHtml}</section>`;
}

const CSS = `
body{font:15px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#1c2833;background:#f7f9fb}
main{max-width:1100px;margin:0 auto;padding:24px}
h1{margin:0 0 4px}h2{margin-top:36px;border-bottom:2px solid #dde3ea;padding-bottom:4px}
.muted{color:#607d8b}.t{font:600 13px system-ui,sans-serif;fill:#1c2833}.s{font:11px system-ui,sans-serif;fill:#37474f}
table{border-collapse:collapse;width:100%;margin:8px 0;background:#fff}th,td{border:1px solid #dde3ea;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#eef2f6}code{font:12px ui-monospace,Menlo,Consolas,monospace;background:#eef2f6;padding:1px 3px;border-radius:3px;word-break:break-all}
pre{white-space:pre-wrap;font:11px ui-monospace,monospace;max-height:260px;overflow:auto;background:#f4f6f8;padding:6px}
.sev,.badge{display:inline-block;padding:1px 7px;border-radius:10px;color:#fff;font-size:12px;font-weight:600}
.critical{background:#b00020}.high{background:#e65100}.medium{background:#f9a825;color:#222}.low{background:#2e7d32}.info,.none{background:#607d8b}
.device{background:#fff;border:1px solid #dde3ea;border-radius:10px;padding:6px 18px 14px;margin:18px 0}
.cards{display:flex;gap:12px;flex-wrap:wrap}.card{background:#fff;border:1px solid #dde3ea;border-radius:10px;padding:10px 16px;min-width:140px}
.card b{font-size:24px;display:block}.advice li{margin:4px 0}.map{background:#fff;border:1px solid #dde3ea;border-radius:10px}
.chart{margin:10px 0;background:#fff;border:1px solid #dde3ea;border-radius:10px;padding:8px}
nav a{margin-right:10px}
`;

export function renderHtml(r: AuditResult): string {
  const sevCount = (s: string) => r.findings.filter((f) => f.severity === s).length;
  const atRisk = r.devices.filter((d) => d.risk.level === 'critical' || d.risk.level === 'high');
  const top = [...r.devices].sort((a, b) => b.risk.score - a.risk.score).filter((d) => d.advice.length > 0).slice(0, 5);
  const summary = `<div class="cards">
<div class="card"><b>${r.devices.length}</b>devices</div>
<div class="card"><b>${atRisk.length}</b>at high or critical risk</div>
<div class="card"><b>${sevCount('critical')}</b>critical findings</div>
<div class="card"><b>${sevCount('high')}</b>high findings</div>
<div class="card"><b>${r.gateways.reduce((n, g) => n + g.mappings, 0)}</b>UPnP holes in the router</div></div>
<h3>Do these first</h3><ol class="advice">${top.map((d) => `<li><a href="#${deviceAnchor(d)}">${esc(d.ip)} ${esc(label(d))}</a> (${esc(d.risk.level)}): ${esc(d.advice[0].text)}</li>`).join('') || '<li>Nothing urgent.</li>'}</ol>`;
  const net = r.networkFindings.length
    ? `<h2 id="network">The network and the router</h2><table class="findings"><tr><th>severity</th><th>id</th><th>what</th><th>advice</th></tr>${r.networkFindings.map(findingRow).join('')}</table>`
    : '';
  const destChart = barChart(
    'Internet destinations per device',
    r.devices.map((d) => ({ label: `${d.ip} ${label(d)}`, value: new Set(d.destinations.filter((t) => !isLan(t.ip)).map((t) => t.name ?? t.ip)).size })).filter((x) => x.value > 0),
  );
  const bytesChart = barChart(
    'Traffic per device (bytes seen)',
    r.devices.map((d) => ({ label: `${d.ip} ${label(d)}`, value: d.destinations.reduce((n, t) => n + t.bytes, 0), color: '#00897b' })).filter((x) => x.value > 0),
    ' B',
  );
  const riskChart = barChart(
    'Risk score per device',
    [...r.devices].sort((a, b) => b.risk.score - a.risk.score).map((d) => ({ label: `${d.ip} ${label(d)}`, value: d.risk.score, color: LEVEL_COLOR[d.risk.level] })),
  );
  const steps = `<table><tr><th>step</th><th>status</th><th>seconds</th><th>detail</th></tr>${r.steps.map((s) => `<tr><td>${esc(s.name)}</td><td>${esc(s.status)}</td><td>${s.seconds.toFixed(1)}</td><td>${esc(s.detail ?? '')}</td></tr>`).join('')}</table>`;
  const devices = [...r.devices].sort((a, b) => b.risk.score - a.risk.score || a.ip.localeCompare(b.ip, 'en', { numeric: true }));
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>iotguard report — ${esc(r.finishedAt.slice(0, 10))}</title><style>${CSS}</style></head>
<body><main>
<h1>iotguard report</h1>
<p class="muted">${esc(r.scope.cidrs.join(', ') || 'LAN')} · ${esc(r.startedAt)} · iotguard ${esc(r.tool.version)}${r.scope.authorized ? ' · intrusive checks authorised' : ' · safe checks only'}</p>
<nav><a href="#summary">Summary</a><a href="#map">Map</a><a href="#network">Network</a><a href="#devices">Devices</a><a href="#method">Method</a></nav>
<h2 id="summary">Summary</h2>${summary}
<h2 id="map">Network map</h2>${networkMap(r)}
<p class="muted">Red dashed arrows: internet → device holes opened by UPnP that expose a risky service. Blue arrows: the device talks to the internet. Box colour: risk.</p>
${riskChart}${destChart}${bytesChart}
${net}
<h2 id="devices">Devices</h2>${devices.map(devicePage).join('\n')}
<h2 id="method">How this was measured</h2>${steps}
</main></body></html>
`;
}
