import { z } from 'zod';
import { AppError } from '../shared/errors.ts';

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

/**
 * The prediction service's configuration, read from the environment once at start.
 * Every knob has a default chosen for Cloud Run (80 concurrent requests per instance, 10 s
 * shutdown grace); the reason for each is beside it.
 */
export const ServingEnv = z.object({
  /** The model version to serve: `gs://<bucket>/models/<model>/v<N>/` or `file://<bucket>/…/v<N>/`. */
  MODEL_URI: z
    .string({ error: 'MODEL_URI is required (gs://… or file://… of a model version)' })
    .min(1, { error: 'MODEL_URI is required (gs://… or file://… of a model version)' }),
  /** Cloud Run sets PORT; 0 picks a free port (the local stack reads it from the `listening` log line). */
  PORT: int(0, 65535).default(8080),
  /** Cloud Run needs all interfaces; the local stack passes 127.0.0.1. */
  HOST: z.string().default('0.0.0.0'),
  /** `int8` serves `model.int8.onnx` when the manifest lists it (about 2× faster on CPU), else `model.onnx`. */
  MODEL_VARIANT: z.enum(['fp32', 'int8']).default('fp32'),
  /** Sequences per `session.run`: past ~32 a CPU gains little throughput and latency grows linearly. */
  DROPTUNE_SERVE_MAX_BATCH: int(1, 1024).default(32),
  /**
   * Padded tokens (rows × longest row) per `session.run`: a coalesced batch is split into runs of
   * similar-length texts within this budget. ~512 keeps activations in cache; measured best on CPU.
   */
  DROPTUNE_SERVE_MAX_BATCH_TOKENS: int(16, 1_000_000).default(512),
  /**
   * How long the first queued request waits for company before its batch runs. 0 means "run at
   * once when the session is idle": batches still form under load because they fill up while the
   * previous `session.run` is busy, and a lone request pays no wait.
   */
  DROPTUNE_SERVE_MAX_WAIT_MS: int(0, 1000).default(0),
  /** Sequences allowed to wait; beyond it requests get 429 + Retry-After instead of growing memory. */
  DROPTUNE_SERVE_MAX_QUEUE: int(1, 1_000_000).default(512),
  /** Request body cap (413 beyond): 64 instances × 10k chars fits with room for JSON escapes. */
  DROPTUNE_SERVE_MAX_BODY_BYTES: int(1024, 64 * 1024 * 1024).default(1024 * 1024),
  /** Instances per request (400 beyond). */
  DROPTUNE_SERVE_MAX_INSTANCES: int(1, 10_000).default(64),
  /** Characters per text (400 beyond); texts longer than the model's max length in tokens are cut (`truncated: true`). */
  DROPTUNE_SERVE_MAX_TEXT_CHARS: int(1, 1_000_000).default(10_000),
  /** onnxruntime intra-op threads; 0 = the CPUs this container really has (cgroup quota aware). */
  DROPTUNE_SERVE_THREADS: int(0, 256).default(0),
  /**
   * Where onnxruntime runs: `main`, the event loop's own thread (the synchronous native run
   * blocks the loop for one length group at a time, ≤ MAX_BATCH_TOKENS padded tokens), or
   * `worker`, a worker thread that keeps the loop free during runs. Measured on 2 cores
   * (bench/results/serve.json, `droptune-worker`): the worker served 0.74× the requests at c=64
   * with 1.11× the CPU per request (three threads contend for two cores) and added ~0.3 ms at c=1.
   */
  DROPTUNE_SERVE_INFERENCE_THREAD: z.enum(['main', 'worker']).default('main'),
  /** After SIGTERM, in-flight requests get this long before a forced exit (Cloud Run allows 10 s). */
  DROPTUNE_SERVE_SHUTDOWN_MS: int(100, 600_000).default(9000),
  LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
});
export type ServingEnv = z.infer<typeof ServingEnv>;

/** Knobs the server and batcher use, in code-friendly names. */
export interface ServingConfig {
  modelUri: string;
  port: number;
  host: string;
  variant: 'fp32' | 'int8';
  maxBatch: number;
  maxBatchTokens: number;
  maxWaitMs: number;
  maxQueue: number;
  maxBodyBytes: number;
  maxInstances: number;
  maxTextChars: number;
  threads: number;
  inferenceThread: ServingEnv['DROPTUNE_SERVE_INFERENCE_THREAD'];
  shutdownMs: number;
  logLevel: ServingEnv['LOG_LEVEL'];
}

/** Parses the environment; a bad value fails with the variable's name and the reason. */
export function readServingConfig(env: NodeJS.ProcessEnv = process.env): ServingConfig {
  const parsed = ServingEnv.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new AppError('invalid_argument', `${String(issue.path[0] ?? 'environment')}: ${issue.message}`);
  }
  const e = parsed.data;
  return {
    modelUri: e.MODEL_URI,
    port: e.PORT,
    host: e.HOST,
    variant: e.MODEL_VARIANT,
    maxBatch: e.DROPTUNE_SERVE_MAX_BATCH,
    maxBatchTokens: e.DROPTUNE_SERVE_MAX_BATCH_TOKENS,
    maxWaitMs: e.DROPTUNE_SERVE_MAX_WAIT_MS,
    maxQueue: e.DROPTUNE_SERVE_MAX_QUEUE,
    maxBodyBytes: e.DROPTUNE_SERVE_MAX_BODY_BYTES,
    maxInstances: e.DROPTUNE_SERVE_MAX_INSTANCES,
    maxTextChars: e.DROPTUNE_SERVE_MAX_TEXT_CHARS,
    threads: e.DROPTUNE_SERVE_THREADS,
    inferenceThread: e.DROPTUNE_SERVE_INFERENCE_THREAD,
    shutdownMs: e.DROPTUNE_SERVE_SHUTDOWN_MS,
    logLevel: e.LOG_LEVEL,
  };
}

/** Defaults for tests and the benchmark: the same values `readServingConfig` gives. */
export function servingConfig(overrides: Partial<ServingConfig> & { modelUri: string }): ServingConfig {
  return { ...readServingConfig({ MODEL_URI: overrides.modelUri }), ...overrides };
}
