import type { ExecContext } from '../context.ts';
import { wfError } from '../errors.ts';
import type { BuiltinFn } from '../expr/compile.ts';
import type { Scope } from '../scope.ts';
import { fromJs, toJsonText, typeName, type WfMap, type WfValue } from '../values.ts';
import * as a from './args.ts';

/** Default HTTP timeout of Workflows' http.* functions (seconds). */
const DEFAULT_TIMEOUT_S = 300;

function scalarText(v: WfValue): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'bigint' || typeof v === 'boolean' || typeof v === 'number') return String(v);
  return toJsonText(v);
}

async function parseBody(res: Response): Promise<WfValue> {
  const buf = new Uint8Array(await res.arrayBuffer());
  if (buf.length === 0) return null;
  const ct = res.headers.get('content-type') ?? '';
  const text = (): string => Buffer.from(buf).toString('utf8');
  if (/json/i.test(ct)) {
    try {
      return fromJs(JSON.parse(text()));
    } catch {
      return text();
    }
  }
  if (/^text\/|xml|javascript|x-www-form-urlencoded/i.test(ct)) return text();
  return buf;
}

export interface HttpRequest {
  method: string;
  url: string;
  headers?: WfValue;
  query?: WfValue;
  body?: WfValue;
  auth?: WfValue;
  timeout?: WfValue;
}

/**
 * One real HTTP request with Workflows' contract: answers `{code, headers, body}` (JSON bodies
 * parsed); status ≥ 400 raises `HttpError` with `code`, `headers`, `body`; a refused or reset
 * connection raises `ConnectionError`; running past `timeout` raises `TimeoutError`.
 */
export async function httpRequest(req: HttpRequest, ctx: ExecContext): Promise<WfMap> {
  const fn = `http.${req.method.toLowerCase()}`;
  let url: URL;
  try {
    url = new URL(a.str(fn, 'url', req.url as WfValue));
  } catch (err) {
    if (err instanceof Error && err.name === 'WorkflowError') throw err;
    throw wfError('ValueError', `${fn}: invalid URL ${JSON.stringify(req.url)}`);
  }
  if (req.query !== undefined && req.query !== null) {
    for (const [k, v] of Object.entries(a.map(fn, 'query', req.query))) {
      for (const item of Array.isArray(v) ? v : [v]) url.searchParams.append(k, scalarText(item));
    }
  }
  const headers: Record<string, string> = {};
  if (req.headers !== undefined && req.headers !== null) {
    for (const [k, v] of Object.entries(a.map(fn, 'headers', req.headers))) headers[k] = scalarText(v);
  }
  if (req.auth !== undefined && req.auth !== null) {
    const auth = a.map(fn, 'auth', req.auth);
    if (ctx.authHeaders) Object.assign(headers, await ctx.authHeaders(auth, url.toString()));
  }
  let body: string | Uint8Array | undefined;
  if (req.body !== undefined && req.body !== null) {
    if (typeof req.body === 'string') body = req.body;
    else if (req.body instanceof Uint8Array) body = req.body;
    else {
      body = toJsonText(req.body);
      if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type'))
        headers['Content-Type'] = 'application/json';
    }
  }
  const timeoutS =
    req.timeout === undefined || req.timeout === null ? DEFAULT_TIMEOUT_S : a.num(fn, 'timeout', req.timeout);
  if (timeoutS <= 0 || timeoutS > 1800)
    throw wfError('ValueError', `${fn}: timeout must be between 0 and 1800 seconds`);
  const signal = AbortSignal.any([ctx.signal, AbortSignal.timeout(timeoutS * 1000)]);
  let res: Response;
  try {
    res = await fetch(url, {
      method: req.method.toUpperCase(),
      headers,
      body: body as BodyInit | undefined,
      signal,
    });
  } catch (err) {
    if (ctx.signal.aborted) throw wfError('SystemError', 'execution cancelled');
    const e = err as { name?: string; cause?: { code?: string; message?: string }; message?: string };
    if (e.name === 'TimeoutError' || e.name === 'AbortError') {
      throw wfError('TimeoutError', `${fn} ${url.origin}${url.pathname}: no response within ${timeoutS}s`);
    }
    throw wfError(
      'ConnectionError',
      `${fn} ${url.origin}${url.pathname}: ${e.cause?.code ?? e.cause?.message ?? e.message ?? 'connection failed'}`,
    );
  }
  const resHeaders: WfMap = {};
  res.headers.forEach((v, k) => {
    resHeaders[k] = v;
  });
  let resBody: WfValue;
  try {
    resBody = await parseBody(res);
  } catch {
    throw wfError(
      'ConnectionError',
      `${fn} ${url.origin}${url.pathname}: connection dropped while reading the body`,
    );
  }
  const code = BigInt(res.status);
  if (res.status >= 400) {
    throw wfError('HttpError', `HTTP server responded with error code ${res.status}`, {
      code,
      headers: resHeaders,
      body: resBody,
    });
  }
  return { code, headers: resHeaders, body: resBody };
}

const PARAMS = [
  'url',
  'timeout',
  'body',
  'headers',
  'query',
  'auth',
  'private_service_name',
  'ca_certificate',
];

function verb(method: string): BuiltinFn {
  return {
    params: PARAMS,
    min: 1,
    blocking: true,
    fn: ([url, timeout, body, headers, query, auth], s: Scope<ExecContext>) =>
      httpRequest({ method, url: url as string, timeout, body, headers, query, auth }, s.rt as ExecContext),
  };
}

/** `http.get/post/put/patch/delete/request`: real HTTP via fetch. */
export const httpFunctions: Record<string, BuiltinFn> = {
  'http.get': verb('GET'),
  'http.post': verb('POST'),
  'http.put': verb('PUT'),
  'http.patch': verb('PATCH'),
  'http.delete': verb('DELETE'),
  'http.request': {
    params: ['method', ...PARAMS],
    min: 2,
    blocking: true,
    fn: ([method, url, timeout, body, headers, query, auth], s: Scope<ExecContext>) => {
      if (typeof method !== 'string')
        throw wfError(
          'TypeError',
          `http.request: method must be a string, got ${typeName(method as WfValue)}`,
        );
      return httpRequest(
        { method, url: url as string, timeout, body, headers, query, auth },
        s.rt as ExecContext,
      );
    },
  },
};
