import type { IncomingMessage } from 'node:http';
import fastifyStatic from '@fastify/static';
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import { capDetails, capText } from '../../shared/bounded.ts';
import { AppError, toAppError } from '../../shared/errors.ts';
import type { ObjectStore } from '../../shared/storage/index.ts';
import type { TrackingStore } from '../../shared/store/index.ts';
import type { WorkflowStarter } from '../workflow-starter/port.ts';
import type { Authenticator, Principal } from './auth.ts';
import type { DeploymentPolicy } from './deployment-policy.ts';
import { registerDatasetRoutes } from './routes-datasets.ts';
import { registerModelRoutes } from './routes-models.ts';
import { registerWebRoutes } from './routes-page.ts';
import { registerRunRoutes } from './routes-runs.ts';
import { registerUploadRoutes } from './routes-uploads.ts';
import type { UploadTarget } from './uploads.ts';

export interface ControlApiDeps {
  store: TrackingStore;
  /** The object store of both buckets. */
  objects: ObjectStore;
  datasetsBucket: string;
  /** Run outputs (`runs/<runId>/`) and model versions (`models/<modelName>/v<N>/`). */
  modelsBucket: string;
  auth: Authenticator;
  /** Signed URLs in the cloud, direct writes locally. */
  uploads: UploadTarget;
  /** Directory of the web page's static files, served under `/` without credentials (they hold no data). */
  webRoot?: string;
  /** Starts the pipeline's promote action (deploy, then move production); absent: promote moves the alias only. */
  workflows?: WorkflowStarter;
  /** Who may record deployments and where they may point (SSRF guard of the predict proxy). */
  deployments?: DeploymentPolicy;
  /** Largest prediction answer the predict proxy passes on, in bytes (default 8 MiB). */
  predictMaxBytes?: number;
  /** Largest JSON body, in bytes (default 16 MiB: a full metrics batch is ~1 MiB). */
  bodyLimit?: number;
  logger?: boolean;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Every API route (method and URL pattern), for the "every route needs credentials" test. */
    apiRoutes: { method: string; url: string }[];
  }
  interface FastifyRequest {
    principal?: Principal;
  }
  interface FastifyContextConfig {
    /** Served without credentials (static web files only). */
    public?: boolean;
  }
}

/**
 * Builds the control API (docs/control-api.md) as a fastify instance without listening: tests
 * drive it with `inject()`, `functions/control-api.ts` hands it the functions-framework's
 * requests, the local stack listens on a port. Every `/v1` route requires credentials; errors
 * are `{"error": {"code", "message"}}` with the status of the code, never a stack trace.
 */
export function buildControlApi(deps: ControlApiDeps): FastifyInstance {
  const bodyLimit = deps.bodyLimit ?? 16 * 1024 * 1024;
  const app = Fastify({ logger: deps.logger ?? false, bodyLimit, trustProxy: true });
  // Routes are collected as registered and filtered when read: the web root's scope marks its
  // routes public in its own onRoute hook, which runs after this one.
  const publicUrls = new Set<string>();
  const registered: { method: string; url: string }[] = [];
  app.decorate('apiRoutes', { getter: () => registered.filter((r) => !publicUrls.has(r.url)) });
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const method of methods) if (method !== 'HEAD') registered.push({ method, url: route.url });
  });

  // Only the parsers the routes need (fastify's defaults include a text/plain parser that buffers
  // the whole body as one string: a 600 MiB upload sent as text/plain threw ERR_STRING_TOO_LONG
  // in a stream handler and took the whole local stack down). JSON is limited; any other media
  // type is a 415 answered without reading the body. The upload route adds its own streaming
  // parser in its scope (routes-uploads.ts).
  app.removeAllContentTypeParsers();
  // JSON bodies: under the functions-framework the body was already read and parsed (Express),
  // so take it from there; otherwise read the stream ourselves (fastify's serverless guide, GCF).
  app.addContentTypeParser('application/json', (_req, payload, done) => {
    const pre = payload as IncomingMessage & { body?: unknown; rawBody?: Buffer };
    if (pre.rawBody !== undefined) {
      done(null, pre.body);
      return;
    }
    readJson(payload, bodyLimit).then(
      (body) => done(null, body),
      (err) => done(err as Error, undefined),
    );
  });

  app.addHook('onRequest', async (request) => {
    if (request.routeOptions.config?.public) return;
    if (!request.routeOptions.url) return; // unknown route: the not-found handler answers
    request.principal = await deps.auth.authenticate(request.headers.authorization);
  });

  app.setErrorHandler((err: FastifyError, request, reply) => {
    const e = fromFastifyError(err, request.headers['content-type']);
    if (e.status >= 500) request.log.error({ err }, 'request failed');
    const { error } = e.toBody();
    // Bounded: messages echo request and file contents (shared/bounded.ts).
    const body = {
      error: {
        code: error.code,
        message: capText(error.message),
        ...(error.details ? { details: capDetails(error.details) } : {}),
      },
    };
    void reply.status(e.status).send(body);
  });
  app.setNotFoundHandler((request, reply) => {
    const e = new AppError('not_found', `no route ${request.method} ${request.url.split('?')[0]}`);
    void reply.status(404).send(e.toBody());
  });

  registerRunRoutes(app, deps);
  registerModelRoutes(app, deps);
  registerDatasetRoutes(app, deps);
  registerUploadRoutes(app, deps);
  registerWebRoutes(app, deps);
  if (deps.webRoot) {
    const webRoot = deps.webRoot;
    void app.register(async (scope) => {
      scope.addHook('onRoute', (route) => {
        route.config = { ...(route.config as object), public: true };
        publicUrls.add(route.url);
      });
      await scope.register(fastifyStatic, { root: webRoot, prefix: '/', wildcard: true });
    });
  }
  return app;
}

/** Fastify's own errors (bad JSON, body too large, unsupported media type) in our code table. */
function fromFastifyError(err: FastifyError, contentType: string | undefined): AppError {
  if (err instanceof AppError) return err;
  const status = err.statusCode;
  if (status === 413) return new AppError('too_large', err.message);
  if (status === 415) {
    const given = JSON.stringify((contentType ?? '(none)').slice(0, 100));
    return new AppError(
      'invalid_argument',
      `unsupported content-type ${given}: send application/json (a CSV upload: text/csv)`,
    );
  }
  if (status === 404) return new AppError('not_found', err.message);
  if (status !== undefined && status >= 400 && status < 500)
    return new AppError('invalid_argument', err.message);
  return toAppError(err);
}

async function readJson(stream: IncomingMessage, limit: number): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new AppError('too_large', `the request body is larger than ${limit} bytes`);
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new AppError('invalid_argument', `the body is not valid JSON: ${(err as Error).message}`);
  }
}
