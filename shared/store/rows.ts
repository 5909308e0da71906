import type { Dataset, Deployment, ModelVersion, Run, StoredMetric } from './types.ts';

/** SQL rows (snake_case) → API objects (camelCase). The one place the two spellings meet. */
type Row = Record<string, unknown>;

const iso = (v: unknown): string => (v instanceof Date ? v.toISOString() : String(v));
const isoOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : iso(v));

export function toRun(r: Row): Run {
  return {
    runId: r.run_id as string,
    modelName: r.model_name as string,
    status: r.status as Run['status'],
    error: (r.error as string | null) ?? null,
    transientFailure: (r.transient_failure as string | null) ?? null,
    datasetId: (r.dataset_id as string | null) ?? null,
    datasetUri: r.dataset_uri as string,
    datasetGeneration: (r.dataset_generation as string | null) ?? null,
    params: (r.params as Record<string, unknown>) ?? {},
    executionId: (r.execution_id as string | null) ?? null,
    machine: (r.machine as Record<string, unknown> | null) ?? null,
    costEstimate: (r.cost_estimate as number | null) ?? null,
    version: (r.version as number | null) ?? null,
    createdAt: iso(r.created_at),
    updatedAt: iso(r.updated_at),
    startedAt: isoOrNull(r.started_at),
    finishedAt: isoOrNull(r.finished_at),
  };
}

export function toDataset(r: Row): Dataset {
  return {
    datasetId: r.dataset_id as string,
    modelName: r.model_name as string,
    datasetUri: r.dataset_uri as string,
    generation: r.generation as string,
    sha256: r.sha256 as string,
    bytes: Number(r.bytes),
    rows: r.rows as number,
    labelCounts: r.label_counts as Record<string, number>,
    textLength: r.text_length as Dataset['textLength'],
    createdAt: iso(r.created_at),
  };
}

export function toMetric(r: Row): StoredMetric {
  return {
    id: Number(r.id),
    key: r.key as string,
    step: r.step as number,
    epoch: (r.epoch as number | null) ?? null,
    value: r.value as number,
    time: iso(r.time),
  };
}

export function toModelVersion(r: Row): ModelVersion {
  return {
    modelName: r.model_name as string,
    version: r.version as number,
    runId: r.run_id as string,
    modelUri: r.model_uri as string,
    metrics: (r.metrics as Record<string, number>) ?? {},
    status: r.status as ModelVersion['status'],
    createdAt: iso(r.created_at),
    aliases: (r.aliases as string[] | null) ?? [],
  };
}

export function toDeployment(r: Row): Deployment {
  return {
    id: Number(r.id),
    modelName: r.model_name as string,
    version: r.version as number,
    url: r.url as string,
    revision: (r.revision as string | null) ?? null,
    createdAt: iso(r.created_at),
  };
}
