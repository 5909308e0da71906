/**
 * Registers `controlApi`, the HTTP function. Only registration lives here; the API is
 * `buildControlApi` (functions/api/app.ts), a fastify instance that this module feeds the
 * functions-framework's requests (fastify's serverless guide for Google Cloud Functions: the body
 * is already parsed, and our JSON parser takes it from `req.body`).
 *
 * Deps come from `configureControlApi` (tests of the function wrapper) or, if nothing was
 * configured, from the cloud composition on the first request (functions/compose.ts: ID tokens
 * for DROPTUNE_API_URL from ALLOWED_INVOKERS, signed upload URLs, the Workflows starter that
 * promote and rollback deploy through, ID tokens for the predict proxy).
 */
import * as ff from '@google-cloud/functions-framework';
import type { FastifyInstance } from 'fastify';
import { buildControlApi, type ControlApiDeps } from './api/app.ts';
import { cloudComposition } from './runtime.ts';

/** Boxed: a fastify instance is itself thenable, so a promise must not resolve to it directly. */
let app: Promise<{ instance: FastifyInstance }> | undefined;

/** Injects the API's deps (the local stack: local token auth, direct uploads, web root). */
export function configureControlApi(deps: ControlApiDeps): FastifyInstance {
  const built = buildControlApi(deps);
  app = Promise.resolve(built.ready()).then(() => ({ instance: built }));
  return built;
}

async function fromEnv(): Promise<{ instance: FastifyInstance }> {
  const built = buildControlApi((await cloudComposition()).controlApi);
  await built.ready();
  return { instance: built };
}

ff.http('controlApi', async (req, res) => {
  app ??= fromEnv().catch((err) => {
    app = undefined;
    throw err;
  });
  let instance: FastifyInstance;
  try {
    ({ instance } = await app);
  } catch (err) {
    console.error(
      JSON.stringify({ component: 'controlApi', msg: 'start failed', error: (err as Error).message }),
    );
    res
      .status(503)
      .json({ error: { code: 'unavailable', message: 'the control API could not start; retry' } });
    return;
  }
  instance.server.emit('request', req, res);
});
