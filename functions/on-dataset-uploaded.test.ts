import type { AddressInfo } from 'node:net';
import { getFunction, getTestServer } from '@google-cloud/functions-framework/testing';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_MODEL_SETTINGS } from '../shared/contracts/model-settings.ts';
import { TEST_BACKENDS } from '../shared/db/testing.ts';
import { AppError, isAppError } from '../shared/errors.ts';
import { createStore } from '../shared/store/index.ts';
import { buildDatasetTrigger, type DatasetTriggerDeps } from './dataset/dataset-trigger.ts';
import { rows } from './dataset/fixtures/bad-csvs.ts';
import { multilabelCsv, pairCsv, regressionCsv } from './dataset/fixtures/task-csvs.ts';
import { configureDatasetTrigger } from './on-dataset-uploaded.ts';
import { finalizedEvent, type Harness, openHarness } from './testing/harness.ts';

type CloudEventFn = (event: unknown) => Promise<void>;
const quiet = () => {};

describe.each(TEST_BACKENDS)('onDatasetUploaded on $name', (backend) => {
  let h: Harness;
  let deps: DatasetTriggerDeps;
  beforeEach(async () => {
    h = await openHarness(backend);
    deps = { ...h, log: quiet };
    configureDatasetTrigger(deps);
  });
  afterEach(async () => h.close());

  const fn = () => getFunction('onDatasetUploaded') as CloudEventFn;
  async function upload(name: string, body: string | Buffer) {
    return h.objects.write(h.datasetsBucket, name, body);
  }
  function eventOf(stat: { bucket: string; name: string; generation: string; size: number }) {
    return finalizedEvent({
      bucket: stat.bucket,
      name: stat.name,
      generation: stat.generation,
      size: stat.size,
    });
  }

  it('validates a good upload, stores its profile and starts one workflow with {runId, modelName, datasetUri, params}', async () => {
    const stat = await upload('sentiment/train.csv', rows(20));
    await fn()(eventOf(stat));
    const [run] = await h.store.runs.list({ modelName: 'sentiment' });
    expect(run).toMatchObject({
      status: 'validating',
      executionId: 'exec-1',
      error: null,
      datasetGeneration: stat.generation,
    });
    expect(h.workflows.starts).toEqual([
      {
        runId: run!.runId,
        modelName: 'sentiment',
        datasetUri: 'file://datasets/sentiment/train.csv',
        params: { ...DEFAULT_MODEL_SETTINGS, task: 'classification' },
      },
    ]);
    const dataset = await h.store.datasets.get(run!.datasetId!);
    expect(dataset).toMatchObject({
      rows: 20,
      bytes: stat.size,
      labelCounts: { neg: 10, pos: 10 },
      generation: stat.generation,
    });
    expect((await h.store.runs.history(run!.runId)).map((c) => c.toStatus)).toEqual(['queued', 'validating']);
  });

  it.each([
    ['multilabel', multilabelCsv(12), {}, { task: 'multilabel', labelsColumn: 'labels' }],
    ['pair', pairCsv(12), {}, { task: 'pair', labelColumn: 'label' }],
    ['regression', regressionCsv(20), {}, { task: 'regression', scoreColumn: 'score' }],
    // Chosen in droptune.json: numbers with few distinct values, read from the label column.
    [
      'regression',
      regressionCsv(20, 5, 'label', 1),
      { task: 'regression' },
      { task: 'regression', scoreColumn: 'label' },
    ],
  ])(
    'fills the %s task the validator resolved into the params the workflow and the run get',
    async (_task, body, settings, expected) => {
      await upload('tasks/droptune.json', JSON.stringify(settings));
      await fn()(eventOf(await upload('tasks/data.csv', body)));
      expect(h.workflows.starts[0]!.params).toMatchObject(expected);
      const [run] = await h.store.runs.list({ modelName: 'tasks' });
      expect(run!.params).toMatchObject(expected);
    },
  );

  it('rejects a file that cannot hold the task droptune.json chose, naming the column', async () => {
    await upload('tasks/droptune.json', JSON.stringify({ task: 'pair' }));
    await fn()(eventOf(await upload('tasks/data.csv', rows(12))));
    const [run] = await h.store.runs.list({ modelName: 'tasks' });
    expect(run).toMatchObject({ status: 'rejected' });
    expect(run!.error).toMatch(/no "text_pair" column.*"task": "pair" needs it/);
    expect(h.workflows.starts).toEqual([]);
  });

  it('reads droptune.json: hyper-parameters go to the workflow, column names to the validator', async () => {
    await upload(
      'reviews/droptune.json',
      JSON.stringify({ epochs: 5, textColumn: 'review', labelColumn: 'stars' }),
    );
    await fn()(eventOf(await upload('reviews/data.csv', rows(12, ['1', '5'], 'review,stars'))));
    expect(h.workflows.starts[0]!.params).toMatchObject({
      epochs: 5,
      textColumn: 'review',
      labelColumn: 'stars',
      batchSize: 16,
    });
  });

  it('rejects a droptune.json with an unknown key or an out-of-range value, naming each', async () => {
    await upload('reviews/droptune.json', JSON.stringify({ epochs: 500, learningrate: 0.1 }));
    await fn()(eventOf(await upload('reviews/data.csv', rows(12))));
    const [run] = await h.store.runs.list({ modelName: 'reviews' });
    expect(run!.status).toBe('rejected');
    expect(run!.error).toMatch(/^reviews\/droptune\.json: epochs: .*50.*; learningrate: unknown key/);
    expect(h.workflows.starts).toEqual([]);
  });

  it('rejects a bad CSV: message on the run, JSON report in the models bucket, no workflow', async () => {
    await fn()(
      eventOf(
        await upload('sentiment/bad.csv', rows(12).replace('example number 4,neg', 'example, number 4,neg')),
      ),
    );
    const [run] = await h.store.runs.list({ modelName: 'sentiment' });
    expect(run!.status).toBe('rejected');
    expect(run!.error).toContain('row 4 (line 5): has 3 fields but the header has 2');
    const report = JSON.parse(
      (await h.objects.read(h.modelsBucket, `reports/${run!.runId}.json`)).toString(),
    );
    expect(report).toMatchObject({
      runId: run!.runId,
      status: 'rejected',
      error: { code: 'ragged_row', details: { row: 4, line: 5 } },
    });
    expect(h.workflows.starts).toEqual([]);
    expect(await h.objects.list(h.datasetsBucket, 'reports/')).toEqual([]);
  });

  it('ignores objects that are not <model-name>/<file>.csv, and other buckets', async () => {
    for (const name of [
      'sentiment/droptune.json',
      'reports/r-1.json',
      'a/b/c.csv',
      'Bad_Name/x.csv',
      'sentiment/notes.txt',
      'top.csv',
      'x/y.csv',
    ]) {
      await fn()(finalizedEvent({ bucket: h.datasetsBucket, name, generation: '1' }));
    }
    await fn()(finalizedEvent({ bucket: h.modelsBucket, name: 'sentiment/train.csv', generation: '1' }));
    await fn()({
      ...finalizedEvent({ bucket: h.datasetsBucket, name: 'x', generation: '1' }),
      data: { nonsense: true },
    });
    expect(await h.store.runs.list()).toEqual([]);
    expect(h.workflows.starts).toEqual([]);
  });

  it('gives one run and one workflow start for 100 concurrent deliveries of the same event', async () => {
    const event = eventOf(await upload('sentiment/train.csv', rows(50)));
    h.workflows.delayMs = 20;
    const results = await Promise.allSettled(Array.from({ length: 100 }, () => fn()(structuredClone(event))));
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    expect(await h.store.runs.list()).toHaveLength(1);
    expect(h.workflows.starts).toHaveLength(1);
    await fn()(event); // a late redelivery
    expect(h.workflows.starts).toHaveLength(1);
  });

  it('gives one workflow start when two instances race on the same event; losers ask for redelivery', async () => {
    const other = buildDatasetTrigger({ ...deps, store: createStore(h.db.pool) });
    const event = eventOf(await upload('sentiment/train.csv', rows(50)));
    h.workflows.delayMs = 50;
    const results = await Promise.allSettled([
      ...Array.from({ length: 10 }, () => fn()(structuredClone(event))),
      ...Array.from({ length: 10 }, () => other(structuredClone(event.data))),
    ]);
    for (const r of results)
      if (r.status === 'rejected') expect(isAppError(r.reason, 'unavailable')).toBe(true);
    expect(h.workflows.starts).toHaveLength(1);
    await expect(other(event.data)).resolves.toMatchObject({ action: 'duplicate' });
  });

  it('gives two runs for two generations of the same object name', async () => {
    await fn()(eventOf(await upload('sentiment/train.csv', rows(12))));
    await fn()(eventOf(await upload('sentiment/train.csv', rows(14))));
    const runs = await h.store.runs.list();
    expect(runs).toHaveLength(2);
    expect(new Set(runs.map((r) => r.datasetGeneration)).size).toBe(2);
    expect(h.workflows.starts).toHaveLength(2);
  });

  it('throws on a transient Workflows failure, marks it in its own column, and the redelivery starts the workflow exactly once', async () => {
    const event = eventOf(await upload('sentiment/train.csv', rows(12)));
    h.workflows.failNext(1);
    await expect(fn()(event)).rejects.toMatchObject({ code: 'unavailable' });
    const [before] = await h.store.runs.list();
    // The retry state is its own column; the user-visible error is not a prefixed copy of it.
    expect(before).toMatchObject({
      status: 'validating',
      executionId: null,
      error: null,
      transientFailure: expect.any(String),
    });
    await fn()(event);
    const [after] = await h.store.runs.list();
    expect(after).toMatchObject({
      runId: before!.runId,
      status: 'validating',
      executionId: 'exec-1',
      error: null,
      transientFailure: null,
    });
    expect(h.workflows.starts).toHaveLength(1);
  });

  it('takes over a run whose delivery died without a trace only after the lease', async () => {
    const stat = await upload('sentiment/train.csv', rows(12));
    const key = { bucket: stat.bucket, object: stat.name, generation: stat.generation };
    // A delivery that created the run and then died (process killed) before starting anything.
    await h.store.runs.createForEvent(key, {
      modelName: 'sentiment',
      datasetUri: 'file://datasets/sentiment/train.csv',
      datasetGeneration: stat.generation,
    });
    await expect(fn()(eventOf(stat))).rejects.toMatchObject({ code: 'unavailable' });
    expect(h.workflows.starts).toEqual([]);
    const later = buildDatasetTrigger({ ...deps, leaseMs: 0 });
    await expect(later(eventOf(stat).data)).resolves.toMatchObject({ action: 'started' });
    expect(h.workflows.starts).toHaveLength(1);
  });

  it('records an unexpected permanent failure on the run instead of asking for redelivery forever', async () => {
    const broken = buildDatasetTrigger({
      ...deps,
      objects: Object.assign(Object.create(h.objects), {
        createReadStream: async () => {
          throw new TypeError('corrupt object metadata');
        },
      }),
    });
    await expect(broken(eventOf(await upload('sentiment/train.csv', rows(12))).data)).resolves.toMatchObject({
      action: 'failed',
    });
    const [run] = await h.store.runs.list();
    expect(run).toMatchObject({
      status: 'failed',
      error: 'could not prepare the run: corrupt object metadata',
    });
  });

  it('records a permanent Workflows failure on the run and returns normally', async () => {
    h.workflows.failNext(
      1,
      new AppError('not_found', 'could not start the workflow: workflow droptune-pipeline not found'),
    );
    await fn()(eventOf(await upload('sentiment/train.csv', rows(12))));
    const [run] = await h.store.runs.list();
    expect(run).toMatchObject({
      status: 'failed',
      error: 'could not start the workflow: workflow droptune-pipeline not found',
    });
  });

  it('rejects an upload whose object was replaced before it was read', async () => {
    const first = await upload('sentiment/train.csv', rows(12));
    await upload('sentiment/train.csv', rows(13));
    await fn()(eventOf(first));
    const [run] = await h.store.runs.list();
    expect(run!.status).toBe('rejected');
    expect(run!.error).toContain('was replaced by a newer upload');
    expect(h.workflows.starts).toEqual([]);
  });

  it('throws when the database is unavailable (so Eventarc redelivers)', async () => {
    const down = new pg.Pool({
      connectionString: 'postgres://nobody@127.0.0.1:1/none',
      connectionTimeoutMillis: 2000,
    });
    const trigger = buildDatasetTrigger({ ...deps, store: createStore(down) });
    const stat = await upload('sentiment/train.csv', rows(12));
    await expect(trigger(eventOf(stat).data)).rejects.toMatchObject({ code: 'unavailable', retryable: true });
    await down.end();
    expect(h.workflows.starts).toEqual([]);
  });

  it('answers HTTP deliveries: 2xx when handled, 500 on a transient failure', async () => {
    const server = getTestServer('onDatasetUploaded');
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
      const post = (event: object) =>
        fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/cloudevents+json' },
          body: JSON.stringify(event),
        });
      const good = eventOf(await upload('sentiment/a.csv', rows(12)));
      expect((await post(good)).status).toBeLessThan(300);
      h.workflows.failNext(1);
      expect((await post(eventOf(await upload('sentiment/b.csv', rows(12))))).status).toBe(500);
      expect(h.workflows.starts).toHaveLength(1);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
