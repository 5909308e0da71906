/**
 * Control API routes the web page needs beyond docs/control-api.md's table, registered on the
 * app `buildControlApi()` returns (so its bearer auth, error handler and JSON rules apply):
 *
 * - `POST /v1/datasets:validate?textColumn=&labelColumn=` (body: the CSV, `text/csv`): the
 *   trigger's own streaming validator on the bytes, nothing stored. Answers
 *   `{ok: true, profile}` or `{ok: false, rejection: {code, message, details}}` (200 both: a bad
 *   file is the expected answer here, not a failed request).
 * - `GET|PUT /v1/models/:modelName/settings`: read / write `<modelName>/droptune.json` in the
 *   datasets bucket (the body is checked with `ModelSettings`; errors name the field).
 * - `GET /v1/runs/:runId/evaluation`: the held-out evaluation from the trainer's `metrics.json`
 *   (`{labels, perClass, confusionMatrix}`; 404 until the trainer wrote it).
 * - `POST /v1/models/:modelName:predict`: forwards a prediction body to the model's production
 *   deployment and returns its answer unchanged (the browser cannot call the prediction service
 *   across origins, and in the cloud it needs an identity the browser does not hold).
 *
 * `buildControlApi` registers them, so the cloud's control API serves the page the same way.
 */
import type { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { capDetails, capText } from '../../shared/bounded.ts';
import { describeZodError, ModelName, ModelSettings } from '../../shared/contracts/model-settings.ts';
import { Task } from '../../shared/contracts/task.ts';
import { MetricsFile, toEvaluation } from '../../shared/contracts/trainer.ts';
import { AppError, toAppError } from '../../shared/errors.ts';
import type { ObjectStore } from '../../shared/storage/index.ts';
import type { TrackingStore } from '../../shared/store/index.ts';
import { DEFAULT_LIMITS, type ValidationLimits } from '../dataset/limits.ts';
import { validateCsv } from '../dataset/validate-csv.ts';
import { acceptCsvStream } from './csv-body.ts';
import { assertDeploymentUrl, type DeploymentPolicy } from './deployment-policy.ts';
import { readTrainerMetrics } from './trainer-report.ts';

export interface WebRoutesDeps {
  store: TrackingStore;
  objects: ObjectStore;
  datasetsBucket: string;
  /** Where run outputs (`runs/<runId>/`) and versions (`models/<modelName>/v<N>/`) live. */
  modelsBucket: string;
  /** The trigger's limits, so a file checked here gets the trigger's verdict. */
  limits?: Partial<ValidationLimits>;
  /** How long a forwarded prediction may take (default 30 s). */
  predictTimeoutMs?: number;
  /** Adds credentials for the prediction service (cloud: an ID token for its URL). Default: none. */
  predictHeaders?: (url: string) => Promise<Record<string, string>>;
  /** Which deployment URLs the proxy may call (checked again here: the row may predate the check). */
  deployments?: DeploymentPolicy;
  /** Largest prediction answer the proxy passes on, in bytes (default 8 MiB). */
  predictMaxBytes?: number;
}

const ValidateQuery = z.strictObject({
  textColumn: z.string().trim().min(1).max(200).default('text'),
  labelColumn: z.string().trim().min(1).max(200).default('label'),
  /** The task chosen on the page (droptune.json `task`); absent: detected. */
  task: Task.optional(),
});
const ModelParams = z.object({ modelName: ModelName });
const RunParams = z.object({ runId: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/, 'not a run id') });

function parse<T extends z.ZodType>(schema: T, value: unknown, where: string): z.infer<T> {
  const r = schema.safeParse(value ?? {});
  if (!r.success) throw new AppError('invalid_argument', `${where}: ${describeZodError(r.error)}`);
  return r.data;
}

export function registerWebRoutes(app: FastifyInstance, deps: WebRoutesDeps): void {
  const limits = { ...DEFAULT_LIMITS, ...deps.limits };

  // Its own scope: the only other route that takes CSV bytes, as a stream (csv-body.ts).
  void app.register(async (scope) => {
    acceptCsvStream(scope);
    scope.post('/v1/datasets::validate', { bodyLimit: Number.MAX_SAFE_INTEGER }, async (request) => {
      const q = parse(ValidateQuery, request.query, 'query');
      const body = request.body as Readable | undefined;
      if (!body || typeof body.pipe !== 'function') {
        throw new AppError('invalid_argument', 'send the CSV bytes as the body with content-type text/csv');
      }
      const result = await validateCsv(body, { ...q, limits });
      if (!result.ok) {
        body.resume(); // drain the rest so the client sees the answer instead of a reset
        const { code, message, details } = result.rejection;
        return { ok: false, rejection: { code, message: capText(message), details: capDetails(details) } };
      }
      return { ok: true, profile: result.profile };
    });
  });

  app.get('/v1/models/:modelName/settings', async (request) => {
    const { modelName } = parse(ModelParams, request.params, 'path');
    const name = `${modelName}/droptune.json`;
    const stat = await deps.objects.statIfExists(deps.datasetsBucket, name);
    if (!stat) return { settings: ModelSettings.parse({}), stored: false };
    const text = (await deps.objects.read(deps.datasetsBucket, name)).toString('utf8');
    const parsed = ModelSettings.safeParse(JSON.parse(text));
    if (!parsed.success)
      throw new AppError('failed_precondition', `${name}: ${describeZodError(parsed.error)}`);
    return { settings: parsed.data, stored: true };
  });

  app.put('/v1/models/:modelName/settings', async (request) => {
    const { modelName } = parse(ModelParams, request.params, 'path');
    const settings = parse(ModelSettings, request.body, 'body');
    const json = `${JSON.stringify(settings, null, 2)}\n`;
    const stat = await deps.objects.write(deps.datasetsBucket, `${modelName}/droptune.json`, json, {
      contentType: 'application/json',
    });
    return { settings, settingsUri: stat.uri };
  });

  app.get('/v1/runs/:runId/evaluation', async (request) => {
    const { runId } = parse(RunParams, request.params, 'path');
    const run = await deps.store.runs.get(runId);
    const file = MetricsFile.safeParse(await readTrainerMetrics(deps.objects, deps.modelsBucket, run));
    if (file.success) {
      return toEvaluation(file.data);
    }
    throw new AppError('not_found', `run ${runId} has no evaluation yet (it is written when training ends)`);
  });

  // find-my-way cannot put a literal `:predict` after a parameter, so take the whole segment.
  app.post('/v1/models/:target', async (request, reply) => {
    const { target } = request.params as { target: string };
    if (!target.endsWith(':predict'))
      throw new AppError('not_found', `no route POST ${request.url.split('?')[0]}`);
    const { modelName } = parse(ModelParams, { modelName: target.slice(0, -':predict'.length) }, 'path');
    // One model's row, not a scan of every model on each prediction.
    const [summary] = await deps.store.models.list({ modelName, limit: 1 });
    if (!summary) throw new AppError('not_found', `no model named ${modelName}`);
    if (summary.productionVersion === null || !summary.url) {
      throw new AppError('failed_precondition', `${modelName} has no deployed production version yet`);
    }
    let base: string;
    try {
      base = assertDeploymentUrl(modelName, summary.url, deps.deployments ?? {});
    } catch (err) {
      throw new AppError(
        'failed_precondition',
        `${modelName}'s recorded deployment is not a URL the proxy may call: ${(err as Error).message}`,
      );
    }
    const url = `${base}/v1/models/${modelName}:predict`;
    let res: Response;
    try {
      res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(await deps.predictHeaders?.(url)) },
        body: JSON.stringify(request.body ?? {}),
        // A redirect would lead the proxy somewhere the URL check never saw.
        redirect: 'manual',
        signal: AbortSignal.timeout(deps.predictTimeoutMs ?? 30_000),
      });
    } catch (err) {
      const e = toAppError(err);
      throw new AppError(
        'unavailable',
        `the prediction service of ${modelName} at ${base} did not answer: ${e.message}`,
      );
    }
    if (res.status >= 300 && res.status < 400) {
      await res.body?.cancel();
      throw new AppError('unavailable', `the prediction service of ${modelName} answered a redirect`);
    }
    const text = await readCapped(res, deps.predictMaxBytes ?? 8 * 1024 * 1024, modelName);
    return reply
      .status(res.status)
      .type(res.headers.get('content-type') ?? 'application/json')
      .send(text);
  });
}

/** The answer's body, or `too_large` once it passes `limit` bytes (the rest is not read). */
async function readCapped(res: Response, limit: number, modelName: string): Promise<string> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = res.body?.getReader();
  if (!reader) return '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      throw new AppError(
        'unavailable',
        `the prediction service of ${modelName} answered more than ${limit} bytes; not passed on`,
      );
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}
