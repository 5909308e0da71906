/**
 * Test support for both functions: a real database (one of the two test backends), real
 * `file://` buckets in a temp DROPTUNE_HOME, and the one fake of the GCP control plane we
 * need (RecordingWorkflowStarter). Not a mock of the store: every test talks to PostgreSQL.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Database } from '../../shared/db/pool.ts';
import type { TestBackend } from '../../shared/db/testing.ts';
import { type FileObjectStore, localObjectStore } from '../../shared/storage/index.ts';
import { createStore, type TrackingStore } from '../../shared/store/index.ts';
import { RecordingWorkflowStarter } from '../workflow-starter/recording-starter.ts';

export interface Harness {
  home: string;
  db: Database;
  store: TrackingStore;
  objects: FileObjectStore;
  workflows: RecordingWorkflowStarter;
  datasetsBucket: string;
  modelsBucket: string;
  close(): Promise<void>;
}

export async function openHarness(backend: TestBackend): Promise<Harness> {
  const home = mkdtempSync(join(tmpdir(), 'droptune-fn-'));
  const db = await backend.open();
  return {
    home,
    db,
    store: createStore(db.pool),
    objects: localObjectStore(home),
    workflows: new RecordingWorkflowStarter(),
    datasetsBucket: 'datasets',
    modelsBucket: 'models',
    async close() {
      await db.close();
      rmSync(home, { recursive: true, force: true });
    },
  };
}

/** A finalized-object CloudEvent as Eventarc delivers it (structured mode). */
export function finalizedEvent(
  data: { bucket: string; name: string; generation: string; size?: number },
  id = `${data.name}#${data.generation}`,
) {
  return {
    specversion: '1.0',
    id,
    source: `//storage.googleapis.com/projects/_/buckets/${data.bucket}`,
    type: 'google.cloud.storage.object.v1.finalized',
    subject: `objects/${data.name}`,
    time: new Date().toISOString(),
    datacontenttype: 'application/json',
    data: { ...data, size: data.size === undefined ? undefined : String(data.size), contentType: 'text/csv' },
  };
}
