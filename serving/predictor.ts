import { AppError } from '../shared/errors.ts';
import { MicroBatcher } from './batcher.ts';
import type { ServedModel } from './model/load-model.ts';
import type { EncodedBatch } from './model/onnx-session.ts';

export interface PredictorOptions {
  maxBatch: number;
  maxWaitMs: number;
  maxQueue: number;
  onBatch?(size: number, seconds: number): void;
}

export interface Prediction {
  label: string;
  /** Label → probability, highest first; all labels, or the `topK` highest. */
  scores: Record<string, number>;
}

/**
 * Turns texts into predictions: tokenizes on the request's own turn (so a bad text fails only
 * its request), then hands token ids to the micro-batcher, which pads each batch to its longest
 * sequence and runs the session once for all of them.
 */
export class Predictor {
  readonly batcher: MicroBatcher<number[], Float64Array>;

  constructor(
    readonly model: ServedModel,
    options: PredictorOptions,
  ) {
    this.batcher = new MicroBatcher({ ...options, run: (items) => this.runBatch(items) });
  }

  /**
   * Token ids per text. A text longer than the model's max length fails with a 400 naming the
   * instance, unless `truncate` is set (then it is cut, keeping the special tokens).
   */
  tokenize(texts: readonly string[], truncate: boolean): number[][] {
    const { tokenizer, config } = this.model;
    return texts.map((text, i) => {
      const ids = tokenizer.encode(text);
      if (ids.length <= config.maxLength) return ids;
      if (truncate) return tokenizer.truncate(ids, config.maxLength);
      throw new AppError(
        'invalid_argument',
        `instances[${i}] is ${ids.length} tokens long; the model's max length is ${config.maxLength} tokens (send "parameters": {"truncate": true} to cut it)`,
        { details: { field: `instances[${i}]`, tokens: ids.length, maxLength: config.maxLength } },
      );
    });
  }

  /** Probabilities per sequence, in class-id order (labels.json). */
  probabilities(ids: number[][]): Promise<Float64Array[]> {
    return this.batcher.submit(ids);
  }

  /** Predictions for texts; `topK` limits `scores` to the k most probable labels. */
  async predict(
    texts: readonly string[],
    options: { truncate?: boolean; topK?: number } = {},
  ): Promise<Prediction[]> {
    const probs = await this.probabilities(this.tokenize(texts, options.truncate ?? false));
    return probs.map((p) => this.format(p, options.topK));
  }

  format(probs: Float64Array, topK?: number): Prediction {
    const { labels } = this.model;
    const order = Array.from(probs.keys()).sort((a, b) => probs[b]! - probs[a]!);
    const scores: Record<string, number> = {};
    for (const i of order.slice(0, topK ?? labels.length)) scores[labels[i]!] = probs[i]!;
    return { label: labels[order[0]!]!, scores };
  }

  /** One session.run for a whole batch: pad to the longest sequence, split rows back out. */
  async runBatch(items: number[][]): Promise<Float64Array[]> {
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

/** Pads token id lists to the longest one; the attention mask hides the padding. */
export function padBatch(items: readonly number[][], padId: number): EncodedBatch {
  let seqLen = 1;
  for (const ids of items) if (ids.length > seqLen) seqLen = ids.length;
  const size = items.length;
  const inputIds = new BigInt64Array(size * seqLen).fill(BigInt(padId));
  const attentionMask = new BigInt64Array(size * seqLen);
  for (let r = 0; r < size; r++) {
    const ids = items[r]!;
    const base = r * seqLen;
    for (let c = 0; c < ids.length; c++) {
      inputIds[base + c] = BigInt(ids[c]!);
      attentionMask[base + c] = 1n;
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
