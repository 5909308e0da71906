/**
 * One error type for the whole system, with one table of codes.
 *
 * Adapters translate driver errors into these codes (a unique violation becomes
 * `already_exists`, a GCS 412 becomes `already_exists`, ECONNREFUSED becomes `unavailable`),
 * so HTTP handlers, the CloudEvent handler and the CLI all decide by `code` and `retryable`.
 */
export const ERROR_CODES = {
  invalid_argument: { status: 400, retryable: false },
  unauthenticated: { status: 401, retryable: false },
  permission_denied: { status: 403, retryable: false },
  not_found: { status: 404, retryable: false },
  already_exists: { status: 409, retryable: false },
  failed_precondition: { status: 409, retryable: false },
  too_large: { status: 413, retryable: false },
  resource_exhausted: { status: 429, retryable: true },
  internal: { status: 500, retryable: false },
  unavailable: { status: 503, retryable: true },
  deadline_exceeded: { status: 504, retryable: true },
} as const satisfies Record<string, { status: number; retryable: boolean }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export class AppError extends Error {
  override readonly name = 'AppError';
  readonly code: ErrorCode;
  readonly status: number;
  readonly retryable: boolean;
  /** Structured detail safe to show a user (field name, row, column, limit…). */
  readonly details: Record<string, unknown> | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    options: { details?: Record<string, unknown>; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = ERROR_CODES[code].status;
    this.retryable = ERROR_CODES[code].retryable;
    this.details = options.details;
  }

  /** The JSON error body every HTTP surface returns: `{"error": {"code", "message"}}`. */
  toBody(): { error: { code: ErrorCode; message: string; details?: Record<string, unknown> } } {
    return {
      error: { code: this.code, message: this.message, ...(this.details ? { details: this.details } : {}) },
    };
  }
}

export function isAppError(err: unknown, code?: ErrorCode): err is AppError {
  return err instanceof AppError && (code === undefined || err.code === code);
}

/** Wraps anything thrown into an AppError; unknown errors become `internal` without leaking a stack. */
export function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  const e = err as { code?: unknown; message?: unknown } | undefined;
  const sys = typeof e?.code === 'string' ? e.code : '';
  if (
    [
      'ECONNREFUSED',
      'ECONNRESET',
      'ETIMEDOUT',
      'EPIPE',
      'EAI_AGAIN',
      '57P01',
      '57P03',
      '08006',
      '08001',
    ].includes(sys)
  ) {
    return new AppError('unavailable', `a backend is unavailable (${sys})`, { cause: err });
  }
  return new AppError('internal', 'internal error', { cause: err });
}
