/**
 * Test support: the real control API (`buildControlApi` + the web routes) on a real database
 * (one of `TEST_BACKENDS`) with real `file://` buckets in a temp DROPTUNE_HOME, serving the
 * freshly built page, listening on loopback. Tests seed runs, metrics and models through the
 * store, the way the pipeline writes them.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildControlApi } from '../../functions/api/app.ts';
import { localTokenAuth } from '../../functions/api/auth.ts';
import { LocalUploads } from '../../functions/api/uploads.ts';
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
  close(): Promise<void>;
}

export async function startTestControlApi(backend: TestBackend): Promise<TestControlApi> {
  const webRoot = await ensureWebBuilt();
  const home = mkdtempSync(join(tmpdir(), 'droptune-web-'));
  const datasetsBucket = 'datasets';
  const modelsBucket = 'models';
  for (const b of [datasetsBucket, modelsBucket]) mkdirSync(join(home, 'buckets', b), { recursive: true });
  const db = await backend.open();
  const store = createStore(db.pool);
  const objects = new FileObjectStore(join(home, 'buckets'));
  const token = randomBytes(24).toString('base64url');
  const app = buildControlApi({
    store,
    objects,
    datasetsBucket,
    modelsBucket,
    auth: localTokenAuth(token),
    uploads: new LocalUploads(objects, datasetsBucket),
    webRoot,
    // Tests seed deployments of prediction services they started themselves on loopback.
    deployments: { ownsLoopbackUrl: (origin) => origin.startsWith('http://127.0.0.1:') },
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  return {
    url,
    token,
    home,
    store,
    pool: db.pool,
    objects,
    datasetsBucket,
    modelsBucket,
    async close() {
      await app.close();
      await db.close();
      rmSync(home, { recursive: true, force: true });
    },
  };
}
