/**
 * Registration under the control API's real permission on the models bucket:
 * `roles/storage.objectCreator` (create, never overwrite or delete), twinned by
 * `objectCreatorOnly` over real `file://` buckets and a real database. A copy that fails half-way
 * must not block the next attempt, nor any later version of the model.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { TEST_BACKENDS } from '../../shared/db/testing.ts';
import { AppError } from '../../shared/errors.ts';
import { GcsObjectStore, type ObjectStore } from '../../shared/storage/index.ts';
import { objectCreatorOnly } from '../../shared/storage/object-creator.ts';
import type { TrackingStore } from '../../shared/store/index.ts';
import { type FakeGcs, startFakeGcs } from '../../test/fake-gcs-server.ts';
import { type Harness, openHarness } from '../testing/harness.ts';
import { writeTrainedModel } from '../testing/trained-model.ts';
import { registerVersion } from './register-version.ts';

const MODEL = 'sentiment';

function trainedModel(objects: ObjectStore, bucket: string, runId: string) {
  return writeTrainedModel(objects, bucket, { runId, modelName: MODEL });
}

/** Fails the `nth` copy once (a network error half-way through an attempt), then lets all through. */
function failingNthCopy(inner: ObjectStore, nth: number): ObjectStore {
  let copies = 0;
  return Object.assign(Object.create(inner) as ObjectStore, {
    scheme: inner.scheme,
    async copy(...args: Parameters<ObjectStore['copy']>) {
      copies += 1;
      if (copies === nth) throw new AppError('unavailable', 'connection reset during copy');
      return inner.copy(...args);
    },
  });
}

describe.each(TEST_BACKENDS)('registration with create-only storage on $name', (backend) => {
  let h: Harness;
  beforeEach(async () => {
    h = await openHarness(backend);
  });
  afterEach(async () => {
    await h.close();
  });

  it('refuses to overwrite or delete, like roles/storage.objectCreator', async () => {
    const objects = objectCreatorOnly(h.objects, 'control-api@');
    await objects.write('models', 'a/b', 'one');
    await expect(objects.write('models', 'a/b', 'two')).rejects.toMatchObject({ code: 'permission_denied' });
    await expect(objects.delete('models', 'a/b')).rejects.toMatchObject({
      code: 'permission_denied',
      message: expect.stringContaining('storage.objects.delete'),
    });
    await expect(
      objects.copy({ bucket: 'models', name: 'a/b' }, { bucket: 'models', name: 'a/b' }),
    ).rejects.toMatchObject({ code: 'permission_denied' });
    expect((await objects.read('models', 'a/b')).toString()).toBe('one');
  });

  it('registers after a partial failure in a fresh prefix, and later versions are not blocked', async () => {
    await partialFailureThenLaterVersions(h.store, h.objects, h.modelsBucket);
  });

  it('copies with no database connection held, so other requests proceed during a slow copy', async () => {
    const run = await h.store.runs.create({ modelName: MODEL, datasetUri: 'file://datasets/s/a.csv' });
    await trainedModel(h.objects, h.modelsBucket, run.runId);
    const pool = h.db.pool;
    const heldDuringCopy: number[] = [];
    const objects = Object.assign(Object.create(h.objects) as ObjectStore, {
      scheme: h.objects.scheme,
      async copy(...args: Parameters<ObjectStore['copy']>) {
        const held = pool.totalCount - pool.idleCount;
        heldDuringCopy.push(held);
        // Another request while this copy runs: on the embedded database (one connection) it
        // would wait for a transaction held across the copy forever, so only ask when none is.
        if (held === 0) expect((await h.store.runs.get(run.runId)).runId).toBe(run.runId);
        return h.objects.copy(...args);
      },
    });
    const { version } = await registerVersion(
      { store: h.store, objects, modelsBucket: h.modelsBucket },
      MODEL,
      run.runId,
    );
    expect(version.version).toBe(1);
    expect(heldDuringCopy).toHaveLength(6); // five files and the manifest
    expect(heldDuringCopy.every((n) => n === 0)).toBe(true);
  });

  it('gives racing registrations of one model consecutive versions, each complete', async () => {
    const runs = await Promise.all(
      [1, 2, 3].map((i) =>
        h.store.runs.create({ modelName: MODEL, datasetUri: `file://datasets/s/${i}.csv` }),
      ),
    );
    for (const run of runs) await trainedModel(h.objects, h.modelsBucket, run.runId);
    const objects = objectCreatorOnly(h.objects, 'control-api@');
    const deps = { store: h.store, objects, modelsBucket: h.modelsBucket };
    const results = await Promise.all(runs.map((r) => registerVersion(deps, MODEL, r.runId)));
    expect(results.map((r) => r.version.version).sort()).toEqual([1, 2, 3]);
    for (const { version } of results) {
      const prefix = version.modelUri.slice(`file://${h.modelsBucket}/`.length);
      const manifest = JSON.parse(
        (await h.objects.read(h.modelsBucket, `${prefix}manifest.json`)).toString(),
      );
      expect(manifest.runId).toBe(version.runId);
      expect(await h.objects.list(h.modelsBucket, prefix)).toHaveLength(6);
    }
  });
});

describe('registration with create-only storage on gs:// (fake-gcs-server)', () => {
  let h: Harness;
  let gcs: FakeGcs;
  beforeAll(async () => {
    gcs = await startFakeGcs(['p-models']);
  });
  afterAll(() => gcs?.stop());
  beforeEach(async () => {
    h = await openHarness(TEST_BACKENDS.find((b) => b.name === 'postgres')!);
  });
  afterEach(async () => {
    await h.close();
  });

  it('registers after a partial failure in a fresh prefix, and later versions are not blocked', async () => {
    await partialFailureThenLaterVersions(h.store, new GcsObjectStore(gcs.storage), 'p-models');
  });
});

/**
 * The partial-failure path: an attempt for v1 fails after two copies; the retry cannot delete
 * or overwrite them (objectCreator), so it lands in a fresh prefix; v2 then registers normally.
 */
async function partialFailureThenLaterVersions(store: TrackingStore, objects: ObjectStore, bucket: string) {
  const scheme = objects.scheme;
  const a = await store.runs.create({ modelName: MODEL, datasetUri: `${scheme}://datasets/s/a.csv` });
  const b = await store.runs.create({ modelName: MODEL, datasetUri: `${scheme}://datasets/s/b.csv` });
  await trainedModel(objects, bucket, a.runId);
  await trainedModel(objects, bucket, b.runId);
  const creator = objectCreatorOnly(objects, 'control-api@');
  const deps = { store, modelsBucket: bucket };

  await expect(
    registerVersion({ ...deps, objects: failingNthCopy(creator, 3) }, MODEL, a.runId),
  ).rejects.toMatchObject({ code: 'unavailable' });
  const leftovers = await objects.list(bucket, `models/${MODEL}/v1/`);
  expect(leftovers).toHaveLength(2); // two files copied, then the failure: no manifest
  expect(await store.models.versions(MODEL)).toEqual([]); // N was not spent

  const retried = await registerVersion({ ...deps, objects: creator }, MODEL, a.runId);
  expect(retried.created).toBe(true);
  expect(retried.version.version).toBe(1);
  const uri = retried.version.modelUri;
  const root = `${scheme}://${bucket}/`;
  expect(uri).toMatch(new RegExp(`^${root}models/${MODEL}/v1-[0-9a-f]{12}/$`));
  const fresh = uri.slice(root.length);
  const copied = (await objects.list(bucket, fresh)).map((o) => o.name.slice(fresh.length));
  expect(copied.sort()).toEqual([
    'config.json',
    'labels.json',
    'manifest.json',
    'metrics.json',
    'model.onnx',
    'tokenizer.json',
  ]);
  expect(await objects.list(bucket, `models/${MODEL}/v1/`)).toHaveLength(2); // untouched

  const next = await registerVersion({ ...deps, objects: creator }, MODEL, b.runId);
  expect(next.version).toMatchObject({ version: 2, modelUri: `${root}models/${MODEL}/v2/` });
  expect(await objects.statIfExists(bucket, `models/${MODEL}/v2/manifest.json`)).toBeDefined();
}
