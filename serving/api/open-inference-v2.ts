import type { FastifyInstance } from 'fastify';
import type { Task } from '../../shared/contracts/task.ts';
import { AppError } from '../../shared/errors.ts';
import type { ServingConfig } from '../config.ts';
import type { ModelHost } from '../model-host.ts';
import type {
  ClassPrediction,
  MultilabelPrediction,
  Prediction,
  Predictor,
  RegressionPrediction,
} from '../predictor.ts';
import { servedPredictor } from './kserve-v1.ts';
import { inferResponseSchema } from './response-schemas.ts';
import { parseInferBody } from './v2-infer-body.ts';

/** What this server calls itself in V2 server metadata. */
const SERVER = { name: 'droptune-serving', version: '0.1.0', extensions: ['binary_tensor_data'] };

/**
 * Output tensors per task (all `[n, …]`, one row per text): classification and pair give the
 * top `label` and every class's `probabilities` (labels.json order); multilabel gives `labels`
 * as a BOOL mask over the classes (a V2 tensor is rectangular, a list per text is not) and the
 * sigmoid `probabilities`; regression gives the `value`. Every task says `truncated`.
 */
const TASK_OUTPUTS = {
  classification: ['label', 'probabilities', 'truncated'],
  pair: ['label', 'probabilities', 'truncated'],
  multilabel: ['labels', 'probabilities', 'truncated'],
  regression: ['value', 'truncated'],
} as const satisfies Record<Task, readonly string[]>;
type OutputName = (typeof TASK_OUTPUTS)[Task][number];

type Rows = Prediction[];
/** Each output's tensor metadata and data, from the predictions and labels.json. */
const TENSORS: Record<
  OutputName,
  { datatype: string; shape(labels: number): number[]; data(p: Rows, labels: string[]): unknown[] }
> = {
  label: { datatype: 'BYTES', shape: () => [-1], data: (p) => p.map((x) => (x as ClassPrediction).label) },
  labels: {
    datatype: 'BOOL',
    shape: (n) => [-1, n],
    data: (p, labels) => p.flatMap((x) => labels.map((l) => (x as MultilabelPrediction).labels.includes(l))),
  },
  probabilities: {
    datatype: 'FP64',
    shape: (n) => [-1, n],
    data: (p, labels) => p.flatMap((x) => labels.map((l) => (x as ClassPrediction).scores[l]!)),
  },
  value: {
    datatype: 'FP64',
    shape: () => [-1],
    data: (p) => p.map((x) => (x as RegressionPrediction).value),
  },
  truncated: { datatype: 'BOOL', shape: () => [-1], data: (p) => p.map((x) => x.truncated === true) },
};

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
        checkInputsFit(predictor, infer.textPairs !== undefined);
        const wanted = requestedOutputs(predictor.task, infer.outputs);
        const instances = infer.texts.map((text, i) => {
          const textPair = infer.textPairs?.[i];
          return textPair === undefined ? { text } : { text, textPair };
        });
        const predictions = await predictor.predict(instances, { truncate: infer.truncate });
        countInstances(infer.texts.length);
        const { labels, modelName, version } = predictor.model;
        const n = predictions.length;
        return {
          model_name: modelName,
          ...(version === null ? {} : { model_version: String(version) }),
          ...(infer.id === undefined ? {} : { id: infer.id }),
          outputs: wanted.map((name) => {
            const t = TENSORS[name];
            const shape = t.shape(labels.length);
            shape[0] = n;
            return { name, datatype: t.datatype, shape, data: t.data(predictions, labels) };
          }),
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

/** A pair model needs the `text_pair` input; any other refuses it (400 naming `inputs`). */
function checkInputsFit(predictor: Predictor, hasPairs: boolean): void {
  const { task, model } = predictor;
  if (hasPairs && task !== 'pair') {
    throw new AppError(
      'invalid_argument',
      `inputs: "text_pair" is for sentence-pair models; ${model.modelName} is a ${task} model and takes "text" only`,
    );
  }
  if (!hasPairs && task === 'pair') {
    throw new AppError(
      'invalid_argument',
      `inputs: ${model.modelName} is a sentence-pair model; send a "text_pair" input (BYTES) beside "text"`,
    );
  }
}

function requestedOutputs(task: Task, names: string[] | undefined): OutputName[] {
  const outputs: readonly OutputName[] = TASK_OUTPUTS[task];
  if (!names) return [...outputs];
  for (const name of names) {
    if (!(outputs as readonly string[]).includes(name)) {
      throw new AppError(
        'invalid_argument',
        `outputs: unknown output ${JSON.stringify(name)}; this ${task} model has ${outputs.map((o) => `"${o}"`).join(', ')}`,
      );
    }
  }
  return names as OutputName[];
}

/** V2 model metadata; `parameters.labels` names the columns of `probabilities` (and `labels`). */
function modelMetadata(predictor: Predictor) {
  const { modelName, version, labels } = predictor.model;
  const { task } = predictor;
  const inputs = [{ name: 'text', datatype: 'BYTES', shape: [-1] }];
  if (task === 'pair') inputs.push({ name: 'text_pair', datatype: 'BYTES', shape: [-1] });
  return {
    name: modelName,
    versions: version === null ? [] : [String(version)],
    platform: 'onnxruntime_onnx',
    inputs,
    outputs: TASK_OUTPUTS[task].map((name) => ({
      name,
      datatype: TENSORS[name].datatype,
      shape: TENSORS[name].shape(labels.length),
    })),
    parameters: { task, labels },
  };
}
