// MQTT CONNECT and CONNACK (MQTT 3.1 / 3.1.1 §3.1-3.2, MQTT 5 §3.1-3.2). The
// password field is skipped, never read: only its presence is reported.
import { u16, utf8Text, type Decoded, fail } from './bytes.js';

export interface MqttConnect {
  protocolName: string;
  protocolLevel: number;
  clientId: string;
  username?: string;
  passwordPresent: boolean;
  keepAlive: number;
  cleanSession: boolean;
  willTopic?: string;
}

/** Remaining-length varint (§2.2.3 / §1.5.5): [value, bytes used] or undefined. */
export function mqttVarint(b: Uint8Array, o: number, end: number): [number, number] | undefined {
  let v = 0;
  let mul = 1;
  for (let i = 0; i < 4; i++) {
    if (o + i >= end) return undefined;
    const c = b[o + i];
    v += (c & 0x7f) * mul;
    if ((c & 0x80) === 0) return [v, i + 1];
    mul *= 128;
  }
  return undefined;
}

function str(b: Uint8Array, p: number, end: number): [string, number] | undefined {
  if (p + 2 > end) return undefined;
  const l = u16(b, p);
  if (p + 2 + l > end) return undefined;
  return [utf8Text(b, p + 2, p + 2 + l), p + 2 + l];
}

export function decodeMqttConnect(b: Uint8Array, o: number, end: number): Decoded<MqttConnect> {
  if (end - o < 2 || b[o] !== 0x10) return fail('not-connect');
  const rl = mqttVarint(b, o + 1, end);
  if (!rl) return fail('truncated');
  const e = Math.min(end, o + 1 + rl[1] + rl[0]);
  let p = o + 1 + rl[1];
  const pn = str(b, p, e);
  if (!pn || (pn[0] !== 'MQTT' && pn[0] !== 'MQIsdp')) return fail('bad-protocol-name');
  p = pn[1];
  if (p + 4 > e) return fail('truncated');
  const level = b[p];
  const flags = b[p + 1];
  const keepAlive = u16(b, p + 2);
  p += 4;
  if (level === 5) {
    const pl = mqttVarint(b, p, e);
    if (!pl) return fail('truncated');
    p += pl[1] + pl[0];
  }
  const cid = str(b, p, e);
  if (!cid) return fail('truncated');
  p = cid[1];
  const c: MqttConnect = {
    protocolName: pn[0],
    protocolLevel: level,
    clientId: cid[0],
    passwordPresent: (flags & 0x40) !== 0,
    keepAlive,
    cleanSession: (flags & 0x02) !== 0,
  };
  if (flags & 0x04) {
    if (level === 5) {
      const wl = mqttVarint(b, p, e);
      if (!wl) return { ok: true, value: c };
      p += wl[1] + wl[0];
    }
    const wt = str(b, p, e);
    if (!wt) return { ok: true, value: c };
    c.willTopic = wt[0];
    p = wt[1];
    if (p + 2 > e) return { ok: true, value: c };
    p += 2 + u16(b, p);
  }
  if (flags & 0x80) {
    const un = str(b, p, e);
    if (un) c.username = un[0];
  }
  return { ok: true, value: c };
}

export function decodeMqttConnack(b: Uint8Array, o: number, end: number): Decoded<{ returnCode: number; sessionPresent: boolean }> {
  if (end - o < 4 || b[o] !== 0x20) return fail('not-connack');
  const rl = mqttVarint(b, o + 1, end);
  if (!rl || rl[0] < 2) return fail('truncated');
  const p = o + 1 + rl[1];
  if (p + 2 > end) return fail('truncated');
  return { ok: true, value: { sessionPresent: (b[p] & 1) === 1, returnCode: b[p + 1] } };
}
