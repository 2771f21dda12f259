import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TelnetClientCodec, classifyTelnetText, encodeLine, lastLine, lockoutLine } from '../../../src/core/creds/telnet.js';

const b = (...x: number[]) => Buffer.from(x);
const IAC = 255, DO = 253, DONT = 254, WILL = 251, WONT = 252, SB = 250, SE = 240;

describe('telnet option negotiation (RFC 854/1143)', () => {
  it('agrees to TTYPE and NAWS and sends the window size at once (RFC 1073)', () => {
    const c = new TelnetClientCodec();
    const r = c.feed(b(IAC, DO, 24, IAC, DO, 31));
    expect([...r.reply]).toEqual([IAC, WILL, 24, IAC, WILL, 31, IAC, SB, 31, 0, 80, 0, 24, IAC, SE]);
    expect(r.data.length).toBe(0);
  });
  it('answers TERMINAL-TYPE SEND with IS VT100 (RFC 1091)', () => {
    const c = new TelnetClientCodec();
    c.feed(b(IAC, DO, 24));
    expect([...c.feed(b(IAC, SB, 24, 1, IAC, SE)).reply]).toEqual([IAC, SB, 24, 0, ...Buffer.from('VT100'), IAC, SE]);
  });
  it('refuses what it does not do, accepts server ECHO/SGA, and never loops', () => {
    const c = new TelnetClientCodec();
    expect([...c.feed(b(IAC, DO, 32, IAC, DO, 39, IAC, WILL, 1, IAC, WILL, 3, IAC, WILL, 37)).reply]).toEqual([
      IAC, WONT, 32, IAC, WONT, 39, IAC, DO, 1, IAC, DO, 3, IAC, DONT, 37,
    ]);
    expect(c.serverEchoes).toBe(true);
    // repeated WILL for an option already on: no answer (RFC 1143)
    expect(c.feed(b(IAC, WILL, 1)).reply.length).toBe(0);
    // a peer hammering DO for a refused option gets a bounded number of answers
    let n = 0;
    for (let i = 0; i < 100; i++) n += c.feed(b(IAC, DO, 99)).reply.length;
    expect(n).toBeLessThanOrEqual(12);
  });
  it('turns off on DONT and doubles 255 in NAWS', () => {
    const c = new TelnetClientCodec({ cols: 255, rows: 24 });
    expect([...c.feed(b(IAC, DO, 31)).reply]).toEqual([IAC, WILL, 31, IAC, SB, 31, 0, 255, 255, 0, 24, IAC, SE]);
    expect([...c.feed(b(IAC, DONT, 31)).reply]).toEqual([IAC, WONT, 31]);
  });
  it('unescapes IAC IAC, folds CR NUL, and keeps text split across chunks', () => {
    const c = new TelnetClientCodec();
    const a = c.feed(b(0x61, IAC));
    const z = c.feed(b(IAC, 13, 0, 0x62, IAC));
    const y = c.feed(b(DO));
    const w = c.feed(b(24, 0x63));
    expect(Buffer.concat([a.data, z.data, y.data, w.data])).toEqual(b(0x61, 255, 13, 0x62, 0x63));
    expect([...w.reply]).toEqual([IAC, WILL, 24]);
  });
  it('never throws and never loops on hostile bytes', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 8 }), (chunks) => {
        const c = new TelnetClientCodec();
        let reply = 0;
        for (const ch of chunks) reply += c.feed(ch).reply.length;
        // bounded answers: at most 4 per option per verb family, each <= 15 bytes
        expect(reply).toBeLessThanOrEqual(256 * 4 * 15 + 1000);
      }),
      { numRuns: 300 },
    );
  });
  it('encodes a line with CR LF and doubles IAC', () => {
    expect([...encodeLine('a\u00ff')]).toEqual([0x61, 0xc3, 0xbf, 13, 10]);
    expect([...encodeLine('x')]).toEqual([0x78, 13, 10]);
  });
});

describe('login screen classifier', () => {
  const cases: Array<[string, boolean, string]> = [
    ['Debian GNU/Linux 12\r\n\r\ncam login: ', false, 'login-prompt'],
    ['\r\nipcam login:', false, 'login-prompt'],
    ['User Name:', false, 'login-prompt'],
    ['Username: ', false, 'login-prompt'],
    ['Password: ', true, 'password-prompt'],
    ['\r\nLogin incorrect\r\n', true, 'incorrect'],
    ['\r\nLogin incorrect\r\ncam login: ', true, 'login-prompt'],
    ['\r\n% Authentication failed\r\n', true, 'incorrect'],
    ['\r\nToo many failed login attempts. Try again later.\r\n', true, 'lockout'],
    ['Account locked for 300 seconds', true, 'lockout'],
    ['\r\nLast login: Tue Nov 24 on pts/0\r\n', true, 'shell'],
    ['\r\nroot@cam:~# ', true, 'shell'],
    ['\r\nBusyBox v1.36.1 (2023-05-01) built-in shell (ash)\r\n', true, 'shell'],
    ['\r\n~ $ ', true, 'shell'],
    ['\r\nDVR> ', true, 'shell'],
    ['\r\n\u001b[1;32mroot@cam\u001b[0m:~# ', true, 'shell'],
    ['\r\nroot@cam:~# ', false, 'nothing'],
    ['\r\n', true, 'nothing'],
    ['Welcome\r\n', true, 'nothing'],
  ];
  for (const [text, after, want] of cases) {
    it(`${JSON.stringify(text)} -> ${want}`, () => expect(classifyTelnetText(text, after)).toBe(want));
  }
  it('never throws on random text', () => {
    fc.assert(fc.property(fc.string({ maxLength: 2000 }), fc.boolean(), (s, a) => {
      classifyTelnetText(s, a);
      lastLine(s);
    }));
  });
  it('quotes the lock-out line itself, not the prompt after it (pam_faillock)', () => {
    const t = 'The account is locked due to 3 failed logins.\r\n(2 minutes left to unlock)\r\nPassword: ';
    expect(classifyTelnetText(t, true)).toBe('lockout');
    expect(lockoutLine(t)).toBe('The account is locked due to 3 failed logins.');
  });
  it('gives a printable last line for evidence', () => {
    expect(lastLine('a\r\n\u001b[1mroot@x:~#\u001b[0m \r\n')).toBe('root@x:~#');
  });
});
