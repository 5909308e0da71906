import type { FastifyInstance } from 'fastify';
import { AppError } from '../../shared/errors.ts';
import type { ServingConfig } from '../config.ts';
import type { ModelHost } from '../model-host.ts';
import type { Predictor } from '../predictor.ts';
import { type PredictRequest, predictBodyParser } from './predict-body.ts';
import { predictResponseSchema } from './response-schemas.ts';
import { BinaryInferBody, INFERENCE_HEADER_LENGTH } from './v2-infer-body.ts';

/**
 * The KServe V1 protocol (the documented default; Vertex AI uses the same `:predict` shape):
 * `GET /` (alive), `GET /v1/models` (list), `GET /v1/models/<m>` (metadata with `"ready"`),
 * `POST /v1/models/<m>:predict`.
 * https://kserve.github.io/website/docs/concepts/architecture/data-plane/v1-protocol
 */
export function registerV1Routes(
  app: FastifyInstance,
  host: ModelHost,
  config: ServingConfig,
  countInstances: (n: number) => void,
): void {
  const parseBody = predictBodyParser(config);

  app.get('/', async () => ({ status: 'alive' }));

  app.get('/v1/models', async () => ({ models: [host.requireReady().model.modelName] }));

  app.get<{ Params: { name: string } }>('/v1/models/:name', async (request) => {
    const predictor = servedPredictor(host, request.params.name);
    const m = predictor.model;
    return {
      name: m.modelName,
      ready: true,
      version: m.version,
      modelUri: m.modelUri,
      task: predictor.task,
      labels: m.labels,
      longText: m.config.longText,
      ...(m.config.thresholds ? { thresholds: m.config.thresholds } : {}),
      maxLength: m.config.maxLength,
      baseModel: m.config.baseModel,
      modelFile: m.modelFile,
      runId: m.manifest.runId,
      createdAt: m.manifest.createdAt,
      metrics: m.metrics,
    };
  });

  app.post<{ Params: { name: string } }>(
    '/v1/models/:name',
    { schema: { response: { 200: predictResponseSchema } } },
    async (request) => {
      const [name, verb] = splitVerb(request.params.name);
      if (verb !== 'predict') {
        throw new AppError(
          'not_found',
          `unknown method ${JSON.stringify(verb ?? '')}: use POST /v1/models/${name}:predict`,
        );
      }
      if (request.body instanceof BinaryInferBody) {
        servedPredictor(host, name); // 503/404 come first, as for a JSON body
        throw new AppError(
          'invalid_argument',
          `body: binary tensor data (${INFERENCE_HEADER_LENGTH}) is for POST /v2/models/${name}/infer; :predict takes JSON`,
        );
      }
      return predictV1(host, name, request.body, parseBody, countInstances);
    },
  );
}

/**
 * The `:predict` answer for model `name` and a parsed JSON body (503 while not ready, 404 for
 * another model, then 400 for a bad body); shared by the fastify route and the plain node:http
 * fast path (serving/fast-predict.ts).
 */
export async function predictV1(
  host: ModelHost,
  name: string,
  json: unknown,
  parseBody: (json: unknown) => PredictRequest,
  countInstances: (n: number) => void,
) {
  const predictor = servedPredictor(host, name);
  const body = parseBody(json);
  const predictions = await predictor.predict(body.instances, { truncate: body.truncate, topK: body.topK });
  countInstances(body.instances.length);
  return { predictions, model: { name: predictor.model.modelName, version: predictor.model.version } };
}

/** `tiny:predict` → [`tiny`, `predict`]; `tiny` → [`tiny`, undefined]. */
function splitVerb(param: string): [string, string | undefined] {
  const i = param.lastIndexOf(':');
  return i < 0 ? [param, undefined] : [param.slice(0, i), param.slice(i + 1)];
}

/** The ready predictor when `name` is the model served here; 404 naming the served one otherwise. */
export function servedPredictor(host: ModelHost, name: string): Predictor {
  const predictor = host.requireReady();
  if (name !== predictor.model.modelName) {
    throw new AppError(
      'not_found',
      `model ${JSON.stringify(name)} is not served here; this server serves "${predictor.model.modelName}"`,
    );
  }
  return predictor;
}
