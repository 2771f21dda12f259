// Telnet client protocol without I/O: option negotiation (RFC 854/855 with
// the loop guards of RFC 1143), the options a login needs (TTYPE RFC 1091,
// NAWS RFC 1073, ECHO RFC 857, SGA RFC 858), and a classifier that reads the
// text a device sends during a login. The adapter feeds bytes in and writes
// what `feed` returns; nothing here throws on hostile bytes.

export const IAC = 255;
export const DONT = 254;
export const DO = 253;
export const WONT = 252;
export const WILL = 251;
export const SB = 250;
export const SE = 240;

export const OPT = { ECHO: 1, SGA: 3, TTYPE: 24, NAWS: 31, TSPEED: 32, LINEMODE: 34, NEW_ENVIRON: 39 } as const;

/** Options we agree to perform ourselves (answer DO with WILL). */
const WE_WILL = new Set<number>([OPT.TTYPE, OPT.NAWS, OPT.SGA]);
/** Options we let the server perform (answer WILL with DO). */
const HE_MAY = new Set<number>([OPT.ECHO, OPT.SGA]);

const MAX_SB = 512;
/** More answers than this for one option means the peer is looping: stop answering. */
const MAX_REPLIES_PER_OPTION = 4;

enum S {
  Data,
  Iac,
  Verb,
  Sb,
  SbIac,
}

export interface TelnetFeedResult {
  /** Application text bytes (NVT data with IAC IAC unescaped and CR NUL folded). */
  data: Buffer;
  /** Bytes to send back (negotiation answers). */
  reply: Buffer;
}

export interface TelnetCodecInit {
  terminalType?: string;
  cols?: number;
  rows?: number;
}

export class TelnetClientCodec {
  private state = S.Data;
  private verb = 0;
  private sb: number[] = [];
  private sbOverflow = false;
  private readonly us = new Set<number>();
  private readonly him = new Set<number>();
  private readonly replies = new Map<number, number>();
  private lastWasCr = false;
  private readonly ttype: string;
  private readonly cols: number;
  private readonly rows: number;
  /** Counts of commands seen, for evidence and tests. */
  readonly seen = { do: 0, will: 0, dont: 0, wont: 0, sb: 0 };

  constructor(init: TelnetCodecInit = {}) {
    this.ttype = (init.terminalType ?? 'VT100').replace(/[^\x20-\x7e]/g, '').slice(0, 40);
    this.cols = init.cols ?? 80;
    this.rows = init.rows ?? 24;
  }

  feed(chunk: Uint8Array): TelnetFeedResult {
    const data: number[] = [];
    const reply: number[] = [];
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i];
      switch (this.state) {
        case S.Data:
          if (b === IAC) {
            this.state = S.Iac;
          } else if (b === 0 && this.lastWasCr) {
            // RFC 854: CR NUL is a bare carriage return
            this.lastWasCr = false;
          } else {
            data.push(b);
            this.lastWasCr = b === 13;
          }
          break;
        case S.Iac:
          if (b === IAC) {
            data.push(IAC);
            this.state = S.Data;
          } else if (b === DO || b === DONT || b === WILL || b === WONT) {
            this.verb = b;
            this.state = S.Verb;
          } else if (b === SB) {
            this.sb = [];
            this.sbOverflow = false;
            this.state = S.Sb;
          } else {
            // NOP, GA, DM, AYT...: nothing to answer during a login
            this.state = S.Data;
          }
          break;
        case S.Verb:
          this.negotiate(this.verb, b, reply);
          this.state = S.Data;
          break;
        case S.Sb:
          if (b === IAC) this.state = S.SbIac;
          else if (this.sb.length < MAX_SB) this.sb.push(b);
          else this.sbOverflow = true;
          break;
        case S.SbIac:
          if (b === SE) {
            this.subnegotiation(reply);
            this.state = S.Data;
          } else if (b === IAC) {
            if (this.sb.length < MAX_SB) this.sb.push(IAC);
            this.state = S.Sb;
          } else {
            // malformed: IAC x inside SB. Treat as the end of the subnegotiation.
            this.state = S.Data;
          }
          break;
      }
    }
    return { data: Buffer.from(data), reply: Buffer.from(reply) };
  }

  private mayReply(opt: number): boolean {
    const n = (this.replies.get(opt) ?? 0) + 1;
    this.replies.set(opt, n);
    return n <= MAX_REPLIES_PER_OPTION;
  }

  private negotiate(verb: number, opt: number, out: number[]): void {
    if (verb === DO) {
      this.seen.do++;
      if (WE_WILL.has(opt)) {
        if (this.us.has(opt)) return; // already on: answering again would loop
        this.us.add(opt);
        if (!this.mayReply(opt)) return;
        out.push(IAC, WILL, opt);
        if (opt === OPT.NAWS) out.push(...this.nawsBytes());
      } else if (this.mayReply(opt)) {
        out.push(IAC, WONT, opt);
      }
    } else if (verb === DONT) {
      this.seen.dont++;
      if (this.us.has(opt)) {
        this.us.delete(opt);
        if (this.mayReply(opt)) out.push(IAC, WONT, opt);
      }
    } else if (verb === WILL) {
      this.seen.will++;
      if (HE_MAY.has(opt)) {
        if (this.him.has(opt)) return;
        this.him.add(opt);
        if (this.mayReply(opt)) out.push(IAC, DO, opt);
      } else if (this.mayReply(opt)) {
        out.push(IAC, DONT, opt);
      }
    } else if (verb === WONT) {
      this.seen.wont++;
      if (this.him.has(opt)) {
        this.him.delete(opt);
        if (this.mayReply(opt)) out.push(IAC, DONT, opt);
      }
    }
  }

  private nawsBytes(): number[] {
    // RFC 1073: IAC SB NAWS w16 h16 IAC SE, with any 255 byte doubled
    const raw = [(this.cols >> 8) & 255, this.cols & 255, (this.rows >> 8) & 255, this.rows & 255];
    const body = raw.flatMap((x) => (x === IAC ? [IAC, IAC] : [x]));
    return [IAC, SB, OPT.NAWS, ...body, IAC, SE];
  }

  private subnegotiation(out: number[]): void {
    this.seen.sb++;
    if (this.sbOverflow || this.sb.length === 0) return;
    const opt = this.sb[0];
    // RFC 1091: SB TERMINAL-TYPE SEND (1) -> SB TERMINAL-TYPE IS (0) name
    if (opt === OPT.TTYPE && this.sb[1] === 1 && this.us.has(OPT.TTYPE)) {
      out.push(IAC, SB, OPT.TTYPE, 0, ...Buffer.from(this.ttype, 'ascii'), IAC, SE);
    }
  }

  /** Whether the server said it echoes (then a password prompt hides input). */
  get serverEchoes(): boolean {
    return this.him.has(OPT.ECHO);
  }
}

/** A line of user input as NVT bytes: IAC doubled, ended by CR LF. */
export function encodeLine(text: string): Buffer {
  const raw = Buffer.from(text, 'utf8');
  const out: number[] = [];
  for (const b of raw) {
    out.push(b);
    if (b === IAC) out.push(IAC);
  }
  out.push(13, 10);
  return Buffer.from(out);
}

export type TelnetScreen =
  | 'login-prompt'
  | 'password-prompt'
  | 'shell'
  | 'incorrect'
  | 'lockout'
  | 'nothing';

// Lock-out and rate-limit wording of PAM (pam_tally2/faillock), BusyBox,
// dropbear and vendor shells.
const LOCKOUT = /(too many (login |authentication |failed |unsuccessful )?(attempts|failures|tries|connections|login)|account (is |has been )?(temporarily )?(locked|disabled|blocked)|locked out|temporarily (blocked|disabled|locked)|try again (later|in \d+)|maximum (number of )?(login )?(attempts|retries)|login disabled|blocked for \d+|exceeded.*(attempts|retries))/i;
const INCORRECT = /(login incorrect|incorrect (password|login|user)|password incorrect|authentication fail|login failed|failed login|access denied|invalid (password|login|user|credentials)|bad (password|login)|wrong (password|user)|permission denied|login invalid|not authorized|unknown user)/i;
const PASSWORD_PROMPT = /(pass(word|wd|code)?|pwd|pin)\s*(for [^\n:]{0,40})?\s*[:>]\s*$/i;
const LOGIN_PROMPT = /(log ?in( as)?|user ?name|user|account|user ?id)\s*[:>]\s*$/i;
// A shell prompt: the last line is short and ends in #, $, % or >.
const SHELL_PROMPT = /(^|\n)[^\n]{0,120}[#$%>]\s*$/;
// Things only seen once logged in (motd, BusyBox shell banner, last-login line).
const POST_LOGIN = /(BusyBox v\d[^\n]*built-in shell|Last login:|Enter 'help' for a list of built-in commands|\/ ?# ?$|~ ?[#$] ?$)/i;

/**
 * What the device's text (since our last input) asks for. Judged on the tail:
 * the last prompt wins, lock-out wording wins over everything.
 * `afterPassword`: a shell prompt then counts as a successful login.
 */
export function classifyTelnetText(text: string, afterPassword: boolean): TelnetScreen {
  const t = text.replace(/\r/g, '').replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '');
  const tail = t.slice(-600);
  if (LOCKOUT.test(tail)) return 'lockout';
  const trimmedTail = tail.replace(/[ \t]+$/, '');
  if (PASSWORD_PROMPT.test(trimmedTail)) return 'password-prompt';
  if (LOGIN_PROMPT.test(trimmedTail)) return 'login-prompt';
  if (INCORRECT.test(tail)) return 'incorrect';
  if (afterPassword && (POST_LOGIN.test(tail) || SHELL_PROMPT.test(trimmedTail))) return 'shell';
  return 'nothing';
}

/** A post-login marker (motd, BusyBox shell banner) proves the login without waiting for the prompt to settle. */
export function hasPostLoginMarker(text: string): boolean {
  return POST_LOGIN.test(text.replace(/\r/g, '').slice(-600));
}

/** The line that says the device locked us out (for the result's detail), else the last line. */
export function lockoutLine(text: string): string {
  const lines = text
    .replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '')
    .split(/\r?\n|\r/)
    .map((l) => l.replace(/[^\x20-\x7e]/g, '').trim());
  const hit = lines.find((l) => LOCKOUT.test(l));
  return hit ? hit.slice(0, 120) : lastLine(text);
}

/** The last non-empty line of device text, trimmed and printable, for evidence. */
export function lastLine(text: string): string {
  const lines = text
    .replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '')
    .split(/\r?\n|\r/)
    .map((l) => l.replace(/[^\x20-\x7e]/g, '').trim())
    .filter((l) => l.length > 0);
  return (lines[lines.length - 1] ?? '').slice(0, 120);
}
