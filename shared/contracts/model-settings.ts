import { z } from 'zod';

/**
 * `<datasets-bucket>/<model-name>/droptune.json`: optional per-model settings read by the dataset
 * trigger and passed to the workflow (and on to the trainer as `DROPTUNE_PARAMS`).
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

/** Quality gate: a challenger is promoted only when it clears every threshold. */
export const GateSettings = z.strictObject({
  /** Minimum held-out accuracy (default 0.6: better than chance on most real label sets). */
  minAccuracy: z.number().min(0).max(1).default(0.6),
  /** Minimum held-out macro F1 (default 0: off unless set). */
  minMacroF1: z.number().min(0).max(1).default(0),
  /**
   * How much worse than the current production model (same held-out split) the challenger may be
   * on macro F1 and still be promoted (default 0.01: noise between runs).
   */
  maxRegression: z.number().min(0).max(1).default(0.01),
});
export type GateSettings = z.infer<typeof GateSettings>;

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
    /** CSV column holding the text (default `text`). */
    textColumn: ColumnName.default('text'),
    /** CSV column holding the label (default `label`). */
    labelColumn: ColumnName.default('label'),
  })
  .refine((s) => s.textColumn !== s.labelColumn, {
    message: 'textColumn and labelColumn must differ',
    path: ['labelColumn'],
  });
export type ModelSettings = z.infer<typeof ModelSettings>;
/** What a user may write in droptune.json (every field optional). */
export type ModelSettingsInput = z.input<typeof ModelSettings>;

/** Defaults, for documentation and for models without a droptune.json. */
export const DEFAULT_MODEL_SETTINGS: ModelSettings = ModelSettings.parse({});

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
