import { type Config, loadConfig } from '../shared/config.ts';
import { openDatabase } from '../shared/db/pool.ts';
import { AppError } from '../shared/errors.ts';
import { type ObjectStore, storeFor } from '../shared/storage/index.ts';
import { createStore, type TrackingStore } from '../shared/store/index.ts';
import { CloudWorkflowStarter } from './workflow-starter/cloud-starter.ts';
import type { WorkflowStarter } from './workflow-starter/port.ts';

/**
 * What both functions need, built once per process from the environment (shared/config.ts):
 * the database (DATABASE_URL, Cloud SQL, or embedded PGlite), the object store of the configured
 * scheme, and, in the cloud, the Cloud Workflows starter. The local stack does not use this: it
 * builds the deps itself and passes them to `configureDatasetTrigger` / `buildControlApi`.
 */
export interface FunctionsRuntime {
  config: Config;
  store: TrackingStore;
  objects: ObjectStore;
  /** Undefined when no cloud project is configured (the local stack injects its own starter). */
  workflows: WorkflowStarter | undefined;
}

let runtime: Promise<FunctionsRuntime> | undefined;

export function runtimeFromEnv(): Promise<FunctionsRuntime> {
  runtime ??= build().catch((err) => {
    runtime = undefined; // a failed start (database down) is retried on the next request
    throw err;
  });
  return runtime;
}

async function build(): Promise<FunctionsRuntime> {
  const config = loadConfig();
  const db = await openDatabase(config);
  const workflows = config.GOOGLE_CLOUD_PROJECT
    ? new CloudWorkflowStarter({
        project: config.GOOGLE_CLOUD_PROJECT,
        location: config.REGION,
        workflow: config.WORKFLOW_NAME,
      })
    : undefined;
  return {
    config,
    store: createStore(db.pool),
    objects: storeFor(config.DROPTUNE_STORAGE, { home: config.DROPTUNE_HOME }),
    workflows,
  };
}

/** The starter, or a clear error saying how to get one. */
export function requireWorkflows(rt: FunctionsRuntime): WorkflowStarter {
  if (rt.workflows) return rt.workflows;
  throw new AppError(
    'failed_precondition',
    'no workflow starter: set GOOGLE_CLOUD_PROJECT (cloud), or run the local stack, which configures the local Workflows runtime',
  );
}
