import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TEST_BACKENDS } from '../../shared/db/testing.ts';
import { createStore } from '../../shared/store/index.ts';
import { buildDatasetTrigger } from '../dataset/dataset-trigger.ts';
import { rows } from '../dataset/fixtures/bad-csvs.ts';
import { finalizedEvent, type Harness, openHarness } from '../testing/harness.ts';
import { writeTrainedModel } from '../testing/trained-model.ts';
import { buildControlApi } from './app.ts';
import { localTokenAuth } from './auth.ts';
import { LocalUploads } from './uploads.ts';

const TOKEN = 'test-token-0123456789abcdef';
const auth = { authorization: `Bearer ${TOKEN}` };

describe.each(TEST_BACKENDS)('control API on $name', (backend) => {
  let h: Harness;
  let app: FastifyInstance;
  beforeEach(async () => {
    h = await openHarness(backend);
    app = buildControlApi({
      ...h,
      auth: localTokenAuth(TOKEN),
      uploads: new LocalUploads(h.objects, h.datasetsBucket),
      deployments: { ownsLoopbackUrl: (origin) => origin === 'http://127.0.0.1:9001' },
    });
    await app.ready();
  });
  afterEach(async () => {
    await app.close();
    await h.close();
  });

  async function call(method: 'GET' | 'POST' | 'PUT', url: string, body?: unknown) {
    const res = await app.inject({
      method,
      url,
      headers: auth,
      ...(body === undefined ? {} : { payload: body as object }),
    });
    return { status: res.statusCode, body: res.body ? res.json() : undefined };
  }

  function trainedModel(runId: string, modelName: string, tamper?: string) {
    return writeTrainedModel(h.objects, h.modelsBucket, { runId, modelName, ...(tamper ? { tamper } : {}) });
  }

  it('answers 401 on every registered route without credentials, and with a wrong token', async () => {
    expect(app.apiRoutes.length).toBeGreaterThanOrEqual(18);
    for (const route of app.apiRoutes) {
      // `::` is fastify's escaped literal colon (`/v1/datasets::validate`), not a parameter.
      const url = route.url
        .replaceAll('::', '\u0000')
        .replaceAll(/:(\w+)/g, (_m, name: string) =>
          name === 'fileName' ? 'x.csv' : name === 'alias' ? 'production' : 'sentiment',
        )
        .replaceAll('\u0000', ':');
      for (const headers of [
        {},
        { authorization: 'Bearer wrong-token-0123456789' },
        { authorization: 'Basic abc' },
      ]) {
        const res = await app.inject({
          method: route.method as 'GET',
          url,
          headers,
          payload: route.method === 'GET' ? undefined : {},
        });
        expect(res.statusCode, `${route.method} ${route.url}`).toBe(401);
        expect(res.json()).toEqual({ error: { code: 'unauthenticated', message: expect.any(String) } });
      }
    }
  });

  it('lists, filters and details runs with params, dataset profile, metrics and history', async () => {
    const trigger = buildDatasetTrigger({ ...h, log: () => {} });
    const stat = await h.objects.write(h.datasetsBucket, 'sentiment/train.csv', rows(12));
    await trigger(finalizedEvent({ bucket: stat.bucket, name: stat.name, generation: stat.generation }).data);
    const other = await h.store.runs.create({ modelName: 'spam', datasetUri: 'file://datasets/spam/a.csv' });
    const { runs } = (await call('GET', '/v1/runs?modelName=sentiment')).body;
    expect(runs).toHaveLength(1);
    expect(
      (await call('GET', '/v1/runs?status=queued')).body.runs.map((r: { runId: string }) => r.runId),
    ).toEqual([other.runId]);
    await call('POST', `/v1/runs/${runs[0].runId}/metrics`, {
      metrics: [
        { key: 'loss', step: 1, epoch: 0, value: 0.9 },
        { key: 'loss', step: 2, epoch: 1, value: 0.5 },
        { key: 'lr', step: 2, value: 1e-5 },
      ],
    });
    const detail = (await call('GET', `/v1/runs/${runs[0].runId}`)).body;
    expect(detail).toMatchObject({
      status: 'validating',
      params: { epochs: 3 },
      dataset: { rows: 12, labelCounts: { neg: 6, pos: 6 } },
      metrics: { latest: { loss: 0.5, lr: 1e-5 } },
    });
    expect(detail.metrics.epochs.loss.map((p: { value: number }) => p.value)).toEqual([0.9, 0.5]);
    expect(detail.history.map((c: { toStatus: string }) => c.toStatus)).toEqual(['queued', 'validating']);
    expect(await call('GET', '/v1/runs?limit=0')).toMatchObject({
      status: 400,
      body: { error: { code: 'invalid_argument', message: expect.stringContaining('limit') } },
    });
    expect(await call('GET', '/v1/runs?status=sleeping')).toMatchObject({ status: 400 });
    expect(await call('GET', '/v1/runs/r-nope')).toMatchObject({
      status: 404,
      body: { error: { code: 'not_found' } },
    });
  });

  it('appends metrics in batches of up to 10,000 and pages them with afterId', async () => {
    const run = await h.store.runs.create({ modelName: 'sentiment', datasetUri: 'file://datasets/s/a.csv' });
    const batch = Array.from({ length: 10_000 }, (_, i) => ({ key: 'loss', step: i, value: 1 / (i + 1) }));
    expect(await call('POST', `/v1/runs/${run.runId}/metrics`, { metrics: batch })).toEqual({
      status: 201,
      body: { accepted: 10_000 },
    });
    const tooMany = await call('POST', `/v1/runs/${run.runId}/metrics`, { metrics: [...batch, batch[0]] });
    expect(tooMany).toMatchObject({
      status: 400,
      body: { error: { message: expect.stringContaining('metrics') } },
    });
    const bad = await call('POST', `/v1/runs/${run.runId}/metrics`, {
      metrics: [{ key: 'loss', step: -1, value: 1, colour: 'red' }],
    });
    expect(bad.body.error.message).toMatch(
      /metrics\.0\.step.*metrics\.0\.colour: unknown key|metrics\.0\.colour: unknown key.*metrics\.0\.step/,
    );
    const first = (await call('GET', `/v1/runs/${run.runId}/metrics?limit=5`)).body.metrics;
    expect(first.map((m: { step: number }) => m.step)).toEqual([0, 1, 2, 3, 4]);
    const next = (await call('GET', `/v1/runs/${run.runId}/metrics?afterId=${first[4].id}&limit=2`)).body
      .metrics;
    expect(next.map((m: { step: number }) => m.step)).toEqual([5, 6]);
  });

  it('checks status transitions and cancels live runs only', async () => {
    const run = await h.store.runs.create({ modelName: 'sentiment', datasetUri: 'file://datasets/s/a.csv' });
    expect(await call('POST', `/v1/runs/${run.runId}/status`, { status: 'validating' })).toMatchObject({
      status: 200,
      body: { status: 'validating' },
    });
    const illegal = await call('POST', `/v1/runs/${run.runId}/status`, { status: 'succeeded' });
    expect(illegal).toMatchObject({
      status: 409,
      body: {
        error: {
          code: 'failed_precondition',
          message: expect.stringContaining('cannot go from validating to succeeded'),
        },
      },
    });
    expect(await call('POST', `/v1/runs/${run.runId}/status`, { status: 'done' })).toMatchObject({
      status: 400,
    });
    expect((await call('POST', `/v1/runs/${run.runId}/cancel`)).body).toMatchObject({
      status: 'cancelled',
      error: 'cancelled by local',
    });
    expect((await call('POST', `/v1/runs/${run.runId}/cancel`)).status).toBe(200);
    const done = await h.store.runs.create({ modelName: 'sentiment', datasetUri: 'file://datasets/s/b.csv' });
    await h.store.runs.transition(done.runId, 'rejected', { error: 'bad' });
    expect(await call('POST', `/v1/runs/${done.runId}/cancel`)).toMatchObject({ status: 409 });
  });

  it('registers versions gap-free after verifying the manifest and checksums, copying the manifest last', async () => {
    const a = await h.store.runs.create({ modelName: 'sentiment', datasetUri: 'file://datasets/s/a.csv' });
    const b = await h.store.runs.create({ modelName: 'sentiment', datasetUri: 'file://datasets/s/b.csv' });
    expect(await call('POST', '/v1/models/sentiment/versions', { runId: a.runId })).toMatchObject({
      status: 409,
      body: { error: { message: expect.stringContaining('has no runs/') } },
    });
    await trainedModel(a.runId, 'sentiment');
    const v1 = await call('POST', '/v1/models/sentiment/versions', { runId: a.runId });
    expect(v1).toMatchObject({
      status: 201,
      body: {
        version: 1,
        runId: a.runId,
        modelUri: 'file://models/models/sentiment/v1/',
        metrics: { accuracy: 0.9 },
      },
    });
    expect(await call('POST', '/v1/models/sentiment/versions', { runId: a.runId })).toMatchObject({
      status: 200,
      body: { version: 1 },
    });
    const copied = (await h.objects.list(h.modelsBucket, 'models/sentiment/v1/')).map((o) =>
      o.name.split('/').pop(),
    );
    expect(copied.sort()).toEqual([
      'config.json',
      'labels.json',
      'manifest.json',
      'metrics.json',
      'model.onnx',
      'tokenizer.json',
    ]);
    await trainedModel(b.runId, 'sentiment', 'model.onnx');
    const tampered = await call('POST', '/v1/models/sentiment/versions', { runId: b.runId });
    expect(tampered).toMatchObject({
      status: 409,
      body: { error: { message: expect.stringContaining('model.onnx: the manifest says') } },
    });
    expect(await call('POST', '/v1/models/other/versions', { runId: a.runId })).toMatchObject({
      status: 409,
    });
    await trainedModel(b.runId, 'sentiment');
    expect((await call('POST', '/v1/models/sentiment/versions', { runId: b.runId })).body.version).toBe(2);
    expect(
      (await call('GET', '/v1/models/sentiment/versions')).body.versions.map(
        (v: { version: number }) => v.version,
      ),
    ).toEqual([2, 1]);
  });

  it('moves aliases, rolls back, records deployments and lists models with their URL', async () => {
    for (const name of ['a', 'b']) {
      const run = await h.store.runs.create({
        modelName: 'sentiment',
        datasetUri: `file://datasets/s/${name}.csv`,
      });
      await trainedModel(run.runId, 'sentiment');
      await call('POST', '/v1/models/sentiment/versions', { runId: run.runId });
    }
    expect((await call('PUT', '/v1/models/sentiment/aliases/production', { version: 1 })).body).toMatchObject(
      { version: 1, previousVersion: null },
    );
    expect((await call('PUT', '/v1/models/sentiment/aliases/production', { version: 2 })).body).toMatchObject(
      { version: 2, previousVersion: 1 },
    );
    expect(await call('PUT', '/v1/models/sentiment/aliases/staging', { version: 2 })).toMatchObject({
      status: 400,
    });
    expect(await call('PUT', '/v1/models/sentiment/aliases/production', { version: 9 })).toMatchObject({
      status: 404,
    });
    expect(
      (
        await call('POST', '/v1/models/sentiment/deployments', {
          version: 1,
          url: 'http://127.0.0.1:9001',
          revision: 'r1',
        })
      ).status,
    ).toBe(201);
    expect(
      await call('POST', '/v1/models/sentiment/deployments', { version: 7, url: 'http://x' }),
    ).toMatchObject({ status: 404 });
    // Rollback deploys before it moves production: it starts the pipeline's promote action.
    expect(await call('POST', '/v1/models/sentiment/rollback')).toMatchObject({
      status: 202,
      body: { version: 1, previousVersion: 2, executionId: expect.any(String) },
    });
    expect(h.workflows.promotions.at(-1)).toEqual({
      action: 'promote',
      modelName: 'sentiment',
      version: 1,
      kind: 'rollback',
    });
    expect(await h.store.models.alias('sentiment', 'production')).toBe(2);
    // A second deploy of the model waits for this one (the model is taken until it records).
    expect(await call('POST', '/v1/models/sentiment/promote', { version: 2 })).toMatchObject({
      status: 409,
      body: { error: { message: expect.stringContaining('is being deployed: rollback to v1') } },
    });
    // …which, once the service is ready, records the deployment and moves the alias as a
    // rollback in one transaction (what pipeline.yaml sends), freeing the model.
    await call('POST', '/v1/models/sentiment/deployments', {
      version: 1,
      url: 'http://127.0.0.1:9001',
      revision: 'r3',
      moveAlias: { kind: 'rollback' },
    });
    expect(await call('POST', '/v1/models/sentiment/promote', { version: 2 })).toMatchObject({
      status: 202,
      body: { version: 2, previousVersion: 1 },
    });
    expect(h.workflows.promotions.at(-1)).toEqual({
      action: 'promote',
      modelName: 'sentiment',
      version: 2,
      kind: 'promote',
    });
    expect(await call('POST', '/v1/models/sentiment/promote', { version: 9 })).toMatchObject({ status: 404 });
    expect((await call('GET', '/v1/models')).body.models).toEqual([
      {
        modelName: 'sentiment',
        latestVersion: 2,
        productionVersion: 1,
        candidateVersion: null,
        url: 'http://127.0.0.1:9001',
      },
    ]);
    expect((await call('GET', '/v1/models/sentiment/aliases')).body.history).toHaveLength(3);
    expect((await call('GET', '/v1/models/sentiment/deployments')).body.deployments).toHaveLength(2);
  });

  it('lists and gets dataset profiles', async () => {
    const d = await h.store.datasets.upsert({
      modelName: 'sentiment',
      datasetUri: 'file://datasets/s/a.csv',
      generation: '1',
      sha256: 'b'.repeat(64),
      bytes: 10,
      rows: 12,
      labelCounts: { a: 6, b: 6 },
      textLength: { min: 1, median: 2, max: 3 },
    });
    expect((await call('GET', '/v1/datasets?modelName=sentiment')).body.datasets).toHaveLength(1);
    expect((await call('GET', `/v1/datasets/${d.datasetId}`)).body).toMatchObject({
      rows: 12,
      labelCounts: { a: 6, b: 6 },
    });
    expect((await call('GET', '/v1/datasets/d-missing')).status).toBe(404);
  });

  it('takes uploads locally: a ticket, then a streamed PUT into the datasets bucket', async () => {
    const ticket = await call('POST', '/v1/uploads', { modelName: 'sentiment', fileName: 'train.csv' });
    expect(ticket).toMatchObject({
      status: 201,
      body: { method: 'PUT', datasetUri: 'file://datasets/sentiment/train.csv' },
    });
    const url = new URL(ticket.body.uploadUrl);
    const put = await app.inject({
      method: 'PUT',
      url: url.pathname,
      headers: { ...auth, 'content-type': 'text/csv' },
      payload: rows(12),
    });
    expect(put.statusCode).toBe(201);
    expect((await h.objects.read(h.datasetsBucket, 'sentiment/train.csv')).toString()).toBe(rows(12));
    expect(await call('POST', '/v1/uploads', { modelName: 'Bad Name', fileName: '../x.csv' })).toMatchObject({
      status: 400,
    });
    const noType = await app.inject({ method: 'PUT', url: url.pathname, headers: auth, payload: 'x' });
    expect(noType.statusCode).toBeGreaterThanOrEqual(400);
    expect(noType.json().error.code).toBe('invalid_argument');
  });

  it('answers bad JSON and unknown routes with the error shape and no stack trace', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/v1/runs/r-1/status',
      headers: { ...auth, 'content-type': 'application/json' },
      payload: '{"status":',
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({
      error: { code: 'invalid_argument', message: expect.stringContaining('not valid JSON') },
    });
    const missing = await app.inject({ method: 'GET', url: '/v2/nothing', headers: auth });
    expect(missing.json()).toEqual({ error: { code: 'not_found', message: 'no route GET /v2/nothing' } });
    const dead = new pg.Pool({
      connectionString: 'postgres://nobody@127.0.0.1:1/none',
      connectionTimeoutMillis: 2000,
    });
    const broken = buildControlApi({
      ...h,
      store: createStore(dead),
      auth: localTokenAuth(TOKEN),
      uploads: new LocalUploads(h.objects, h.datasetsBucket),
    });
    const down = await broken.inject({ method: 'GET', url: '/v1/runs', headers: auth });
    expect(down.statusCode).toBe(503);
    expect(down.json()).toEqual({ error: { code: 'unavailable', message: expect.any(String) } });
    expect(down.body).not.toMatch(/\n\s+at |stack/);
    await broken.close();
    await dead.end();
  });
});

describe('control API web root', () => {
  it('serves the web page without credentials while every /v1 route still needs them', async () => {
    const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const webRoot = mkdtempSync(join(tmpdir(), 'droptune-web-'));
    writeFileSync(join(webRoot, 'index.html'), '<!doctype html><title>droptune</title>');
    const noStore = {} as never;
    const app = buildControlApi({
      store: noStore,
      objects: noStore,
      datasetsBucket: 'datasets',
      modelsBucket: 'models',
      auth: localTokenAuth(TOKEN),
      uploads: new LocalUploads(noStore, 'datasets'),
      webRoot,
    });
    try {
      const page = await app.inject({ method: 'GET', url: '/' });
      expect(page.statusCode).toBe(200);
      expect(page.body).toContain('<title>droptune</title>');
      expect((await app.inject({ method: 'GET', url: '/index.html' })).statusCode).toBe(200);
      expect((await app.inject({ method: 'GET', url: '/v1/runs' })).statusCode).toBe(401);
      expect(app.apiRoutes.every((r) => r.url.startsWith('/v1/'))).toBe(true);
    } finally {
      await app.close();
      rmSync(webRoot, { recursive: true, force: true });
    }
  });
});
