// Shared shapes of the default-credential audit: services, credentials, what
// one login attempt can come back with, and the per-service result promised
// by CONTRACT.md (`iotguard creds`).

export const CRED_SERVICES = ['telnet', 'ssh', 'http', 'ftp', 'mqtt', 'rtsp'] as const;
export type CredService = (typeof CRED_SERVICES)[number];

export function isCredService(s: string): s is CredService {
  return (CRED_SERVICES as readonly string[]).includes(s);
}

export interface Credential {
  username: string;
  password: string;
  /**
   * True for pairs from a public default list shipped with iotguard: only
   * those may ever be shown, logged or stored. A user's own wordlist is not.
   */
  public: boolean;
  /** Where the pair comes from (`mirai`, `vendor:hikvision`, `user`), for evidence. */
  source: string;
}

export interface Target {
  ip: string;
  port: number;
}

/**
 * What one login attempt produced. `attempted` on errors says whether the
 * credential actually reached the server (it counts against the device's
 * patience) or the session failed before it could be sent (retry it).
 */
export type AttemptOutcome =
  | {
      kind: 'success';
      /** The login that worked: may differ from the one tried (telnet shell with no password asked). */
      username: string;
      password: string;
      /** What proved it: a prompt, a status line (never anything the device keeps secret). */
      evidence: string;
    }
  | { kind: 'failure'; canContinue: boolean }
  | { kind: 'lockout'; detail: string }
  | { kind: 'no-auth'; detail: string }
  | { kind: 'error'; reason: SessionErrorReason; detail: string; attempted: boolean };

export type SessionErrorReason = 'refused' | 'timeout' | 'closed' | 'protocol' | 'unreachable';

/** One connection to a service; it may carry several attempts (telnet re-prompts, SSH retries). */
export interface CredSession {
  attempt(cred: Credential): Promise<AttemptOutcome>;
  close(): void;
}

export interface CredTester {
  readonly service: CredService;
  /** A lazy session: the connection is made on the first attempt. */
  session(target: Target): CredSession;
}

export const RESULT_STATUSES = ['default-credentials', 'not-found', 'unreachable', 'rate-limited'] as const;
export type ResultStatus = (typeof RESULT_STATUSES)[number];

/** One line of `iotguard creds --json` `results` (CONTRACT.md). */
export interface CredResult {
  ip: string;
  service: CredService;
  port: number;
  status: ResultStatus;
  /** Only when the working login comes from a public default list. */
  username?: string;
  password?: string;
  /** Logins actually submitted to the device. */
  attempts: number;
  /** Pairs in the list for this service. */
  listSize: number;
  durationMs: number;
  /** One sentence on why this status (timeout, lock-out text, no challenge...). */
  detail: string;
  /** Where the working pair comes from (`mirai`, `vendor:axis`), when public. */
  source?: string;
  /** Proof of the login (prompt or status line), when found. */
  evidence?: string;
}
