import Fastify, {
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  LogController,
} from 'fastify';
import type { DestinationStream } from 'pino';
import { AppError, isAppError } from '../shared/errors.ts';
import { registerV1Routes } from './api/kserve-v1.ts';
import { registerV2Routes } from './api/open-inference-v2.ts';
import { INFERENCE_HEADER_LENGTH, splitBinaryBody } from './api/v2-infer-body.ts';
import type { ServingConfig } from './config.ts';
import { loggerOptions } from './log.ts';
import { createMetrics } from './metrics.ts';
import type { ModelHost } from './model-host.ts';
import { newTraffic, type Traffic } from './shutdown.ts';

export interface ServerDeps {
  config: ServingConfig;
  /** Holds the model; the server answers 503 until it is ready. */
  host: ModelHost;
  /** Where JSON log lines go (stdout when absent); tests pass a stream to read them. */
  logStream?: DestinationStream;
  /** In-flight counters for graceful shutdown (`drainAndClose`). */
  traffic?: Traffic;
}

/**
 * Builds the prediction service without listening (tests use `inject()` or listen on
 * loopback; only main.ts listens on PORT). Routes: the KServe V1 protocol
 * (`POST /v1/models/<model>:predict`, the documented default), the Open Inference Protocol V2
 * (`/v2/...`), `/healthz`, `/readyz`, `/metrics`. Every error is `{"error": {"code", "message"}}`
 * (`{"error": "<message>"}` on `/v2`, as that protocol defines) and never carries a stack trace.
 */
export function buildServer(deps: ServerDeps): FastifyInstance {
  const { config, host } = deps;
  const app = Fastify({
    logger: loggerOptions(config.logLevel, deps.logStream),
    bodyLimit: config.maxBodyBytes,
    // Cloud Run logs every request itself; per-request lines here would cost CPU at thousands of req/s.
    logController: new LogController({ disableRequestLogging: true }),
    return503OnClosing: true,
    forceCloseConnections: 'idle',
  });
  const traffic = deps.traffic ?? newTraffic();
  const metrics = createMetrics(
    () => host.predictor?.batcher.depth ?? 0,
    () => traffic.active.size,
  );
  host.onBatch = (size, seconds) => {
    metrics.batchSize.observe(size);
    metrics.batchSeconds.observe(seconds);
  };

  // Clients often forget Content-Type (curl -d sends form encoding): every body is read as JSON.
  app.removeAllContentTypeParsers();
  // Plain JSON.parse gives the position of a syntax error; `__proto__`/`constructor` keys stay inert
  // own properties and are then rejected as unknown fields by the strict body schema.
  app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => {
    try {
      done(null, parseJson(body as string));
    } catch (err) {
      done(err as Error, undefined);
    }
  });

  // The V2 binary tensor extension: a JSON header of `Inference-Header-Content-Length` bytes,
  // then tensor bytes. Without that header an octet-stream body is read as JSON like any other.
  app.addContentTypeParser('application/octet-stream', { parseAs: 'buffer' }, (request, body, done) => {
    const headerLength = request.headers[INFERENCE_HEADER_LENGTH];
    try {
      const buf = body as Buffer;
      done(
        null,
        typeof headerLength === 'string'
          ? splitBinaryBody(buf, headerLength)
          : parseJson(buf.toString('utf8')),
      );
    } catch (err) {
      done(err as Error, undefined);
    }
  });

  app.addHook('onRequest', async (request) => {
    traffic.active.add(request);
    traffic.lastArrival = performance.now();
  });
  app.addHook('onRequestAbort', async (request) => {
    traffic.active.delete(request);
  });
  app.addHook('onSend', async (_request, reply) => {
    if (traffic.draining) void reply.header('connection', 'close');
  });
  app.addHook('onResponse', async (request, reply) => {
    traffic.active.delete(request);
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.requests.inc({ route, method: request.method, status: String(reply.statusCode) });
    metrics.latency.observe({ route, method: request.method }, reply.elapsedTime / 1000);
  });

  app.setErrorHandler((err, request, reply) => sendError(err, request, reply));
  app.setNotFoundHandler((request, reply) => {
    void reply
      .code(404)
      .send(new AppError('not_found', `no route ${request.method} ${request.url.split('?')[0]}`).toBody());
  });

  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (_request, reply) => {
    metrics.ready.set(host.state === 'ready' ? 1 : 0);
    const predictor = host.requireReady();
    void reply.header('cache-control', 'no-store');
    return { status: 'ready', model: { name: predictor.model.modelName, version: predictor.model.version } };
  });

  app.get('/metrics', async (_request, reply) => {
    metrics.ready.set(host.state === 'ready' ? 1 : 0);
    void reply.type(metrics.registry.contentType);
    return metrics.scrape();
  });

  const countInstances = (n: number) => metrics.instances.inc(n);
  registerV1Routes(app, host, config, countInstances);
  registerV2Routes(app, host, config, countInstances);

  return app;
}

/** A request body as JSON; a clear 400 for an empty body or a syntax error (with its position). */
function parseJson(text: string): unknown {
  if (text.trim() === '') {
    throw new AppError('invalid_argument', 'body: empty; expected a JSON object {"instances": [...]}');
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new AppError('invalid_argument', `body: not valid JSON (${(err as Error).message.slice(0, 200)})`);
  }
}

/** Maps anything thrown to the JSON error body; 5xx details go to the log only. */
function sendError(err: unknown, request: FastifyRequest, reply: FastifyReply): void {
  let e: AppError;
  if (isAppError(err)) e = err;
  else {
    const fe = err as { code?: string; statusCode?: number; message?: string };
    if (fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      e = new AppError(
        'too_large',
        `request body is larger than the limit of ${request.server.initialConfig.bodyLimit} bytes`,
        {
          details: { limit: request.server.initialConfig.bodyLimit },
        },
      );
    } else if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
      const message =
        fe.code === 'FST_ERR_CTP_INVALID_CONTENT_LENGTH' || fe.code === 'FST_ERR_BAD_URL'
          ? String(fe.message)
          : `body: ${fe.message ?? 'bad request'}`;
      e = new AppError(fe.statusCode === 404 ? 'not_found' : 'invalid_argument', message);
    } else {
      request.log.error({ err }, 'unhandled error');
      e = new AppError('internal', 'internal error');
    }
  }
  const retryAfter = e.details?.retryAfterSeconds;
  if (typeof retryAfter === 'number') void reply.header('retry-after', String(retryAfter));
  if (e.status >= 500 && e.code !== 'unavailable')
    request.log.error({ err: { message: e.message, code: e.code } }, 'request failed');
  // The Open Inference Protocol's error body is `{"error": "<message>"}`.
  const body = request.url.startsWith('/v2') ? { error: e.message } : e.toBody();
  void reply.code(e.status).send(body);
}
