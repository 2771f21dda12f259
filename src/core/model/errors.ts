// The one list of stable error codes, and the error type every layer throws.
// A code never changes meaning once released; the CLI maps `exitCode` to the
// process exit status (CONTRACT.md: 1 = could not do the job, 2 = bad usage).

export const ErrorCodes = {
  USAGE: 'IOTGUARD_ERR_USAGE',
  INTERNAL: 'IOTGUARD_ERR_INTERNAL',
  NOT_ROOT: 'IOTGUARD_ERR_PERMISSION_DENIED',
  NOT_AUTHORIZED: 'IOTGUARD_ERR_NOT_AUTHORIZED',
  DEPENDENCY_MISSING: 'IOTGUARD_ERR_DEPENDENCY_MISSING',
  LAB_NOT_RUNNING: 'IOTGUARD_ERR_LAB_NOT_RUNNING',
  LAB_SETUP: 'IOTGUARD_ERR_LAB_SETUP',
  LAB_UNKNOWN_NODE: 'IOTGUARD_ERR_LAB_UNKNOWN_NODE',
  NET_UNKNOWN_INTERFACE: 'IOTGUARD_ERR_NET_UNKNOWN_INTERFACE',
  NET_BAD_CIDR: 'IOTGUARD_ERR_NET_BAD_CIDR',
  NET_RANGE_TOO_LARGE: 'IOTGUARD_ERR_NET_RANGE_TOO_LARGE',
  NET_PUBLIC_RANGE: 'IOTGUARD_ERR_NET_PUBLIC_RANGE',
  NET_UNREACHABLE: 'IOTGUARD_ERR_NET_UNREACHABLE',
  NET_TIMEOUT: 'IOTGUARD_ERR_NET_TIMEOUT',
  CAPTURE_FORMAT: 'IOTGUARD_ERR_CAPTURE_FORMAT',
  CAPTURE_TRUNCATED: 'IOTGUARD_ERR_CAPTURE_TRUNCATED',
  CAPTURE_FAILED: 'IOTGUARD_ERR_CAPTURE_FAILED',
  FILE_NOT_FOUND: 'IOTGUARD_ERR_FILE_NOT_FOUND',
  DATA_INVALID: 'IOTGUARD_ERR_DATA_INVALID',
  UPNP_NO_GATEWAY: 'IOTGUARD_ERR_UPNP_NO_GATEWAY',
  UPNP_SOAP_FAULT: 'IOTGUARD_ERR_UPNP_SOAP_FAULT',
  UPNP_BAD_RESPONSE: 'IOTGUARD_ERR_UPNP_BAD_RESPONSE',
  POLICY_INVALID: 'IOTGUARD_ERR_POLICY_INVALID',
  STORE: 'IOTGUARD_ERR_STORE',
  CREDS_OUT_OF_SCOPE: 'IOTGUARD_ERR_CREDS_OUT_OF_SCOPE',
  TLSCHECK_REDIRECT: 'IOTGUARD_ERR_TLSCHECK_REDIRECT',
  TLSCHECK_BUSY: 'IOTGUARD_ERR_TLSCHECK_BUSY',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

export interface IotguardErrorOptions {
  cause?: unknown;
  /** Process exit status when this error ends the CLI: 1 (could not do the job) or 2 (bad usage). */
  exitCode?: 1 | 2;
  /** Extra machine-readable detail (offsets, paths, hosts). */
  details?: Record<string, unknown>;
}

export class IotguardError extends Error {
  readonly code: ErrorCode;
  readonly exitCode: 1 | 2;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: IotguardErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'IotguardError';
    this.code = code;
    this.exitCode = options.exitCode ?? (code === ErrorCodes.USAGE ? 2 : 1);
    this.details = options.details;
  }
}

export function isIotguardError(e: unknown): e is IotguardError {
  return e instanceof IotguardError;
}
