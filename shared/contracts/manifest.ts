import { z } from 'zod';
import { MODEL_NAME_PATTERN } from './model-settings.ts';

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
  task: z.literal('text-classification'),
  dataset: z.object({
    uri: z.string(),
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
  task: z.literal('text-classification'),
  baseModel: z.string(),
  maxLength: z.number().int().positive(),
  /** ONNX input names in the order the graph declares them. */
  inputNames: z.array(z.string()).min(1),
  outputName: z.string().default('logits'),
});
export type ModelConfig = z.infer<typeof ModelConfig>;

/** `labels.json`: label names in class-id order. */
export const Labels = z.array(z.string().min(1)).min(2);

/** Files every servable version holds (besides the manifest, which is always last). */
export const REQUIRED_MODEL_FILES = [
  'model.onnx',
  'tokenizer.json',
  'labels.json',
  'config.json',
  'metrics.json',
] as const;
