// The dashboard: a fastify app built by buildApp(deps) — tests drive it with
// app.inject(), only the daemon calls listen(). Server-rendered pages
// (devices with risk and last-seen, a device page with findings,
// destinations, mappings, profile and a traffic chart, alerts with
// acknowledge), live updates over Server-Sent Events, a JSON API and
// Prometheus /metrics. Every visitor gets a session cookie carrying a CSRF
// token that every state-changing request must echo; when a password is
// required (any bind but loopback, or once one is set) the session must log in.
import type { EventEmitter } from 'node:events';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Alert } from '../../core/monitor/alerts.js';
import { escapeHtml as h, prometheusText, trafficSvg, type MetricsSnapshot } from '../../core/monitor/present.js';
import { severityRank, type Severity } from '../../core/model/finding.js';
import { sameToken, Sessions, verifyPassword, type Session } from '../monitor/auth.js';
import type { MonitorStore } from '../monitor/store.js';
import { APP_JS, CSS } from './assets.js';

export interface WebDeps {
  store: MonitorStore;
  /** Emits 'alert' (Alert), 'devices', 'mappings' for live updates. */
  events?: EventEmitter;
  /** Require a logged-in session (the daemon sets this for any non-loopback bind, or when a password exists). */
  requireAuth: boolean;
  /** The daemon's status for /api/status. */
  status?: () => unknown;
  /** Counters the store does not hold (capture). */
  captureMetrics?: () => { dropped: number; packets: number; restarts: number; up: boolean };
  /** Extra Host header values accepted (besides localhost/127.0.0.1/::1 and the listen address); guards against DNS rebinding. */
  allowedHosts?: string[];
  now?: () => number;
  logger?: boolean;
}

const COOKIE = 'iotguard_sid';

function cookies(req: FastifyRequest): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0) out[part.slice(0, i).trim()] = decodeURIComponent(part.slice(i + 1).trim());
  }
  return out;
}

const SEV_CLASS: Record<string, string> = { info: 'sev-info', low: 'sev-low', medium: 'sev-medium', high: 'sev-high', critical: 'sev-critical', none: 'sev-info' };

function ago(ms: number, now: number): string {
  const s = Math.max(0, Math.round((now - ms) / 1000));
  if (s < 90) return `${s} s ago`;
  if (s < 5400) return `${Math.round(s / 60)} min ago`;
  if (s < 172_800) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} days ago`;
}

function layout(title: string, body: string, s: Session | undefined, authOn: boolean): string {
  const nav = s?.authenticated || !authOn;
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${h(title)} · iotguard</title><link rel="stylesheet" href="/static/app.css"><meta name="csrf-token" content="${h(s?.csrf ?? '')}"></head>
<body><header><strong>iotguard monitor</strong>${
    nav
      ? ` <nav><a href="/">Devices</a> <a href="/alerts">Alerts</a> <a href="/metrics">Metrics</a></nav>${
          authOn ? `<form method="post" action="/logout" class="inline"><input type="hidden" name="_csrf" value="${h(s?.csrf ?? '')}"><button>Log out</button></form>` : ''
        }`
      : ''
  }<span id="live" class="live"></span></header><main id="main">${body}</main><script src="/static/app.js"></script></body></html>`;
}

function alertRows(list: Alert[], csrf: string, now: number): string {
  if (list.length === 0) return '<p class="muted">No alerts.</p>';
  const rows = list
    .map(
      (a) => `<tr id="alert-${a.id}" class="${a.ackedAt ? 'acked' : ''}"><td>${h(ago(Date.parse(a.ts), now))}</td><td><span class="badge ${SEV_CLASS[a.severity]}">${h(a.severity)}</span></td><td>${h(a.kind)}</td>
<td>${h(a.title)}</td><td>${a.device ? `<a href="/device/${encodeURIComponent(a.device.mac ?? `ip:${a.device.ip}`)}">${h(a.device.ip ?? a.device.mac)}</a>` : ''}</td>
<td>${a.ackedAt ? `<span class="muted">acknowledged</span>` : `<form method="post" action="/alerts/${a.id}/ack"><input type="hidden" name="_csrf" value="${h(csrf)}"><button class="ack" data-id="${a.id}">Acknowledge</button></form>`}</td></tr>`,
    )
    .join('');
  return `<table class="alerts"><thead><tr><th>when</th><th>severity</th><th>kind</th><th>alert</th><th>device</th><th></th></tr></thead><tbody>${rows}</tbody></table>`;
}

export function metricsSnapshot(deps: WebDeps): MetricsSnapshot {
  const cap = deps.captureMetrics?.() ?? { dropped: 0, packets: 0, restarts: 0, up: false };
  const devices = deps.store.devices().filter((d) => !d.gone).length;
  const counts = deps.store.alertCounts();
  return {
    devices,
    alertsByKind: counts,
    captureDropped: cap.dropped,
    capturePackets: cap.packets,
    captureRestarts: cap.restarts,
    captureUp: cap.up,
    alertsUnacknowledged: deps.store.unackedCount(),
    storeBytes: deps.store.sizeBytes(),
  };
}

export async function buildApp(deps: WebDeps): Promise<FastifyInstance> {
  const app = Fastify({ logger: deps.logger ?? false, bodyLimit: 64 * 1024, trustProxy: false });
  const sessions = new Sessions();
  const now = deps.now ?? Date.now;
  const store = deps.store;
  const authOn = deps.requireAuth;
  const hosts = new Set(['localhost', '127.0.0.1', '[::1]', ...(deps.allowedHosts ?? [])].map((x) => x.toLowerCase()));

  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });

  app.decorateRequest('session', null);

  app.addHook('onRequest', async (req, reply) => {
    // DNS rebinding: a page on another site must not reach the dashboard through a name that resolves to us.
    const host = (req.headers.host ?? '').toLowerCase().replace(/:\d+$/, '');
    if (!hosts.has(host) && !hosts.has('*')) {
      return reply.code(421).type('text/plain').send('unexpected Host header\n');
    }
    reply.header('x-content-type-options', 'nosniff');
    reply.header('x-frame-options', 'DENY');
    reply.header('referrer-policy', 'same-origin');
    reply.header('content-security-policy', "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'");
    let s = sessions.get(cookies(req)[COOKIE], now());
    if (!s) {
      s = sessions.create(!authOn, now());
      reply.header('set-cookie', `${COOKIE}=${s.id}; Path=/; HttpOnly; SameSite=Strict`);
    }
    (req as FastifyRequest & { session: Session }).session = s;
  });

  const sessionOf = (req: FastifyRequest): Session => (req as FastifyRequest & { session: Session }).session;

  // CSRF: every state-changing request carries the session's token (form field or header), and a cross-site Origin is refused.
  app.addHook('preHandler', async (req, reply) => {
    if (req.method === 'GET' || req.method === 'HEAD') return;
    const origin = req.headers.origin;
    if (origin && origin !== 'null') {
      let oh = '';
      try {
        oh = new URL(origin).host.toLowerCase();
      } catch {
        oh = '';
      }
      if (oh !== (req.headers.host ?? '').toLowerCase()) return reply.code(403).type('text/plain').send('cross-origin request refused\n');
    }
    const body = (req.body ?? {}) as Record<string, unknown>;
    const token = (typeof body._csrf === 'string' ? body._csrf : undefined) ?? (req.headers['x-csrf-token'] as string | undefined);
    if (!sameToken(token, sessionOf(req).csrf)) return reply.code(403).type('text/plain').send('missing or wrong CSRF token\n');
  });

  const open = new Set(['/login', '/static/app.css', '/static/app.js', '/healthz']);
  app.addHook('preHandler', async (req, reply) => {
    if (!authOn || sessionOf(req).authenticated) return;
    const path = req.url.split('?')[0];
    if (open.has(path)) return;
    if (path === '/metrics' && (await basicOk(req))) return;
    if (path.startsWith('/api/') || path === '/events' || path === '/metrics' || req.method !== 'GET') return reply.code(401).header('www-authenticate', path === '/metrics' ? 'Basic realm="iotguard"' : 'Session').send({ error: 'log in first' });
    return reply.redirect(`/login?next=${encodeURIComponent(req.url)}`);
  });

  async function basicOk(req: FastifyRequest): Promise<boolean> {
    const m = /^Basic\s+(.+)$/i.exec(req.headers.authorization ?? '');
    const hash = store.getSetting('web_password');
    if (!m || !hash) return false;
    const dec = Buffer.from(m[1], 'base64').toString('utf8');
    const pw = dec.slice(dec.indexOf(':') + 1);
    return verifyPassword(pw, hash);
  }

  const page = (reply: FastifyReply, req: FastifyRequest, title: string, body: string) => reply.type('text/html; charset=utf-8').send(layout(title, body, sessionOf(req), authOn));

  app.get('/static/app.css', async (_req, reply) => reply.type('text/css').header('cache-control', 'max-age=3600').send(CSS));
  app.get('/static/app.js', async (_req, reply) => reply.type('application/javascript').header('cache-control', 'max-age=3600').send(APP_JS));
  app.get('/healthz', async () => ({ ok: true }));

  // ---------------------------------------------------------------------------
  // login

  app.get('/login', async (req, reply) => {
    const q = req.query as { next?: string; failed?: string };
    const next = typeof q.next === 'string' && q.next.startsWith('/') && !q.next.startsWith('//') ? q.next : '/';
    const hasPw = Boolean(store.getSetting('web_password'));
    const body = hasPw
      ? `<h1>Log in</h1>${q.failed ? '<p class="error">Wrong password.</p>' : ''}<form method="post" action="/login" class="login">
<input type="hidden" name="_csrf" value="${h(sessionOf(req).csrf)}"><input type="hidden" name="next" value="${h(next)}">
<label>Password <input type="password" name="password" autocomplete="current-password" autofocus required></label> <button type="submit">Log in</button></form>`
      : `<h1>No password set</h1><p>Set one on the monitor's host: <code>iotguard monitor --set-password</code></p>`;
    return page(reply, req, 'Log in', body);
  });

  const failures = new Map<string, number[]>();
  app.post('/login', async (req, reply) => {
    const body = (req.body ?? {}) as Record<string, string>;
    const ip = req.ip;
    const t = now();
    const recent = (failures.get(ip) ?? []).filter((x) => t - x < 60_000);
    if (recent.length >= 10) return reply.code(429).type('text/plain').send('too many failed logins; wait a minute\n');
    const hash = store.getSetting('web_password');
    const ok = Boolean(hash) && typeof body.password === 'string' && (await verifyPassword(body.password, hash!));
    const next = typeof body.next === 'string' && body.next.startsWith('/') && !body.next.startsWith('//') ? body.next : '/';
    if (!ok) {
      failures.set(ip, [...recent, t]);
      return reply.code(303).redirect(`/login?failed=1&next=${encodeURIComponent(next)}`);
    }
    // a fresh session id on login (no fixation)
    sessions.destroy(sessionOf(req).id);
    const s = sessions.create(true, t);
    reply.header('set-cookie', `${COOKIE}=${s.id}; Path=/; HttpOnly; SameSite=Strict`);
    return reply.code(303).redirect(next);
  });

  app.post('/logout', async (req, reply) => {
    sessions.destroy(sessionOf(req).id);
    reply.header('set-cookie', `${COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`);
    return reply.code(303).redirect('/login');
  });

  // ---------------------------------------------------------------------------
  // pages

  app.get('/', async (req, reply) => {
    const t = now();
    const devs = store.devices();
    const rows = devs
      .map(
        (d) => `<tr class="${d.gone ? 'gone' : ''}"><td><a href="/device/${encodeURIComponent(d.key)}">${h(d.hostname ?? d.ip ?? d.mac)}</a></td><td>${h(d.ip)}</td><td>${h(d.mac)}</td>
<td>${h(d.vendor ?? '')}</td><td>${h(d.type ?? '')}</td><td><span class="badge ${SEV_CLASS[d.riskLevel] ?? ''}">${h(d.riskLevel)}</span> ${d.riskScore}</td>
<td>${d.gone ? '<span class="muted">gone</span> ' : ''}${h(ago(d.lastSeen, t))}</td><td>${d.alerts || ''}</td></tr>`,
      )
      .join('');
    const body = `<h1>Devices <small>${devs.filter((d) => !d.gone).length} on the network</small></h1>${
      devs.length
        ? `<table class="devices"><thead><tr><th>device</th><th>IP</th><th>MAC</th><th>vendor</th><th>type</th><th>risk</th><th>last seen</th><th>open alerts</th></tr></thead><tbody>${rows}</tbody></table>`
        : '<p class="muted">No devices yet: the first discovery is running.</p>'
    }<h2>Latest alerts</h2>${alertRows(store.alerts({ limit: 10 }), sessionOf(req).csrf, t)}`;
    return page(reply, req, 'Devices', body);
  });

  app.get('/device/:key', async (req, reply) => {
    const key = (req.params as { key: string }).key;
    const d = store.device(key);
    if (!d) return reply.code(404).type('text/html; charset=utf-8').send(layout('Not found', `<h1>No such device</h1><p>${h(key)}</p>`, sessionOf(req), authOn));
    const t = now();
    const bucket = 15 * 60_000;
    const from = t - 24 * 3600_000;
    const points = new Map<number, number>();
    for (const r of store.traffic(key, Math.floor(from / 60_000))) {
      const b = Math.floor((r.minute * 60_000) / bucket) * bucket;
      points.set(b, (points.get(b) ?? 0) + r.bytes);
    }
    const svg = trafficSvg([...points].map(([ts, bytes]) => ({ ts, bytes })), { from, to: t, bucketMs: bucket });
    const findings = [...d.findings].sort((a, b) => severityRank(b.severity as Severity) - severityRank(a.severity as Severity));
    const dests = store.destinations(key, 100);
    const maps = store.mappings().filter((m) => m.internalClient === d.ip);
    const body = `<h1>${h(d.hostname ?? d.ip ?? d.mac)} <span class="badge ${SEV_CLASS[d.riskLevel] ?? ''}">${h(d.riskLevel)} risk (${d.riskScore})</span></h1>
<p class="facts">IP ${h(d.ip)} · MAC ${h(d.mac)} · ${h(d.vendor ?? 'unknown vendor')} · type ${h(d.type ?? 'unknown')} · first seen ${h(new Date(d.firstSeen).toISOString())} · last seen ${h(ago(d.lastSeen, t))}${d.gone ? ' · <strong>gone</strong>' : ''}</p>
<h2>Traffic (last 24 h)</h2>${svg}
<h2>Findings</h2>${
      findings.length
        ? `<table class="findings"><thead><tr><th>severity</th><th>finding</th><th>what it is</th><th>advice</th></tr></thead><tbody>${findings
            .map((f) => `<tr><td><span class="badge ${SEV_CLASS[f.severity]}">${h(f.severity)}</span></td><td>${h(f.id)}</td><td>${h(f.title)}</td><td>${h(f.advice)}</td></tr>`)
            .join('')}</tbody></table>`
        : '<p class="muted">No findings.</p>'
    }
<h2>Destinations</h2>${
      dests.length
        ? `<table class="destinations"><thead><tr><th>name</th><th>address</th><th>port</th><th>bytes</th><th>first seen</th><th>last seen</th></tr></thead><tbody>${dests
            .map((x) => `<tr><td>${h(x.name ?? '-')}</td><td>${h(x.ip)}</td><td>${x.port ?? ''}/${h(x.proto)}</td><td>${x.bytes}</td><td>${h(ago(x.firstSeen, t))}</td><td>${h(ago(x.lastSeen, t))}</td></tr>`)
            .join('')}</tbody></table>`
        : '<p class="muted">No destinations seen yet.</p>'
    }
<h2>UPnP port mappings to this device</h2>${
      maps.length
        ? `<table class="mappings"><thead><tr><th>external</th><th>internal</th><th>description</th><th>risk</th></tr></thead><tbody>${maps
            .map((m) => `<tr><td>${h(m.protocol)}/${m.externalPort}</td><td>${h(m.internalClient)}:${m.internalPort}</td><td>${h(m.description)}</td><td>${h(m.risk ?? '')}</td></tr>`)
            .join('')}</tbody></table>`
        : '<p class="muted">None.</p>'
    }
<h2>Open ports</h2><p>${d.openPorts.length ? d.openPorts.map((p) => `${p.port} (${h(p.service)})`).join(', ') : '<span class="muted">none found</span>'}</p>
<h2>Profile</h2>${d.profile ? `<pre>${h(JSON.stringify(d.profile, null, 2))}</pre>` : '<p class="muted">No MUD profile for this device (iotguard policy learn makes one).</p>'}
<h2>Alerts</h2>${alertRows(store.alerts({ deviceMac: d.mac, deviceIp: d.mac ? null : d.ip, limit: 50 }), sessionOf(req).csrf, t)}`;
    return page(reply, req, d.hostname ?? d.ip ?? d.key, body);
  });

  app.get('/alerts', async (req, reply) => {
    const q = req.query as { open?: string };
    const list = store.alerts({ unackedOnly: q.open === '1', limit: 500 });
    return page(reply, req, 'Alerts', `<h1>Alerts <small><a href="/alerts?open=1">open only</a> · <a href="/alerts">all</a></small></h1>${alertRows(list, sessionOf(req).csrf, now())}`);
  });

  app.post('/alerts/:id/ack', async (req, reply) => {
    const id = Number((req.params as { id: string }).id);
    if (!Number.isInteger(id) || id <= 0) return reply.code(400).send({ error: 'bad alert id' });
    const a = store.alert(id);
    if (!a) return reply.code(404).send({ error: 'no such alert' });
    const changed = store.ack(id, new Date(now()));
    deps.events?.emit('ack', id);
    if ((req.headers.accept ?? '').includes('application/json')) return { id, acknowledged: true, changed };
    const back = req.headers.referer;
    let to = '/alerts';
    if (back) {
      try {
        const u = new URL(back);
        if (u.host === req.headers.host) to = u.pathname + u.search;
      } catch {
        /* keep /alerts */
      }
    }
    return reply.code(303).redirect(to);
  });

  // ---------------------------------------------------------------------------
  // API, live updates, metrics

  app.get('/api/devices', async () => ({ devices: store.devices() }));
  app.get('/api/device/:key', async (req, reply) => {
    const key = (req.params as { key: string }).key;
    const d = store.device(key);
    if (!d) return reply.code(404).send({ error: 'no such device' });
    return { device: d, destinations: store.destinations(key), alerts: store.alerts({ deviceMac: d.mac, deviceIp: d.mac ? null : d.ip }) };
  });
  app.get('/api/alerts', async (req) => {
    const q = req.query as { open?: string; after?: string };
    return { alerts: store.alerts({ unackedOnly: q.open === '1', afterId: q.after ? Number(q.after) || 0 : undefined, limit: 500 }) };
  });
  app.get('/api/status', async () => ({ status: deps.status?.() ?? null, capture: deps.captureMetrics?.() ?? null }));
  app.get('/api/session', async (req) => ({ authenticated: sessionOf(req).authenticated || !authOn, csrf: sessionOf(req).csrf }));

  app.get('/events', (req, reply) => {
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    res.write(`retry: 3000\n: iotguard\n\n`);
    const send = (event: string, data: unknown) => res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    const onAlert = (a: Alert) => send('alert', a);
    const onDevices = () => send('devices', { ts: now() });
    const onAck = (id: number) => send('ack', { id });
    deps.events?.on('alert', onAlert);
    deps.events?.on('devices', onDevices);
    deps.events?.on('mappings', onDevices);
    deps.events?.on('ack', onAck);
    const ping = setInterval(() => res.write(': ping\n\n'), 25_000);
    const done = () => {
      clearInterval(ping);
      deps.events?.off('alert', onAlert);
      deps.events?.off('devices', onDevices);
      deps.events?.off('mappings', onDevices);
      deps.events?.off('ack', onAck);
    };
    req.raw.on('close', done);
    res.on('close', done);
  });

  app.get('/metrics', async (_req, reply) => reply.type('text/plain; version=0.0.4; charset=utf-8').send(prometheusText(metricsSnapshot(deps))));

  return app;
}
