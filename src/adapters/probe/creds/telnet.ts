// Telnet credential tester: negotiates options (TTYPE, NAWS, ECHO, SGA) so
// Debian's and BusyBox's telnetd get what they wait for, then plays the
// `login:` / `Password:` dance of BusyBox, PAM login and vendor shells on one
// connection for as long as the device re-prompts. A login counts only when a
// shell prompt or a post-login marker appears; it is closed at once, no command
// is ever sent.
import type { Socket } from 'node:net';
import { TelnetClientCodec, classifyTelnetText, encodeLine, hasPostLoginMarker, lastLine, lockoutLine, type TelnetScreen } from '../../../core/creds/telnet.js';
import type { AttemptOutcome, CredSession, CredTester, Credential, Target } from '../../../core/creds/types.js';
import { Inbox, connectTcp } from './tcp.js';

export interface TelnetTesterInit {
  connectTimeoutMs?: number;
  /** How long to wait for each prompt or verdict (PAM adds ~3 s after a failure). */
  replyTimeoutMs?: number;
  /** A shell prompt must stay the last thing said this long before it counts. */
  settleMs?: number;
}

const CAP = 16 * 1024;

type State = 'new' | 'login' | 'password-only' | 'dead';

class TelnetSession implements CredSession {
  private state: State = 'new';
  private hungUp = false;
  private socket: Socket | undefined;
  private inbox: Inbox | undefined;
  private codec = new TelnetClientCodec();

  constructor(
    private readonly target: Target,
    private readonly init: Required<TelnetTesterInit>,
  ) {}

  private text(): string {
    return this.inbox ? this.inbox.bytes.toString('latin1') : '';
  }

  private async screen(afterInput: boolean, timeoutMs: number, wanted: (s: TelnetScreen) => boolean) {
    const inbox = this.inbox as Inbox;
    return inbox.wait(
      (bytes) => {
        const s = classifyTelnetText(bytes.toString('latin1'), afterInput);
        return wanted(s) ? s : undefined;
      },
      timeoutMs,
      // a bare prompt must stay the last thing said for a moment; a banner or motd proves it at once
      (s) => (s === 'shell' && !hasPostLoginMarker(this.text()) ? this.init.settleMs : 0),
    );
  }

  private send(line: string): void {
    this.inbox?.reset();
    this.socket?.write(encodeLine(line));
  }

  private async open(): Promise<AttemptOutcome | undefined> {
    const c = await connectTcp(this.target.ip, this.target.port, this.init.connectTimeoutMs);
    if (c.ok && this.hungUp) {
      // closed while connecting: say nothing to the device
      c.socket.destroy();
      return { kind: 'error', reason: 'closed', detail: 'telnet: session closed', attempted: false };
    }
    if (!c.ok) {
      this.state = 'dead';
      return { kind: 'error', reason: c.reason, detail: `telnet: ${c.detail}`, attempted: false };
    }
    this.socket = c.socket;
    this.inbox = new Inbox(c.socket, CAP, (chunk) => {
      const r = this.codec.feed(chunk);
      if (r.reply.length > 0 && !c.socket.destroyed) c.socket.write(r.reply);
      return r.data;
    });
    const w = await this.screen(true, this.init.replyTimeoutMs, (s) => s !== 'nothing' && s !== 'incorrect');
    if (w.kind === 'match') {
      if (w.value === 'login-prompt') this.state = 'login';
      else if (w.value === 'password-prompt') this.state = 'password-only';
      else if (w.value === 'lockout') {
        this.state = 'dead';
        return { kind: 'lockout', detail: lockoutLine(this.text()) };
      } else if (w.value === 'shell') {
        this.state = 'dead';
        return { kind: 'success', username: '', password: '', evidence: `shell without any login: ${lastLine(this.text())}` };
      }
      return undefined;
    }
    this.state = 'dead';
    const got = this.inbox.total;
    if (w.kind === 'timeout') {
      return { kind: 'error', reason: 'timeout', detail: `telnet: no login prompt within ${this.init.replyTimeoutMs} ms (${got} bytes received)`, attempted: false };
    }
    if (w.kind === 'overflow') return { kind: 'error', reason: 'protocol', detail: `telnet: ${got} bytes without a login prompt (not a login service?)`, attempted: false };
    return { kind: 'error', reason: 'closed', detail: `telnet: closed before a login prompt (${got} bytes received)`, attempted: false };
  }

  async attempt(cred: Credential): Promise<AttemptOutcome> {
    if (this.state === 'dead') return { kind: 'error', reason: 'closed', detail: 'telnet: session closed', attempted: false };
    if (this.state === 'new') {
      const early = await this.open();
      if (early) return early;
    }
    if (this.hungUp) return { kind: 'error', reason: 'closed', detail: 'telnet: session closed', attempted: false };
    const passwordOnly = this.state === 'password-only';
    if (!passwordOnly) {
      this.send(cred.username);
      const w = await this.screen(true, this.init.replyTimeoutMs, (s) => s !== 'nothing');
      if (w.kind !== 'match') return this.lost(w.kind, false, 'after the user name');
      switch (w.value) {
        case 'lockout':
          this.state = 'dead';
          return { kind: 'lockout', detail: lockoutLine(this.text()) };
        case 'shell':
          this.state = 'dead';
          return { kind: 'success', username: cred.username, password: '', evidence: `shell with no password asked: ${lastLine(this.text())}` };
        case 'login-prompt':
          return { kind: 'failure', canContinue: true };
        case 'incorrect':
          return this.afterIncorrect();
        case 'password-prompt':
          break;
      }
    }
    if (this.hungUp) return { kind: 'error', reason: 'closed', detail: 'telnet: session closed', attempted: false };
    this.send(cred.password);
    const w = await this.screen(true, this.init.replyTimeoutMs, (s) => s !== 'nothing');
    if (w.kind !== 'match') return this.lost(w.kind, true, 'after the password');
    switch (w.value) {
      case 'shell':
        this.state = 'dead';
        return { kind: 'success', username: passwordOnly ? '' : cred.username, password: cred.password, evidence: `shell prompt: ${lastLine(this.text())}` };
      case 'lockout':
        this.state = 'dead';
        return { kind: 'lockout', detail: lockoutLine(this.text()) };
      case 'login-prompt':
        this.state = 'login';
        return { kind: 'failure', canContinue: true };
      case 'password-prompt':
        // asked again: fine on a password-only device, a confused dialogue otherwise
        if (passwordOnly) return { kind: 'failure', canContinue: true };
        this.state = 'dead';
        return { kind: 'failure', canContinue: false };
      case 'incorrect':
        return this.afterIncorrect();
    }
    return { kind: 'failure', canContinue: false };
  }

  /** "Login incorrect" seen: wait briefly for the next prompt, a lock-out, or the close. */
  private async afterIncorrect(): Promise<AttemptOutcome> {
    const w = await this.screen(true, this.init.replyTimeoutMs, (s) => s === 'login-prompt' || s === 'password-prompt' || s === 'lockout');
    if (w.kind === 'match') {
      if (w.value === 'lockout') {
        this.state = 'dead';
        return { kind: 'lockout', detail: lockoutLine(this.text()) };
      }
      this.state = w.value === 'login-prompt' ? 'login' : this.state === 'password-only' ? 'password-only' : 'dead';
      return { kind: 'failure', canContinue: this.state !== 'dead' };
    }
    this.state = 'dead';
    return { kind: 'failure', canContinue: false };
  }

  private lost(kind: 'closed' | 'timeout' | 'overflow', afterPassword: boolean, where: string): AttemptOutcome {
    this.state = 'dead';
    if (kind === 'closed') {
      // A device that hangs up after a wrong password has said "no"; before it, it is dropping us.
      if (afterPassword) return { kind: 'failure', canContinue: false };
      return { kind: 'error', reason: 'closed', detail: `telnet: closed ${where}`, attempted: false };
    }
    if (kind === 'timeout') return { kind: 'error', reason: 'timeout', detail: `telnet: no answer within ${this.init.replyTimeoutMs} ms ${where}`, attempted: afterPassword };
    return { kind: 'error', reason: 'protocol', detail: `telnet: too much unrecognised text ${where}`, attempted: afterPassword };
  }

  close(): void {
    this.hungUp = true;
    this.state = 'dead';
    this.socket?.destroy();
  }
}

export function createTelnetTester(init: TelnetTesterInit = {}): CredTester {
  const full: Required<TelnetTesterInit> = {
    connectTimeoutMs: init.connectTimeoutMs ?? 3000,
    replyTimeoutMs: init.replyTimeoutMs ?? 8000,
    settleMs: init.settleMs ?? 300,
  };
  return { service: 'telnet', session: (t) => new TelnetSession(t, full) };
}
