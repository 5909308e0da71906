import type { FastifyBaseLogger } from 'fastify';
import { AppError, isAppError } from '../shared/errors.ts';

/**
 * The error half of the HTTP contract, shared by the fastify routes and the node:http fast path
 * (fast-predict.ts): every error is `{"error": {"code", "message"}}` (`{"error": "<message>"}` on
 * `/v2`, as that protocol defines) and never carries a stack trace; 5xx details go to the log.
 */

/** A request body as JSON; a clear 400 for an empty body or a syntax error (with its position). */
export function parseJson(text: string): unknown {
  if (text.trim() === '') {
    throw new AppError('invalid_argument', 'body: empty; expected a JSON object {"instances": [...]}');
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new AppError('invalid_argument', `body: not valid JSON (${(err as Error).message.slice(0, 200)})`);
  }
}

export interface ErrorResponse {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

/** Maps anything thrown (an AppError, a fastify error, a bug) to the response that reports it. */
export function errorResponse(
  err: unknown,
  bodyLimit: number,
  log: FastifyBaseLogger,
  url: string,
): ErrorResponse {
  const e = toHttpError(err, bodyLimit, log);
  const retryAfter = e.details?.retryAfterSeconds;
  const headers: Record<string, string> =
    typeof retryAfter === 'number' ? { 'retry-after': String(retryAfter) } : {};
  if (e.status >= 500 && e.code !== 'unavailable')
    log.error({ err: { message: e.message, code: e.code } }, 'request failed');
  return { status: e.status, headers, body: url.startsWith('/v2') ? { error: e.message } : e.toBody() };
}

function toHttpError(err: unknown, bodyLimit: number, log: FastifyBaseLogger): AppError {
  if (isAppError(err)) return err;
  const fe = err as { code?: string; statusCode?: number; message?: string };
  if (fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return new AppError('too_large', `request body is larger than the limit of ${bodyLimit} bytes`, {
      details: { limit: bodyLimit },
    });
  }
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    const message =
      fe.code === 'FST_ERR_CTP_INVALID_CONTENT_LENGTH' || fe.code === 'FST_ERR_BAD_URL'
        ? String(fe.message)
        : `body: ${fe.message ?? 'bad request'}`;
    return new AppError(fe.statusCode === 404 ? 'not_found' : 'invalid_argument', message);
  }
  log.error({ err }, 'unhandled error');
  return new AppError('internal', 'internal error');
}
