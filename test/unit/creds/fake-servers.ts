// Fake login services on 127.0.0.1 for the credential tester tests: telnet in
// several dialects (BusyBox, PAM login, vendor shell, password-only) with
// strict option negotiation like Debian's telnetd, lock-out behaviour, and
// the hostile cases (tarpit, garbage, close mid-negotiation). They record what
// the client did so tests can check it never typed after logging in.
import net from 'node:net';

export interface Listening {
  port: number;
  close(): Promise<void>;
}

export async function listen(server: net.Server): Promise<Listening> {
  const sockets = new Set<net.Socket>();
  server.on('connection', (s: net.Socket) => {
    // ssh2's Server hands out its own connection objects: end() them instead
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) {
          if (typeof s.destroy === 'function') s.destroy();
          else (s as unknown as { end(): void }).end();
        }
        server.close(() => r());
      }),
  };
}

const IAC = 255,
  DO = 253,
  DONT = 254,
  WILL = 251,
  WONT = 252,
  SB = 250,
  SE = 240;
const TTYPE = 24,
  NAWS = 31,
  ECHO = 1,
  SGA = 3;

export interface FakeTelnetOptions {
  users: Record<string, string>;
  style?: 'busybox' | 'pam' | 'vendor' | 'password-only' | 'open-shell';
  /** Like Debian's telnetd: no login prompt until TTYPE and NAWS are answered. */
  strictNegotiation?: boolean;
  failDelayMs?: number;
  triesPerConnection?: number;
  /** After this many failed logins (all connections), lock out. */
  lockAfter?: number;
  lockMode?: 'message' | 'drop';
}

export interface TelnetStats {
  connections: number;
  attempts: number;
  successes: number;
  /** Bytes the client sent after a successful login (must stay 0). */
  bytesAfterLogin: number;
  gotTtype: string[];
  gotNaws: Array<[number, number]>;
  refusedOptions: number[];
}

export async function fakeTelnet(o: FakeTelnetOptions): Promise<Listening & { stats: TelnetStats }> {
  const style = o.style ?? 'busybox';
  const stats: TelnetStats = { connections: 0, attempts: 0, successes: 0, bytesAfterLogin: 0, gotTtype: [], gotNaws: [], refusedOptions: [] };
  let failures = 0;
  const locked = () => o.lockAfter !== undefined && failures >= o.lockAfter;
  const server = net.createServer((s) => {
    stats.connections++;
    if (locked() && o.lockMode === 'drop') {
      s.destroy();
      return;
    }
    if (locked()) {
      s.end('\r\nToo many failed login attempts. Try again later.\r\n');
      return;
    }
    let phase: 'negotiating' | 'login' | 'password' | 'shell' = 'negotiating';
    let user = '';
    let line = '';
    let tries = 0;
    let haveTtype = !o.strictNegotiation;
    let haveNaws = !o.strictNegotiation;
    let iac: number[] = [];
    let lastCr = false;
    const loginPrompt = style === 'vendor' ? 'User Name:' : style === 'pam' ? 'cam login: ' : 'ipcam login: ';
    const prompt = () => {
      if (style === 'open-shell') {
        phase = 'shell';
        s.write('\r\n~ # ');
        return;
      }
      if (style === 'password-only') {
        phase = 'password';
        s.write('Password: ');
        return;
      }
      phase = 'login';
      s.write(loginPrompt);
    };
    const maybeStart = () => {
      if (phase === 'negotiating' && haveTtype && haveNaws) {
        s.write(style === 'pam' ? 'Debian GNU/Linux 12\r\n\r\n' : '\r\n');
        prompt();
      }
    };
    const success = () => {
      stats.successes++;
      phase = 'shell';
      if (style === 'pam') s.write('\r\nLinux cam 6.1.0-18-amd64 #1 SMP x86_64\r\n\r\nLast login: Tue Nov 24 10:00:00 UTC 2026 on pts/0\r\nroot@cam:~# ');
      else if (style === 'vendor') s.write('\r\nWelcome to DVR\r\nDVR> ');
      else s.write("\r\n\r\nBusyBox v1.36.1 (2023-05-01) built-in shell (ash)\r\nEnter 'help' for a list of built-in commands.\r\n\r\n~ # ");
    };
    const fail = () => {
      failures++;
      tries++;
      setTimeout(() => {
        if (s.destroyed) return;
        if (locked() && o.lockMode !== 'drop') {
          s.end('\r\nToo many failed login attempts. Try again later.\r\n');
          return;
        }
        if (locked()) {
          s.destroy();
          return;
        }
        s.write(style === 'vendor' ? '\r\n% Authentication failed\r\n' : '\r\nLogin incorrect\r\n');
        if (tries >= (o.triesPerConnection ?? 3)) {
          s.end();
          return;
        }
        prompt();
      }, o.failDelayMs ?? 0);
    };
    const onLine = (text: string) => {
      if (phase === 'login') {
        user = text;
        phase = 'password';
        s.write('Password: ');
      } else if (phase === 'password') {
        stats.attempts++;
        const ok = style === 'password-only' ? Object.values(o.users).includes(text) : o.users[user] === text;
        if (ok) success();
        else {
          phase = 'login';
          fail();
        }
      }
    };
    s.on('data', (buf: Buffer) => {
      if (phase === 'shell') {
        stats.bytesAfterLogin += buf.length;
        return;
      }
      for (const b of buf) {
        if (iac.length > 0 || b === IAC) {
          iac.push(b);
          // complete sequences: IAC verb opt | IAC SB ... IAC SE
          if (iac.length === 3 && iac[1] >= WILL && iac[1] <= DONT) {
            const [, verb, opt] = iac;
            if (verb === WILL && opt === TTYPE) s.write(Buffer.from([IAC, SB, TTYPE, 1, IAC, SE]));
            if (verb === WILL && opt === NAWS) {
              /* size follows in SB */
            }
            if (verb === WONT) stats.refusedOptions.push(opt);
            iac = [];
          } else if (iac[1] === SB && iac.length >= 4 && iac[iac.length - 2] === IAC && iac[iac.length - 1] === SE) {
            const body = iac.slice(2, -2);
            if (body[0] === TTYPE && body[1] === 0) {
              stats.gotTtype.push(Buffer.from(body.slice(2)).toString('latin1'));
              haveTtype = true;
            }
            if (body[0] === NAWS && body.length >= 5) {
              stats.gotNaws.push([body[1] * 256 + body[2], body[3] * 256 + body[4]]);
              haveNaws = true;
            }
            iac = [];
            maybeStart();
          } else if (iac.length === 2 && iac[1] !== SB && !(iac[1] >= WILL && iac[1] <= DONT)) {
            iac = [];
          }
          continue;
        }
        if ((phase as string) === 'shell') {
          // the LF closing the password line is not typing after the login
          if (!(b === 10 && lastCr)) stats.bytesAfterLogin++;
          lastCr = false;
          continue;
        }
        lastCr = b === 13;
        if (b === 13 || b === 10) {
          if (b === 13 || line.length > 0) {
            const text = line;
            line = '';
            if (b === 13) onLine(text);
          }
          continue;
        }
        if (b !== 0) line += String.fromCharCode(b);
      }
    });
    // Debian telnetd opens with these and waits for the answers
    s.write(Buffer.from([IAC, DO, TTYPE, IAC, DO, NAWS, IAC, WILL, ECHO, IAC, WILL, SGA, IAC, DO, 32, IAC, DO, 39]));
    maybeStart();
  });
  const l = await listen(server);
  return { ...l, stats };
}

/** Accepts and never says a word. */
export async function tarpit(): Promise<Listening & { connections: () => number }> {
  let n = 0;
  const server = net.createServer(() => {
    n++;
  });
  const l = await listen(server);
  return { ...l, connections: () => n };
}

/** Answers anything with pseudo-random bytes (deterministic), then keeps sending. */
export async function garbage(bytes = 2048, keepSending = false): Promise<Listening> {
  let seed = 12345;
  const rnd = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed & 255;
  };
  const server = net.createServer((s) => {
    const burst = () => {
      if (s.destroyed) return;
      s.write(Buffer.from(Array.from({ length: bytes }, rnd)));
      if (keepSending) setTimeout(burst, 20);
    };
    burst();
    s.on('data', () => undefined);
  });
  return listen(server);
}

/** Starts a protocol (sends `first`) and hangs up. */
export async function closesMidway(first: Buffer | string): Promise<Listening> {
  const server = net.createServer((s) => {
    s.write(first);
    setTimeout(() => s.destroy(), 30);
  });
  return listen(server);
}

/** A port nothing listens on (bound then closed). */
export async function closedPort(): Promise<number> {
  const l = await listen(net.createServer());
  await l.close();
  return l.port;
}
