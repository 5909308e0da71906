import type { ObjectStore } from '../../shared/storage/object-store.ts';
import type { BuiltinFn } from '../runtime/expr/compile.ts';
import { cloudRunBindings } from './cloud-run.ts';
import { computeBindings } from './compute.ts';
import { type ExecutionLookup, executionsBindings } from './executions.ts';
import type { ServingBackend } from './serving-backend.ts';
import { storageBindings } from './storage.ts';
import type { TrainingBackend } from './training-backend.ts';

export { TRAINER_ENV_METADATA_KEY } from './compute.ts';
export {
  type ExecutionLookup,
  type ExecutionState,
  ExecutionTracker,
  executionName,
} from './executions.ts';
export * from './serving-backend.ts';
export * from './training-backend.ts';

/**
 * Connector call names bound to local backends: what `pipeline.yaml` calls in the cloud
 * (`googleapis.compute.v1.instances.*`, `googleapis.run.v2.projects.locations.services.*`,
 * `googleapis.storage.v1.objects.get`, `googleapis.workflowexecutions.v1…executions.get`) runs
 * here against child processes, file buckets and the executions this runtime ran. Every call is
 * checked against Google's discovery document of its API first (strict-call.ts).
 */
export function localBindings(deps: {
  training?: TrainingBackend;
  serving?: ServingBackend;
  store?: ObjectStore;
  executions?: ExecutionLookup;
}): Record<string, BuiltinFn> {
  return {
    ...(deps.training ? computeBindings(deps.training) : {}),
    ...(deps.serving ? cloudRunBindings(deps.serving) : {}),
    ...(deps.store ? storageBindings(deps.store) : {}),
    ...(deps.executions ? executionsBindings(deps.executions) : {}),
  };
}
