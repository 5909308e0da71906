import { wfError } from '../runtime/errors.ts';
import { fromJs, type WfMap } from '../runtime/values.ts';

/**
 * The errors Google APIs answer with, shaped as the Workflows connectors raise them: HttpError
 * with `code` and the API's JSON error `body`, or OperationError with the failed `operation`.
 */
export function googleHttpError(code: number, message: string, reason: string, status?: string) {
  return wfError('HttpError', `HTTP server responded with error code ${code}`, {
    code: BigInt(code),
    headers: { 'content-type': 'application/json; charset=UTF-8' },
    body: fromJs({
      error: { code, message, status, errors: [{ reason, message, domain: 'global' }] },
    }) as WfMap,
  });
}

export function operationError(message: string, operation: Record<string, unknown>) {
  return wfError('OperationError', message, { operation: fromJs(operation) as WfMap });
}
