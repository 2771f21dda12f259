// SSH credential tester on ssh2: password, then keyboard-interactive (PAM)
// when the server offers only that. Several passwords for one user go over
// one connection (OpenSSH allows MaxAuthTries, default 6; we stay under with 5);
// a new user name means a new connection, as OpenSSH refuses to switch. On
// success the connection is closed at once: no channel, no command.
import { Client, type AuthenticationType, type NextAuthHandler } from 'ssh2';
import type { AttemptOutcome, CredSession, CredTester, Credential, Target } from '../../../core/creds/types.js';
import { errorReason } from './tcp.js';

export interface SshTesterInit {
  connectTimeoutMs?: number;
  replyTimeoutMs?: number;
  /** Passwords per connection before reconnecting. */
  perConnection?: number;
}

interface Pending {
  cred: Credential;
  resolve: (o: AttemptOutcome) => void;
  timer?: NodeJS.Timeout;
}

class SshSession implements CredSession {
  private client: Client | undefined;
  private username: string | undefined;
  private used = 0;
  private dead = false;
  private handshaken = false;
  private next: NextAuthHandler | undefined;
  private methods: AuthenticationType[] | null = null;
  private pending: Pending | undefined;
  private inflight: Pending | undefined;
  private banner = '';
  private handshakeTimer: NodeJS.Timeout | undefined;
  private method: 'none' | 'password' | 'keyboard-interactive' | undefined;

  constructor(
    private readonly target: Target,
    private readonly init: Required<SshTesterInit>,
  ) {}

  attempt(cred: Credential): Promise<AttemptOutcome> {
    if (this.client && (this.dead || cred.username !== this.username || this.used >= this.init.perConnection)) this.drop();
    if (!this.client) this.start(cred.username);
    return new Promise((resolve) => {
      this.pending = { cred, resolve };
      this.pump();
    });
  }

  private settle(p: Pending | undefined, o: AttemptOutcome): void {
    if (!p) return;
    if (p.timer) clearTimeout(p.timer);
    p.resolve(o);
  }

  private start(username: string): void {
    this.username = username;
    this.used = 0;
    this.dead = false;
    this.handshaken = false;
    this.next = undefined;
    this.methods = null;
    const client = new Client();
    this.client = client;
    this.handshakeTimer = setTimeout(() => {
      if (this.client !== client || this.handshaken) return;
      this.fail({ kind: 'error', reason: 'timeout', detail: `ssh: no SSH handshake within ${this.init.connectTimeoutMs + this.init.replyTimeoutMs} ms`, attempted: false });
    }, this.init.connectTimeoutMs + this.init.replyTimeoutMs);
    client.on('banner', (msg: string) => {
      this.banner = String(msg).replace(/[^\x20-\x7e]/g, ' ').trim().slice(0, 120);
    });
    client.on('ready', () => {
      if (this.client !== client) return;
      const p = this.inflight ?? this.pending;
      this.inflight = undefined;
      this.pending = undefined;
      this.dead = true;
      const noPassword = this.method === 'none';
      this.settle(p, {
        kind: 'success',
        username: p?.cred.username ?? this.username ?? '',
        password: noPassword ? '' : (p?.cred.password ?? ''),
        evidence: noPassword ? 'SSH USERAUTH_SUCCESS with no authentication at all' : `SSH USERAUTH_SUCCESS${this.banner ? ` (banner: ${this.banner})` : ''}`,
      });
      client.end();
    });
    client.on('error', (e: Error & { level?: string }) => {
      if (this.client !== client) return;
      const msg = String(e?.message ?? e);
      if (/too many authentication failures/i.test(msg)) {
        // OpenSSH's per-connection MaxAuthTries: a "no" for the last password
        const p = this.inflight;
        this.inflight = undefined;
        this.dead = true;
        this.settle(p, { kind: 'failure', canContinue: false });
        return;
      }
      const r = (e as NodeJS.ErrnoException).code ? errorReason(e) : { reason: 'protocol' as const, detail: msg.slice(0, 160) };
      this.fail({ kind: 'error', reason: r.reason, detail: `ssh: ${r.detail}`, attempted: this.inflight !== undefined });
    });
    client.on('close', () => {
      if (this.client !== client) return;
      this.fail({ kind: 'error', reason: 'closed', detail: this.handshaken ? 'ssh: the server closed the connection' : 'ssh: closed before the handshake ended', attempted: this.inflight !== undefined });
    });
    client.connect({
      host: this.target.ip,
      port: this.target.port,
      username,
      readyTimeout: 3_600_000, // our own timers decide; the pacer may hold an attempt back
      timeout: this.init.connectTimeoutMs,
      hostVerifier: () => true,
      keepaliveInterval: 0,
      authHandler: (methodsLeft: AuthenticationType[] | null, _partial: boolean | null, next: NextAuthHandler) => {
        if (this.client !== client) return undefined;
        this.handshaken = true;
        if (this.handshakeTimer) clearTimeout(this.handshakeTimer);
        if (methodsLeft) this.methods = methodsLeft;
        const prev = this.inflight;
        this.inflight = undefined;
        if (methodsLeft === null) {
          // Ask with "none" first: it tells which methods exist and OpenSSH
          // does not count it against MaxAuthTries.
          this.method = 'none';
          next({ type: 'none', username });
          return undefined;
        }
        if (prev) {
          const refusedMethod = this.method === 'none' || (this.method === 'password' && !methodsLeft.includes('password'));
          if (refusedMethod) {
            // not a real try: the same pair goes again with a method the server takes
            if (prev.timer) clearTimeout(prev.timer);
            if (this.method !== 'none') this.used--;
            this.pending = prev;
          } else {
            this.settle(prev, { kind: 'failure', canContinue: this.used < this.init.perConnection });
          }
        } else if (this.method === 'none') {
          this.method = undefined;
        }
        this.next = next;
        this.pump();
        return undefined;
      },
    });
  }

  private fail(o: Extract<AttemptOutcome, { kind: 'error' }>): void {
    this.dead = true;
    if (this.handshakeTimer) clearTimeout(this.handshakeTimer);
    const inflight = this.inflight;
    const pending = this.pending;
    this.inflight = undefined;
    this.pending = undefined;
    if (inflight) this.settle(inflight, { ...o, attempted: true });
    if (pending) this.settle(pending, { ...o, attempted: false });
    this.drop();
  }

  private pump(): void {
    if (!this.pending || !this.next) return;
    const p = this.pending;
    const next = this.next;
    const methods = this.methods;
    // First call: methods unknown, try password; afterwards follow what the server still allows.
    const usePassword = methods === null || methods.includes('password');
    const useKbd = !usePassword && methods !== null && methods.includes('keyboard-interactive');
    if (!usePassword && !useKbd) {
      this.pending = undefined;
      this.next = undefined;
      this.dead = true;
      this.settle(p, { kind: 'no-auth', detail: `SSH accepts only ${(methods ?? []).join(', ') || 'no method we test'}: no password to guess` });
      // ssh2 takes `false` for "no more methods" (its typings omit it)
      (next as unknown as (v: false) => void)(false);
      return;
    }
    this.pending = undefined;
    this.next = undefined;
    this.inflight = p;
    this.used++;
    p.timer = setTimeout(() => {
      if (this.inflight !== p) return;
      this.fail({ kind: 'error', reason: 'timeout', detail: `ssh: no answer to a login within ${this.init.replyTimeoutMs} ms`, attempted: true });
    }, this.init.replyTimeoutMs);
    this.method = usePassword ? 'password' : 'keyboard-interactive';
    if (usePassword) {
      next({ type: 'password', username: p.cred.username, password: p.cred.password });
    } else {
      next({
        type: 'keyboard-interactive',
        username: p.cred.username,
        prompt: (_name, _instructions, _lang, prompts, finish) => finish(prompts.map(() => p.cred.password)),
      });
    }
  }

  private drop(): void {
    const c = this.client;
    this.client = undefined;
    this.next = undefined;
    if (this.handshakeTimer) clearTimeout(this.handshakeTimer);
    if (c) {
      c.removeAllListeners('ready');
      c.on('error', () => undefined);
      // destroy first: ssh2 ignores destroy() once end() has made the socket unwritable
      c.destroy();
    }
  }

  close(): void {
    const p = this.pending ?? this.inflight;
    this.pending = undefined;
    this.inflight = undefined;
    this.settle(p, { kind: 'error', reason: 'closed', detail: 'ssh: session closed', attempted: false });
    this.drop();
  }
}

export function createSshTester(init: SshTesterInit = {}): CredTester {
  const full: Required<SshTesterInit> = {
    connectTimeoutMs: init.connectTimeoutMs ?? 3000,
    replyTimeoutMs: init.replyTimeoutMs ?? 8000,
    perConnection: init.perConnection ?? 5,
  };
  return { service: 'ssh', session: (t) => new SshSession(t, full) };
}
