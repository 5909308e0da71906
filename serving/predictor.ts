import { taskOf } from '../shared/contracts/manifest.ts';
import type { Task } from '../shared/contracts/task.ts';
import { AppError } from '../shared/errors.ts';
import { MicroBatcher } from './batcher.ts';
import type { ServedModel } from './model/load-model.ts';
import type { EncodedBatch } from './model/onnx-session.ts';
import type { EncodedWindow } from './model/tokenizer.ts';
import { textWindows, type WindowedText } from './model/windows.ts';

export interface PredictorOptions {
  maxBatch: number;
  /** Most padded tokens (rows × longest row) in one session.run; larger groups are split. */
  maxBatchTokens: number;
  maxWaitMs: number;
  maxQueue: number;
  onBatch?(size: number, seconds: number): void;
}

/** One instance of a request: a text, and for `pair` models the second text. */
export interface TextInstance {
  text: string;
  textPair?: string;
}

/** `truncated` is present (true) when tokens were dropped (see `WindowedText`). */
interface Truncation {
  truncated?: true;
}
/** `classification` and `pair`: the top class and its softmax scores, highest first (all, or `topK`). */
export interface ClassPrediction extends Truncation {
  label: string;
  scores: Record<string, number>;
}
/** `multilabel`: classes at or above their tuned threshold (labels.json order) and every sigmoid score. */
export interface MultilabelPrediction extends Truncation {
  labels: string[];
  scores: Record<string, number>;
}
/** `regression`: the value in the target's units (the graph undoes the standardisation). */
export interface RegressionPrediction extends Truncation {
  value: number;
}
export type Prediction = ClassPrediction | MultilabelPrediction | RegressionPrediction;

/** Multi-label threshold of a class that config.json has none for (the trainer's default too). */
export const DEFAULT_THRESHOLD = 0.5;

/**
 * Turns instances into predictions shaped by the model's task: checks queue capacity,
 * tokenizes on the request's own turn (so a bad text fails only its request) into one window,
 * or several for `longText: "chunk"`, hands every window to the batcher (the windows of one
 * text may share a batch with other requests' texts), then pools each text's raw outputs (mean)
 * and maps them per task.
 */
export class Predictor {
  readonly batcher: MicroBatcher<EncodedWindow, Float64Array>;
  readonly task: Task;

  private readonly maxBatchTokens: number;

  constructor(
    readonly model: ServedModel,
    options: PredictorOptions,
  ) {
    this.task = taskOf(model.config);
    this.maxBatchTokens = options.maxBatchTokens;
    this.batcher = new MicroBatcher({ ...options, run: (items, emit) => this.runBatch(items, emit) });
  }

  /**
   * Windows per instance (see `textWindows`). An instance that does not fit the task is a 400
   * naming its field; with `truncate: false` one whose tokens would be dropped is a 400 too.
   */
  tokenize(instances: readonly (string | TextInstance)[], truncate = true): WindowedText[] {
    const { tokenizer, config } = this.model;
    return instances.map((instance, i) => {
      const { text, textPair } = typeof instance === 'string' ? { text: instance } : instance;
      this.checkFits(textPair, i);
      const windowed = textWindows(tokenizer, text, textPair, config.maxLength, config.longText);
      if (!windowed.truncated || truncate) return windowed;
      throw new AppError(
        'invalid_argument',
        `instances[${i}] is longer than the model's max length of ${config.maxLength} tokens${config.longText.mode === 'chunk' ? ` × ${config.longText.maxChunks} windows` : ''} (send "parameters": {"truncate": true} to cut it)`,
        { details: { field: `instances[${i}]`, maxLength: config.maxLength } },
      );
    });
  }

  /** A pair model needs `text_pair`; any other refuses it. */
  private checkFits(textPair: string | undefined, i: number): void {
    if (this.task === 'pair' && textPair === undefined) {
      throw new AppError(
        'invalid_argument',
        `instances[${i}].text_pair: required: ${this.model.modelName} is a sentence-pair model; send {"text": "...", "text_pair": "..."}`,
        { details: { field: `instances[${i}].text_pair` } },
      );
    }
    if (this.task !== 'pair' && textPair !== undefined) {
      throw new AppError(
        'invalid_argument',
        `instances[${i}].text_pair: "text_pair" is for sentence-pair models; ${this.model.modelName} is a ${this.task} model and takes "text" only`,
        { details: { field: `instances[${i}].text_pair` } },
      );
    }
  }

  /** Raw outputs (logits, or the value) per text: the mean over its windows, in float64. */
  async pooledOutputs(encoded: readonly WindowedText[]): Promise<Float64Array[]> {
    const rows = await this.batcher.submit(encoded.flatMap((e) => e.windows));
    let next = 0;
    return encoded.map(({ windows }) => {
      const pooled = new Float64Array(rows[next]!.length);
      for (let w = 0; w < windows.length; w++) {
        const row = rows[next++]!;
        for (let k = 0; k < pooled.length; k++) pooled[k] = pooled[k]! + row[k]!;
      }
      for (let k = 0; k < pooled.length; k++) pooled[k] = pooled[k]! / windows.length;
      return pooled;
    });
  }

  /**
   * Predictions for instances; `topK` limits `scores` to the k highest. Capacity is checked
   * before any tokenizing, so a full queue answers 429 without spending the CPU it lacks.
   */
  async predict(
    instances: readonly (string | TextInstance)[],
    options: { truncate?: boolean; topK?: number } = {},
  ): Promise<Prediction[]> {
    this.batcher.checkCapacity(instances.length);
    const encoded = this.tokenize(instances, options.truncate ?? true);
    const pooled = await this.pooledOutputs(encoded);
    return pooled.map((p, i) => this.format(p, options.topK, encoded[i]!.truncated));
  }

  /** The served prediction of one text's pooled raw outputs, per task. */
  format(outputs: Float64Array, topK?: number, truncated = false): Prediction {
    const prediction = this.shape(outputs, topK);
    if (truncated) prediction.truncated = true;
    return prediction;
  }

  private shape(outputs: Float64Array, topK?: number): Prediction {
    const { labels, config } = this.model;
    if (this.task === 'regression') return { value: outputs[0]! };
    if (this.task === 'multilabel') {
      const probs = outputs.map(sigmoid);
      const on = labels.filter((l, i) => probs[i]! >= (config.thresholds?.[l] ?? DEFAULT_THRESHOLD));
      return { labels: on, scores: topScores(labels, probs, topK) };
    }
    const probs = softmax(outputs, 0, outputs.length);
    const scores = topScores(labels, probs, topK);
    return { label: Object.keys(scores)[0]!, scores };
  }

  /**
   * Runs a batch: sequences are sorted by length and cut into groups whose lengths differ by
   * at most ~20 % and whose padded size stays within `maxBatchTokens`, each group one
   * `session.run` padded to its longest sequence. On CPU a
   * transformer's cost grows with padded tokens, and a BERT at ~30 tokens already keeps every
   * core busy at batch 1, so padding a 10-token text to 45 costs more than the extra runs save.
   * The token cap keeps activations cache-sized (large batches measured slower per sequence on
   * a 2-core machine). Groups run shortest first and each group's rows are handed to `emit` as
   * soon as it finishes, so short texts are not held back by a long one in the same batch.
   * Rows are put back in the caller's order.
   */
  async runBatch(
    items: EncodedWindow[],
    emit?: (index: number, outputs: Float64Array) => void,
  ): Promise<Float64Array[]> {
    const order = Array.from(items.keys()).sort((a, b) => items[a]!.ids.length - items[b]!.ids.length);
    const out = new Array<Float64Array>(items.length);
    for (let start = 0; start < order.length; ) {
      const limit = Math.ceil(items[order[start]!]!.ids.length * PAD_TOLERANCE) + 2;
      let end = start + 1;
      while (end < order.length) {
        const len = items[order[end]!]!.ids.length;
        if (len > limit || (end - start + 1) * len > this.maxBatchTokens) break;
        end++;
      }
      const group = order.slice(start, end);
      const rows = await this.runPadded(group.map((i) => items[i]!));
      for (let k = 0; k < group.length; k++) {
        out[group[k]!] = rows[k]!;
        emit?.(group[k]!, rows[k]!);
      }
      start = end;
    }
    return out;
  }

  /** One session.run, padded to the longest sequence; raw outputs (logits or value) per row, in float64. */
  async runPadded(items: EncodedWindow[]): Promise<Float64Array[]> {
    const batch = padBatch(
      items.map((w) => w.ids),
      this.model.tokenizer.padId,
      items.map((w) => w.typeIds),
    );
    const { logits, numLabels } = await this.model.session.run(batch);
    if (numLabels !== this.model.labels.length) {
      throw new AppError(
        'internal',
        `the model produced ${numLabels} outputs per text but labels.json has ${this.model.labels.length} labels`,
      );
    }
    return items.map((_, row) => Float64Array.from(logits.subarray(row * numLabels, (row + 1) * numLabels)));
  }
}

/** Longest/shortest sequence length allowed in one padded group (plus 2 tokens of slack). */
const PAD_TOLERANCE = 1.2;

/**
 * Pads token id lists to the longest one; the attention mask hides the padding. The int64
 * tensors are written through 32-bit views of their buffers (token ids are small non-negative
 * integers, and every platform onnxruntime-node ships for is little-endian), so no BigInt is
 * allocated per token and padding and zeros come from the buffers' own initialisation.
 */
export function padBatch(
  items: readonly number[][],
  padId: number,
  typeIds?: readonly number[][],
): EncodedBatch {
  let seqLen = 1;
  for (const ids of items) if (ids.length > seqLen) seqLen = ids.length;
  const size = items.length;
  const inputIds = new BigInt64Array(size * seqLen);
  const attentionMask = new BigInt64Array(size * seqLen);
  const ids32 = new Int32Array(inputIds.buffer);
  const mask32 = new Int32Array(attentionMask.buffer);
  const tokenTypeIds = new BigInt64Array(size * seqLen);
  const types32 = new Int32Array(tokenTypeIds.buffer);
  if (padId !== 0) for (let i = 0; i < size * seqLen; i++) ids32[2 * i] = padId;
  for (let r = 0; r < size; r++) {
    const ids = items[r]!;
    const base = 2 * r * seqLen;
    for (let c = 0; c < ids.length; c++) {
      ids32[base + 2 * c] = ids[c]!;
      mask32[base + 2 * c] = 1;
    }
    const types = typeIds?.[r];
    if (types) for (let c = 0; c < types.length; c++) types32[base + 2 * c] = types[c]!;
  }
  return { size, seqLen, inputIds, attentionMask, tokenTypeIds };
}

/** Numerically stable softmax of one row, in float64 so probabilities match Python's within 1e-6. */
export function softmax(logits: ArrayLike<number>, offset: number, n: number): Float64Array {
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < n; i++) max = Math.max(max, logits[offset + i]!);
  const out = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const e = Math.exp(logits[offset + i]! - max);
    out[i] = e;
    sum += e;
  }
  for (let i = 0; i < n; i++) out[i] = out[i]! / sum;
  return out;
}

/** The logistic function: a multi-label class's score from its logit. */
export function sigmoid(logit: number): number {
  return 1 / (1 + Math.exp(-logit));
}

/** Label → score, highest first: every label, or the `topK` highest. */
function topScores(labels: readonly string[], probs: Float64Array, topK?: number): Record<string, number> {
  const order = Array.from(probs.keys()).sort((a, b) => probs[b]! - probs[a]!);
  const scores: Record<string, number> = {};
  for (const i of order.slice(0, topK ?? labels.length)) scores[labels[i]!] = probs[i]!;
  return scores;
}
