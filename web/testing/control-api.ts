/**
 * Test support: the real control API on a real database (one of `TEST_BACKENDS`) with real
 * `file://` buckets in a temp DROPTUNE_HOME, serving the freshly built page, listening on
 * loopback. It is composed by the one composition root (`functions/compose.ts`, the local
 * platform) exactly as the local stack composes it; only the workflow starter is the shared
 * recording fake (the GCP control plane cannot run here), so tests play the pipeline's part.
 * Tests seed runs, metrics and models through the store, the way the pipeline writes them.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildControlApi } from '../../functions/api/app.ts';
import { compose, localPlatform } from '../../functions/compose.ts';
import type { DatasetTriggerDeps } from '../../functions/dataset/dataset-trigger.ts';
import { RecordingWorkflowStarter } from '../../functions/workflow-starter/recording-starter.ts';
import type { Database } from '../../shared/db/pool.ts';
import type { TestBackend } from '../../shared/db/testing.ts';
import { FileObjectStore } from '../../shared/storage/index.ts';
import { createStore, type TrackingStore } from '../../shared/store/index.ts';
import { ensureWebBuilt } from '../build.ts';

export interface TestControlApi {
  url: string;
  token: string;
  home: string;
  store: TrackingStore;
  /** The database itself, for bulk seeding. */
  pool: Database['pool'];
  objects: FileObjectStore;
  datasetsBucket: string;
  modelsBucket: string;
  /** Every pipeline run and promote/rollback the API and the trigger started. */
  workflows: RecordingWorkflowStarter;
  /** The dataset trigger's deps from the same composition (`buildDatasetTrigger(api.trigger)`). */
  trigger: DatasetTriggerDeps;
  close(): Promise<void>;
}

export async function startTestControlApi(backend: TestBackend): Promise<TestControlApi> {
  const webRoot = await ensureWebBuilt();
  const home = mkdtempSync(join(tmpdir(), 'droptune-web-'));
  const datasetsBucket = 'datasets';
  const modelsBucket = 'models';
  for (const b of [datasetsBucket, modelsBucket]) mkdirSync(join(home, 'buckets', b), { recursive: true });
  const db = await backend.open();
  const objects = new FileObjectStore(join(home, 'buckets'));
  const base = { store: createStore(db.pool), objects, datasetsBucket, modelsBucket };
  const token = randomBytes(24).toString('base64url');
  const workflows = new RecordingWorkflowStarter();
  const { controlApi, trigger } = compose(
    base,
    localPlatform({
      objects,
      datasetsBucket,
      token,
      workflows,
      webRoot,
      // Tests seed deployments of prediction services they started themselves on loopback.
      ownsLoopbackUrl: (origin) => origin.startsWith('http://127.0.0.1:'),
    }),
  );
  const app = buildControlApi(controlApi);
  await app.listen({ host: '127.0.0.1', port: 0 });
  return {
    url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`,
    token,
    home,
    pool: db.pool,
    ...base,
    workflows,
    trigger,
    async close() {
      await app.close();
      await db.close();
      rmSync(home, { recursive: true, force: true });
    },
  };
}

/**
 * Plays the pipeline's promote action for the latest promote/rollback the API started: the
 * version's prediction service (at `url`) is ready, so its deployment is recorded and
 * `production` moves, in one step, as `promote_version` in pipeline.yaml does.
 */
export async function finishLatestPromotion(api: TestControlApi, url: string): Promise<void> {
  const promotion = api.workflows.promotions.at(-1);
  if (!promotion) throw new Error('no promote or rollback was started');
  await api.store.models.recordDeployment({
    modelName: promotion.modelName,
    version: promotion.version,
    url,
    moveAlias: { kind: promotion.kind },
  });
}
