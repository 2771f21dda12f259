// Live capture: runs `tcpdump -U -w -` (locally, inside a network namespace,
// or on a remote router over SSH with ssh2) and streams its pcap output
// through the same readers and engine as a file. Ends on --seconds, on
// Ctrl-C, or when tcpdump stops; the kernel's drop count comes from
// tcpdump's summary on stderr.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, readFileSync, type WriteStream } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import type { PacketRecordSink } from '../../core/decode/capture-format.js';
import { ErrorCodes, IotguardError } from '../../core/model/errors.js';
import { readCaptureStream } from './file-source.js';

export interface LiveCaptureOptions {
  iface: string;
  /** Stop after this many seconds (wall clock). */
  seconds?: number;
  /** Also save the raw pcap here. */
  write?: string;
  /** BPF filter expression passed to tcpdump. */
  filter?: string[];
  /** Run tcpdump inside this network namespace (`ip netns exec`). */
  netns?: string;
  /** user@host[:port]: run tcpdump on that machine over SSH. */
  remote?: string;
  /** Stops the capture (the CLI wires Ctrl-C to it). */
  signal?: AbortSignal;
  /** Called about every second with packets seen so far. */
  onTick?: (packets: number) => void;
}

export interface TcpdumpStats {
  captured?: number;
  received?: number;
  dropped?: number;
}

export interface LiveCaptureResult extends TcpdumpStats {
  packets: number;
  error?: IotguardError;
}

/** tcpdump's closing summary: "N packets captured / N packets received by filter / N packets dropped by kernel". */
export function parseTcpdumpStats(stderr: string): TcpdumpStats {
  const num = (re: RegExp): number | undefined => {
    const m = re.exec(stderr);
    return m ? Number(m[1]) : undefined;
  };
  const kernel = num(/(\d+) packets? dropped by kernel/);
  const iface = num(/(\d+) packets? dropped by interface/);
  return {
    captured: num(/(\d+) packets? captured/),
    received: num(/(\d+) packets? received by filter/),
    dropped: kernel === undefined && iface === undefined ? undefined : (kernel ?? 0) + (iface ?? 0),
  };
}

const IFACE_RE = /^[A-Za-z0-9_.:@-]{1,32}$/;

function tcpdumpArgs(o: LiveCaptureOptions): string[] {
  // -U: flush per packet so the engine sees traffic as it happens; -n: no name lookups from tcpdump itself
  return ['-U', '-n', '-s', '262144', '-w', '-', '-i', o.iface, ...(o.filter ?? [])];
}

function explain(stderr: string, iface: string): IotguardError {
  const lines = stderr.trim().split('\n').filter((l) => l.trim() && !/^tcpdump: listening|packets? (captured|received|dropped)/.test(l));
  // tcpdump's own complaint, not a login banner or an SSH notice before it
  const last = lines.filter((l) => /tcpdump|pcap|permission|not permitted|no such device/i.test(l)).pop() ?? lines.pop() ?? 'tcpdump failed';
  if (/permission|Operation not permitted|not permitted/i.test(stderr)) {
    return new IotguardError(ErrorCodes.NOT_ROOT, `capturing on ${iface} needs root or CAP_NET_RAW (tcpdump said: ${last})`);
  }
  if (/No such device|doesn't exist|SIOCGIFHWADDR|no suitable device/i.test(stderr)) {
    return new IotguardError(ErrorCodes.NET_UNKNOWN_INTERFACE, `no interface named ${iface} (tcpdump said: ${last})`);
  }
  if (/syntax error|can't parse filter|parse error/i.test(stderr)) {
    return new IotguardError(ErrorCodes.USAGE, `bad capture filter: ${last}`);
  }
  return new IotguardError(ErrorCodes.CAPTURE_FAILED, `tcpdump failed on ${iface}: ${last}`);
}

/** Capture until stopped; every packet goes to the sink as it arrives. */
export async function captureLive(o: LiveCaptureOptions, sink: PacketRecordSink): Promise<LiveCaptureResult> {
  if (!IFACE_RE.test(o.iface)) throw new IotguardError(ErrorCodes.USAGE, `not an interface name: ${o.iface.slice(0, 40)}`);
  if (o.remote) return captureRemote(o, sink);
  if (!o.netns && !existsSync(`/sys/class/net/${o.iface}`) && o.iface !== 'any') {
    throw new IotguardError(ErrorCodes.NET_UNKNOWN_INTERFACE, `no interface named ${o.iface} on this host (see 'ip link')`);
  }
  const [cmd, ...args] = o.netns ? ['ip', 'netns', 'exec', o.netns, 'tcpdump', ...tcpdumpArgs(o)] : ['tcpdump', ...tcpdumpArgs(o)];
  const child: ChildProcess = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (s: string) => {
    if (stderr.length < 65536) stderr += s;
  });
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  const stop = () => {
    if (child.exitCode === null && !child.killed) child.kill('SIGINT');
  };
  return runCapture(o, sink, child.stdout!, stop, async () => {
    const r = await Promise.race([exited.then((code) => ({ code })), spawnError.then((err) => ({ err }))]);
    if ('err' in r) {
      const e = r.err as NodeJS.ErrnoException;
      if (e.code === 'ENOENT') return { error: new IotguardError(ErrorCodes.DEPENDENCY_MISSING, `${cmd} is not installed (apt-get install tcpdump)`), stderr };
      return { error: new IotguardError(ErrorCodes.CAPTURE_FAILED, `cannot run tcpdump: ${e.message}`), stderr };
    }
    return { code: r.code, stderr };
  });
}

async function runCapture(
  o: LiveCaptureOptions,
  sink: PacketRecordSink,
  out: NodeJS.ReadableStream,
  stop: () => void,
  finished: () => Promise<{ code?: number | null; error?: IotguardError; stderr: string }>,
): Promise<LiveCaptureResult> {
  let file: WriteStream | undefined;
  if (o.write) file = createWriteStream(o.write);
  const fileError = new Promise<Error>((resolve) => file?.once('error', resolve));
  const timer = o.seconds !== undefined ? setTimeout(stop, o.seconds * 1000) : undefined;
  const onAbort = () => stop();
  o.signal?.addEventListener('abort', onAbort, { once: true });
  if (o.signal?.aborted) stop();
  let packets = 0;
  const counting: PacketRecordSink = {
    onPacket: (lt, ts, b, off, cap, wire) => {
      packets++;
      sink.onPacket(lt, ts, b, off, cap, wire);
    },
  };
  const ticker = o.onTick ? setInterval(() => o.onTick?.(packets), 1000) : undefined;
  const tee = new PassThrough();
  out.on('data', (chunk: Buffer) => {
    file?.write(chunk);
    tee.write(chunk);
  });
  out.on('end', () => tee.end());
  out.on('error', (e) => tee.destroy(e));
  let read: Awaited<ReturnType<typeof readCaptureStream>>;
  try {
    read = await readCaptureStream(tee, counting, `live:${o.iface}`);
  } finally {
    if (timer) clearTimeout(timer);
    if (ticker) clearInterval(ticker);
    o.signal?.removeEventListener('abort', onAbort);
  }
  const fin = await finished();
  if (file) {
    await new Promise<void>((resolve) => file!.end(resolve));
    const fe = await Promise.race([fileError, Promise.resolve(undefined)]);
    if (fe) return { packets, error: new IotguardError(ErrorCodes.CAPTURE_FAILED, `cannot write ${o.write}: ${fe.message}`) };
  }
  const stats = parseTcpdumpStats(fin.stderr);
  if (fin.error) return { packets, ...stats, error: fin.error };
  // tcpdump that never produced a header failed to start: say why
  if (read.format === undefined) return { packets, ...stats, error: explain(fin.stderr, o.iface) };
  if (read.error && read.error.code !== ErrorCodes.CAPTURE_TRUNCATED) return { packets, ...stats, error: read.error };
  if (fin.code !== 0 && fin.code !== null && packets === 0) return { packets, ...stats, error: explain(fin.stderr, o.iface) };
  return { packets, ...stats };
}

/** `--remote user@host[:port]`: tcpdump on the router over SSH (agent, ~/.ssh keys, or IOTGUARD_SSH_PASSWORD). */
async function captureRemote(o: LiveCaptureOptions, sink: PacketRecordSink): Promise<LiveCaptureResult> {
  const m = /^(?:([^@\s]{1,64})@)?([A-Za-z0-9.-]{1,253}|\[[0-9a-fA-F:]+\])(?::(\d{1,5}))?$/.exec(o.remote ?? '');
  if (!m) throw new IotguardError(ErrorCodes.USAGE, `--remote expects user@host[:port], got ${String(o.remote).slice(0, 60)}`);
  const { Client } = await import('ssh2');
  const conn = new Client();
  const keys = ['id_ed25519', 'id_ecdsa', 'id_rsa'].map((k) => join(homedir(), '.ssh', k)).filter((p) => existsSync(p));
  const password = process.env.IOTGUARD_SSH_PASSWORD;
  await new Promise<void>((resolve, reject) => {
    conn.once('ready', () => resolve());
    conn.once('error', (e) => reject(new IotguardError(e.message.includes('authentication') ? ErrorCodes.NOT_ROOT : ErrorCodes.NET_UNREACHABLE, `ssh to ${m[2]}: ${e.message}`, { cause: e })));
    conn.connect({
      host: m[2].replace(/^\[|\]$/g, ''),
      port: m[3] ? Number(m[3]) : 22,
      username: m[1] ?? 'root',
      agent: process.env.SSH_AUTH_SOCK,
      privateKey: !process.env.SSH_AUTH_SOCK && keys[0] ? readFileSync(keys[0]) : undefined,
      password,
      readyTimeout: 15_000,
    });
  });
  const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const command = `exec tcpdump ${tcpdumpArgs(o).map(quote).join(' ')}`;
  const channel = await new Promise<import('ssh2').ClientChannel>((resolve, reject) =>
    conn.exec(command, (err, ch) => (err ? reject(new IotguardError(ErrorCodes.CAPTURE_FAILED, `ssh exec failed: ${err.message}`)) : resolve(ch))),
  );
  let stderr = '';
  channel.stderr.setEncoding('utf8');
  channel.stderr.on('data', (s: string) => {
    if (stderr.length < 65536) stderr += s;
  });
  const exited = new Promise<number | null>((resolve) => channel.once('exit', (code: number | null) => resolve(code ?? null)));
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    // OpenSSH honours "signal" requests since 7.9; dropbear does not, so close the channel if tcpdump lingers
    channel.signal('INT');
    setTimeout(() => channel.close(), 3000).unref();
  };
  try {
    return await runCapture(o, sink, channel, stop, async () => ({ code: await Promise.race([exited, new Promise<null>((r) => setTimeout(() => r(null), 3000))]), stderr }));
  } finally {
    conn.end();
  }
}
