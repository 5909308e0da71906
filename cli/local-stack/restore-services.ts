import type { TrackingStore } from '../../shared/store/index.ts';
import { predictionServiceSpec, type ServingBackend } from '../../workflows/connectors/index.ts';

/**
 * Brings back, after a restart of the local stack, the prediction service of every model that
 * has a production version — the same service name and MODEL_URI the pipeline deployed
 * (`projects/local/locations/local/services/predict-<model>`), and records the deployment
 * with its new local URL so `droptune models` shows where it answers now. Cloud Run keeps
 * services running by itself; this is the local twin of that.
 */
export async function restoreServices(
  store: TrackingStore,
  serving: ServingBackend,
  log: (line: string) => void,
): Promise<number> {
  let restored = 0;
  for (const model of await store.models.list()) {
    if (model.productionVersion === null) continue;
    const version = await store.models.version(model.modelName, model.productionVersion);
    try {
      const spec = predictionServiceSpec('local', 'local', model.modelName, version.modelUri);
      const state = await serving.create(spec);
      await store.models.recordDeployment({
        modelName: model.modelName,
        version: version.version,
        url: state.uri,
        revision: state.latestReadyRevision,
      });
      restored++;
    } catch (err) {
      log(
        `serving      could not restore predict-${model.modelName} v${version.version}: ${(err as Error).message}`,
      );
    }
  }
  return restored;
}
