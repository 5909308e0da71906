import type { RunStatus } from '../contracts/run-status.ts';

/** A run as every surface shows it (API, CLI `--json`, web). */
export interface Run {
  runId: string;
  modelName: string;
  status: RunStatus;
  /** A human message for rejected/failed/gated runs, else null. */
  error: string | null;
  datasetId: string | null;
  datasetUri: string;
  datasetGeneration: string | null;
  params: Record<string, unknown>;
  executionId: string | null;
  machine: Record<string, unknown> | null;
  costEstimate: number | null;
  /** Registered model version, once registration succeeded. */
  version: number | null;
  createdAt: string;
  updatedAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

export interface StatusChange {
  fromStatus: RunStatus | null;
  toStatus: RunStatus;
  reason: string | null;
  at: string;
}

export interface DatasetProfile {
  modelName: string;
  uri: string;
  generation: string;
  sha256: string;
  bytes: number;
  rows: number;
  labelCounts: Record<string, number>;
  textLength: { min: number; median: number; max: number };
}

export interface Dataset extends DatasetProfile {
  datasetId: string;
  createdAt: string;
}

export interface MetricPoint {
  key: string;
  step: number;
  epoch?: number | null;
  value: number;
  /** ISO time; defaults to now. */
  time?: string;
}

export interface StoredMetric extends Required<Omit<MetricPoint, 'epoch'>> {
  id: number;
  epoch: number | null;
}

export interface ModelVersion {
  modelName: string;
  version: number;
  runId: string;
  modelUri: string;
  metrics: Record<string, number>;
  status: 'ready' | 'archived';
  createdAt: string;
  /** Aliases that point at this version right now. */
  aliases: string[];
}

export type Alias = 'production' | 'candidate';

export interface AliasMove {
  modelName: string;
  alias: Alias;
  version: number;
  previousVersion: number | null;
}

export interface Deployment {
  id: number;
  modelName: string;
  version: number;
  url: string;
  revision: string | null;
  createdAt: string;
}

export interface ModelSummary {
  modelName: string;
  latestVersion: number;
  productionVersion: number | null;
  candidateVersion: number | null;
  /** URL of the latest deployment of the production version, if any. */
  url: string | null;
}

export interface UploadEventKey {
  bucket: string;
  object: string;
  generation: string;
}
