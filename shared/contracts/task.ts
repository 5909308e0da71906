import { z } from 'zod';

/**
 * What a model learns from a CSV (DESIGN.md "Tasks"). The one definition: the validator detects
 * it, droptune.json `task` and `submit --task` override it, the trainer picks the head and loss by
 * it, `config.json` records it, serving shapes its predictions by it, the gate picks its metric by it.
 *
 * | task             | columns                     | served prediction                      |
 * |------------------|-----------------------------|----------------------------------------|
 * | `classification` | `text`, `label`             | `{"label", "scores"}`                  |
 * | `multilabel`     | `text`, `labels` (`a\|b`)   | `{"labels": [...], "scores"}`          |
 * | `pair`           | `text`, `text_pair`, `label`| `{"label", "scores"}`                  |
 * | `regression`     | `text`, `score`             | `{"value"}`                            |
 */
export const TASKS = ['classification', 'multilabel', 'pair', 'regression'] as const;
export const Task = z.enum(TASKS);
export type Task = z.infer<typeof Task>;

/**
 * Detection: every label numeric with MORE than this many distinct values → regression. Numeric
 * labels with this many or fewer stay classification, and the profile says how to choose
 * regression instead (`"task": "regression"`): detection never guesses silently.
 */
export const REGRESSION_MIN_DISTINCT_VALUES = 10;

/** Default separator of the classes in a multi-label cell (`billing|shipping`). */
export const DEFAULT_LABEL_DELIMITER = '|';

/** Every metric the gate and early stopping may compare (the trainer's `metrics.json` `validation` keys). */
export const GATE_METRICS = ['accuracy', 'macro_f1', 'micro_f1', 'rmse', 'mae', 'spearman', 'r2'] as const;
export const GateMetric = z.enum(GATE_METRICS);
export type GateMetricName = z.infer<typeof GateMetric>;

/** The direction that is better, per metric: lower RMSE and MAE are better, the rest higher. */
export const METRIC_DIRECTIONS: Record<GateMetricName, 'higher' | 'lower'> = {
  accuracy: 'higher',
  macro_f1: 'higher',
  micro_f1: 'higher',
  rmse: 'lower',
  mae: 'lower',
  spearman: 'higher',
  r2: 'higher',
};

/**
 * The metrics each task reports and may gate on; the first is its default gate and early-stopping
 * metric. Multi-label defaults to micro-F1 (every label decision counts once; macro-F1 is reported).
 */
export const TASK_METRICS: Record<Task, readonly GateMetricName[]> = {
  classification: ['macro_f1', 'accuracy'],
  pair: ['macro_f1', 'accuracy'],
  multilabel: ['micro_f1', 'macro_f1'],
  regression: ['rmse', 'mae', 'spearman', 'r2'],
};

/** The metric a task's gate compares when the settings name none. */
export function defaultGateMetric(task: Task): GateMetricName {
  return TASK_METRICS[task][0]!;
}

/** `true` when `a` is better than `b` on `metric` (lower RMSE is better). */
export function isBetter(metric: GateMetricName, a: number, b: number): boolean {
  return METRIC_DIRECTIONS[metric] === 'higher' ? a > b : a < b;
}

/**
 * Texts longer than `maxLength` tokens: `truncate` keeps the first window; `chunk` splits the
 * text into overlapping windows of `maxLength` tokens (`chunkStride` tokens shared by neighbours,
 * at most `maxChunks` windows), runs each and pools the mean of the logits (of the values for
 * regression), the same way in the trainer's evaluation and in serving.
 */
export const LONG_TEXT_MODES = ['truncate', 'chunk'] as const;
export const LongTextMode = z.enum(LONG_TEXT_MODES);
export type LongTextMode = z.infer<typeof LongTextMode>;

/** How a model version treats long texts; recorded in `config.json` so serving does the same. */
export const LongTextConfig = z.object({
  mode: LongTextMode,
  /** Tokens shared by consecutive windows (`chunk` only). */
  stride: z.number().int().min(0),
  /** Most windows per text; tokens past them are dropped and the prediction says `truncated`. */
  maxChunks: z.number().int().min(1),
});
export type LongTextConfig = z.infer<typeof LongTextConfig>;
