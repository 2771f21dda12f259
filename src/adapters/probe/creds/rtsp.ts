// RTSP credential tester: DESCRIBE rtsp://ip:port/ (RFC 2326 §10.2), the
// request cameras guard with Basic or Digest. A 401 without credentials and
// then a non-401 answer with them is a login: 2xx/3xx, or 404/454 (the camera
// checked the password first, then the path). One TCP connection carries the
// tries while the camera keeps it open.
import type { Socket } from 'node:net';
import { authorizationFor, describeChallenge, parseChallenges, pickChallenge, type Challenge } from '../../../core/creds/http-auth.js';
import { contentLength, parseResponseHead, rtspDescribe, MAX_HEAD } from '../../../core/creds/rtsp.js';
import type { AttemptOutcome, CredSession, CredTester, Credential, Target } from '../../../core/creds/types.js';
import { Inbox, connectTcp } from './tcp.js';

export interface RtspTesterInit {
  connectTimeoutMs?: number;
  replyTimeoutMs?: number;
  path?: string;
}

interface Head {
  status: number;
  reason: string;
  challenges: Challenge[];
}

type Got = { ok: true; head: Head } | { ok: false; outcome: Extract<AttemptOutcome, { kind: 'error' }> };

class RtspSession implements CredSession {
  private socket: Socket | undefined;
  private inbox: Inbox | undefined;
  private cseq = 0;
  private challenge: Challenge | undefined;
  private nc = 0;
  private dead = false;
  private forbidden = 0;

  constructor(
    private readonly target: Target,
    private readonly init: Required<RtspTesterInit>,
  ) {}

  private get url(): string {
    return `rtsp://${this.target.ip}:${this.target.port}${this.init.path}`;
  }

  private async exchange(authorization: string | undefined, attempted: boolean): Promise<Got> {
    const inbox = this.inbox as Inbox;
    inbox.reset();
    this.socket?.write(rtspDescribe(this.url, ++this.cseq, authorization));
    const w = await inbox.wait((bytes) => {
      const h = parseResponseHead(bytes);
      if (h.ok) return h;
      if (h.reason !== 'incomplete') return h;
      return undefined;
    }, this.init.replyTimeoutMs);
    if (w.kind === 'match') {
      const h = w.value;
      if (!h.ok) {
        this.dead = true;
        return { ok: false, outcome: { kind: 'error', reason: 'protocol', detail: `rtsp: the answer is not RTSP (${h.reason})`, attempted } };
      }
      // skip the body (an SDP or an error page) so the next answer parses cleanly
      const need = h.headLength + contentLength(h);
      if (need > h.headLength) {
        await inbox.wait((b) => (b.length >= need ? true : undefined), this.init.replyTimeoutMs);
      }
      return { ok: true, head: { status: h.status, reason: h.reason.replace(/[^\x20-\x7e]/g, ''), challenges: parseChallenges(h.headers.get('www-authenticate')) } };
    }
    this.dead = true;
    if (w.kind === 'timeout') return { ok: false, outcome: { kind: 'error', reason: 'timeout', detail: `rtsp: no answer within ${this.init.replyTimeoutMs} ms`, attempted } };
    if (w.kind === 'overflow') return { ok: false, outcome: { kind: 'error', reason: 'protocol', detail: `rtsp: more than ${MAX_HEAD} bytes without an RTSP answer`, attempted } };
    return { ok: false, outcome: { kind: 'error', reason: 'closed', detail: `rtsp: ${inbox.closeDetail || 'closed'} before answering`, attempted } };
  }

  async attempt(cred: Credential): Promise<AttemptOutcome> {
    if (this.dead) return { kind: 'error', reason: 'closed', detail: 'rtsp: session closed', attempted: false };
    if (!this.socket) {
      const c = await connectTcp(this.target.ip, this.target.port, this.init.connectTimeoutMs);
      if (c.ok && this.dead) {
        c.socket.destroy();
        return { kind: 'error', reason: 'closed', detail: 'rtsp: session closed', attempted: false };
      }
      if (!c.ok) {
        this.dead = true;
        return { kind: 'error', reason: c.reason, detail: `rtsp: ${c.detail}`, attempted: false };
      }
      this.socket = c.socket;
      this.inbox = new Inbox(c.socket, 2 * MAX_HEAD + 64 * 1024);
      const g = await this.exchange(undefined, false);
      if (!g.ok) return g.outcome;
      if (g.head.status !== 401) {
        this.dead = true;
        return { kind: 'no-auth', detail: `rtsp: DESCRIBE ${this.init.path} answers ${g.head.status} without asking for a password` };
      }
      const ch = pickChallenge(g.head.challenges);
      if (!ch) {
        this.dead = true;
        return { kind: 'no-auth', detail: 'rtsp: 401 without a Basic or Digest challenge' };
      }
      this.challenge = ch;
      this.nc = 0;
    }
    if (this.dead) return { kind: 'error', reason: 'closed', detail: 'rtsp: session closed', attempted: false };
    const ch = this.challenge as Challenge;
    this.nc++;
    const authorization = authorizationFor(ch, { username: cred.username, password: cred.password, method: 'DESCRIBE', uri: this.url, nc: this.nc });
    const g = await this.exchange(authorization, true);
    if (!g.ok) {
      // a camera that hangs up after a wrong password has said "no"
      if (g.outcome.reason === 'closed') return { kind: 'failure', canContinue: false };
      return g.outcome;
    }
    const h = g.head;
    if (h.status === 401) {
      this.forbidden = 0;
      const fresh = pickChallenge(h.challenges);
      if (fresh && fresh.params.nonce !== ch.params.nonce) {
        this.challenge = fresh;
        this.nc = 0;
      }
      return { kind: 'failure', canContinue: !(this.inbox as Inbox).closed };
    }
    if (h.status === 429 || h.status === 503) return { kind: 'lockout', detail: `RTSP ${h.status} ${h.reason}` };
    if (h.status === 403) {
      this.forbidden++;
      if (this.forbidden >= 3) return { kind: 'lockout', detail: `RTSP 403 ${h.reason} three times in a row` };
      return { kind: 'failure', canContinue: true };
    }
    if ((h.status >= 200 && h.status < 400) || h.status === 404 || h.status === 454) {
      this.dead = true;
      return { kind: 'success', username: cred.username, password: cred.password, evidence: `RTSP ${h.status} ${h.reason} to ${describeChallenge(ch)}` };
    }
    return { kind: 'error', reason: 'protocol', detail: `rtsp: unexpected ${h.status} ${h.reason} to a login`, attempted: true };
  }

  close(): void {
    this.dead = true;
    this.socket?.destroy();
  }
}

export function createRtspTester(init: RtspTesterInit = {}): CredTester {
  const full: Required<RtspTesterInit> = {
    connectTimeoutMs: init.connectTimeoutMs ?? 3000,
    replyTimeoutMs: init.replyTimeoutMs ?? 8000,
    path: init.path ?? '/',
  };
  return { service: 'rtsp', session: (t) => new RtspSession(t, full) };
}
