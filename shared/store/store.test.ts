import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIGRATION_NAMES, migrate } from '../db/migrate.ts';
import type { Database } from '../db/pool.ts';
import { secondPool, TEST_BACKENDS } from '../db/testing.ts';
import { AppError } from '../errors.ts';
import { createStore, type TrackingStore } from './index.ts';

describe.each(TEST_BACKENDS)('tracking store on $name', (backend) => {
  let db: Database;
  let store: TrackingStore;
  beforeAll(async () => {
    db = await backend.open();
    store = createStore(db.pool);
  });
  afterAll(async () => {
    await db.close();
  });

  const newRun = (modelName = 'tickets') =>
    store.runs.create({
      modelName,
      datasetUri: `file://datasets/${modelName}/train.csv`,
      datasetGeneration: '1',
      params: { epochs: 2 },
    });

  it('creates a queued run and walks it through the happy path, with history', async () => {
    const run = await newRun();
    expect(run).toMatchObject({ status: 'queued', error: null, params: { epochs: 2 }, finishedAt: null });
    for (const s of [
      'validating',
      'provisioning',
      'training',
      'registering',
      'deploying',
      'succeeded',
    ] as const) {
      await store.runs.transition(run.runId, s);
    }
    const done = await store.runs.get(run.runId);
    expect(done.status).toBe('succeeded');
    expect(done.startedAt).not.toBeNull();
    expect(done.finishedAt).not.toBeNull();
    expect((await store.runs.history(run.runId)).map((h) => h.toStatus)).toEqual([
      'queued',
      'validating',
      'provisioning',
      'training',
      'registering',
      'deploying',
      'succeeded',
    ]);
  });

  it('refuses an illegal transition with a message that says what is allowed', async () => {
    const run = await newRun();
    const err = await store.runs.transition(run.runId, 'deploying').catch((e) => e);
    expect(err).toBeInstanceOf(AppError);
    expect(err.code).toBe('failed_precondition');
    expect(err.message).toBe(
      `run ${run.runId} cannot go from queued to deploying (from queued it may go to: validating, rejected, failed, cancelled)`,
    );
    await store.runs.transition(run.runId, 'rejected', { error: 'row 3: label is empty' });
    await expect(store.runs.transition(run.runId, 'validating')).rejects.toThrow(/\(rejected is final\)/);
    expect((await store.runs.get(run.runId)).error).toBe('row 3: label is empty');
  });

  it('treats setting the current status again as a no-op that applies the patch', async () => {
    const run = await newRun();
    await store.runs.transition(run.runId, 'validating');
    const again = await store.runs.transition(run.runId, 'validating', { executionId: 'exec-1' });
    expect(again).toMatchObject({ status: 'validating', executionId: 'exec-1' });
    expect((await store.runs.history(run.runId)).length).toBe(2);
  });

  it('lets exactly one of two racing transitions from the same status win', async () => {
    const run = await newRun();
    await store.runs.transition(run.runId, 'validating');
    const results = await Promise.allSettled([
      store.runs.transition(run.runId, 'rejected', { error: 'bad' }),
      store.runs.transition(run.runId, 'provisioning'),
    ]);
    // rejected and provisioning are both legal from validating, and neither from the other.
    const ok = results.filter((r) => r.status === 'fulfilled');
    expect(['rejected', 'provisioning']).toContain((await store.runs.get(run.runId)).status);
    expect(ok.length).toBe(1);
  });

  it('answers not_found for an unknown run', async () => {
    await expect(store.runs.get('r-nope')).rejects.toMatchObject({
      code: 'not_found',
      message: 'run r-nope does not exist',
    });
    await expect(store.runs.transition('r-nope', 'failed')).rejects.toMatchObject({ code: 'not_found' });
  });

  it('lists runs by model and status, newest first', async () => {
    const a = await newRun('listing-a');
    const b = await newRun('listing-a');
    await newRun('listing-b');
    await store.runs.transition(b.runId, 'cancelled');
    expect((await store.runs.list({ modelName: 'listing-a' })).map((r) => r.runId)).toEqual([
      b.runId,
      a.runId,
    ]);
    expect(
      (await store.runs.list({ modelName: 'listing-a', status: 'cancelled' })).map((r) => r.runId),
    ).toEqual([b.runId]);
    expect((await store.runs.list({ modelName: 'listing-a', status: ['queued', 'cancelled'] })).length).toBe(
      2,
    );
  });

  it('appends metric batches in one go and reads them back, incrementally and latest per key', async () => {
    const run = await newRun();
    const points = Array.from({ length: 500 }, (_, i) => ({
      key: 'train_loss',
      step: i,
      epoch: i / 250,
      value: 1 / (i + 1),
    }));
    expect(await store.metrics.append(run.runId, points)).toBe(500);
    expect(
      await store.metrics.append(run.runId, [{ key: 'val_accuracy', step: 500, epoch: 2, value: 0.91 }]),
    ).toBe(1);
    const all = await store.metrics.list(run.runId, { key: 'train_loss' });
    expect(all).toHaveLength(500);
    expect(all[499]).toMatchObject({ step: 499, value: 1 / 500 });
    const newer = await store.metrics.list(run.runId, { afterId: all[497]!.id });
    expect(newer.map((m) => m.step)).toEqual([498, 499, 500]);
    expect(await store.metrics.latest(run.runId)).toEqual({ train_loss: 1 / 500, val_accuracy: 0.91 });
    await expect(store.metrics.append('r-missing', points.slice(0, 1))).rejects.toMatchObject({
      code: 'not_found',
    });
  });

  it('stores each (run, key, step) once: a redelivered batch and duplicates inside a batch are skipped', async () => {
    const run = await newRun();
    const batch = [
      { key: 'train_loss', step: 1, value: 0.9 },
      { key: 'train_loss', step: 2, value: 0.8 },
      { key: 'val_accuracy', step: 2, epoch: 1, value: 0.5 },
    ];
    expect(await store.metrics.append(run.runId, batch)).toBe(3);
    expect(await store.metrics.append(run.runId, batch)).toBe(0);
    const resumed = [
      ...batch.slice(1),
      { key: 'train_loss', step: 3, value: 0.7 },
      { key: 'train_loss', step: 3, value: 0.7 },
    ];
    expect(await store.metrics.append(run.runId, resumed)).toBe(1);
    const stored = await store.metrics.list(run.runId);
    expect(stored.map((m) => `${m.key}@${m.step}`)).toEqual([
      'train_loss@1',
      'train_loss@2',
      'val_accuracy@2',
      'train_loss@3',
    ]);
  });

  it('gives many runs their latest headline metrics in one call, without per-step series', async () => {
    const [a, b] = [await newRun('latest-for'), await newRun('latest-for')];
    await store.metrics.append(a.runId, [
      { key: 'train_loss', step: 1, value: 0.5 },
      { key: 'val_accuracy', step: 1, value: 0.6 },
      { key: 'val_accuracy', step: 2, value: 0.8 },
    ]);
    const latest = await store.metrics.latestFor([a.runId, b.runId]);
    expect(latest.get(a.runId)).toEqual({ val_accuracy: 0.8 });
    expect(latest.get(b.runId)).toEqual({});
  });

  it('finds the best run of a model by a metric', async () => {
    const runs = [await newRun('best-of'), await newRun('best-of'), await newRun('best-of')];
    await store.metrics.append(runs[0]!.runId, [{ key: 'val_accuracy', step: 1, value: 0.7 }]);
    await store.metrics.append(runs[1]!.runId, [
      { key: 'val_accuracy', step: 1, value: 0.8 },
      { key: 'val_accuracy', step: 2, value: 0.95 },
    ]);
    await store.metrics.append(runs[2]!.runId, [{ key: 'val_accuracy', step: 1, value: 0.9 }]);
    const best = await store.runs.best('best-of', 'val_accuracy');
    expect(best?.run.runId).toBe(runs[1]!.runId);
    expect(best?.value).toBe(0.95);
    expect((await store.runs.best('best-of', 'val_accuracy', 'min'))?.run.runId).toBe(runs[0]!.runId);
  });

  it('stores dataset profiles once per (uri, generation)', async () => {
    const profile = {
      modelName: 'tickets',
      datasetUri: 'file://datasets/tickets/a.csv',
      generation: '7',
      sha256: 'a'.repeat(64),
      bytes: 1234,
      rows: 40,
      labelCounts: { billing: 20, technical: 20 },
      textLength: { min: 3, median: 30, max: 90 },
    };
    const a = await store.datasets.upsert(profile);
    const b = await store.datasets.upsert(profile);
    expect(b.datasetId).toBe(a.datasetId);
    expect(await store.datasets.get(a.datasetId)).toMatchObject(profile);
    expect((await store.datasets.list({ modelName: 'tickets' })).length).toBe(1);
  });

  it('allocates exactly versions 1..50 to 50 concurrent registrations of one model', async () => {
    const runs = await Promise.all(Array.from({ length: 50 }, () => newRun('concurrent-versions')));
    const results = await Promise.all(
      runs.map((r) =>
        store.models.registerVersion('concurrent-versions', r.runId, async (version) => ({
          modelUri: `file://models/models/concurrent-versions/v${version}/`,
          metrics: { accuracy: 0.9 },
        })),
      ),
    );
    expect(results.map((r) => r.version.version).sort((x, y) => x - y)).toEqual(
      Array.from({ length: 50 }, (_, i) => i + 1),
    );
    expect((await store.models.versions('concurrent-versions')).length).toBe(50);
  });

  it('spends no version number when materializing fails, and re-registering a run returns its version', async () => {
    const [r1, r2] = [await newRun('gapless'), await newRun('gapless')];
    const make = async (v: number) => ({ modelUri: `file://models/models/gapless/v${v}/`, metrics: {} });
    await expect(
      store.models.registerVersion('gapless', r1.runId, async () => {
        throw new AppError('failed_precondition', 'checksum mismatch for model.onnx');
      }),
    ).rejects.toThrow('checksum mismatch');
    expect((await store.models.registerVersion('gapless', r2.runId, make)).version.version).toBe(1);
    expect((await store.models.registerVersion('gapless', r1.runId, make)).version.version).toBe(2);
    const again = await store.models.registerVersion('gapless', r1.runId, make);
    expect(again).toMatchObject({ created: false, version: { version: 2 } });
    expect((await store.runs.get(r1.runId)).version).toBe(2);
  });

  it('moves the production alias atomically, keeps history, and rolls back', async () => {
    const runs = [await newRun('aliased'), await newRun('aliased'), await newRun('aliased')];
    for (const r of runs) {
      await store.models.registerVersion('aliased', r.runId, async (v) => ({
        modelUri: `file://models/models/aliased/v${v}/`,
        metrics: {},
      }));
    }
    expect(await store.models.alias('aliased', 'production')).toBeNull();
    expect(await store.models.setAlias('aliased', 'production', 1)).toEqual({
      modelName: 'aliased',
      alias: 'production',
      version: 1,
      previousVersion: null,
    });
    await store.models.setAlias('aliased', 'production', 2);
    await store.models.setAlias('aliased', 'production', 3);
    expect((await store.models.rollback('aliased')).version).toBe(2);
    expect(await store.models.alias('aliased', 'production')).toBe(2);
    expect((await store.models.rollback('aliased')).version).toBe(1);
    await expect(store.models.rollback('aliased')).rejects.toThrow(
      'v1 is the first production version; nothing to roll back to',
    );
    await expect(store.models.setAlias('aliased', 'production', 9)).rejects.toMatchObject({
      code: 'not_found',
    });
    const history = await store.models.aliasHistory('aliased');
    expect(history.map((h) => h.version)).toEqual([1, 2, 3, 2, 1]);
    expect((await store.models.versions('aliased')).find((v) => v.version === 1)?.aliases).toEqual([
      'production',
    ]);
  });

  it('records deployments and lists models with their production version and URL', async () => {
    const r = await newRun('deployed');
    await store.models.registerVersion('deployed', r.runId, async (v) => ({
      modelUri: `file://models/models/deployed/v${v}/`,
      metrics: {},
    }));
    await store.models.setAlias('deployed', 'production', 1);
    await store.models.recordDeployment({
      modelName: 'deployed',
      version: 1,
      url: 'http://127.0.0.1:9001',
      revision: 'rev-1',
    });
    const summary = (await store.models.list()).find((m) => m.modelName === 'deployed');
    expect(summary).toEqual({
      modelName: 'deployed',
      latestVersion: 1,
      productionVersion: 1,
      candidateVersion: null,
      url: 'http://127.0.0.1:9001',
    });
    expect((await store.models.deployments('deployed'))[0]).toMatchObject({ version: 1, revision: 'rev-1' });
  });

  it('accepts exactly one of 100 concurrent inserts of the same upload event key', async () => {
    const key = { bucket: 'datasets', object: 'tickets/same.csv', generation: '42' };
    const claims = await Promise.all(Array.from({ length: 100 }, () => store.events.claim(key)));
    expect(claims.filter(Boolean).length).toBe(1);
  });

  it('creates one run for 100 concurrent deliveries of one upload, and a new run for a new generation', async () => {
    const key = { bucket: 'datasets', object: 'tickets/deliveries.csv', generation: '1' };
    const input = {
      modelName: 'tickets',
      datasetUri: 'file://datasets/tickets/deliveries.csv',
      datasetGeneration: '1',
    };
    const results = await Promise.allSettled(
      Array.from({ length: 100 }, () => store.runs.createForEvent(key, input)),
    );
    const values = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    expect(values.filter((v) => v.created).length).toBe(1);
    expect(new Set(values.map((v) => v.run.runId)).size).toBe(1);
    // A delivery that raced the first transaction may be told to retry (retryable), never given a second run.
    for (const r of results)
      if (r.status === 'rejected') expect(r.reason).toMatchObject({ code: 'unavailable', retryable: true });
    const next = await store.runs.createForEvent(
      { ...key, generation: '2' },
      { ...input, datasetGeneration: '2' },
    );
    expect(next.created).toBe(true);
    expect(
      (await store.runs.list({ modelName: 'tickets' })).filter((r) => r.datasetUri.endsWith('deliveries.csv'))
        .length,
    ).toBe(2);
  });

  it('leaves one schema when two migrators start together, and migrating again is a no-op', async () => {
    const fresh = await backend.open({ migrated: false });
    const other = secondPool(fresh);
    try {
      const [a, b] = await Promise.all([migrate(fresh.pool), migrate(other)]);
      expect([...a, ...b]).toEqual(MIGRATION_NAMES);
      expect(await migrate(fresh.pool)).toEqual([]);
      const { rows } = await fresh.pool.query(
        "select count(*)::int as n from information_schema.tables where table_schema = 'public' and table_name = 'runs'",
      );
      expect(rows[0].n).toBe(1);
    } finally {
      await other.end();
      await fresh.close();
    }
  });
});
