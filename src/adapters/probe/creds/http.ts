// HTTP credential tester: asks for the page once without credentials; only a
// 401 with a Basic or Digest challenge (RFC 7235/7617/7616) is tested, with
// each answer's fresh challenge reused for the next try over one keep-alive
// connection. A 2xx/3xx after a 401 is a login; 429/503 (or repeated 403) is
// the device pushing back. Form logins are not tested (said in the detail).
import http from 'node:http';
import { authorizationFor, describeChallenge, parseChallenges, pickChallenge, type Challenge } from '../../../core/creds/http-auth.js';
import type { AttemptOutcome, CredSession, CredTester, Credential, Target } from '../../../core/creds/types.js';
import { errorReason } from './tcp.js';

export interface HttpTesterInit {
  connectTimeoutMs?: number;
  replyTimeoutMs?: number;
  path?: string;
}

const BODY_CAP = 64 * 1024;

interface Reply {
  status: number;
  reason: string;
  challenges: Challenge[];
}

type Got = { ok: true; reply: Reply } | { ok: false; outcome: Extract<AttemptOutcome, { kind: 'error' }> };

class HttpSession implements CredSession {
  private agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  private challenge: Challenge | undefined;
  private nc = 0;
  private probed = false;
  private forbidden = 0;
  private hungUp = false;
  private inflight: http.ClientRequest | undefined;

  constructor(
    private readonly target: Target,
    private readonly init: Required<HttpTesterInit>,
  ) {}

  private request(authorization: string | undefined, attempted: boolean): Promise<Got> {
    return new Promise((resolve) => {
      let done = false;
      const finish = (g: Got) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        resolve(g);
      };
      const headers: Record<string, string> = { 'User-Agent': 'iotguard-creds', Accept: '*/*' };
      if (authorization) headers.Authorization = authorization;
      const req = http.request({ host: this.target.ip, port: this.target.port, path: this.init.path, method: 'GET', headers, agent: this.agent });
      const timer = setTimeout(() => {
        req.destroy();
        finish({ ok: false, outcome: { kind: 'error', reason: 'timeout', detail: `http: no answer within ${this.init.replyTimeoutMs} ms`, attempted } });
      }, this.init.replyTimeoutMs);
      this.inflight = req;
      req.on('response', (res) => {
        let seen = 0;
        const reply: Reply = {
          status: res.statusCode ?? 0,
          reason: (res.statusMessage ?? '').replace(/[^\x20-\x7e]/g, '').slice(0, 60),
          challenges: parseChallenges(res.headers['www-authenticate']),
        };
        res.on('data', (chunk: Buffer) => {
          seen += chunk.length;
          if (seen > BODY_CAP) {
            res.destroy();
            finish({ ok: true, reply });
          }
        });
        res.on('end', () => finish({ ok: true, reply }));
        res.on('error', () => finish({ ok: true, reply }));
        res.on('aborted', () => finish({ ok: true, reply }));
      });
      req.on('error', (e) => {
        const code = (e as NodeJS.ErrnoException).code ?? '';
        const r = code.startsWith('HPE_') ? { reason: 'protocol' as const, detail: 'the answer is not HTTP' } : errorReason(e);
        finish({ ok: false, outcome: { kind: 'error', reason: r.reason, detail: `http: ${r.detail}`, attempted } });
      });
      req.end();
    });
  }

  private pushback(r: Reply): AttemptOutcome | undefined {
    if (r.status === 429 || r.status === 503) return { kind: 'lockout', detail: `HTTP ${r.status} ${r.reason}` };
    return undefined;
  }

  async attempt(cred: Credential): Promise<AttemptOutcome> {
    if (this.hungUp) return { kind: 'error', reason: 'closed', detail: 'http: session closed', attempted: false };
    if (!this.probed) {
      const g = await this.request(undefined, false);
      if (!g.ok) return g.outcome;
      this.probed = true;
      const pb = this.pushback(g.reply);
      if (pb) return { kind: 'error', reason: 'refused', detail: `http: ${(pb as { detail: string }).detail} before any login`, attempted: false };
      if (g.reply.status !== 401) {
        return { kind: 'no-auth', detail: `http: ${this.init.path} answers ${g.reply.status} without asking for a password (form logins are not tested)` };
      }
      const ch = pickChallenge(g.reply.challenges);
      if (!ch) {
        const offered = g.reply.challenges.map((c) => c.scheme).join(', ') || 'no challenge';
        return { kind: 'no-auth', detail: `http: 401 with ${offered}; only Basic and Digest are tested` };
      }
      this.challenge = ch;
      this.nc = 0;
    }
    if (this.hungUp) return { kind: 'error', reason: 'closed', detail: 'http: session closed', attempted: false };
    const ch = this.challenge as Challenge;
    this.nc++;
    const authorization = authorizationFor(ch, { username: cred.username, password: cred.password, method: 'GET', uri: this.init.path, nc: this.nc });
    if (!authorization) return { kind: 'no-auth', detail: 'http: cannot answer the challenge' };
    const g = await this.request(authorization, true);
    if (!g.ok) return g.outcome;
    const r = g.reply;
    const pb = this.pushback(r);
    if (pb) return pb;
    if (r.status >= 200 && r.status < 400) {
      return { kind: 'success', username: cred.username, password: cred.password, evidence: `HTTP ${r.status} ${r.reason} to ${describeChallenge(ch)} on ${this.init.path}` };
    }
    if (r.status === 401) {
      this.forbidden = 0;
      const fresh = pickChallenge(r.challenges);
      if (fresh && (fresh.scheme !== ch.scheme || fresh.params.nonce !== ch.params.nonce)) {
        this.challenge = fresh;
        this.nc = 0;
      }
      return { kind: 'failure', canContinue: true };
    }
    if (r.status === 403) {
      // Some cameras answer 403 to a wrong password, others once they lock the account.
      this.forbidden++;
      if (this.forbidden >= 3) return { kind: 'lockout', detail: `HTTP 403 ${r.reason} three times in a row` };
      return { kind: 'failure', canContinue: true };
    }
    return { kind: 'error', reason: 'protocol', detail: `http: unexpected ${r.status} ${r.reason} to a login`, attempted: true };
  }

  close(): void {
    this.hungUp = true;
    this.inflight?.destroy();
    this.agent.destroy();
  }
}

export function createHttpTester(init: HttpTesterInit = {}): CredTester {
  const full: Required<HttpTesterInit> = {
    connectTimeoutMs: init.connectTimeoutMs ?? 3000,
    replyTimeoutMs: init.replyTimeoutMs ?? 8000,
    path: init.path ?? '/',
  };
  return { service: 'http', session: (t) => new HttpSession(t, full) };
}
