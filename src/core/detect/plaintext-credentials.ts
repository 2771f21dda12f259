// plaintext-credentials: a password crosses the network in clear — HTTP Basic,
// a password field in a plain-HTTP form or query string, a telnet/FTP/POP3/
// IMAP login, an MQTT CONNECT with a password on an unencrypted port. The
// password itself is never kept: the engine's events carry only that one was
// sent, and form values are never copied out of the body here.
import type { DetectorConfig } from './config.js';
import type { Detector, DeviceRef, EngineEvent, EventKind } from '../engine/events.js';
import type { Finding } from '../model/finding.js';
import { Capped, deviceKey, deviceOf, endpointText, flowText, printable } from './util.js';

const WANTS: readonly EventKind[] = ['http-request', 'login', 'mqtt-connect'];

type Protocol = 'http-basic' | 'http-form' | 'telnet' | 'ftp' | 'pop3' | 'imap' | 'rtsp' | 'mqtt' | 'other';

interface Group {
  device: DeviceRef;
  client: string;
  protocol: Protocol;
  server: string;
  usernames: Set<string>;
  frames: Capped<number>;
  file: string;
  flows: Set<string>;
  serverLocal: boolean;
}

const FORM_PASSWORD = /(?:^|[&?])(?:password|passwd|pass|pwd|passphrase|pin|secret|user_?pass(?:word)?|login_?pass(?:word)?)=([^&\s]+)/i;

const JSON_PASSWORD = /"(?:password|passwd|pass|pwd|passphrase|secret)"\s*:\s*"[^"]+"/i;

/** True when a urlencoded body or query string carries a non-empty password field (its value is not returned). */
export function hasPasswordField(s: string): boolean {
  return FORM_PASSWORD.test(s);
}

/** Same for a JSON login body (what many device apps post). */
export function hasJsonPassword(s: string): boolean {
  return JSON_PASSWORD.test(s);
}

const LABEL: Record<Protocol, string> = {
  'http-basic': 'HTTP Basic authentication',
  'http-form': 'a plain-HTTP login form or API call',
  telnet: 'telnet',
  ftp: 'FTP',
  pop3: 'POP3',
  imap: 'IMAP',
  rtsp: 'RTSP',
  mqtt: 'MQTT',
  other: 'a cleartext protocol',
};

const ADVICE: Record<Protocol, string> = {
  'http-basic': 'Anyone on the network can read this password: change it, and use the device only over HTTPS or from a trusted network.',
  'http-form': 'Anyone on the network can read this password: change it, and use the device only over HTTPS or from a trusted network.',
  telnet: 'Anyone on the network can read this telnet password: change it, turn telnet off and use SSH or the app instead.',
  ftp: 'Anyone on the network can read this FTP password: change it and switch to SFTP or FTPS.',
  pop3: 'Anyone on the network can read this mail password: change it and turn on SSL/TLS in the mail settings.',
  imap: 'Anyone on the network can read this mail password: change it and turn on SSL/TLS in the mail settings.',
  rtsp: 'Anyone on the network can read this camera stream password: change it and keep the camera on an isolated network.',
  mqtt: 'Anyone on the path can read this MQTT password: change it and ask the vendor to use MQTT over TLS (port 8883).',
  other: 'Anyone on the network can read this password: change it and use an encrypted protocol.',
};

export function plaintextCredentialsDetector(cfg: DetectorConfig): Detector {
  const groups = new Map<string, Group>();

  const note = (e: EngineEvent & { client: { ip: string; port?: number; local: boolean; mac?: string }; server: { ip: string; port?: number; local: boolean; mac?: string } }, protocol: Protocol, username: string | undefined) => {
    const device = deviceOf(e, e.client, e.server);
    const server = endpointText(e.server);
    const k = `${deviceKey(device)}|${protocol}|${server}`;
    let g = groups.get(k);
    if (!g) {
      g = { device, client: e.client.ip, protocol, server, usernames: new Set(), frames: new Capped(cfg.maxEvidence), file: e.file, flows: new Set(), serverLocal: e.server.local };
      groups.set(k, g);
    }
    if (username !== undefined && username !== '' && g.usernames.size < cfg.maxEvidence) g.usernames.add(printable(username, 64));
    g.frames.push(e.frame);
    if (g.flows.size < cfg.maxEvidence) g.flows.add(flowText(e.client, e.server));
  };

  return {
    name: 'plaintext-credentials',
    wants: WANTS,
    onEvent(e: EngineEvent): void {
      switch (e.kind) {
        case 'http-request': {
          if (e.authorization?.cleartextPassword) {
            note(e, 'http-basic', e.authorization.username);
            return;
          }
          if (!cfg.plaintextCredentials.formFields) return;
          const q = e.path.indexOf('?');
          let found = q >= 0 && hasPasswordField(e.path.slice(q));
          if (!found && e.bodyPrefix.length > 0 && e.contentType !== undefined) {
            const body = (): string => Buffer.from(e.bodyPrefix.buffer, e.bodyPrefix.byteOffset, e.bodyPrefix.byteLength).toString('latin1');
            if (/x-www-form-urlencoded/i.test(e.contentType)) found = hasPasswordField(`&${body()}`);
            else if (/json/i.test(e.contentType)) found = hasJsonPassword(body());
          }
          if (found) note(e, 'http-form', undefined);
          return;
        }
        case 'login':
          if (e.step === 'attempt' && e.passwordInClear) note(e, e.service, e.username);
          return;
        case 'mqtt-connect':
          if (e.passwordPresent) note(e, 'mqtt', e.username);
          return;
        default:
          return;
      }
    },
    finish(): Finding[] {
      const out: Finding[] = [];
      for (const g of groups.values()) {
        const who = g.client;
        const users = [...g.usernames];
        out.push({
          id: 'plaintext-credentials',
          severity: 'high',
          title: `A password crosses the network in clear: ${LABEL[g.protocol]} from ${who} to ${g.server}${users.length > 0 ? ` (user ${users.join(', ')})` : ''}`,
          device: g.device,
          evidence: {
            protocol: g.protocol,
            server: g.server,
            ...(users.length > 0 ? { usernames: users } : {}),
            passwordShown: false,
            file: g.file,
            frames: g.frames.items,
            attempts: g.frames.total,
            flows: [...g.flows],
          },
          advice: ADVICE[g.protocol],
        });
      }
      return out;
    },
  };
}
