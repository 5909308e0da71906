import { z } from 'zod';
import { STACK_GATE_DEFAULTS } from './pipeline-env.ts';
import { DEFAULT_LABEL_DELIMITER, GATE_METRICS, GateMetric, LongTextMode, Task } from './task.ts';

/**
 * `<datasets-bucket>/<model-name>/droptune.json`: optional per-model settings read by the dataset
 * trigger and passed to the workflow (and on to the trainer as `DROPTUNE_PARAMS`; `gate` is read by
 * the workflow's quality gate). This is the one definition: the trainer reads its defaults and
 * bounds from the JSON Schema generated from it (`npm run gen:schemas`, training-image/
 * droptune_trainer/schemas/model-settings.json).
 *
 * Strict: an unknown key or an out-of-range value is rejected and the message names the field
 * (`epochs: must be at most 50`). Every field is optional in the file; `ModelSettings.parse({})`
 * gives the defaults documented beside each field.
 */

/**
 * The one model-name rule: the first path segment of a dataset drop, and (prefixed with `predict-`)
 * a valid Cloud Run service id: starts with a letter, never ends with `-`, 2-41 characters.
 */
export const MODEL_NAME_PATTERN = /^[a-z][a-z0-9-]{0,39}[a-z0-9]$/;
export const ModelName = z
  .string()
  .regex(
    MODEL_NAME_PATTERN,
    'a model name is 2-41 characters of a-z, 0-9 and "-", starting with a letter and not ending with "-"',
  );

/**
 * Quality gate: a challenger is promoted only when it clears every threshold. Each one unset
 * takes the stack's default (the pipeline environment's GATE_MIN_ACCURACY, GATE_MIN_MACRO_F1,
 * GATE_MAX_REGRESSION in shared/contracts/pipeline-env.ts), so an operator's defaults apply to
 * every model that does not choose its own. The workflow's quality gate reads these names.
 */
export const GateSettings = z.strictObject({
  /** Minimum held-out accuracy. */
  minAccuracy: z.number().min(0).max(1).optional(),
  /** Minimum held-out macro F1 (0 turns it off). */
  minMacroF1: z.number().min(0).max(1).optional(),
  /**
   * How much worse than the current production model (macro F1, same held-out rows) the
   * challenger may be and still be promoted.
   */
  maxRegression: z.number().min(0).max(1).optional(),
  /**
   * The metric the trainer's gate compares, one the task reports (shared/contracts/task.ts
   * `TASK_METRICS`); unset: the task's default (`macro_f1`; `micro_f1` for multilabel, `rmse` for
   * regression). `maxRegression` is in this metric's units, in its worse direction.
   */
  metric: GateMetric.optional(),
  /** Regression only: minimum held-out R² (unset: no minimum). */
  minR2: z.number().min(-1).max(1).optional(),
  /** Validation rows the champion never trained on needed before comparing at all (default 30). */
  minRows: z.number().int().min(1).max(1_000_000).default(30),
  /** Promote a challenger equal to the champion within noise (the newer model; default true). */
  promoteTies: z.boolean().default(true),
  /** Serve int8 only when it loses at most this much of the gate metric against fp32 (default 0.01). */
  maxInt8Loss: z.number().min(0).max(1).default(0.01),
});
export type GateSettings = z.infer<typeof GateSettings>;

/** Metrics early stopping may watch (the trainer's validation metric keys); one the task reports. */
export const EARLY_STOPPING_METRICS = [...GATE_METRICS, 'loss'] as const;
/** Training precisions the trainer knows. */
export const PRECISIONS = ['auto', 'bf16', 'fp32'] as const;

/** Column names: default `text` and `label`; a CSV must hold both (other columns are ignored). */
const ColumnName = z.string().trim().min(1).max(200);

export const ModelSettings = z
  .strictObject({
    /** Hugging Face id or a `gs://`/`file://` mirror (default `distilbert-base-uncased`). */
    baseModel: z.string().min(1).max(500).default('distilbert-base-uncased'),
    /** Full passes over the training split (default 3; 1-50). */
    epochs: z.number().int().min(1).max(50).default(3),
    /** AdamW learning rate (default 5e-5; 1e-7 .. 1e-2). */
    learningRate: z.number().min(1e-7).max(1e-2).default(5e-5),
    /** Examples per step (default 16; 1-1024). */
    batchSize: z.number().int().min(1).max(1024).default(16),
    /** Tokens per example after truncation (default 128; 8-512, BERT's position limit). */
    maxLength: z.number().int().min(8).max(512).default(128),
    /** Share of rows held out, stratified by label, for metrics and the gate (default 0.1; 0.05-0.5). */
    validationFraction: z.number().min(0.05).max(0.5).default(0.1),
    /** Seed for the split and training (default 42). */
    seed: z
      .number()
      .int()
      .min(0)
      .max(2 ** 31 - 1)
      .default(42),
    /** Also export an int8 dynamically quantized ONNX model (default true). */
    quantize: z.boolean().default(true),
    gate: GateSettings.default(GateSettings.parse({})),
    /**
     * Most rows that may repeat a text with another label, as a share of all rows (default 0.01).
     * The validator lists them (both row numbers) and rejects the file above this; below it the
     * trainer leaves those texts out.
     */
    maxConflictShare: z.number().min(0).max(1).default(0.01),
    /** `balanced`: the training loss weighs each class by rows / (classes × its rows), for imbalanced data (default `none`). */
    classWeights: z.enum(['none', 'balanced']).default('none'),
    /** CSV column holding the text (default `text`). */
    textColumn: ColumnName.default('text'),
    /** CSV column holding the label (default `label`; for regression also read when `score` is absent). */
    labelColumn: ColumnName.default('label'),
    /**
     * What to learn (shared/contracts/task.ts). Unset: detected from the columns and values, and
     * the profile says which and why; set: the file must fit it.
     */
    task: Task.optional(),
    /** `pair`: the CSV column holding the second text (default `text_pair`). */
    textPairColumn: ColumnName.default('text_pair'),
    /** `multilabel`: the CSV column holding the class set (default `labels`). */
    labelsColumn: ColumnName.default('labels'),
    /** `multilabel`: the character between classes in a cell (default `|`). */
    labelDelimiter: z
      .string()
      .length(1, 'must be one character')
      .refine((c) => !/[\s",]/.test(c), 'must not be whitespace, a quote or a comma')
      .default(DEFAULT_LABEL_DELIMITER),
    /** `regression`: the CSV column holding the number (default `score`; else `labelColumn`). */
    scoreColumn: ColumnName.default('score'),
    /** Texts longer than `maxLength` tokens: `truncate` (default) or `chunk` (overlapping windows, pooled). */
    longText: LongTextMode.default('truncate'),
    /** `chunk`: tokens shared by consecutive windows (default 32; less than half of `maxLength`). */
    chunkStride: z.number().int().min(0).max(255).default(32),
    /** `chunk`: most windows per text (default 8; 1-64); tokens past them are dropped and reported. */
    maxChunks: z.number().int().min(1).max(64).default(8),
    // Trainer knobs: rarely changed, but settable from droptune.json like the rest.
    /** Examples per evaluation step (default: twice `batchSize`, at most 8192, derived by the trainer). */
    evalBatchSize: z.number().int().min(1).max(8192).optional(),
    /** Optional CSV column (`train`/`validation`) that fixes the split instead of the seeded one. */
    splitColumn: ColumnName.default('split'),
    /** Epochs without improvement before training stops (default 2; 0 turns early stopping off). */
    earlyStoppingPatience: z.number().int().min(0).max(100).default(2),
    /** Validation metric early stopping and the best epoch are judged on (unset: the task's gate metric). */
    earlyStoppingMetric: z.enum(EARLY_STOPPING_METRICS).optional(),
    /** Share of steps with a linear learning-rate warm-up (default 0.1; 0-0.5). */
    warmupRatio: z.number().min(0).max(0.5).default(0.1),
    /** AdamW weight decay (default 0.01; 0-1). */
    weightDecay: z.number().min(0).max(1).default(0.01),
    /** Gradient-norm clip (default 1.0; 0 turns clipping off). */
    maxGradNorm: z.number().min(0).max(1e6).default(1),
    /** Stop after this many optimizer steps (default 0: no limit; for smoke runs). */
    maxSteps: z
      .number()
      .int()
      .min(0)
      .max(10 ** 9)
      .default(0),
    /** Training-loss points are logged every this many steps (default 10). */
    logEverySteps: z
      .number()
      .int()
      .min(1)
      .max(10 ** 6)
      .default(10),
    /** Numeric precision (default `auto`: bf16 where the GPU supports it, else fp32). */
    precision: z.enum(PRECISIONS).default('auto'),
  })
  .refine((s) => s.textColumn !== s.labelColumn, {
    message: 'textColumn and labelColumn must differ',
    path: ['labelColumn'],
  })
  // Only chunking uses the stride: a short maxLength with the default stride is fine otherwise.
  .refine((s) => s.longText !== 'chunk' || s.chunkStride * 2 < s.maxLength, {
    message: 'must be less than half of maxLength when longText is "chunk", so each window moves forward',
    path: ['chunkStride'],
  });
export type ModelSettings = z.infer<typeof ModelSettings>;
/** What a user may write in droptune.json (every field optional). */
export type ModelSettingsInput = z.input<typeof ModelSettings>;

/** Defaults, for documentation and for models without a droptune.json. */
export const DEFAULT_MODEL_SETTINGS: ModelSettings = ModelSettings.parse({});

/**
 * The defaults a form or table shows: the settings' own, with the stack's default gate
 * thresholds under `gate` (what an unset `gate.*` means on a stack with the pipeline's defaults).
 */
export const SHOWN_DEFAULTS = {
  ...DEFAULT_MODEL_SETTINGS,
  gate: { ...STACK_GATE_DEFAULTS, ...DEFAULT_MODEL_SETTINGS.gate },
};

/**
 * One line per problem, each naming the field: `epochs: must be at most 50; foo: unknown key`.
 * Used for droptune.json rejections and for API bodies.
 */
export function describeZodError(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      if (issue.code === 'unrecognized_keys') {
        const where = issue.path.length ? `${issue.path.join('.')}.` : '';
        return issue.keys.map((k) => `${where}${k}: unknown key`).join('; ');
      }
      const where = issue.path.length ? issue.path.join('.') : '(root)';
      return `${where}: ${issue.message}`;
    })
    .join('; ');
}
