import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import Fastify, {
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  LogController,
} from 'fastify';
import type { DestinationStream } from 'pino';
import { AppError } from '../shared/errors.ts';
import { registerV1Routes } from './api/kserve-v1.ts';
import { registerV2Routes } from './api/open-inference-v2.ts';
import { INFERENCE_HEADER_LENGTH, splitBinaryBody } from './api/v2-infer-body.ts';
import type { ServingConfig } from './config.ts';
import { fastPredict } from './fast-predict.ts';
import { loggerOptions } from './log.ts';
import { createMetrics } from './metrics.ts';
import type { ModelHost } from './model-host.ts';
import { errorResponse, parseJson } from './server-errors.ts';
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
  let fast: ((req: IncomingMessage, res: ServerResponse) => boolean) | undefined;
  const app = Fastify({
    // `:predict` is answered on plain node:http first (fast-predict.ts); the rest goes to fastify.
    serverFactory: (handler, options) => {
      const server = createServer((req, res) => {
        if (!fast?.(req, res)) handler(req, res);
      });
      // What fastify sets on a server it creates itself (its defaults are filled in by now).
      const timeouts = options as {
        keepAliveTimeout?: number;
        requestTimeout?: number;
        connectionTimeout?: number;
      };
      server.keepAliveTimeout = timeouts.keepAliveTimeout ?? server.keepAliveTimeout;
      server.requestTimeout = timeouts.requestTimeout ?? server.requestTimeout;
      server.setTimeout(timeouts.connectionTimeout ?? 0);
      return server;
    },
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
  fast = fastPredict({ config, host, traffic, metrics, countInstances, log: app.log });
  registerV1Routes(app, host, config, countInstances);
  registerV2Routes(app, host, config, countInstances);

  return app;
}

/** Maps anything thrown to the JSON error body (`errorResponse`) and sends it. */
function sendError(err: unknown, request: FastifyRequest, reply: FastifyReply): void {
  const e = errorResponse(err, request.server.initialConfig.bodyLimit ?? 0, request.log, request.url);
  void reply.code(e.status).headers(e.headers).send(e.body);
}
