// Pure presentation pieces of the monitor: the traffic chart as inline SVG,
// the Prometheus text exposition, and the Home Assistant MQTT discovery
// messages. Everything is escaped or sanitised here, so the callers can put
// the output on the wire as is.
import type { Alert } from './alerts.js';

export function escapeHtml(s: unknown): string {
  return String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

export interface TrafficPoint {
  /** Bucket start, ms since the epoch. */
  ts: number;
  bytes: number;
}

/** A bar chart of bytes per bucket; `from`..`to` fixes the x axis so empty periods show as gaps. */
export function trafficSvg(points: readonly TrafficPoint[], opts: { from: number; to: number; bucketMs: number; width?: number; height?: number }): string {
  const w = opts.width ?? 640;
  const h = opts.height ?? 160;
  const pad = 30;
  const span = Math.max(opts.bucketMs, opts.to - opts.from);
  const max = Math.max(1, ...points.map((p) => p.bytes));
  const bw = Math.max(1, ((w - pad) * opts.bucketMs) / span - 1);
  const bars = points
    .filter((p) => p.ts >= opts.from && p.ts <= opts.to && p.bytes > 0)
    .map((p) => {
      const x = pad + ((p.ts - opts.from) / span) * (w - pad);
      const bh = Math.max(1, (p.bytes / max) * (h - 20));
      return `<rect x="${x.toFixed(1)}" y="${(h - 15 - bh).toFixed(1)}" width="${bw.toFixed(1)}" height="${bh.toFixed(1)}"><title>${escapeHtml(new Date(p.ts).toISOString())}: ${p.bytes} bytes</title></rect>`;
    })
    .join('');
  const fmt = (n: number) => (n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(1)}M` : n >= 1024 ? `${(n / 1024).toFixed(0)}k` : String(n));
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" aria-label="traffic" viewBox="0 0 ${w} ${h}" width="${w}" height="${h}">` +
    `<line x1="${pad}" y1="${h - 15}" x2="${w}" y2="${h - 15}" stroke="#888"/>` +
    `<text x="0" y="12" font-size="10">${fmt(max)}B</text>` +
    `<text x="${pad}" y="${h - 2}" font-size="10">${escapeHtml(new Date(opts.from).toISOString().slice(11, 16))}</text>` +
    `<text x="${w - 34}" y="${h - 2}" font-size="10">${escapeHtml(new Date(opts.to).toISOString().slice(11, 16))}</text>` +
    `<g fill="#3a7bd5">${bars}</g></svg>`
  );
}

// ---------------------------------------------------------------------------
// Prometheus

export interface MetricsSnapshot {
  devices: number;
  alertsByKind: Record<string, number>;
  captureDropped: number;
  capturePackets: number;
  captureRestarts: number;
  captureUp: boolean;
  alertsUnacknowledged: number;
  storeBytes: number;
}

const labelValue = (s: string) => s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');

/** Prometheus text exposition format 0.0.4. */
export function prometheusText(m: MetricsSnapshot): string {
  const out: string[] = [];
  const metric = (name: string, type: string, help: string, lines: string[]) => out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, ...lines);
  metric('iotguard_devices', 'gauge', 'Devices currently on the network (not gone).', [`iotguard_devices ${m.devices}`]);
  metric(
    'iotguard_alerts_total',
    'counter',
    'Alerts raised, by kind.',
    Object.entries(m.alertsByKind)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, n]) => `iotguard_alerts_total{kind="${labelValue(k)}"} ${n}`),
  );
  metric('iotguard_alerts_unacknowledged', 'gauge', 'Alerts not yet acknowledged.', [`iotguard_alerts_unacknowledged ${m.alertsUnacknowledged}`]);
  metric('iotguard_capture_dropped_packets_total', 'counter', 'Packets the kernel dropped before the capture read them.', [`iotguard_capture_dropped_packets_total ${m.captureDropped}`]);
  metric('iotguard_capture_packets_total', 'counter', 'Packets read by the live capture.', [`iotguard_capture_packets_total ${m.capturePackets}`]);
  metric('iotguard_capture_restarts_total', 'counter', 'Times the capture process was restarted.', [`iotguard_capture_restarts_total ${m.captureRestarts}`]);
  metric('iotguard_capture_up', 'gauge', '1 while the capture process runs.', [`iotguard_capture_up ${m.captureUp ? 1 : 0}`]);
  metric('iotguard_store_bytes', 'gauge', 'Size of the store database.', [`iotguard_store_bytes ${m.storeBytes}`]);
  return `${out.join('\n')}\n`;
}

// ---------------------------------------------------------------------------
// Home Assistant MQTT discovery

export interface HaMessage {
  topic: string;
  payload: string;
  retain: boolean;
}

/** Topic-safe id: Home Assistant allows [a-zA-Z0-9_-] in node and object ids. */
export const haId = (s: string): string => s.toLowerCase().replace(/[^a-z0-9_-]+/g, '_').replace(/^_+|_+$/g, '').slice(0, 64) || 'x';

export interface HaDeviceInfo {
  key: string;
  mac: string | null;
  ip: string | null;
  hostname: string | null;
  vendor: string | null;
  riskLevel: string;
  riskScore: number;
  alerts: number;
}

/**
 * Per device: a binary_sensor "at risk" (on when its risk is high or
 * critical) and a sensor with the risk score; plus one sensor for the latest
 * alert of the whole network. Config topics are retained so Home Assistant
 * finds them after a restart.
 */
export function haDeviceMessages(d: HaDeviceInfo, prefix = 'homeassistant', base = 'iotguard'): HaMessage[] {
  const id = haId(d.mac ?? d.key);
  const name = d.hostname ?? d.ip ?? d.mac ?? d.key;
  const device = {
    identifiers: [`iotguard_${id}`],
    name: `${name}`,
    ...(d.vendor ? { manufacturer: d.vendor } : {}),
    ...(d.mac ? { connections: [['mac', d.mac]] } : {}),
    via_device: 'iotguard',
  };
  const stateTopic = `${base}/device/${id}/state`;
  const availability = { availability_topic: `${base}/status`, payload_available: 'online', payload_not_available: 'offline' };
  return [
    {
      topic: `${prefix}/binary_sensor/iotguard_${id}/risk/config`,
      retain: true,
      payload: JSON.stringify({
        name: 'At risk',
        unique_id: `iotguard_${id}_risk`,
        device_class: 'problem',
        state_topic: stateTopic,
        value_template: "{{ 'ON' if value_json.risk_level in ['high', 'critical'] else 'OFF' }}",
        json_attributes_topic: stateTopic,
        device,
        ...availability,
      }),
    },
    {
      topic: `${prefix}/sensor/iotguard_${id}/risk_score/config`,
      retain: true,
      payload: JSON.stringify({
        name: 'Risk score',
        unique_id: `iotguard_${id}_risk_score`,
        state_topic: stateTopic,
        value_template: '{{ value_json.risk_score }}',
        state_class: 'measurement',
        device,
        ...availability,
      }),
    },
    {
      topic: stateTopic,
      retain: true,
      payload: JSON.stringify({ risk_level: d.riskLevel, risk_score: d.riskScore, ip: d.ip, mac: d.mac, hostname: d.hostname, alerts: d.alerts }),
    },
  ];
}

/** The network-wide "last alert" sensor (config) and its state for one alert. */
export function haAlertMessages(a: Alert, prefix = 'homeassistant', base = 'iotguard'): HaMessage[] {
  const stateTopic = `${base}/alert/state`;
  return [
    {
      topic: `${prefix}/sensor/iotguard/last_alert/config`,
      retain: true,
      payload: JSON.stringify({
        name: 'Last alert',
        unique_id: 'iotguard_last_alert',
        state_topic: stateTopic,
        value_template: '{{ value_json.title }}',
        json_attributes_topic: stateTopic,
        device: { identifiers: ['iotguard'], name: 'iotguard monitor', manufacturer: 'iotguard' },
        availability_topic: `${base}/status`,
      }),
    },
    {
      topic: stateTopic,
      retain: true,
      payload: JSON.stringify({ id: a.id, kind: a.kind, severity: a.severity, title: a.title.slice(0, 250), ip: a.device?.ip ?? null, mac: a.device?.mac ?? null, ts: a.ts }),
    },
  ];
}
