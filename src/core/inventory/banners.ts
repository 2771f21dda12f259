// Pure parsers for what services say when probed: telnet option negotiation
// (RFC 854/855), HTTP status + headers + <title>, RTSP, MQTT CONNACK, SSH
// identification. They take bytes and never throw; the probe does the I/O.

const IAC = 255;
const DONT = 254;
const DO = 253;
const WONT = 252;
const WILL = 251;
const SB = 250;
const SE = 240;
const ECHO = 1;
const SGA = 3;

export interface TelnetStep {
  /** Printable text the server sent, options removed. */
  text: string;
  /** Our answers: refuse every option except the server echoing and suppressing go-ahead. */
  reply: Uint8Array;
  /** The data held option bytes (proves telnet even before any text). */
  sawOptions: boolean;
}

/** Strips telnet commands from a chunk and builds the refusals (RFC 854: WONT for DO, DONT for WILL). */
export function telnetStep(chunk: Uint8Array): TelnetStep {
  const text: number[] = [];
  const reply: number[] = [];
  let sawOptions = false;
  let i = 0;
  while (i < chunk.length) {
    const b = chunk[i];
    if (b !== IAC) {
      text.push(b);
      i++;
      continue;
    }
    sawOptions = true;
    const cmd = chunk[i + 1];
    if (cmd === undefined) break;
    if (cmd === IAC) {
      text.push(IAC);
      i += 2;
    } else if (cmd === DO || cmd === DONT || cmd === WILL || cmd === WONT) {
      const opt = chunk[i + 2];
      if (opt === undefined) break;
      if (cmd === DO) reply.push(IAC, WONT, opt);
      else if (cmd === WILL) reply.push(IAC, opt === ECHO || opt === SGA ? DO : DONT, opt);
      i += 3;
    } else if (cmd === SB) {
      // Skip the subnegotiation up to IAC SE (RFC 855); a truncated one ends the chunk.
      let j = i + 2;
      while (j + 1 < chunk.length && !(chunk[j] === IAC && chunk[j + 1] === SE)) j++;
      i = j + 2;
    } else {
      i += 2;
    }
  }
  return { text: printable(Uint8Array.from(text)), reply: Uint8Array.from(reply), sawOptions };
}

/** A telnet/login prompt that means the server is waiting for us. */
export const LOGIN_PROMPT = /(login|username|user name|user|password|passcode)\s*:\s*$/i;

/** Printable text: ASCII control bytes become spaces (newlines kept), runs squeezed, capped. */
export function printable(bytes: Uint8Array, max = 4096): string {
  let s = '';
  const n = Math.min(bytes.length, max);
  for (let i = 0; i < n; i++) {
    const b = bytes[i];
    if (b === 10) s += '\n';
    else if (b === 13) continue;
    else if (b >= 32 && b < 127) s += String.fromCharCode(b);
    else if (b >= 160) s += '.';
    else s += ' ';
  }
  return s.replace(/[ \t]+/g, ' ').replace(/\n\s*\n+/g, '\n').trim();
}

/** One line for the table: the first non-empty lines joined, at most `max` characters. */
export function oneLine(text: string, max = 160): string {
  const s = text.split('\n').map((l) => l.trim()).filter(Boolean).join(' | ');
  return s.length > max ? `${s.slice(0, max - 3)}...` : s;
}

export interface HttpHead {
  /** 'HTTP/1.1' or 'RTSP/1.0'. */
  protocol: string;
  status: number;
  reason: string;
  headers: Record<string, string>;
  title?: string;
}

/** Parses the status line, headers and (for HTML) the <title> of an HTTP or RTSP response. */
export function parseHttpHead(bytes: Uint8Array): HttpHead | undefined {
  const text = new TextDecoder('latin1').decode(bytes.subarray(0, 65536));
  const m = /^(HTTP|RTSP)\/(\d\.\d) (\d{3})(?: ([^\r\n]*))?\r?\n/.exec(text);
  if (!m) return undefined;
  const end = text.search(/\r?\n\r?\n/);
  const headText = end >= 0 ? text.slice(m[0].length, end) : text.slice(m[0].length);
  const headers: Record<string, string> = {};
  for (const line of headText.split(/\r?\n/).slice(0, 100)) {
    const c = line.indexOf(':');
    if (c <= 0) continue;
    const name = line.slice(0, c).trim().toLowerCase();
    if (!(name in headers)) headers[name] = line.slice(c + 1).trim().slice(0, 512);
  }
  const head: HttpHead = { protocol: `${m[1]}/${m[2]}`, status: Number(m[3]), reason: (m[4] ?? '').trim(), headers };
  if (end >= 0) {
    const t = /<title[^>]*>([\s\S]{0,512}?)<\/title>/i.exec(text.slice(end));
    if (t) {
      const title = decodeEntities(t[1]).replace(/\s+/g, ' ').trim();
      if (title) head.title = title.slice(0, 200);
    }
  }
  return head;
}

function decodeEntities(s: string): string {
  return s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;|&apos;/g, "'")
    .replace(/&#(\d{1,5});/g, (_, d) => String.fromCharCode(Number(d) & 0xffff))
    .replace(/&amp;/g, '&');
}

/** MQTT 3.1.1 CONNECT with a client id and no credentials (we only ask whether anonymous access is allowed). */
export function mqttConnectPacket(clientId: string): Uint8Array {
  const id = new TextEncoder().encode(clientId.slice(0, 23));
  const variable = [0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 0x02, 0, 30];
  const remaining = variable.length + 2 + id.length;
  return Uint8Array.from([0x10, remaining, ...variable, (id.length >> 8) & 255, id.length & 255, ...id]);
}

export const MQTT_DISCONNECT = Uint8Array.from([0xe0, 0x00]);

export interface MqttConnack {
  returnCode: number;
  accepted: boolean;
  meaning: string;
}

const CONNACK_MEANING = ['accepted', 'unacceptable protocol version', 'identifier rejected', 'server unavailable', 'bad user name or password', 'not authorized'];

/** Parses an MQTT 3.1.1 CONNACK (fixed header 0x20, length 2). */
export function parseMqttConnack(bytes: Uint8Array): MqttConnack | undefined {
  if (bytes.length < 4 || bytes[0] !== 0x20 || bytes[1] !== 2) return undefined;
  const rc = bytes[3];
  return { returnCode: rc, accepted: rc === 0, meaning: CONNACK_MEANING[rc] ?? `return code ${rc}` };
}

/** What a server-first greeting says the service is. */
export function serviceFromGreeting(bytes: Uint8Array): string | undefined {
  if (bytes.length === 0) return undefined;
  if (bytes[0] === IAC) return 'telnet';
  const head = new TextDecoder('latin1').decode(bytes.subarray(0, 64));
  if (head.startsWith('SSH-')) return 'ssh';
  if (head.startsWith('RFB ')) return 'vnc';
  if (/^220[ -].*ftp/i.test(head)) return 'ftp';
  if (/^220[ -].*(smtp|mail|esmtp)/i.test(head)) return 'smtp';
  if (/^220[ -]/.test(head)) return 'ftp';
  if (head.startsWith('+OK')) return 'pop3';
  if (head.startsWith('* OK')) return 'imap';
  if (/^HTTP\/\d/.test(head)) return 'http';
  if (/^RTSP\/\d/.test(head)) return 'rtsp';
  if (/(login|username|password)\s*:\s*$/i.test(head.trim() + ' ')) return 'telnet';
  return undefined;
}
