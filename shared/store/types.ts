import type {
  AliasChange,
  Deployment,
  ModelSummary,
  ModelVersion,
  Run,
  StatusChange,
  StoredDataset,
  StoredMetric,
} from '../contracts/run.ts';

// The shapes the store returns are wire contracts (shared/contracts/run.ts); re-exported here so
// the store's callers keep one import.
export type { AliasChange, Deployment, ModelSummary, ModelVersion, Run, StatusChange, StoredMetric };
export type Dataset = StoredDataset;

/** What the trigger records for a validated upload (the stored dataset without its id). */
export interface DatasetProfile {
  modelName: string;
  datasetUri: string;
  generation: string;
  sha256: string;
  bytes: number;
  rows: number;
  labelCounts: Record<string, number>;
  textLength: { min: number; median: number; max: number };
}

export interface MetricPoint {
  key: string;
  step: number;
  epoch?: number | null;
  value: number;
  /** ISO time; defaults to now. */
  time?: string;
}

export type Alias = 'production' | 'candidate';

export interface AliasMove {
  modelName: string;
  alias: Alias;
  version: number;
  previousVersion: number | null;
}

export interface UploadEventKey {
  bucket: string;
  object: string;
  generation: string;
}
