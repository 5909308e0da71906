import type { FastifyBaseLogger } from 'fastify';
import { AppError, toAppError } from '../shared/errors.ts';
import type { ServedModel } from './model/load-model.ts';
import { Predictor, type PredictorOptions } from './predictor.ts';

export type HostState = 'loading' | 'ready' | 'failed' | 'stopping';

/**
 * Holds the served model through its life: `loading` (503) → `ready` → `stopping` (SIGTERM),
 * or `failed` (a bad artifact: the server stays up, alive but never ready, and says why on
 * /readyz and in the log). The HTTP layer asks it for the predictor and gets a 503 otherwise.
 */
export class ModelHost {
  state: HostState = 'loading';
  predictor: Predictor | undefined;
  /** Why loading failed (names the file at fault); shown on /readyz. */
  failure: string | undefined;
  /** Seconds from `load` to ready. */
  loadSeconds: number | undefined;
  /** Set by the server for metrics. */
  onBatch: ((size: number, seconds: number) => void) | undefined;

  constructor(private readonly options: Omit<PredictorOptions, 'onBatch'>) {}

  /**
   * Loads, warms up and marks ready. Never throws: a failure is logged at ERROR with the
   * message naming the file, and the host stays `failed`. Resolves true when ready.
   */
  async load(load: () => Promise<ServedModel>, log: FastifyBaseLogger): Promise<boolean> {
    const started = performance.now();
    try {
      const model = await load();
      const predictor = new Predictor(model, { ...this.options, onBatch: (n, s) => this.onBatch?.(n, s) });
      await warmUp(predictor);
      if (this.state !== 'loading') return false; // shutdown began meanwhile
      this.predictor = predictor;
      this.loadSeconds = (performance.now() - started) / 1000;
      this.state = 'ready';
      log.info(
        {
          modelName: model.modelName,
          version: model.version,
          modelUri: model.modelUri,
          modelFile: model.modelFile,
          loadSeconds: this.loadSeconds,
        },
        `model ready: ${model.modelName} v${model.version ?? '?'} (${model.modelFile})`,
      );
      return true;
    } catch (err) {
      const e = toAppError(err);
      this.failure = err instanceof Error ? err.message : String(err);
      this.state = 'failed';
      log.error(
        { err: { message: this.failure, code: e.code } },
        `model not loaded, the server will not become ready: ${this.failure}`,
      );
      return false;
    }
  }

  /** The predictor, or the 503 that explains why there is none. */
  requireReady(): Predictor {
    if (this.state === 'ready' && this.predictor) return this.predictor;
    const why =
      this.state === 'loading'
        ? 'the model is still loading'
        : this.state === 'stopping'
          ? 'the server is shutting down'
          : `the model failed to load: ${this.failure}`;
    throw new AppError('unavailable', why, {
      details: { retryAfterSeconds: this.state === 'loading' ? 1 : 5 },
    });
  }

  /** Stop taking work; resolves when every queued and running batch has finished. */
  async stop(): Promise<void> {
    this.state = 'stopping';
    if (this.predictor) await this.predictor.batcher.whenIdle();
  }

  /** Releases the onnxruntime session (after `stop`). */
  async dispose(): Promise<void> {
    await this.predictor?.model.session.dispose();
  }
}

/**
 * Runs one short batch before ready (onnxruntime allocates and picks kernels on the first
 * run) and checks the model's output fits labels.json. One short batch is enough: a batch
 * the size of `maxBatch` cost cold start a full long run and bought no faster first requests.
 */
async function warmUp(predictor: Predictor): Promise<void> {
  const instances = ['warm up', 'warm up the model'].map((text) =>
    predictor.task === 'pair' ? { text, textPair: text } : text,
  );
  const windows = predictor.tokenize(instances, true).flatMap((e) => e.windows);
  const outputs = await predictor.runBatch(windows);
  if (outputs.some((row) => row.some((p) => !Number.isFinite(p)))) {
    throw new AppError('failed_precondition', 'the model produced non-finite outputs on the warm-up text');
  }
}
