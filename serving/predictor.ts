import { AppError } from '../shared/errors.ts';
import { MicroBatcher } from './batcher.ts';
import type { ServedModel } from './model/load-model.ts';
import type { EncodedBatch } from './model/onnx-session.ts';

export interface PredictorOptions {
  maxBatch: number;
  /** Most padded tokens (rows × longest row) in one session.run; larger groups are split. */
  maxBatchTokens: number;
  maxWaitMs: number;
  maxQueue: number;
  onBatch?(size: number, seconds: number): void;
}

export interface Prediction {
  label: string;
  /** Label → probability, highest first; all labels, or the `topK` highest. */
  scores: Record<string, number>;
  /** Present (true) when the text was longer than the model's max length and was cut to it. */
  truncated?: true;
}

/** One text's token ids, cut to the model's max length, and whether it was cut. */
export interface EncodedText {
  ids: number[];
  truncated: boolean;
}

/**
 * Turns texts into predictions: checks queue capacity, tokenizes on the request's own turn (so
 * a bad text fails only its request), then hands token ids to the batcher, which pads each
 * batch to its longest sequence and runs the session once for all of them.
 */
export class Predictor {
  readonly batcher: MicroBatcher<number[], Float64Array>;

  private readonly maxBatchTokens: number;

  constructor(
    readonly model: ServedModel,
    options: PredictorOptions,
  ) {
    this.maxBatchTokens = options.maxBatchTokens;
    this.batcher = new MicroBatcher({ ...options, run: (items, emit) => this.runBatch(items, emit) });
  }

  /**
   * Token ids per text, cut to the model's max length (the long-text rule: truncate and say so,
   * as the trainer does). With `truncate: false` a longer text fails with a 400 naming the instance.
   */
  tokenize(texts: readonly string[], truncate = true): EncodedText[] {
    const { tokenizer, config } = this.model;
    return texts.map((text, i) => {
      const encoded = tokenizer.encodeTruncated(text, config.maxLength);
      if (!encoded.truncated || truncate) return encoded;
      throw new AppError(
        'invalid_argument',
        `instances[${i}] is longer than the model's max length of ${config.maxLength} tokens (send "parameters": {"truncate": true} to cut it)`,
        { details: { field: `instances[${i}]`, maxLength: config.maxLength } },
      );
    });
  }

  /** Probabilities per sequence, in class-id order (labels.json). */
  probabilities(ids: number[][]): Promise<Float64Array[]> {
    return this.batcher.submit(ids);
  }

  /**
   * Predictions for texts; `topK` limits `scores` to the k most probable labels. Capacity is
   * checked before any tokenizing, so a full queue answers 429 without spending the CPU it lacks.
   */
  async predict(
    texts: readonly string[],
    options: { truncate?: boolean; topK?: number } = {},
  ): Promise<Prediction[]> {
    this.batcher.checkCapacity(texts.length);
    const encoded = this.tokenize(texts, options.truncate ?? true);
    const probs = await this.probabilities(encoded.map((e) => e.ids));
    return probs.map((p, i) => this.format(p, options.topK, encoded[i]!.truncated));
  }

  format(probs: Float64Array, topK?: number, truncated = false): Prediction {
    const { labels } = this.model;
    const order = Array.from(probs.keys()).sort((a, b) => probs[b]! - probs[a]!);
    const scores: Record<string, number> = {};
    for (const i of order.slice(0, topK ?? labels.length)) scores[labels[i]!] = probs[i]!;
    return truncated
      ? { label: labels[order[0]!]!, scores, truncated }
      : { label: labels[order[0]!]!, scores };
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
    items: number[][],
    emit?: (index: number, probs: Float64Array) => void,
  ): Promise<Float64Array[]> {
    const order = Array.from(items.keys()).sort((a, b) => items[a]!.length - items[b]!.length);
    const out = new Array<Float64Array>(items.length);
    for (let start = 0; start < order.length; ) {
      const limit = Math.ceil(items[order[start]!]!.length * PAD_TOLERANCE) + 2;
      let end = start + 1;
      while (end < order.length) {
        const len = items[order[end]!]!.length;
        if (len > limit || (end - start + 1) * len > this.maxBatchTokens) break;
        end++;
      }
      const group = order.slice(start, end);
      const probs = await this.runPadded(group.map((i) => items[i]!));
      for (let k = 0; k < group.length; k++) {
        out[group[k]!] = probs[k]!;
        emit?.(group[k]!, probs[k]!);
      }
      start = end;
    }
    return out;
  }

  /** One session.run, padded to the longest sequence; probabilities per row. */
  async runPadded(items: number[][]): Promise<Float64Array[]> {
    const batch = padBatch(items, this.model.tokenizer.padId);
    const { logits, numLabels } = await this.model.session.run(batch);
    if (numLabels !== this.model.labels.length) {
      throw new AppError(
        'internal',
        `the model produced ${numLabels} logits per text but labels.json has ${this.model.labels.length} labels`,
      );
    }
    return items.map((_, row) => softmax(logits, row * numLabels, numLabels));
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
export function padBatch(items: readonly number[][], padId: number): EncodedBatch {
  let seqLen = 1;
  for (const ids of items) if (ids.length > seqLen) seqLen = ids.length;
  const size = items.length;
  const inputIds = new BigInt64Array(size * seqLen);
  const attentionMask = new BigInt64Array(size * seqLen);
  const ids32 = new Int32Array(inputIds.buffer);
  const mask32 = new Int32Array(attentionMask.buffer);
  if (padId !== 0) for (let i = 0; i < size * seqLen; i++) ids32[2 * i] = padId;
  for (let r = 0; r < size; r++) {
    const ids = items[r]!;
    const base = 2 * r * seqLen;
    for (let c = 0; c < ids.length; c++) {
      ids32[base + 2 * c] = ids[c]!;
      mask32[base + 2 * c] = 1;
    }
  }
  return { size, seqLen, inputIds, attentionMask, tokenTypeIds: new BigInt64Array(size * seqLen) };
}

/** Numerically stable softmax of one row, in float64 so probabilities match Python's within 1e-6. */
export function softmax(logits: Float32Array, offset: number, n: number): Float64Array {
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
