/**
 * Registers `onDatasetUploaded`, the CloudEvent function for
 * `google.cloud.storage.object.v1.finalized` on the datasets bucket. Only registration lives here;
 * the logic is `buildDatasetTrigger` (functions/dataset/dataset-trigger.ts).
 *
 * Deps come from `configureDatasetTrigger` (the local stack, tests) or, if nothing was
 * configured, from the cloud composition (functions/compose.ts) on the first event.
 */
import * as ff from '@google-cloud/functions-framework';
import {
  buildDatasetTrigger,
  type DatasetTriggerDeps,
  type TriggerOutcome,
} from './dataset/dataset-trigger.ts';
import { cloudComposition } from './runtime.ts';

type Handler = (data: unknown) => Promise<TriggerOutcome>;
let handler: Promise<Handler> | undefined;

/** Injects the trigger's deps (the local stack passes its Workflows runtime here). */
export function configureDatasetTrigger(deps: DatasetTriggerDeps): void {
  handler = Promise.resolve(buildDatasetTrigger(deps));
}

async function fromEnv(): Promise<Handler> {
  return buildDatasetTrigger((await cloudComposition()).trigger);
}

ff.cloudEvent('onDatasetUploaded', async (event: ff.CloudEvent<unknown>) => {
  handler ??= fromEnv().catch((err) => {
    handler = undefined;
    throw err;
  });
  // A throw makes the framework answer 500, so Eventarc redelivers: only transient errors get here.
  await (await handler)(event.data);
});
