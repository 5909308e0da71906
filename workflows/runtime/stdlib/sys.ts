import type { ExecContext } from '../context.ts';
import { wfError } from '../errors.ts';
import type { BuiltinFn } from '../expr/compile.ts';
import type { Scope } from '../scope.ts';
import { isMap, toJs, type WfMap, type WfValue } from '../values.ts';
import * as a from './args.ts';

const rt = (s: Scope<ExecContext>): ExecContext => s.rt as ExecContext;

function tagsOf(e: WfValue): string[] {
  if (!isMap(e) || !Array.isArray(e.tags)) return [];
  return e.tags.filter((t): t is string => typeof t === 'string');
}
function codeOf(e: WfValue): number | undefined {
  return isMap(e) && (typeof e.code === 'bigint' || typeof e.code === 'number') ? Number(e.code) : undefined;
}

/** `http.default_retry_predicate`: 429, 502, 503, 504, ConnectionError, TimeoutError. */
export function defaultRetryPredicate(e: WfValue): boolean {
  const tags = tagsOf(e);
  if (tags.includes('ConnectionError') || tags.includes('TimeoutError')) return true;
  return tags.includes('HttpError') && [429, 502, 503, 504].includes(codeOf(e) ?? 0);
}
/** `http.default_retry_predicate_non_idempotent`: only 429 and 503 (the request was not processed). */
export function nonIdempotentRetryPredicate(e: WfValue): boolean {
  return tagsOf(e).includes('HttpError') && [429, 503].includes(codeOf(e) ?? 0);
}

const DEFAULT_BACKOFF: WfMap = { initial_delay: 1n, max_delay: 60n, multiplier: 1.25 };

/** Named policies usable as `retry: ${http.default_retry}`. */
export const retryConstants: Record<string, WfValue> = {
  'http.default_retry': {
    predicate: 'http.default_retry_predicate',
    max_retries: 5n,
    backoff: DEFAULT_BACKOFF,
  },
  'http.default_retry_non_idempotent': {
    predicate: 'http.default_retry_predicate_non_idempotent',
    max_retries: 5n,
    backoff: DEFAULT_BACKOFF,
  },
  'retry.default_backoff': DEFAULT_BACKOFF,
};

/** `sys.*` and the retry predicates. `sys.sleep` is blocking and waits on the execution's clock. */
export const sysFunctions: Record<string, BuiltinFn> = {
  'sys.get_env': {
    params: ['name', 'default'],
    min: 1,
    fn: ([n, d], s) => {
      const v = rt(s).env[a.str('sys.get_env', 'name', n as WfValue)];
      return v === undefined ? ((d as WfValue | undefined) ?? null) : v;
    },
  },
  'sys.now': { params: [], min: 0, fn: (_x, s) => rt(s).clock.now() / 1000 },
  'sys.log': {
    params: ['data', 'severity', 'text', 'json', 'timeout'],
    min: 0,
    fn: ([data, severity, text, json], s) => {
      const payload = data ?? text ?? json ?? null;
      const sev =
        severity === undefined || severity === null ? 'DEFAULT' : a.str('sys.log', 'severity', severity);
      rt(s).log({ severity: sev, data: toJs(payload), time: rt(s).clock.now() });
      return null;
    },
  },
  'sys.sleep': {
    params: ['seconds'],
    min: 1,
    blocking: true,
    fn: async ([sec], s) => {
      const n = a.num('sys.sleep', 'seconds', sec as WfValue);
      if (n < 0) throw wfError('ValueError', 'sys.sleep: seconds must not be negative');
      await rt(s).clock.sleep(n * 1000, rt(s).signal);
      return null;
    },
  },
  'sys.sleep_until': {
    params: ['time'],
    min: 1,
    blocking: true,
    fn: async ([t], s) => {
      const ms = Date.parse(a.str('sys.sleep_until', 'time', t as WfValue));
      if (Number.isNaN(ms))
        throw wfError('ValueError', 'sys.sleep_until: time must be an RFC 3339 timestamp');
      await rt(s).clock.sleep(Math.max(0, ms - rt(s).clock.now()), rt(s).signal);
      return null;
    },
  },
  'http.default_retry_predicate': { params: ['e'], min: 1, fn: ([e]) => defaultRetryPredicate(e as WfValue) },
  'http.default_retry_predicate_non_idempotent': {
    params: ['e'],
    min: 1,
    fn: ([e]) => nonIdempotentRetryPredicate(e as WfValue),
  },
  'retry.always': { params: ['e'], min: 1, fn: () => true },
  'retry.never': { params: ['e'], min: 1, fn: () => false },
};
