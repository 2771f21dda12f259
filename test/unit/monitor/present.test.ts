import { describe, expect, it } from 'vitest';
import { escapeHtml, haAlertMessages, haDeviceMessages, haId, prometheusText, trafficSvg } from '../../../src/core/monitor/present.js';

describe('prometheusText', () => {
  it('has the contract metrics with HELP/TYPE and escaped labels', () => {
    const t = prometheusText({ devices: 7, alertsByKind: { 'new-device': 2, 'we"ird\n': 1 }, captureDropped: 5, capturePackets: 100, captureRestarts: 1, captureUp: true, alertsUnacknowledged: 3, storeBytes: 4096 });
    expect(t).toMatch(/^# HELP iotguard_devices .*\n# TYPE iotguard_devices gauge\niotguard_devices 7$/m);
    expect(t).toContain('iotguard_alerts_total{kind="new-device"} 2');
    expect(t).toContain('iotguard_alerts_total{kind="we\\"ird\\n"} 1');
    expect(t).toContain('# TYPE iotguard_capture_dropped_packets_total counter\niotguard_capture_dropped_packets_total 5');
    expect(t.endsWith('\n')).toBe(true);
    for (const line of t.trim().split('\n')) expect(line).toMatch(/^(# (HELP|TYPE) \w+ .+|\w+(\{kind="(?:[^"\\]|\\.)*"\})? \d+)$/);
  });
});

describe('trafficSvg', () => {
  it('draws one bar per non-empty bucket inside the window', () => {
    const svg = trafficSvg(
      [
        { ts: 0, bytes: 100 },
        { ts: 60_000, bytes: 0 },
        { ts: 120_000, bytes: 50 },
        { ts: 999_999_999, bytes: 5 },
      ],
      { from: 0, to: 180_000, bucketMs: 60_000 },
    );
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.match(/<rect /g)).toHaveLength(2);
    expect(svg).not.toContain('<script');
  });
});

describe('Home Assistant discovery', () => {
  it('publishes retained config topics for a binary_sensor and a sensor, and a state topic', () => {
    const msgs = haDeviceMessages({ key: 'aa:bb:cc:00:00:20', mac: 'aa:bb:cc:00:00:20', ip: '192.168.77.20', hostname: 'cam', vendor: null, riskLevel: 'critical', riskScore: 80, alerts: 2 });
    expect(msgs.map((m) => m.topic)).toEqual([
      'homeassistant/binary_sensor/iotguard_aa_bb_cc_00_00_20/risk/config',
      'homeassistant/sensor/iotguard_aa_bb_cc_00_00_20/risk_score/config',
      'iotguard/device/aa_bb_cc_00_00_20/state',
    ]);
    const cfg = JSON.parse(msgs[0].payload);
    expect(cfg).toMatchObject({ device_class: 'problem', state_topic: 'iotguard/device/aa_bb_cc_00_00_20/state', unique_id: 'iotguard_aa_bb_cc_00_00_20_risk' });
    expect(cfg.device.connections).toEqual([['mac', 'aa:bb:cc:00:00:20']]);
    expect(JSON.parse(msgs[2].payload)).toMatchObject({ risk_level: 'critical', risk_score: 80 });
    const a = haAlertMessages({ id: 1, ts: 't', kind: 'new-device', severity: 'medium', key: 'k', title: 'New', device: null, details: {}, ackedAt: null });
    expect(a[0].topic).toBe('homeassistant/sensor/iotguard/last_alert/config');
    expect(haId('../#+ x')).toBe('x');
  });
  it('escapes HTML', () => {
    expect(escapeHtml(`<img src=x onerror="a('b')">&`)).toBe('&lt;img src=x onerror=&quot;a(&#39;b&#39;)&quot;&gt;&amp;');
  });
});
