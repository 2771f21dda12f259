// Banner grabbing for one open TCP port: a harmless, protocol-aware probe
// (telnet option refusal until the login prompt, SSH identification, HTTP(S)
// GET / for Server and <title>, RTSP OPTIONS, MQTT CONNECT without
// credentials). Never sends a user name or password. Category: safe/discovery.
import net from 'node:net';
import tls from 'node:tls';
import type { OpenPort } from '../../core/model/device.js';
import {
  LOGIN_PROMPT,
  MQTT_DISCONNECT,
  mqttConnectPacket,
  oneLine,
  parseHttpHead,
  parseMqttConnack,
  printable,
  serviceFromGreeting,
  telnetStep,
} from '../../core/inventory/banners.js';

export interface BannerOptions {
  timeoutMs?: number;
  /** Cap on bytes read per port. */
  maxBytes?: number;
}

type Kind = 'telnet' | 'ssh' | 'http' | 'https' | 'rtsp' | 'mqtt' | 'mqtts' | 'passive' | 'none';

/** Binary protocols that neither greet nor speak HTTP: probing them only costs time. */
const NO_PROBE = new Set(['domain', 'msrpc', 'netbios-ssn', 'microsoft-ds', 'rpcbind', 'modbus', 'iso-tsap', 'dnp3', 'xm-dvr', 'dahua-dvr', 'tplink-smarthome', 'tuya', 'winbox', 'stun', 'iphone-sync', 'niagara-fox', 'jetdirect', 'printer', 'xbox-live', 'pptp', 'socks', 'x11', 'adb', 'androidtv-remote', 'androidtv-pairing', 'cisco-sccp']);

const HTTPISH = new Set(['http', 'http-proxy', 'http-alt', 'upnp', 'sonos', 'roku-ecp', 'plex', 'airplay', 'docker']);
const HTTPSISH = new Set(['https', 'https-alt', 'cast']);

export function probeKind(port: number, service: string | undefined): Kind {
  const s = service ?? '';
  if (NO_PROBE.has(s)) return 'none';
  if (s === 'telnet') return 'telnet';
  if (s === 'ssh') return 'ssh';
  if (s === 'rtsp') return 'rtsp';
  if (s === 'mqtt') return 'mqtt';
  if (s === 'secure-mqtt') return 'mqtts';
  if (HTTPSISH.has(s)) return 'https';
  if (HTTPISH.has(s)) return 'http';
  if (port === 443 || port === 8443) return 'https';
  return 'passive';
}

interface Session {
  socket: net.Socket;
  data: Buffer;
  closed: boolean;
}

function open(ip: string, port: number, secure: boolean, timeoutMs: number): Promise<Session> {
  return new Promise((resolve, reject) => {
    // Devices present self-signed certificates; we only read what they say, so do not verify.
    const socket = secure
      ? tls.connect({ host: ip, port, rejectUnauthorized: false, ...(net.isIP(ip) ? {} : { servername: ip }) })
      : net.connect({ host: ip, port });
    const session: Session = { socket, data: Buffer.alloc(0), closed: false };
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('connect timeout'));
    }, timeoutMs);
    socket.once(secure ? 'secureConnect' : 'connect', () => {
      clearTimeout(timer);
      resolve(session);
    });
    socket.once('error', (e) => {
      clearTimeout(timer);
      session.closed = true;
      reject(e);
    });
    socket.on('close', () => (session.closed = true));
  });
}

/** Reads until `done(data)` says so, the peer closes, `maxBytes` arrive, or the time runs out. */
function readUntil(s: Session, done: (data: Buffer) => boolean, timeoutMs: number, maxBytes: number, onChunk?: (c: Buffer) => void): Promise<Buffer> {
  return new Promise((resolve) => {
    const finish = () => {
      clearTimeout(timer);
      s.socket.off('data', onData);
      s.socket.off('close', finish);
      s.socket.off('error', finish);
      resolve(s.data);
    };
    const onData = (c: Buffer) => {
      onChunk?.(c);
      s.data = Buffer.concat([s.data, c]).subarray(0, maxBytes);
      if (s.data.length >= maxBytes || done(s.data)) finish();
    };
    const timer = setTimeout(finish, timeoutMs);
    if (s.closed || done(s.data)) return finish();
    s.socket.on('data', onData);
    s.socket.once('close', finish);
    s.socket.once('error', finish);
  });
}

function headersDone(d: Buffer): boolean {
  const i = d.indexOf('\r\n\r\n');
  if (i < 0) return false;
  // Keep reading a little of an HTML body for its <title>.
  return /<\/title>/i.test(d.toString('latin1')) || d.length - i > 16384;
}

async function httpProbe(ip: string, port: number, secure: boolean, o: Required<BannerOptions>): Promise<Partial<OpenPort>> {
  const s = await open(ip, port, secure, o.timeoutMs);
  try {
    const host = net.isIPv6(ip) ? `[${ip}]` : ip;
    s.socket.write(`GET / HTTP/1.0\r\nHost: ${host}:${port}\r\nUser-Agent: iotguard-discover\r\nAccept: */*\r\nConnection: close\r\n\r\n`);
    const data = await readUntil(s, headersDone, o.timeoutMs, o.maxBytes);
    const head = parseHttpHead(data);
    if (!head) return { service: secure ? 'https' : 'http', banner: oneLine(printable(data)) };
    const server = head.headers['server'];
    const auth = head.headers['www-authenticate'];
    const details: Record<string, unknown> = { status: head.status };
    if (server) details.server = server;
    if (head.title) details.title = head.title;
    if (auth) details.authenticate = auth.split(/[ ,]/)[0];
    const parts = [`${head.status}${head.reason ? ` ${head.reason}` : ''}`];
    if (server) parts.push(`Server: ${server}`);
    if (head.title) parts.push(`title: ${head.title}`);
    if (auth) parts.push(`auth: ${auth.slice(0, 60)}`);
    return { service: secure ? 'https' : 'http', banner: oneLine(parts.join(' | ')), details };
  } finally {
    s.socket.destroy();
  }
}

async function rtspProbe(ip: string, port: number, o: Required<BannerOptions>): Promise<Partial<OpenPort>> {
  const s = await open(ip, port, false, o.timeoutMs);
  try {
    s.socket.write(`OPTIONS rtsp://${ip}:${port}/ RTSP/1.0\r\nCSeq: 1\r\nUser-Agent: iotguard-discover\r\n\r\n`);
    const data = await readUntil(s, (d) => d.includes('\r\n\r\n'), o.timeoutMs, o.maxBytes);
    const head = parseHttpHead(data);
    if (!head) return { service: 'rtsp', banner: oneLine(printable(data)) };
    const server = head.headers['server'];
    const details: Record<string, unknown> = { status: head.status };
    if (server) details.server = server;
    if (head.headers['public']) details.methods = head.headers['public'];
    return { service: 'rtsp', banner: oneLine([`${head.protocol} ${head.status} ${head.reason}`.trim(), server ? `Server: ${server}` : ''].filter(Boolean).join(' | ')), details };
  } finally {
    s.socket.destroy();
  }
}

async function mqttProbe(ip: string, port: number, secure: boolean, o: Required<BannerOptions>): Promise<Partial<OpenPort>> {
  const s = await open(ip, port, secure, o.timeoutMs);
  try {
    s.socket.write(mqttConnectPacket(`iotguard-${process.pid}`));
    const data = await readUntil(s, (d) => d.length >= 4, o.timeoutMs, 64);
    const ack = parseMqttConnack(data);
    if (ack?.accepted) s.socket.write(MQTT_DISCONNECT);
    if (!ack) return { service: secure ? 'secure-mqtt' : 'mqtt', banner: oneLine(printable(data)) };
    return {
      service: secure ? 'secure-mqtt' : 'mqtt',
      banner: `CONNACK ${ack.returnCode} (${ack.meaning}${ack.accepted ? ': anonymous access allowed' : ''})`,
      details: { returnCode: ack.returnCode, anonymous: ack.accepted },
    };
  } finally {
    s.socket.destroy();
  }
}

/** Telnet on an already open session: answer the option negotiation until a prompt (or silence). */
async function telnetOn(s: Session, first: Buffer, o: Required<BannerOptions>): Promise<Partial<OpenPort>> {
  let text = '';
  let sawOptions = false;
  const consume = (c: Uint8Array) => {
    const st = telnetStep(c);
    if (st.reply.length && !s.closed) s.socket.write(st.reply);
    sawOptions ||= st.sawOptions;
    if (st.text) text += `${text ? '\n' : ''}${st.text}`;
  };
  if (first.length) consume(first);
  if (!LOGIN_PROMPT.test(text)) {
    s.data = Buffer.alloc(0);
    await readUntil(s, () => LOGIN_PROMPT.test(text), o.timeoutMs, o.maxBytes, consume);
  }
  const details: Record<string, unknown> = { options: sawOptions };
  const prompt = /([^\n]*)$/.exec(text)?.[1]?.trim();
  if (prompt && LOGIN_PROMPT.test(prompt)) details.prompt = prompt;
  return { service: 'telnet', banner: oneLine(text), details };
}

async function greetingProbe(ip: string, port: number, kind: Kind, o: Required<BannerOptions>): Promise<Partial<OpenPort>> {
  const s = await open(ip, port, false, o.timeoutMs);
  try {
    const wait = kind === 'passive' ? Math.min(o.timeoutMs, 800) : o.timeoutMs;
    const data = await readUntil(s, (d) => d.includes('\n') || (d.length > 0 && d[0] === 255) || LOGIN_PROMPT.test(d.toString('latin1')), wait, o.maxBytes);
    const svc = serviceFromGreeting(data) ?? (kind === 'telnet' ? 'telnet' : undefined);
    if (svc === 'telnet') return await telnetOn(s, Buffer.from(data), o);
    if (svc === 'ssh') {
      const line = data.toString('latin1').split(/\r?\n/)[0].trim();
      return { service: 'ssh', banner: oneLine(line), details: { version: line } };
    }
    if (svc) return { service: svc, banner: oneLine(printable(data)) };
    if (data.length > 0) return { banner: oneLine(printable(data)) };
    return {};
  } finally {
    s.socket.destroy();
  }
}

/**
 * Probes one open port and returns its service and banner. `service` is the
 * port table's name, used to pick the probe; what the port answers wins.
 * Never throws: a probe that fails leaves the banner empty.
 */
export async function grabBanner(ip: string, port: number, service: string | undefined, opts: BannerOptions = {}): Promise<OpenPort> {
  const o = { timeoutMs: opts.timeoutMs ?? 2500, maxBytes: opts.maxBytes ?? 65536 };
  const kind = probeKind(port, service);
  const base: OpenPort = { port, proto: 'tcp', service: service ?? 'unknown', banner: '' };
  try {
    let got: Partial<OpenPort>;
    switch (kind) {
      case 'http':
      case 'https':
        got = await httpProbe(ip, port, kind === 'https', o);
        break;
      case 'rtsp':
        got = await rtspProbe(ip, port, o);
        break;
      case 'mqtt':
      case 'mqtts':
        got = await mqttProbe(ip, port, kind === 'mqtts', o);
        break;
      case 'none':
        got = {};
        break;
      default: {
        got = await greetingProbe(ip, port, kind, o);
        // A silent unknown port is often a web server on an odd port: ask it.
        if (!got.banner && !got.service && kind === 'passive') {
          const h = await httpProbe(ip, port, false, { ...o, timeoutMs: Math.min(o.timeoutMs, 1200) }).catch(() => ({}) as Partial<OpenPort>);
          if (h.details) got = h;
        }
      }
    }
    return { ...base, ...Object.fromEntries(Object.entries(got).filter(([, v]) => v !== undefined)) } as OpenPort;
  } catch {
    return base;
  }
}
