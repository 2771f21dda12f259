// A minimal telnet client for lab tests, run inside a namespace:
//   node telnet-login.mjs HOST PORT USER PASSWORD
// Refuses every option the server asks for (RFC 854/855), answers the login
// dance, and prints one JSON line: { result: "shell"|"incorrect"|"closed"|"timeout", transcript }.
import net from 'node:net';

const [host, port, user, password] = process.argv.slice(2);
const IAC = 255, DONT = 254, DO = 253, WONT = 252, WILL = 251, SB = 250, SE = 240;
let text = '';
let stage = 'login';
let done = false;
const sock = net.connect(Number(port), host);
const finish = (result) => {
  if (done) return;
  done = true;
  clearTimeout(timer);
  process.stdout.write(JSON.stringify({ result, transcript: text.slice(-400) }) + '\n');
  sock.destroy();
};
const timer = setTimeout(() => finish('timeout'), 15000);
sock.on('data', (buf) => {
  const reply = [];
  for (let i = 0; i < buf.length; i++) {
    const b = buf[i];
    if (b === IAC && i + 1 < buf.length) {
      const cmd = buf[i + 1];
      if ((cmd === DO || cmd === DONT || cmd === WILL || cmd === WONT) && i + 2 < buf.length) {
        const opt = buf[i + 2];
        if (cmd === DO) reply.push(IAC, WONT, opt);
        if (cmd === WILL) reply.push(IAC, DONT, opt);
        i += 2;
        continue;
      }
      if (cmd === SB) {
        while (i < buf.length && !(buf[i] === IAC && buf[i + 1] === SE)) i++;
        i += 1;
        continue;
      }
      i += 1;
      continue;
    }
    text += String.fromCharCode(b);
  }
  if (reply.length) sock.write(Buffer.from(reply));
  if (stage === 'login' && /login:\s*$/i.test(text)) {
    stage = 'password';
    sock.write(`${user}\r\n`);
  } else if (stage === 'password' && /password:\s*$/i.test(text)) {
    stage = 'wait';
    sock.write(`${password}\r\n`);
  } else if (stage === 'wait') {
    if (/Login incorrect|incorrect/i.test(text)) finish('incorrect');
    else if (/[#$] $/.test(text)) finish('shell');
  }
});
sock.on('close', () => finish('closed'));
sock.on('error', () => finish('closed'));
