// login-brute-force: many failed logins from one client against one service —
// telnet, FTP, POP3/IMAP and RTSP logins the engine follows step by step,
// HTTP authentication answered 401, MQTT CONNECTs refused, and (since SSH
// hides the verdict) bursts of short SSH connections. A success after the
// failures makes it critical: someone guessed the password.
import type { DetectorConfig } from './config.js';
import type { Detector, DeviceRef, EngineEvent, Endpoint, EventKind } from '../engine/events.js';
import type { Finding } from '../model/finding.js';
import { deviceOf, endpointText, prune } from './util.js';

const WANTS: readonly EventKind[] = ['login', 'http-request', 'http-response', 'mqtt-connect', 'mqtt-connack', 'flow-close'];

interface Try {
  ts: number;
  frame: number;
  ok: boolean;
}

interface Target {
  attacker: Endpoint;
  target: Endpoint;
  service: string;
  tries: Try[];
  usernames: Set<string>;
  file: string;
  inferred: boolean;
  attackerDevice?: DeviceRef;
}

const MAX_TRIES = 10_000;
const refOf = (ep: Endpoint): DeviceRef => ({ ...(ep.mac ? { mac: ep.mac } : {}), ip: ep.ip });

/** Largest number of failures inside any window of `w` seconds (tries sorted by time). */
export function maxFailuresInWindow(tries: Try[], w: number): { count: number; from: number; to: number } {
  let best = { count: 0, from: 0, to: -1 };
  let lo = 0;
  let fails = 0;
  for (let hi = 0; hi < tries.length; hi++) {
    if (!tries[hi].ok) fails++;
    while (tries[hi].ts - tries[lo].ts > w) {
      if (!tries[lo].ok) fails--;
      lo++;
    }
    if (fails > best.count) best = { count: fails, from: lo, to: hi };
  }
  return best;
}

export function loginBruteForceDetector(cfg: DetectorConfig): Detector {
  const c = cfg.loginBruteForce;
  const targets = new Map<string, Target>();
  /** Login attempts per flow still waiting for a verdict. */
  const open = new Map<number, { n: number; ts: number; frame: number; key: string }>();
  const withAuth = new Set<string>();
  const mqttPending = new Map<number, { client: Endpoint; server: Endpoint; user?: string }>();

  const target = (client: Endpoint, server: Endpoint, service: string, file: string, device?: DeviceRef, inferred = false): Target => {
    const k = `${client.ip}|${server.ip}|${server.port ?? ''}|${service}`;
    let t = targets.get(k);
    if (!t) {
      t = { attacker: client, target: server, service, tries: [], usernames: new Set(), file, inferred, attackerDevice: client.local ? deviceOf({ device }, client) : undefined };
      prune(targets, 50_000, (x) => x.tries.some((y) => !y.ok));
      targets.set(k, t);
    }
    return t;
  };
  const record = (t: Target, ts: number, frame: number, ok: boolean, user?: string) => {
    if (t.tries.length < MAX_TRIES) t.tries.push({ ts, frame, ok });
    if (user && t.usernames.size < cfg.maxEvidence) t.usernames.add(user.slice(0, 64));
  };

  return {
    name: 'login-brute-force',
    wants: WANTS,
    onEvent(e: EngineEvent): void {
      switch (e.kind) {
        case 'login': {
          const t = target(e.client, e.server, e.service, e.file, e.device);
          const k = `${e.client.ip}|${e.server.ip}|${e.server.port ?? ''}|${e.service}`;
          if (e.step === 'attempt') {
            const o = open.get(e.flowId);
            // an attempt with no verdict before the next one counts as failed
            if (o && o.n > 0) record(t, o.ts, o.frame, false);
            open.set(e.flowId, { n: 1, ts: e.ts, frame: e.frame, key: k });
            if (e.username && t.usernames.size < cfg.maxEvidence) t.usernames.add(e.username.slice(0, 64));
          } else if (e.step === 'failure' || e.step === 'success') {
            const o = open.get(e.flowId);
            open.delete(e.flowId);
            record(t, o?.ts ?? e.ts, e.frame, e.step === 'success', e.username);
          }
          return;
        }
        case 'http-request': {
          // only requests that carried credentials matter; the response names its request by frame
          if (e.authorization !== undefined) {
            if (withAuth.size > 50_000) withAuth.clear();
            withAuth.add(`${e.flowId}|${e.frame}`);
          }
          return;
        }
        case 'http-response': {
          if (!e.request || withAuth.size === 0 || !withAuth.delete(`${e.flowId}|${e.request.frame}`)) return;
          if (e.status === 401 || e.status === 403) record(target(e.client, e.server, 'http', e.file, e.device), e.ts, e.frame, false);
          else if (e.status >= 200 && e.status < 400) record(target(e.client, e.server, 'http', e.file, e.device), e.ts, e.frame, true);
          return;
        }
        case 'mqtt-connect':
          if (e.username !== undefined || e.passwordPresent) {
            if (mqttPending.size < 10_000) mqttPending.set(e.flowId, { client: e.client, server: e.server, user: e.username });
            target(e.client, e.server, 'mqtt', e.file, e.device);
          }
          return;
        case 'mqtt-connack': {
          const p = mqttPending.get(e.flowId);
          if (!p) return;
          mqttPending.delete(e.flowId);
          // 3.1.1: 4 bad user name or password, 5 not authorised; v5: 0x86, 0x87
          const refused = [4, 5, 0x86, 0x87].includes(e.returnCode);
          if (e.accepted || refused) record(target(p.client, p.server, 'mqtt', e.file, e.device), e.ts, e.frame, e.accepted, p.user);
          return;
        }
        case 'flow-close': {
          const f = e.flow;
          const o = open.get(f.id);
          if (o) {
            // the connection ended after an attempt with no verdict: the server dropped a wrong guess
            open.delete(f.id);
            const t = targets.get(o.key);
            if (t) record(t, o.ts, o.frame, false);
          }
          if (f.proto !== 'tcp' || (f.app !== 'ssh' && f.server.port !== 22)) return;
          const established = f.packetsToClient > 2 && f.payloadToClient > 0;
          if (!established || f.lastTs - f.firstTs > c.sshMaxSeconds) return;
          const t = target(f.client, f.server, 'ssh', e.file, e.device, true);
          record(t, f.firstTs, f.firstFrame, false);
          return;
        }
        default:
          return;
      }
    },
    finish(): Finding[] {
      const out: Finding[] = [];
      for (const t of targets.values()) {
        if (t.tries.length === 0) continue;
        const tries = [...t.tries].sort((a, b) => a.ts - b.ts);
        const m = maxFailuresInWindow(tries, c.windowSeconds);
        const need = t.service === 'ssh' ? c.minSshConnections : c.minFailures;
        if (m.count < need) continue;
        const window = tries.slice(m.from, m.to + 1);
        const succeeded = tries.some((x, i) => x.ok && i > m.from);
        // the attacker when it is on the LAN (an infected device), else the device under attack
        const device = t.attacker.local ? t.attackerDevice ?? refOf(t.attacker) : refOf(t.target);
        const span = window.length > 0 ? window[window.length - 1].ts - window[0].ts : 0;
        const tgt = endpointText(t.target);
        const svc = t.service === 'ssh' ? 'SSH' : t.service === 'http' ? 'HTTP' : t.service === 'mqtt' ? 'MQTT' : t.service === 'ftp' ? 'FTP' : t.service;
        const title = t.service === 'ssh'
          ? `${t.attacker.ip} opened ${m.count} short SSH connections to ${tgt} (password guessing)`
          : `${t.attacker.ip} tried ${m.count} wrong ${svc} logins against ${tgt}${succeeded ? ' and then got in' : ''}`;
        out.push({
          id: 'login-brute-force',
          severity: succeeded ? 'critical' : t.attacker.local ? 'high' : 'medium',
          title,
          device,
          evidence: {
            service: t.service,
            attacker: t.attacker.ip,
            target: tgt,
            failures: m.count,
            attempts: tries.length,
            succeeded,
            ...(t.inferred ? { inferred: 'SSH hides the verdict: counted short connections' } : {}),
            ...(t.usernames.size > 0 ? { usernames: [...t.usernames] } : {}),
            seconds: Math.round(span * 10) / 10,
            file: t.file,
            frames: window.slice(0, cfg.maxEvidence).map((x) => x.frame),
          },
          advice: t.attacker.local
            ? 'This device is trying passwords on another device, which infected devices do: unplug it, reset it, and make sure every device on your network has a strong, unique password.'
            : `Someone is guessing the ${svc} password of this device: make sure it has a strong, unique password and is not reachable from the internet.`,
        });
      }
      return out;
    },
  };
}
