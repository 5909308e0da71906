import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_BACKENDS } from '../../shared/db/testing.ts';
import { seedRun } from '../../web/testing/seed.ts';
import { type Harness, openHarness } from '../testing/harness.ts';
import { buildControlApi } from './app.ts';
import { localTokenAuth } from './auth.ts';
import { LocalUploads } from './uploads.ts';

const TOKEN = 'test-token-0123456789abcdef';

describe.each(TEST_BACKENDS)('GET /v1/runs pages ($name)', (backend) => {
  let h: Harness;
  beforeAll(async () => {
    h = await openHarness(backend);
  });
  afterAll(async () => h.close());

  it('walks every run exactly once with nextPageToken, newest first', async () => {
    const created: string[] = [];
    for (let i = 0; i < 7; i++)
      created.push((await seedRun(h.store, { modelName: 'paged', status: 'queued' })).runId);
    const app = buildControlApi({
      ...h,
      auth: localTokenAuth(TOKEN),
      uploads: new LocalUploads(h.objects, 'datasets'),
    });
    const seen: string[] = [];
    const sizes: number[] = [];
    let token: string | null = null;
    do {
      const q: string = `/v1/runs?modelName=paged&limit=3${token ? `&pageToken=${token}` : ''}`;
      const res = await app.inject({ method: 'GET', url: q, headers: { authorization: `Bearer ${TOKEN}` } });
      expect(res.statusCode).toBe(200);
      const body = res.json() as { runs: Array<{ runId: string }>; nextPageToken: string | null };
      seen.push(...body.runs.map((r) => r.runId));
      sizes.push(body.runs.length);
      token = body.nextPageToken;
    } while (token);
    expect(sizes).toEqual([3, 3, 1]);
    expect(seen).toEqual([...created].reverse());
    await app.close();
  });
});
