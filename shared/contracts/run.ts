import { z } from 'zod';
import { DatasetProfile } from './dataset.ts';
import { RunStatus } from './run-status.ts';

/**
 * What the control API answers about runs and models (docs/control-api.md). The store returns
 * these shapes, the API sends them, the CLI and the web page read them: one definition each.
 */

const isoTime = z.string();

/** A run as every surface shows it (API, CLI `--json`, web). */
export const Run = z.object({
  runId: z.string(),
  modelName: z.string(),
  status: RunStatus,
  /** A human message for rejected/failed/gated runs, else null. */
  error: z.string().nullable(),
  /**
   * The last transient failure (database, storage, Workflows API) the trigger hit while preparing
   * the run; the upload event is redelivered and a redelivery may take over at once. Null otherwise.
   */
  transientFailure: z.string().nullable(),
  datasetId: z.string().nullable(),
  datasetUri: z.string(),
  datasetGeneration: z.string().nullable(),
  params: z.record(z.string(), z.unknown()),
  executionId: z.string().nullable(),
  machine: z.record(z.string(), z.unknown()).nullable(),
  costEstimate: z.number().nullable(),
  /** Registered model version, once registration succeeded. */
  version: z.number().int().nullable(),
  createdAt: isoTime,
  updatedAt: isoTime,
  startedAt: isoTime.nullable(),
  finishedAt: isoTime.nullable(),
});
export type Run = z.infer<typeof Run>;

export const StatusChange = z.object({
  fromStatus: RunStatus.nullable(),
  toStatus: RunStatus,
  reason: z.string().nullable(),
  at: isoTime,
});
export type StatusChange = z.infer<typeof StatusChange>;

/** A metric point as stored (`GET /v1/runs/:runId/metrics`). */
export const StoredMetric = z.object({
  id: z.number().int(),
  key: z.string(),
  step: z.number().int(),
  epoch: z.number().nullable(),
  value: z.number(),
  time: isoTime,
});
export type StoredMetric = z.infer<typeof StoredMetric>;

/** A dataset as stored: its profile, the upload it came from and the model it trains. */
export const StoredDataset = DatasetProfile.pick({
  sha256: true,
  bytes: true,
  rows: true,
  labelCounts: true,
  textLength: true,
}).extend({
  datasetId: z.string(),
  modelName: z.string(),
  datasetUri: z.string(),
  generation: z.string(),
  createdAt: isoTime,
});
export type StoredDataset = z.infer<typeof StoredDataset>;

/** Per metric key, the last value logged in each epoch (what the charts draw). */
export const EpochSeries = z.record(
  z.string(),
  z.array(z.object({ epoch: z.number(), step: z.number().int(), value: z.number(), time: isoTime })),
);

/** `GET /v1/runs/:runId`: the run plus what its page shows, in one answer. */
export const RunDetail = Run.extend({
  dataset: StoredDataset.nullable(),
  metrics: z.object({ latest: z.record(z.string(), z.number()), epochs: EpochSeries }),
  history: z.array(StatusChange),
});
export type RunDetail = z.infer<typeof RunDetail>;

export const ModelVersion = z.object({
  modelName: z.string(),
  version: z.number().int(),
  runId: z.string(),
  modelUri: z.string(),
  metrics: z.record(z.string(), z.number()),
  status: z.enum(['ready', 'archived']),
  createdAt: isoTime,
  /** Aliases that point at this version right now. */
  aliases: z.array(z.string()),
});
export type ModelVersion = z.infer<typeof ModelVersion>;

export const Deployment = z.object({
  id: z.number().int(),
  modelName: z.string(),
  version: z.number().int(),
  url: z.string(),
  revision: z.string().nullable(),
  createdAt: isoTime,
});
export type Deployment = z.infer<typeof Deployment>;

export const ModelSummary = z.object({
  modelName: z.string(),
  latestVersion: z.number().int(),
  productionVersion: z.number().int().nullable(),
  candidateVersion: z.number().int().nullable(),
  /** URL of the latest deployment of the production version, if any. */
  url: z.string().nullable(),
});
export type ModelSummary = z.infer<typeof ModelSummary>;

/** What promote/rollback answer: the move asked for, and the execution deploying it (if any). */
export const AliasChange = z.object({
  modelName: z.string().optional(),
  version: z.number().int(),
  previousVersion: z.number().int().nullable(),
  executionId: z.string().optional(),
  state: z.literal('deploying').optional(),
});
export type AliasChange = z.infer<typeof AliasChange>;

/** How the run's rows were split (`GET /v1/runs/:runId` and `droptune --json run` `split`). */
export const RunSplit = z.object({
  method: z.enum(['hash', 'column']),
  trainRows: z.number().int(),
  validationRows: z.number().int(),
  duplicates: z.number().int(),
  conflicts: z.number().int(),
  truncated: z.number().int(),
  /** Digest of the validation rows' keys: the same value means the same validation rows. */
  fingerprint: z.string(),
});
export type RunSplit = z.infer<typeof RunSplit>;

/** The quality gate's comparison (`GET /v1/runs/:runId` and `droptune --json run` `gate`). */
export const RunGate = z.object({
  metric: z.string(),
  challenger: z.number(),
  champion: z.number().nullable(),
  rows: z.number().int(),
  decision: z.enum(['promote', 'hold', 'no-champion']),
  reason: z.string(),
  ci95: z.tuple([z.number(), z.number()]).optional(),
});
export type RunGate = z.infer<typeof RunGate>;
