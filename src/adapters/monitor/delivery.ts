// Alert delivery: a webhook (JSON POST) and MQTT with Home Assistant
// discovery. Alerts are already committed when they get here; a channel
// marks each alert delivered in the store only after it went out, so what a
// crash or an unreachable endpoint left behind is sent again (the outbox).
import type { Alert } from '../../core/monitor/alerts.js';
import { haAlertMessages, haDeviceMessages, type HaDeviceInfo, type HaMessage } from '../../core/monitor/present.js';

export interface Channel {
  readonly name: string;
  deliver(a: Alert, device?: HaDeviceInfo): Promise<void>;
  /** Per-device state (risk), for channels that keep one (MQTT). */
  publishDevice?(d: HaDeviceInfo): Promise<void>;
  close(): Promise<void>;
}

export function webhookChannel(url: string, o: { timeoutMs?: number } = {}): Channel {
  return {
    name: 'webhook',
    async deliver(a) {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'iotguard-monitor' },
        body: JSON.stringify({ source: 'iotguard', alert: a }),
        signal: AbortSignal.timeout(o.timeoutMs ?? 5000),
      });
      await res.arrayBuffer().catch(() => undefined);
      if (res.status < 200 || res.status >= 300) throw new Error(`webhook answered HTTP ${res.status}`);
    },
    async close() {},
  };
}

/**
 * MQTT with Home Assistant discovery: `homeassistant/binary_sensor|sensor/...
 * /config` (retained) and state topics under `iotguard/`; the broker's last
 * will marks the monitor offline when it dies.
 */
export async function mqttChannel(url: string, o: { prefix?: string; base?: string; log?: (m: string) => void } = {}): Promise<Channel> {
  const { default: mqtt } = await import('mqtt');
  const base = o.base ?? 'iotguard';
  const prefix = o.prefix ?? 'homeassistant';
  const client = mqtt.connect(url, {
    clientId: `iotguard-monitor-${process.pid}`,
    reconnectPeriod: 2000,
    connectTimeout: 5000,
    will: { topic: `${base}/status`, payload: Buffer.from('offline'), retain: true, qos: 1 },
  });
  client.on('error', (e) => o.log?.(`mqtt: ${e.message}`));
  client.on('connect', () => {
    client.publish(`${base}/status`, 'online', { retain: true, qos: 1 });
  });
  const sent = new Set<string>();
  const publish = async (msgs: HaMessage[]) => {
    if (!client.connected) throw new Error('mqtt broker not connected');
    for (const m of msgs) await client.publishAsync(m.topic, m.payload, { retain: m.retain, qos: 1 });
  };
  const publishDevice = async (d: HaDeviceInfo) => {
    const msgs = haDeviceMessages(d, prefix, base);
    // config topics once per run; the state every time
    await publish(msgs.filter((m) => !m.topic.endsWith('/config') || !sent.has(m.topic)));
    for (const m of msgs) if (m.topic.endsWith('/config')) sent.add(m.topic);
  };
  return {
    name: 'mqtt',
    async deliver(a, device) {
      await publish(haAlertMessages(a, prefix, base));
      if (device) await publishDevice(device);
    },
    publishDevice,
    async close() {
      if (client.connected) await client.publishAsync(`${base}/status`, 'offline', { retain: true, qos: 1 }).catch(() => undefined);
      await client.endAsync().catch(() => undefined);
    },
  };
}
