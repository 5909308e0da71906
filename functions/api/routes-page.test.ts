import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelSettings } from '../../shared/contracts/model-settings.ts';
import type { Database } from '../../shared/db/pool.ts';
import { TEST_BACKENDS } from '../../shared/db/testing.ts';
import { FileObjectStore } from '../../shared/storage/index.ts';
import { createStore, type TrackingStore } from '../../shared/store/index.ts';
import { seedRun, seedVersion } from '../../web/testing/seed.ts';
import { validateCsvBytes } from '../dataset/validate-csv.ts';
import { buildControlApi } from './app.ts';
import { localTokenAuth } from './auth.ts';
import { LocalUploads } from './uploads.ts';

describe.each(TEST_BACKENDS)('web routes of the control API ($name)', (backend) => {
  let db: Database;
  let app: FastifyInstance;
  let store: TrackingStore;
  let objects: FileObjectStore;
  let home: string;
  const token = randomBytes(24).toString('base64url');
  const auth = { authorization: `Bearer ${token}` };

  beforeAll(async () => {
    home = mkdtempSync(join(tmpdir(), 'droptune-webroutes-'));
    db = await backend.open();
    store = createStore(db.pool);
    objects = new FileObjectStore(join(home, 'buckets'));
    app = buildControlApi({
      store,
      objects,
      datasetsBucket: 'datasets',
      modelsBucket: 'models',
      auth: localTokenAuth(token),
      uploads: new LocalUploads(objects, 'datasets'),
      // Port 9 plays a stack-owned serving proxy that is down.
      deployments: { ownsLoopbackUrl: (origin) => origin === 'http://127.0.0.1:9' },
    });
    await app.ready();
  });
  afterAll(async () => {
    await app?.close();
    await db?.close();
    rmSync(home, { recursive: true, force: true });
  });

  it('requires the bearer token on every web route', async () => {
    for (const [method, url] of [
      ['POST', '/v1/datasets:validate'],
      ['GET', '/v1/models/a-model/settings'],
      ['PUT', '/v1/models/a-model/settings'],
      ['GET', '/v1/runs/r-1/evaluation'],
      ['POST', '/v1/models/a-model:predict'],
    ] as const) {
      const res = await app.inject({ method, url });
      expect(res.statusCode, `${method} ${url}`).toBe(401);
    }
  });

  it('gives the trigger validator’s verdict on posted bytes, honouring the column names', async () => {
    const bad = 'text,label\nrefund,billing\nparcel,shipping\n"unclosed,billing\n';
    const expected = await validateCsvBytes(bad);
    const res = await app.inject({
      method: 'POST',
      url: '/v1/datasets:validate',
      headers: { ...auth, 'content-type': 'text/csv' },
      payload: bad,
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ ok: false, rejection: (expected as { rejection: unknown }).rejection });

    const good =
      'body,topic\n' + Array.from({ length: 20 }, (_, i) => `text ${i},${i % 2 ? 'a' : 'b'}`).join('\n');
    const ok = await app.inject({
      method: 'POST',
      url: '/v1/datasets:validate?textColumn=body&labelColumn=topic',
      headers: { ...auth, 'content-type': 'text/csv' },
      payload: good,
    });
    expect(ok.json()).toMatchObject({
      ok: true,
      profile: { rows: 20, labelCounts: { a: 10, b: 10 }, textColumn: 'body' },
    });
  });

  it('writes droptune.json only when the settings pass the schema, naming the bad field', async () => {
    const bad = await app.inject({
      method: 'PUT',
      url: '/v1/models/web-model/settings',
      headers: auth,
      payload: { epochs: 0, colour: 'red' },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.message).toContain('epochs');
    expect(bad.json().error.message).toContain('colour: unknown key');
    expect(await objects.statIfExists('datasets', 'web-model/droptune.json')).toBeUndefined();

    const put = await app.inject({
      method: 'PUT',
      url: '/v1/models/web-model/settings',
      headers: auth,
      payload: { epochs: 5 },
    });
    expect(put.statusCode).toBe(200);
    const stored = JSON.parse((await objects.read('datasets', 'web-model/droptune.json')).toString());
    expect(stored).toEqual(ModelSettings.parse({ epochs: 5 }));
    const got = await app.inject({ method: 'GET', url: '/v1/models/web-model/settings', headers: auth });
    expect(got.json()).toEqual({ settings: stored, stored: true });
  });

  it('reads the evaluation from the registered version, and says when there is none yet', async () => {
    const run = await seedRun(store, { modelName: 'web-model', status: 'succeeded' });
    const none = await app.inject({ method: 'GET', url: `/v1/runs/${run.runId}/evaluation`, headers: auth });
    expect(none.statusCode).toBe(404);
    const version = await seedVersion(store, run, { accuracy: 0.5 });
    const validation = {
      labels: ['a', 'b'],
      per_class: {
        a: { precision: 1, recall: 0.5, f1: 0.67, support: 2 },
        b: { precision: 0.67, recall: 1, f1: 0.8, support: 2 },
      },
      confusion_matrix: [
        [1, 1],
        [0, 2],
      ],
    };
    await objects.write(
      'models',
      `models/web-model/v${version}/metrics.json`,
      JSON.stringify({ validation }),
    );
    const res = await app.inject({ method: 'GET', url: `/v1/runs/${run.runId}/evaluation`, headers: auth });
    expect(res.json()).toEqual({
      // A metrics.json from before tasks reads as classification.
      task: 'classification',
      labels: ['a', 'b'],
      perClass: validation.per_class,
      confusionMatrix: validation.confusion_matrix,
    });
  });

  it('gives the run detail the split and the gate from metrics.json (null until the trainer wrote it)', async () => {
    const run = await seedRun(store, { modelName: 'web-model', status: 'gated' });
    const before = (await app.inject({ method: 'GET', url: `/v1/runs/${run.runId}`, headers: auth })).json();
    expect(before).toMatchObject({ split: null, gate: null });
    const split = {
      method: 'hash',
      trainRows: 80,
      validationRows: 20,
      duplicates: 3,
      conflicts: 1,
      truncated: 2,
      fingerprint: 'f'.repeat(64),
      labelCounts: { a: 50, b: 50 },
    };
    const gate = {
      metric: 'macro_f1',
      challenger: 0.8,
      champion: 0.85,
      rows: 20,
      decision: 'hold',
      reason: 'worse: macro_f1 0.8000 vs 0.8500 on 20 rows champion v1 never trained on',
      ci95: [-0.1, -0.01],
      settings: { minRows: 10 },
    };
    await objects.write('models', `runs/${run.runId}/metrics.json`, JSON.stringify({ split, gate }));
    const detail = (await app.inject({ method: 'GET', url: `/v1/runs/${run.runId}`, headers: auth })).json();
    const { labelCounts: _, ...contractSplit } = split;
    const { settings: __, ...contractGate } = gate;
    expect(detail.split).toEqual(contractSplit);
    expect(detail.gate).toEqual(contractGate);
  });

  it('refuses a prediction for a model without a deployed production version, and forwards errors unchanged', async () => {
    const unknown = await app.inject({
      method: 'POST',
      url: '/v1/models/no-such-model:predict',
      headers: auth,
      payload: { instances: ['x'] },
    });
    expect(unknown.statusCode).toBe(404);
    const undeployed = await app.inject({
      method: 'POST',
      url: '/v1/models/web-model:predict',
      headers: auth,
      payload: { instances: ['x'] },
    });
    expect(undeployed.statusCode).toBe(409);
    expect(undeployed.json().error.message).toBe('web-model has no deployed production version yet');
    // Production points at a deployment nobody listens on: a clear 503, not a hang or a stack.
    await store.models.setAlias('web-model', 'production', 1);
    await store.models.recordDeployment({ modelName: 'web-model', version: 1, url: 'http://127.0.0.1:9' });
    const down = await app.inject({
      method: 'POST',
      url: '/v1/models/web-model:predict',
      headers: auth,
      payload: { instances: ['x'] },
    });
    expect(down.statusCode).toBe(503);
    expect(down.json().error.message).toContain('did not answer');
    const wrongVerb = await app.inject({
      method: 'POST',
      url: '/v1/models/web-model:explain',
      headers: auth,
      payload: {},
    });
    expect(wrongVerb.statusCode).toBe(404);
  });
});
