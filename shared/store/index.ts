import type { Db } from '../db/tx.ts';
import { DatasetStore } from './datasets.ts';
import { DeployLockStore } from './deploy-locks.ts';
import { EventStore } from './events.ts';
import { MetricStore } from './metrics.ts';
import { ModelStore } from './models.ts';
import { RunStore } from './runs.ts';

export { DEPLOY_LEASE_SECONDS, type DeployLock } from './deploy-locks.ts';
export { MAX_METRIC_BATCH } from './metrics.ts';
export type { Materialized } from './models.ts';
export { type NewRun, newRunId, type RunPatch } from './runs.ts';
export * from './types.ts';

/**
 * The tracking & registry store (the role MLflow's tracking store plays), on PostgreSQL:
 * runs, datasets, metrics, model versions, aliases, deployments and upload dedupe keys.
 */
export interface TrackingStore {
  runs: RunStore;
  datasets: DatasetStore;
  metrics: MetricStore;
  models: ModelStore;
  events: EventStore;
  /** One deploy (promote, rollback) per model at a time. */
  deployLocks: DeployLockStore;
}

export function createStore(db: Db): TrackingStore {
  return {
    runs: new RunStore(db),
    datasets: new DatasetStore(db),
    metrics: new MetricStore(db),
    models: new ModelStore(db),
    events: new EventStore(db),
    deployLocks: new DeployLockStore(db),
  };
}
