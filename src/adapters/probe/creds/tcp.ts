// A TCP connection for the credential testers: connect with a timeout, map
// socket errors to the audit's reasons, and wait for the peer's bytes to
// satisfy a condition within a deadline. Every wait ends: on a match, on
// close, on the deadline or when the peer sends more than the cap.
import net from 'node:net';
import type { SessionErrorReason } from '../../../core/creds/types.js';

export interface ConnectFailure {
  ok: false;
  reason: SessionErrorReason;
  detail: string;
}

export function errorReason(e: unknown): { reason: SessionErrorReason; detail: string } {
  const code = (e as NodeJS.ErrnoException)?.code ?? '';
  switch (code) {
    case 'ECONNREFUSED':
      return { reason: 'refused', detail: 'connection refused' };
    case 'ECONNRESET':
    case 'EPIPE':
      return { reason: 'closed', detail: 'connection reset by the device' };
    case 'ETIMEDOUT':
      return { reason: 'timeout', detail: 'connect timed out' };
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EHOSTDOWN':
      return { reason: 'unreachable', detail: `host unreachable (${code})` };
    default:
      return { reason: 'protocol', detail: code ? `socket error ${code}` : `socket error: ${(e as Error)?.message ?? String(e)}` };
  }
}

export function connectTcp(ip: string, port: number, timeoutMs: number): Promise<{ ok: true; socket: net.Socket } | ConnectFailure> {
  return new Promise((resolve) => {
    const socket = net.createConnection({ host: ip, port, noDelay: true });
    let done = false;
    const timer = setTimeout(() => {
      if (done) return;
      done = true;
      socket.destroy();
      resolve({ ok: false, reason: 'timeout', detail: `no TCP answer within ${timeoutMs} ms` });
    }, timeoutMs);
    socket.once('connect', () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve({ ok: true, socket });
    });
    socket.once('error', (e) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ ok: false, ...errorReason(e) });
    });
  });
}

export type WaitResult<T> = { kind: 'match'; value: T } | { kind: 'closed' } | { kind: 'timeout' } | { kind: 'overflow' };

/**
 * Bytes received since the last `reset()`, and waits on them. `transform`
 * turns raw socket bytes into the bytes the condition sees (telnet strips
 * negotiation there and answers it).
 */
export class Inbox {
  private buf: Buffer[] = [];
  private size = 0;
  private wake: (() => void) | undefined;
  closed = false;
  closeDetail = '';
  total = 0;

  constructor(
    readonly socket: net.Socket,
    private readonly cap: number,
    transform: (chunk: Buffer) => Buffer = (c) => c,
  ) {
    socket.on('data', (chunk: Buffer) => {
      const data = transform(chunk);
      this.total += chunk.length;
      if (data.length > 0 && this.size <= this.cap) {
        this.buf.push(data);
        this.size += data.length;
      }
      this.wake?.();
    });
    const onEnd = (detail: string) => {
      if (this.closed) return;
      this.closed = true;
      this.closeDetail = detail;
      this.wake?.();
    };
    socket.on('end', () => onEnd('the device closed the connection'));
    socket.on('close', () => onEnd('the connection closed'));
    socket.on('error', (e) => onEnd(errorReason(e).detail));
  }

  get bytes(): Buffer {
    if (this.buf.length > 1) this.buf = [Buffer.concat(this.buf)];
    return this.buf[0] ?? Buffer.alloc(0);
  }

  reset(): void {
    this.buf = [];
    this.size = 0;
  }

  /**
   * Resolve when `test` returns a value; `settleMs` > 0 makes a match wait that
   * long with no new bytes before it counts (a prompt must be the last thing said).
   */
  wait<T>(test: (bytes: Buffer, closed: boolean) => T | undefined, timeoutMs: number, settle?: (v: T) => number): Promise<WaitResult<T>> {
    return new Promise((resolve) => {
      let settleTimer: NodeJS.Timeout | undefined;
      let finished = false;
      const finish = (r: WaitResult<T>) => {
        if (finished) return;
        finished = true;
        clearTimeout(deadline);
        if (settleTimer) clearTimeout(settleTimer);
        this.wake = undefined;
        resolve(r);
      };
      const deadline = setTimeout(() => finish({ kind: 'timeout' }), timeoutMs);
      const check = () => {
        if (settleTimer) {
          clearTimeout(settleTimer);
          settleTimer = undefined;
        }
        const v = test(this.bytes, this.closed);
        if (v !== undefined) {
          const ms = settle?.(v) ?? 0;
          if (ms > 0 && !this.closed) {
            settleTimer = setTimeout(() => finish({ kind: 'match', value: v }), ms);
            return;
          }
          finish({ kind: 'match', value: v });
          return;
        }
        if (this.closed) finish({ kind: 'closed' });
        else if (this.size > this.cap) finish({ kind: 'overflow' });
      };
      this.wake = check;
      check();
    });
  }
}
