// FTP credential tester on basic-ftp: USER/PASS only (no TYPE, no listing),
// several tries over one control connection while the server allows it
// (vsftpd drops after max_login_fails). 230 is a login; 530 a "no"; 421 the
// server pushing back.
import { Client, FTPError } from 'basic-ftp';
import type { AttemptOutcome, CredSession, CredTester, Credential, Target } from '../../../core/creds/types.js';
import { errorReason } from './tcp.js';

export interface FtpTesterInit {
  connectTimeoutMs?: number;
  replyTimeoutMs?: number;
}

function ftpText(e: unknown): string {
  return String((e as Error)?.message ?? e)
    .replace(/[^\x20-\x7e]/g, ' ')
    .trim()
    .slice(0, 120);
}

class FtpSession implements CredSession {
  private client: Client | undefined;
  private greeting = '';
  private hungUp = false;

  constructor(
    private readonly target: Target,
    private readonly init: Required<FtpTesterInit>,
  ) {}

  private classify(e: unknown, attempted: boolean): AttemptOutcome {
    if (e instanceof FTPError) {
      if (e.code === 421 || /too many|locked|try again later/i.test(e.message)) return { kind: 'lockout', detail: ftpText(e) };
      if (e.code === 530 || e.code === 430 || e.code === 332) return { kind: 'failure', canContinue: this.client !== undefined && !this.client.closed };
      return { kind: 'error', reason: 'protocol', detail: `ftp: ${ftpText(e)}`, attempted };
    }
    const msg = ftpText(e);
    const code = (e as NodeJS.ErrnoException)?.code;
    if (code) {
      const r = errorReason(e);
      return { kind: 'error', reason: r.reason, detail: `ftp: ${r.detail}`, attempted };
    }
    if (/timeout/i.test(msg)) return { kind: 'error', reason: 'timeout', detail: `ftp: no answer within ${this.init.replyTimeoutMs} ms`, attempted };
    if (/closed|end/i.test(msg)) {
      if (attempted) return { kind: 'failure', canContinue: false };
      return { kind: 'error', reason: 'closed', detail: `ftp: ${msg}`, attempted };
    }
    return { kind: 'error', reason: 'protocol', detail: `ftp: ${msg}`, attempted };
  }

  private withDeadline<T>(p: Promise<T>, ms: number): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    return Promise.race([
      p,
      new Promise<T>((_, reject) => {
        timer = setTimeout(() => {
          this.client?.close();
          reject(new Error('timeout'));
        }, ms);
      }),
    ]).finally(() => clearTimeout(timer));
  }

  async attempt(cred: Credential): Promise<AttemptOutcome> {
    if (/[\r\n\0]/.test(cred.username) || /[\r\n\0]/.test(cred.password)) return { kind: 'failure', canContinue: true };
    if (!this.client || this.client.closed) {
      const client = new Client(this.init.replyTimeoutMs);
      this.client = client;
      try {
        const res = await this.withDeadline(client.connect(this.target.ip, this.target.port), this.init.connectTimeoutMs + this.init.replyTimeoutMs);
        this.greeting = String(res.message ?? '').replace(/[^\x20-\x7e]/g, ' ').slice(0, 80);
      } catch (e) {
        const o = this.classify(e, false);
        client.close();
        if (o.kind === 'failure') return { kind: 'error', reason: 'closed', detail: 'ftp: refused before login', attempted: false };
        return o;
      }
    }
    if (this.hungUp) {
      this.client.close();
      return { kind: 'error', reason: 'closed', detail: 'ftp: session closed', attempted: false };
    }
    try {
      const res = await this.withDeadline(this.client.login(cred.username, cred.password), this.init.replyTimeoutMs + 1000);
      this.client.close();
      return { kind: 'success', username: cred.username, password: cred.password, evidence: `FTP ${res.code} ${String(res.message).replace(/[^\x20-\x7e]/g, ' ').slice(0, 60)}${this.greeting ? ` (server: ${this.greeting})` : ''}` };
    } catch (e) {
      return this.classify(e, true);
    }
  }

  close(): void {
    this.hungUp = true;
    this.client?.close();
  }
}

export function createFtpTester(init: FtpTesterInit = {}): CredTester {
  const full: Required<FtpTesterInit> = {
    connectTimeoutMs: init.connectTimeoutMs ?? 3000,
    replyTimeoutMs: init.replyTimeoutMs ?? 8000,
  };
  return { service: 'ftp', session: (t) => new FtpSession(t, full) };
}
