import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectPages } from '../../shared/contracts/paging.ts';
import { TEST_BACKENDS } from '../../shared/db/testing.ts';
import { seedRun } from '../../web/testing/seed.ts';
import { type Harness, openHarness } from '../testing/harness.ts';
import { buildControlApi } from './app.ts';
import { localTokenAuth } from './auth.ts';
import { LocalUploads } from './uploads.ts';

const TOKEN = 'test-token-0123456789abcdef';

describe.each(TEST_BACKENDS)('list endpoints page ($name)', (backend) => {
  let h: Harness;
  let app: ReturnType<typeof buildControlApi>;
  beforeAll(async () => {
    h = await openHarness(backend);
    app = buildControlApi({
      ...h,
      auth: localTokenAuth(TOKEN),
      uploads: new LocalUploads(h.objects, 'datasets'),
    });
  });
  afterAll(async () => {
    await app.close();
    await h.close();
  });

  const get = async (url: string) => {
    const res = await app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${TOKEN}` } });
    return { status: res.statusCode, body: res.json() as Record<string, unknown> };
  };

  /** Follows nextPageToken from `url` to the last page: the items' keys and each page's size. */
  async function walk(url: string, field: string, key: string) {
    const seen: unknown[] = [];
    const sizes: number[] = [];
    let token: string | null = null;
    do {
      const sep = url.includes('?') ? '&' : '?';
      const { status, body } = await get(token ? `${url}${sep}pageToken=${token}` : url);
      expect(status, JSON.stringify(body)).toBe(200);
      const items = body[field] as Array<Record<string, unknown>>;
      seen.push(...items.map((i) => i[key]));
      sizes.push(items.length);
      token = body.nextPageToken as string | null;
    } while (token);
    return { seen, sizes };
  }

  it('walks every run exactly once with nextPageToken, newest first (limit is pageSize’s older name)', async () => {
    const created: string[] = [];
    for (let i = 0; i < 7; i++)
      created.push((await seedRun(h.store, { modelName: 'paged', status: 'queued' })).runId);
    const expected = [...created].reverse();
    expect(await walk('/v1/runs?modelName=paged&pageSize=3', 'runs', 'runId')).toEqual({
      seen: expected,
      sizes: [3, 3, 1],
    });
    expect((await walk('/v1/runs?modelName=paged&limit=7', 'runs', 'runId')).sizes).toEqual([7]);
  });

  it('pages datasets, models, versions and deployments the same way', async () => {
    for (let i = 0; i < 5; i++) {
      await h.store.datasets.upsert({
        modelName: 'paged-ds',
        datasetUri: `file://datasets/paged-ds/${i}.csv`,
        generation: '1',
        sha256: 'a'.repeat(64),
        bytes: 10,
        rows: 2,
        labelCounts: { a: 1, b: 1 },
        textLength: { min: 1, median: 1, max: 1 },
      });
    }
    const datasets = await walk('/v1/datasets?modelName=paged-ds&pageSize=2', 'datasets', 'datasetId');
    expect(datasets.sizes).toEqual([2, 2, 1]);
    expect(new Set(datasets.seen).size).toBe(5);

    const versions: number[] = [];
    for (const modelName of ['pm-c', 'pm-a', 'pm-b']) {
      for (let i = 0; i < 3; i++) {
        const run = await seedRun(h.store, { modelName, status: 'queued' });
        const { version } = await h.store.models.registerVersion(modelName, run.runId, async (v) => ({
          modelUri: `file://models/models/${modelName}/v${v}/`,
          metrics: {},
        }));
        if (modelName === 'pm-a') versions.push(version.version);
      }
    }
    const models = await walk('/v1/models?pageSize=2', 'models', 'modelName');
    expect(models.seen.filter((m) => String(m).startsWith('pm-'))).toEqual(['pm-a', 'pm-b', 'pm-c']);
    expect(await walk('/v1/models/pm-a/versions?pageSize=2', 'versions', 'version')).toEqual({
      seen: [...versions].reverse(),
      sizes: [2, 1],
    });

    for (const v of [1, 2, 3, 1]) {
      await h.store.models.recordDeployment({ modelName: 'pm-a', version: v, url: 'http://127.0.0.1:1/' });
    }
    const deployments = await walk('/v1/models/pm-a/deployments?pageSize=3', 'deployments', 'version');
    expect(deployments).toEqual({ seen: [1, 3, 2, 1], sizes: [3, 1] });
  });

  it('gives a client that follows pages (the CLI’s and the web page’s collectPages) every item once', async () => {
    for (let i = 0; i < 5; i++) await seedRun(h.store, { modelName: 'collected', status: 'queued' });
    const fetchPage = async (q: string) => (await get(`/v1/runs?modelName=collected&${q}`)).body;
    const all = await collectPages<{ runId: string }>('runs', fetchPage, { pageSize: 2 });
    expect(new Set(all.map((r) => r.runId)).size).toBe(5);
    expect(all).toHaveLength(5);
    expect(await collectPages('runs', fetchPage, { pageSize: 2, max: 3 })).toHaveLength(3);
  });

  it('answers one model and one version without listing', async () => {
    const run = await seedRun(h.store, { modelName: 'one-model', status: 'queued' });
    await h.store.models.registerVersion('one-model', run.runId, async (v) => ({
      modelUri: `file://models/models/one-model/v${v}/`,
      metrics: {},
    }));
    expect((await get('/v1/models/one-model')).body).toMatchObject({
      modelName: 'one-model',
      latestVersion: 1,
    });
    expect((await get('/v1/models/one-model/versions/1')).body).toMatchObject({
      version: 1,
      runId: run.runId,
    });
    expect((await get('/v1/models/one-model/versions/2')).status).toBe(404);
    expect((await get('/v1/models/no-such-model')).status).toBe(404);
  });

  it('refuses a page token it did not give out, of another list or other filters, naming pageToken', async () => {
    for (let i = 0; i < 3; i++) await seedRun(h.store, { modelName: 'tokens', status: 'queued' });
    const first = await get('/v1/runs?modelName=tokens&pageSize=1');
    const token = first.body.nextPageToken as string;
    expect(token).toEqual(expect.any(String));
    expect(token).not.toContain(
      ((first.body.runs as Array<{ runId: string }>)[0] as { runId: string }).runId,
    );

    const bad = [
      `/v1/runs?modelName=tokens&pageToken=not-a-token`,
      `/v1/runs?modelName=tokens&pageToken=${encodeURIComponent('%%%')}`,
      `/v1/runs?modelName=tokens&pageToken=${Buffer.from('{"l":"runs"}').toString('base64url')}`,
      `/v1/datasets?pageToken=${token}`,
      `/v1/runs?modelName=other&pageToken=${token}`,
      `/v1/runs?modelName=tokens&status=failed&pageToken=${token}`,
      `/v1/models/tokens/versions?pageToken=${token}`,
    ];
    for (const url of bad) {
      const res = await get(url);
      expect(res.status, url).toBe(400);
      expect(res.body.error, url).toMatchObject({
        code: 'invalid_argument',
        message: expect.stringMatching(/^invalid query: pageToken: /),
      });
    }
  });

  it('bounds pageSize', async () => {
    for (const url of ['/v1/runs?pageSize=0', '/v1/datasets?pageSize=1001', '/v1/models?pageSize=x']) {
      const res = await get(url);
      expect(res.status, url).toBe(400);
      expect((res.body.error as { message: string }).message, url).toContain('pageSize');
    }
  });
});
