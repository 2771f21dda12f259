// MQTT credential tester on the mqtt package: one CONNECT per try (MQTT 3.1.1,
// clean session, no subscribe, no publish). An empty user name means an
// anonymous CONNECT. CONNACK 0 is a login; 4/5 (bad user name or password /
// not authorised) a "no"; 3 (server unavailable) the broker pushing back.
import { randomBytes } from 'node:crypto';
import mqtt from 'mqtt';
import type { AttemptOutcome, CredSession, CredTester, Credential, Target } from '../../../core/creds/types.js';
import { errorReason } from './tcp.js';

export interface MqttTesterInit {
  connectTimeoutMs?: number;
  replyTimeoutMs?: number;
}

class MqttSession implements CredSession {
  private client: mqtt.MqttClient | undefined;

  constructor(
    private readonly target: Target,
    private readonly init: Required<MqttTesterInit>,
  ) {}

  attempt(cred: Credential): Promise<AttemptOutcome> {
    return new Promise((resolve) => {
      const anonymous = cred.username === '' && cred.password === '';
      let done = false;
      let connected = false;
      const client = mqtt.connect({
        host: this.target.ip,
        port: this.target.port,
        protocol: 'mqtt',
        protocolVersion: 4,
        clientId: `iotguard-${randomBytes(4).toString('hex')}`,
        clean: true,
        reconnectPeriod: 0,
        connectTimeout: this.init.connectTimeoutMs + this.init.replyTimeoutMs,
        keepalive: 30,
        ...(anonymous ? {} : { username: cred.username, password: cred.password }),
      });
      this.client = client;
      const finish = (o: AttemptOutcome) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        client.removeAllListeners();
        client.on('error', () => undefined);
        client.end(true);
        resolve(o);
      };
      const timer = setTimeout(
        () => finish({ kind: 'error', reason: 'timeout', detail: `mqtt: no CONNACK within ${this.init.connectTimeoutMs + this.init.replyTimeoutMs} ms`, attempted: connected }),
        this.init.connectTimeoutMs + this.init.replyTimeoutMs,
      );
      client.stream?.on?.('connect', () => {
        connected = true;
      });
      client.on('connect', () =>
        finish({
          kind: 'success',
          username: anonymous ? '' : cred.username,
          password: anonymous ? '' : cred.password,
          evidence: anonymous ? 'CONNACK 0 (accepted) to an anonymous CONNECT' : 'CONNACK 0 (accepted)',
        }),
      );
      client.on('error', (e: Error & { code?: number | string }) => {
        const code = e.code;
        if (code === 4 || code === 5 || code === 134 || code === 135) return finish({ kind: 'failure', canContinue: true });
        if (code === 3 || code === 137 || code === 159) return finish({ kind: 'lockout', detail: `CONNACK ${code}: ${e.message}`.slice(0, 120) });
        if (typeof code === 'number') return finish({ kind: 'error', reason: 'protocol', detail: `mqtt: CONNACK ${code} ${e.message}`.slice(0, 140), attempted: true });
        if (typeof code === 'string') {
          const r = errorReason(e);
          return finish({ kind: 'error', reason: r.reason, detail: `mqtt: ${r.detail}`, attempted: false });
        }
        finish({ kind: 'error', reason: 'protocol', detail: `mqtt: ${String(e.message).slice(0, 120)}`, attempted: connected });
      });
      client.on('close', () =>
        finish({ kind: 'error', reason: 'closed', detail: 'mqtt: the broker closed the connection without a CONNACK', attempted: connected }),
      );
    });
  }

  close(): void {
    this.client?.end(true);
  }
}

export function createMqttTester(init: MqttTesterInit = {}): CredTester {
  const full: Required<MqttTesterInit> = {
    connectTimeoutMs: init.connectTimeoutMs ?? 3000,
    replyTimeoutMs: init.replyTimeoutMs ?? 8000,
  };
  return { service: 'mqtt', session: (t) => new MqttSession(t, full) };
}
