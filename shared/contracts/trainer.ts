import { z } from 'zod';
import { Task } from './task.ts';

/**
 * The trainer's side of the pipeline: the environment it is started with and the JSON files it
 * writes into `runs/<runId>/`. Python writes the files (training-image); TypeScript reads them.
 * They are JSON files the trainer writes, so their keys are snake_case where Python chose so
 * (STYLE.md 10); `toEvaluation` is the one place they become the API's camelCase.
 */

/** One variable of a process environment: its name, whether it must be set, its default and why. */
export interface EnvVar {
  name: string;
  type: 'string' | 'int' | 'number' | 'bool' | 'json' | 'uri';
  required: boolean;
  /** The value used when unset, as the text the variable would hold; `null`: no default. */
  default: string | null;
  why: string;
}

/** The trainer environment (DESIGN.md "trainer environment"): what the workflow passes the VM. */
export const TRAINER_ENV: readonly EnvVar[] = [
  {
    name: 'DROPTUNE_RUN_ID',
    type: 'string',
    required: true,
    default: null,
    why: 'the run this training belongs to; metrics and status are reported under it',
  },
  {
    name: 'DROPTUNE_DATASET_URI',
    type: 'uri',
    required: true,
    default: null,
    why: 'the validated CSV (`gs://` or `file://`)',
  },
  {
    name: 'DROPTUNE_OUTPUT_URI',
    type: 'uri',
    required: true,
    default: null,
    why: 'the run prefix `runs/<runId>/` the artifacts and manifest go to',
  },
  {
    name: 'DROPTUNE_PARAMS',
    type: 'json',
    required: false,
    default: '{}',
    why: 'the model settings (droptune.json, defaults filled in by the trigger)',
  },
  {
    name: 'DROPTUNE_MODEL_NAME',
    type: 'string',
    required: false,
    default: null,
    why: 'defaults to the dataset folder `<bucket>/<modelName>/`',
  },
  {
    name: 'DROPTUNE_DATASET_GENERATION',
    type: 'string',
    required: false,
    default: null,
    why: 'recorded in the manifest so a version names the exact upload',
  },
  {
    name: 'DROPTUNE_CHAMPION_URI',
    type: 'uri',
    required: false,
    default: null,
    why: 'the production version, scored on the same held-out rows for the gate',
  },
  {
    name: 'DROPTUNE_REQUIRE_GPU',
    type: 'bool',
    required: false,
    default: 'false',
    why: "set by the GPU VM's startup script: no CUDA device is then an error, never a silent CPU run",
  },
  {
    name: 'DROPTUNE_API_URL',
    type: 'uri',
    required: false,
    default: null,
    why: 'control API for live metrics and status; unset: metrics only in metrics.jsonl',
  },
  {
    name: 'DROPTUNE_API_TOKEN',
    type: 'string',
    required: false,
    default: null,
    why: 'local bearer token; in the cloud the VM gets ID tokens from the metadata server',
  },
  {
    name: 'DROPTUNE_WORK_DIR',
    type: 'string',
    required: false,
    default: null,
    why: 'scratch directory (default a fresh temp dir, removed at the end)',
  },
  {
    name: 'DROPTUNE_CACHE_DIR',
    type: 'string',
    required: false,
    default: '~/.cache/droptune',
    why: 'downloaded base models survive between runs on one machine',
  },
  {
    name: 'DROPTUNE_HOME',
    type: 'string',
    required: false,
    default: '.droptune',
    why: 'where `file://` buckets live on the local stack',
  },
];

const PerClass = z.record(
  z.string(),
  z.object({
    precision: z.number(),
    recall: z.number(),
    f1: z.number(),
    support: z.number(),
    /** `multilabel`: the sigmoid threshold tuned on validation for this class. */
    threshold: z.number().optional(),
  }),
);

/**
 * `metrics.json` `validation`: scores on the held-out split, as the trainer writes them. Which
 * metrics are present depends on the task (shared/contracts/task.ts `TASK_METRICS`); regression
 * has no classes, so `labels`, `per_class` and `confusion_matrix` are empty there.
 */
export const ValidationScores = z.looseObject({
  accuracy: z.number().optional(),
  macro_f1: z.number().optional(),
  micro_f1: z.number().optional(),
  rmse: z.number().optional(),
  mae: z.number().optional(),
  spearman: z.number().optional(),
  r2: z.number().optional(),
  loss: z.number().optional(),
  labels: z.array(z.string()).default([]),
  per_class: PerClass.default({}),
  /** Rows are the true class, columns the predicted one, both in `labels` order (single-label tasks). */
  confusion_matrix: z.array(z.array(z.number())).default([]),
  /** `regression`: up to 500 held-out `[true, predicted]` pairs, for a scatter plot. */
  points: z.array(z.tuple([z.number(), z.number()])).optional(),
});

/**
 * `metrics.json`, the trainer's full report of a run (copied into the model version). Loose:
 * sections other than `validation` are shown as they are and may grow without a reader change.
 */
export const MetricsFile = z.looseObject({
  /** The task trained (absent in files from before tasks: classification). */
  task: Task.default('classification'),
  validation: ValidationScores,
  best_epoch: z.number().int().optional(),
  params: z.record(z.string(), z.unknown()).optional(),
});
export type MetricsFile = z.infer<typeof MetricsFile>;

/** `GET /v1/runs/:runId/evaluation`: the held-out evaluation, camelCase on the wire. */
export const Evaluation = z.object({
  task: Task,
  labels: z.array(z.string()),
  perClass: PerClass,
  /** Rows are the true class, columns the predicted one, both in `labels` order. */
  confusionMatrix: z.array(z.array(z.number())),
  /** `regression`: held-out `[true, predicted]` pairs. */
  points: z.array(z.tuple([z.number(), z.number()])).optional(),
});
export type Evaluation = z.infer<typeof Evaluation>;

/** The one boundary where the trainer's snake_case `metrics.json` becomes the API's camelCase. */
export function toEvaluation(file: MetricsFile): Evaluation {
  const v = file.validation;
  return {
    task: file.task,
    labels: v.labels,
    perClass: v.per_class,
    confusionMatrix: v.confusion_matrix,
    ...(v.points ? { points: v.points } : {}),
  };
}

/** `failure.json`: written instead of a manifest when the trainer gives up (the workflow's signal). */
export const FailureFile = z.object({
  runId: z.string(),
  /** A stable error code (shared/errors.ts, mirrored in training-image/droptune_trainer/errors.py). */
  code: z.string(),
  error: z.string(),
  time: z.string(),
});
export type FailureFile = z.infer<typeof FailureFile>;
