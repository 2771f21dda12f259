// Cleartext login conversations: telnet (RFC 854 option negotiation stripped)
// and FTP (RFC 959 USER/PASS and reply codes). Each is a small state machine
// fed in stream order from both sides; it reports prompts, attempts and
// verdicts. Passwords are counted, never stored.

export interface LoginStep {
  step: 'prompt' | 'attempt' | 'success' | 'failure';
  username?: string;
  attempt: number;
  serverText?: string;
}

const MAX_WINDOW = 512;
const LOGIN_PROMPT = /(?:login|username|user name|user ?id|user)\s*:\s*$/i;
const PASS_PROMPT = /pass(?:word|code|phrase)?\s*:\s*$/i;
const FAILURE = /incorrect|fail|denied|invalid|wrong|bad password|not allowed|try again|authentication error/i;
const SHELL = /(?:[#$>%]|\$ ?|# ?)\s*$/;

/** Scratch for `strip` (one conversion at a time). */
const stripBuf: number[] = [];

export class TelnetLogin {
  private state: 'idle' | 'user' | 'pass' | 'verdict' | 'done' = 'idle';
  private iacServer = 0;
  private iacClient = 0;
  private window = '';
  private line = '';
  private username: string | undefined;
  attempts = 0;
  /** Total bytes looked at; the engine stops feeding past a cap. */
  seen = 0;

  get done(): boolean {
    return this.state === 'done';
  }

  /** Strip telnet commands; returns printable text. `st` is the IAC parser state (0 data, 1 after IAC, 2 option byte, 3 in SB, 4 IAC in SB). */
  private strip(b: Uint8Array, o: number, end: number, server: boolean): string {
    let st = server ? this.iacServer : this.iacClient;
    // character codes, so a backspace is a pop (slicing a string copied all of it per backspace)
    const out = stripBuf;
    out.length = 0;
    for (let i = o; i < end; i++) {
      const c = b[i];
      switch (st) {
        case 0:
          if (c === 255) st = 1;
          else if (c === 13 || c === 10) out.push(10);
          else if (c === 8 || c === 127) {
            // erase within this segment; a client's erase of what an earlier segment typed goes on as BS
            if (out.length > 0 && out[out.length - 1] !== 8) out.pop();
            else if (!server) out.push(8);
          }
          else if (c >= 0x20 && c < 0x7f) out.push(c);
          break;
        case 1:
          if (c === 255) st = 0;
          else if (c === 250) st = 3;
          else if (c >= 251 && c <= 254) st = 2;
          else st = 0;
          break;
        case 2:
          st = 0;
          break;
        case 3:
          if (c === 255) st = 4;
          break;
        case 4:
          st = c === 240 ? 0 : 3;
          break;
      }
    }
    if (server) this.iacServer = st;
    else this.iacClient = st;
    let s = '';
    for (let i = 0; i < out.length; i += 8192) s += String.fromCharCode.apply(null, out.slice(i, i + 8192));
    out.length = 0;
    return s;
  }

  fromServer(b: Uint8Array, o: number, end: number): LoginStep[] {
    this.seen += end - o;
    if (this.state === 'done') return [];
    const text = this.strip(b, o, end, true);
    if (text.length === 0) return [];
    this.window = (this.window + text).slice(-MAX_WINDOW);
    const out: LoginStep[] = [];
    const w = this.window;
    const snippet = (): string => w.replace(/\s+/g, ' ').trim().slice(-120);
    if (this.state === 'verdict') {
      if (FAILURE.test(w) || LOGIN_PROMPT.test(w)) {
        out.push({ step: 'failure', username: this.username, attempt: this.attempts, serverText: snippet() });
        this.state = 'idle';
      } else if (PASS_PROMPT.test(w)) {
        // asked for the password again: the previous one was refused
        out.push({ step: 'failure', username: this.username, attempt: this.attempts, serverText: snippet() });
        this.state = 'pass';
        this.window = '';
        return out;
      } else if (SHELL.test(w) && w.trim().length > 0) {
        out.push({ step: 'success', username: this.username, attempt: this.attempts, serverText: snippet() });
        this.state = 'done';
        return out;
      } else {
        return out;
      }
    }
    if (LOGIN_PROMPT.test(this.window)) {
      out.push({ step: 'prompt', attempt: this.attempts, serverText: snippet() });
      this.state = 'user';
      this.username = undefined;
      this.line = '';
      this.window = '';
    } else if (PASS_PROMPT.test(this.window)) {
      if (this.state === 'idle') out.push({ step: 'prompt', attempt: this.attempts, serverText: snippet() });
      this.state = 'pass';
      this.line = '';
      this.window = '';
    }
    return out;
  }

  fromClient(b: Uint8Array, o: number, end: number): LoginStep[] {
    this.seen += end - o;
    if (this.state === 'done' || this.state === 'verdict' || this.state === 'idle') {
      this.strip(b, o, end, false);
      return [];
    }
    const text = this.strip(b, o, end, false);
    const out: LoginStep[] = [];
    for (const ch of text) {
      if (ch === '\b') {
        this.line = this.line.slice(0, -1);
      } else if (ch === '\n') {
        if (this.state === 'user' && this.line.length > 0) {
          this.username = this.line.slice(0, 64);
        } else if (this.state === 'pass') {
          this.attempts++;
          out.push({ step: 'attempt', username: this.username, attempt: this.attempts });
          this.state = 'verdict';
          this.window = '';
        }
        this.line = '';
      } else if (this.line.length < 256) {
        // the password is not kept: only its length matters to the state machine
        this.line += this.state === 'pass' ? '*' : ch;
      }
    }
    return out;
  }
}

export class FtpLogin {
  private client = '';
  private server = '';
  private username: string | undefined;
  private prompted = false;
  attempts = 0;
  seen = 0;
  done = false;

  fromClient(b: Uint8Array, o: number, end: number): LoginStep[] {
    this.seen += end - o;
    const out: LoginStep[] = [];
    for (const line of this.lines(b, o, end, false)) {
      const m = /^(USER|PASS)(?: (.*))?$/i.exec(line);
      if (!m) continue;
      if (m[1].toUpperCase() === 'USER') this.username = (m[2] ?? '').slice(0, 64);
      else {
        this.attempts++;
        out.push({ step: 'attempt', username: this.username, attempt: this.attempts });
      }
    }
    return out;
  }

  fromServer(b: Uint8Array, o: number, end: number): LoginStep[] {
    this.seen += end - o;
    const out: LoginStep[] = [];
    for (const line of this.lines(b, o, end, true)) {
      const code = /^(\d{3})[ -]/.exec(line)?.[1];
      if (code === '220' && !this.prompted) {
        this.prompted = true;
        out.push({ step: 'prompt', attempt: 0, serverText: line.slice(0, 120) });
      } else if (code === '230' && this.attempts > 0) {
        out.push({ step: 'success', username: this.username, attempt: this.attempts, serverText: line.slice(0, 120) });
      } else if (code === '530' && this.attempts > 0) {
        out.push({ step: 'failure', username: this.username, attempt: this.attempts, serverText: line.slice(0, 120) });
      }
    }
    return out;
  }

  private lines(b: Uint8Array, o: number, end: number, server: boolean): string[] {
    let buf = server ? this.server : this.client;
    for (let i = o; i < end; i++) {
      const c = b[i];
      if (c === 10) buf += '\n';
      else if (c >= 0x20 && c < 0x7f) buf += String.fromCharCode(c);
    }
    const parts = buf.split('\n');
    const rest = (parts.pop() ?? '').slice(-1024);
    if (server) this.server = rest;
    else this.client = rest;
    return parts.map((l) => l.trim()).filter(Boolean);
  }
}
