// insecure-service: a cleartext admin or login service is actually in use on
// the LAN — someone logged in over telnet or FTP (or POP3/IMAP), or a device
// talks MQTT to a broker that lets it in without any user name or password.
// Failed guesses alone do not count (that is login-brute-force), so a device
// that only gets scanned or attacked is not blamed for the attacker's traffic.
import type { DetectorConfig } from './config.js';
import type { Detector, DeviceRef, EngineEvent, EventKind, Endpoint } from '../engine/events.js';
import type { Finding } from '../model/finding.js';
import { Capped, deviceKey, endpointText } from './util.js';

const WANTS: readonly EventKind[] = ['login', 'mqtt-connect', 'mqtt-connack'];

interface Use {
  device: DeviceRef;
  service: string;
  port?: number;
  role: 'server' | 'client';
  peers: Set<string>;
  frames: Capped<number>;
  file: string;
  users: Set<string>;
}

const ADVICE: Record<string, string> = {
  telnet: 'Telnet sends everything, passwords included, in clear: turn it off on the device (or block port 23 to it) and use SSH or the vendor app.',
  ftp: 'FTP sends passwords and files in clear: turn it off or switch the device to SFTP/FTPS.',
  pop3: 'This mail login is not encrypted: turn on SSL/TLS in the mail settings.',
  imap: 'This mail login is not encrypted: turn on SSL/TLS in the mail settings.',
  mqtt: 'Anyone who reaches this MQTT broker can read and send commands without a password: turn on authentication and TLS on the broker.',
};

const refOf = (ep: Endpoint): DeviceRef => ({ ...(ep.mac ? { mac: ep.mac } : {}), ip: ep.ip });

export function insecureServiceDetector(cfg: DetectorConfig): Detector {
  const uses = new Map<string, Use>();
  /** MQTT CONNECTs without credentials, per flow, waiting for the broker's verdict. */
  const anonMqtt = new Map<number, { client: Endpoint; server: Endpoint; frame: number; file: string; device?: DeviceRef }>();

  const note = (device: DeviceRef, service: string, role: Use['role'], peer: Endpoint, self: Endpoint, frame: number, file: string, user?: string) => {
    const k = `${deviceKey(device)}|${service}|${self.port ?? ''}|${role}`;
    let u = uses.get(k);
    if (!u) {
      u = { device, service, port: self.port, role, peers: new Set(), frames: new Capped(cfg.maxEvidence), file, users: new Set() };
      uses.set(k, u);
    }
    if (u.peers.size < cfg.maxEvidence) u.peers.add(endpointText(peer));
    u.frames.push(frame);
    if (user && u.users.size < cfg.maxEvidence) u.users.add(user.slice(0, 64));
  };

  return {
    name: 'insecure-service',
    wants: WANTS,
    onEvent(e: EngineEvent): void {
      if (e.kind === 'login') {
        if (e.step !== 'success' || e.service === 'rtsp' || e.service === 'other') return;
        // the service runs on the server side; blame it when it is on the LAN
        if (e.server.local) note(refOf(e.server), e.service, 'server', e.client, e.server, e.frame, e.file, e.username);
        else if (e.client.local) note(refOf(e.client), e.service, 'client', e.server, e.client, e.frame, e.file, e.username);
      } else if (e.kind === 'mqtt-connect') {
        if (e.username === undefined && !e.passwordPresent && anonMqtt.size < 10_000) anonMqtt.set(e.flowId, { client: e.client, server: e.server, frame: e.frame, file: e.file, device: e.device });
      } else if (e.kind === 'mqtt-connack') {
        const a = anonMqtt.get(e.flowId);
        if (!a) return;
        anonMqtt.delete(e.flowId);
        if (!e.accepted) return;
        if (a.server.local) note(refOf(a.server), 'mqtt', 'server', a.client, a.server, a.frame, a.file);
        else note(a.device ?? refOf(a.client), 'mqtt', 'client', a.server, a.client, a.frame, a.file);
      }
    },
    finish(): Finding[] {
      const out: Finding[] = [];
      for (const u of uses.values()) {
        const who = u.device.ip ?? u.device.mac ?? 'a device';
        const svc = u.service === 'mqtt' ? 'MQTT without authentication' : u.service;
        const title =
          u.role === 'server'
            ? `${who} runs ${svc}${u.port !== undefined ? ` on port ${u.port}` : ''} and it is in use`
            : `${who} logs in to ${svc} on the internet (${[...u.peers][0]})`;
        out.push({
          id: 'insecure-service',
          severity: u.service === 'telnet' || (u.service === 'mqtt' && u.role === 'server') ? 'high' : 'medium',
          title,
          device: u.device,
          evidence: {
            service: u.service,
            ...(u.port !== undefined ? { port: u.port } : {}),
            role: u.role,
            peers: [...u.peers],
            ...(u.users.size > 0 ? { usernames: [...u.users] } : {}),
            file: u.file,
            frames: u.frames.items,
            sessions: u.frames.total,
          },
          advice: ADVICE[u.service] ?? 'This service sends passwords in clear: turn it off or use an encrypted alternative.',
        });
      }
      return out;
    },
  };
}
