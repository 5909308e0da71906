/**
 * Registers `onDatasetUploaded`, the CloudEvent function for
 * `google.cloud.storage.object.v1.finalized` on the datasets bucket. Only registration lives here;
 * the logic is `buildDatasetTrigger` (functions/dataset/dataset-trigger.ts).
 *
 * Deps come from `configureDatasetTrigger` (the local stack, tests) or, if nothing was
 * configured, from the environment on the first event (the cloud).
 */
import * as ff from '@google-cloud/functions-framework';
import {
  buildDatasetTrigger,
  type DatasetTriggerDeps,
  type TriggerOutcome,
} from './dataset/dataset-trigger.ts';
import { requireWorkflows, runtimeFromEnv } from './runtime.ts';

type Handler = (data: unknown) => Promise<TriggerOutcome>;
let handler: Promise<Handler> | undefined;

/** Injects the trigger's deps (the local stack passes its Workflows runtime here). */
export function configureDatasetTrigger(deps: DatasetTriggerDeps): void {
  handler = Promise.resolve(buildDatasetTrigger(deps));
}

async function fromEnv(): Promise<Handler> {
  const rt = await runtimeFromEnv();
  return buildDatasetTrigger({
    store: rt.store,
    objects: rt.objects,
    workflows: requireWorkflows(rt),
    datasetsBucket: rt.config.DATASETS_BUCKET,
    modelsBucket: rt.config.MODELS_BUCKET,
  });
}

ff.cloudEvent('onDatasetUploaded', async (event: ff.CloudEvent<unknown>) => {
  handler ??= fromEnv().catch((err) => {
    handler = undefined;
    throw err;
  });
  // A throw makes the framework answer 500, so Eventarc redelivers: only transient errors get here.
  await (await handler)(event.data);
});
