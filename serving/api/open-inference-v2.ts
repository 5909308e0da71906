import type { FastifyInstance } from 'fastify';
import { AppError } from '../../shared/errors.ts';
import type { ServingConfig } from '../config.ts';
import type { ModelHost } from '../model-host.ts';
import type { Predictor } from '../predictor.ts';
import { servedPredictor } from './kserve-v1.ts';
import { inferResponseSchema } from './response-schemas.ts';
import { parseInferBody } from './v2-infer-body.ts';

/** What this server calls itself in V2 server metadata. */
const SERVER = { name: 'droptune-serving', version: '0.1.0', extensions: ['binary_tensor_data'] };

/**
 * Output tensors of a text classifier: the top label per text, every label's probability in
 * labels.json order (`[n, labels]`), and whether each text was cut to the model's max length.
 */
const OUTPUTS = ['label', 'probabilities', 'truncated'] as const;
type OutputName = (typeof OUTPUTS)[number];

/**
 * The Open Inference Protocol (KServe V2) REST endpoints, so KServe, Triton and MLServer
 * clients work unchanged: health, server and model metadata, model readiness, and inference
 * with a BYTES input named `text`. Errors on these paths are `{"error": "<message>"}` as the
 * protocol defines (see `sendError`). Both `/v2/models/<m>/…` and
 * `/v2/models/<m>/versions/<v>/…` are served; a version other than the loaded one is 404.
 * https://kserve.github.io/website/docs/concepts/architecture/data-plane/v2-protocol
 */
export function registerV2Routes(
  app: FastifyInstance,
  host: ModelHost,
  config: ServingConfig,
  countInstances: (n: number) => void,
): void {
  app.get('/v2', async () => SERVER);
  app.get('/v2/health/live', async () => ({ live: true }));
  app.get('/v2/health/ready', async () => {
    host.requireReady();
    return { ready: true };
  });

  type Params = { name: string; version?: string };
  for (const base of ['/v2/models/:name', '/v2/models/:name/versions/:version']) {
    app.get<{ Params: Params }>(base, async (request) => modelMetadata(versioned(host, request.params)));
    app.get<{ Params: Params }>(`${base}/ready`, async (request) => {
      const predictor = versioned(host, request.params);
      return { name: predictor.model.modelName, ready: true };
    });
    app.post<{ Params: Params }>(
      `${base}/infer`,
      { schema: { response: { 200: inferResponseSchema } } },
      async (request) => {
        const predictor = versioned(host, request.params);
        const infer = parseInferBody(request.body, config);
        if (infer.textPairs) {
          throw new AppError(
            'invalid_argument',
            `inputs: "text_pair" is for sentence-pair models; ${predictor.model.modelName} is a ${predictor.model.config.task} model and takes "text" only`,
          );
        }
        const wanted = requestedOutputs(infer.outputs);
        const predictions = await predictor.predict(infer.texts, { truncate: infer.truncate });
        countInstances(infer.texts.length);
        const { labels, modelName, version } = predictor.model;
        const n = predictions.length;
        const tensors: Record<OutputName, () => object> = {
          label: () => ({
            name: 'label',
            datatype: 'BYTES',
            shape: [n],
            data: predictions.map((p) => p.label),
          }),
          probabilities: () => ({
            name: 'probabilities',
            datatype: 'FP64',
            shape: [n, labels.length],
            data: predictions.flatMap((p) => labels.map((l) => p.scores[l]!)),
          }),
          truncated: () => ({
            name: 'truncated',
            datatype: 'BOOL',
            shape: [n],
            data: predictions.map((p) => p.truncated === true),
          }),
        };
        return {
          model_name: modelName,
          ...(version === null ? {} : { model_version: String(version) }),
          ...(infer.id === undefined ? {} : { id: infer.id }),
          outputs: wanted.map((name) => tensors[name]()),
        };
      },
    );
  }
}

function versioned(host: ModelHost, params: { name: string; version?: string }): Predictor {
  const predictor = servedPredictor(host, params.name);
  const served = predictor.model.version;
  if (params.version !== undefined && params.version !== String(served)) {
    throw new AppError(
      'not_found',
      `version ${JSON.stringify(params.version)} of model "${params.name}" is not served here; this server serves version ${served ?? '(unversioned)'}`,
    );
  }
  return predictor;
}

function requestedOutputs(names: string[] | undefined): OutputName[] {
  if (!names) return [...OUTPUTS];
  for (const name of names) {
    if (!(OUTPUTS as readonly string[]).includes(name)) {
      throw new AppError(
        'invalid_argument',
        `outputs: unknown output ${JSON.stringify(name)}; this model has ${OUTPUTS.map((o) => `"${o}"`).join(', ')}`,
      );
    }
  }
  return names as OutputName[];
}

/** V2 model metadata; `parameters.labels` names the columns of `probabilities`. */
function modelMetadata(predictor: Predictor) {
  const { modelName, version, labels } = predictor.model;
  return {
    name: modelName,
    versions: version === null ? [] : [String(version)],
    platform: 'onnxruntime_onnx',
    inputs: [{ name: 'text', datatype: 'BYTES', shape: [-1] }],
    outputs: [
      { name: 'label', datatype: 'BYTES', shape: [-1] },
      { name: 'probabilities', datatype: 'FP64', shape: [-1, labels.length] },
      { name: 'truncated', datatype: 'BOOL', shape: [-1] },
    ],
    parameters: { labels },
  };
}
