import { z } from 'zod';
import { MODEL_NAME_PATTERN } from './model-settings.ts';
import { LongTextConfig, TASKS, type Task } from './task.ts';

/**
 * The task a version was trained for. Versions from before tasks existed say `text-classification`;
 * `taskOf` reads that as `classification`.
 */
const VersionTask = z.enum([...TASKS, 'text-classification']);

/** The task of a version's config or manifest, old versions' `text-classification` included. */
export function taskOf(file: { task: z.infer<typeof VersionTask> }): Task {
  return file.task === 'text-classification' ? 'classification' : file.task;
}

/**
 * `manifest.json`: written last by the trainer into `runs/<runId>/`, copied unchanged into
 * `models/<modelName>/v<N>/` by registration. A directory without it is an unfinished model and
 * is never registered or served. Python writes it (training-image), TypeScript reads it.
 */
export const ManifestFile = z.object({
  /** Path relative to the version (or run) prefix, e.g. `model.onnx`. Never `..` or absolute. */
  path: z.string().min(1),
  size: z.number().int().nonnegative(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});

export const Manifest = z.object({
  schemaVersion: z.literal(1),
  runId: z.string().min(1),
  modelName: z.string().regex(MODEL_NAME_PATTERN),
  createdAt: z.string(),
  trainerVersion: z.string(),
  baseModel: z.string(),
  task: VersionTask,
  dataset: z.object({
    datasetUri: z.string(),
    generation: z.string().nullable(),
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
  }),
  /** Every file of the model but the manifest itself. */
  files: z.array(ManifestFile).min(1),
  /** Versions of the packages that produced the model (torch, transformers, onnx, …). */
  packages: z.record(z.string(), z.string()),
  /** Headline validation metrics (accuracy, macro_f1, …) for quick listing; full detail in metrics.json. */
  metrics: z.record(z.string(), z.number()),
});
export type Manifest = z.infer<typeof Manifest>;
export type ManifestFile = z.infer<typeof ManifestFile>;

/** `config.json` of a model version. */
export const ModelConfig = z.object({
  task: VersionTask,
  baseModel: z.string(),
  maxLength: z.number().int().positive(),
  /** ONNX input names in the order the graph declares them (`token_type_ids` too for `pair`). */
  inputNames: z.array(z.string()).min(1),
  /**
   * `logits` for the class tasks (softmax for one class, sigmoid per class for multilabel);
   * for regression the value in the target's units (standardisation undone inside the graph).
   */
  outputName: z.string().default('logits'),
  /** Long texts: truncated (the default, and every version from before) or chunked and pooled. */
  longText: LongTextConfig.default({ mode: 'truncate', stride: 0, maxChunks: 1 }),
  /** `multilabel`: the sigmoid score at or above which each class (by name) is predicted, tuned on validation. */
  thresholds: z.record(z.string(), z.number().min(0).max(1)).optional(),
  /** `regression`: the training target's mean and standard deviation (the graph already undoes them). */
  target: z.object({ mean: z.number(), std: z.number().positive() }).optional(),
});
export type ModelConfig = z.infer<typeof ModelConfig>;

/**
 * `labels.json`: label names in class-id order (the output columns of the graph). Regression has
 * one output: its one name is the target column.
 */
export const Labels = z.array(z.string().min(1)).min(1);

/** Files every servable version holds (besides the manifest, which is always last). */
export const REQUIRED_MODEL_FILES = [
  'model.onnx',
  'tokenizer.json',
  'labels.json',
  'config.json',
  'metrics.json',
] as const;
