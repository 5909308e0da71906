import { InferenceSession, Tensor } from 'onnxruntime-node';
import { AppError } from '../../shared/errors.ts';

/**
 * The only file that imports onnxruntime-node (session-worker.ts runs the same options in a
 * worker thread): everything else sees a `ClassifierSession` that turns a padded batch of token
 * ids into logits.
 */

/** A batch padded to its longest sequence, row-major `[size, seqLen]`. */
export interface EncodedBatch {
  size: number;
  seqLen: number;
  inputIds: BigInt64Array;
  attentionMask: BigInt64Array;
  tokenTypeIds: BigInt64Array;
}

export interface ClassifierSession {
  /** Graph input names, as the graph declares them. */
  readonly inputNames: readonly string[];
  /** Logits `[size, numLabels]`, row-major. */
  run(batch: EncodedBatch): Promise<{ logits: Float32Array; numLabels: number }>;
  dispose(): Promise<void>;
}

export interface SessionOptions {
  /** Intra-op threads: the CPUs the container really has. */
  threads: number;
  /** Input names `config.json` promises; must equal the graph's. */
  inputNames: readonly string[];
  outputName: string;
}

/** Graph input name → the batch field that feeds it. */
export const FEEDS: Record<string, keyof Pick<EncodedBatch, 'inputIds' | 'attentionMask' | 'tokenTypeIds'>> =
  {
    input_ids: 'inputIds',
    attention_mask: 'attentionMask',
    token_type_ids: 'tokenTypeIds',
  };

/**
 * onnxruntime's options for a classifier: full graph optimisations, one intra-op pool sized to
 * `threads` (no spin-waiting) and sequential execution (a BERT classifier is a chain; parallel
 * branches would only contend for the same cores).
 */
export function sessionOptions(threads: number): InferenceSession.SessionOptions {
  return {
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    enableCpuMemArena: true,
    enableMemPattern: true,
    // Pool threads that busy-wait after a run steal the cores the event loop needs for HTTP
    // and tokenizing between runs: measured 3.5× slower runs at batch 1 with spinning on a
    // 2-core machine under load, and half the CPU time per run without it.
    extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
  };
}

/**
 * Fails with `failed_precondition` when the graph's inputs or output do not match
 * `config.json` (or the server could not feed an input).
 */
export function checkGraph(
  graphInputs: readonly string[],
  graphOutputs: readonly string[],
  options: SessionOptions,
): void {
  const unknown = graphInputs.filter((n) => !(n in FEEDS));
  if (unknown.length > 0) {
    throw new AppError(
      'failed_precondition',
      `the model has inputs the server cannot feed: ${unknown.join(', ')} (known: ${Object.keys(FEEDS).join(', ')})`,
    );
  }
  if ([...options.inputNames].sort().join(',') !== [...graphInputs].sort().join(',')) {
    throw new AppError(
      'failed_precondition',
      `config.json inputNames [${options.inputNames.join(', ')}] do not match the graph's inputs [${graphInputs.join(', ')}]`,
    );
  }
  if (!graphOutputs.includes(options.outputName)) {
    throw new AppError(
      'failed_precondition',
      `the model has no output "${options.outputName}" (outputs: ${graphOutputs.join(', ')})`,
    );
  }
}

/**
 * Creates a session that runs on the calling thread (`sessionOptions`, `checkGraph`). Its
 * `run` blocks the event loop while onnxruntime computes; see session-worker.ts.
 */
export async function createClassifierSession(
  model: Uint8Array,
  options: SessionOptions,
): Promise<ClassifierSession> {
  let session: InferenceSession;
  try {
    session = await InferenceSession.create(model, sessionOptions(options.threads));
  } catch (err) {
    throw new AppError(
      'failed_precondition',
      `onnxruntime could not load the model: ${(err as Error).message}`,
      { cause: err },
    );
  }
  const graphInputs = [...session.inputNames];
  checkGraph(graphInputs, session.outputNames, options);
  const fetches = [options.outputName];

  return {
    inputNames: graphInputs,
    async run(batch) {
      const dims = [batch.size, batch.seqLen];
      const feeds: Record<string, Tensor> = {};
      for (const name of graphInputs) feeds[name] = new Tensor('int64', batch[FEEDS[name]!], dims);
      const out = await session.run(feeds, fetches);
      const logits = out[options.outputName]!;
      const numLabels = Number(logits.dims[logits.dims.length - 1]);
      return { logits: logits.data as Float32Array, numLabels };
    },
    async dispose() {
      await session.release();
    },
  };
}
