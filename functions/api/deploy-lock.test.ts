import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TEST_BACKENDS } from '../../shared/db/testing.ts';
import { seedRun, seedVersion } from '../../web/testing/seed.ts';
import { type Harness, openHarness } from '../testing/harness.ts';
import { buildControlApi } from './app.ts';
import { localTokenAuth } from './auth.ts';
import { LocalUploads } from './uploads.ts';

const TOKEN = 'test-token-0123456789abcdef';
const MODEL = 'serialised';
const SERVICE = 'http://127.0.0.1:9009';

/**
 * Deploys of one model are serialised. The promote executions are the workflow starter's (the
 * one fake of the GCP control plane); each finishes the way pipeline.yaml's deploy does, by
 * recording the deployment with `moveAlias` through the API.
 */
describe.each(TEST_BACKENDS)('promote and rollback of one model, concurrently ($name)', (backend) => {
  let h: Harness;
  let app: FastifyInstance;
  beforeEach(async () => {
    h = await openHarness(backend);
    app = buildControlApi({
      ...h,
      auth: localTokenAuth(TOKEN),
      uploads: new LocalUploads(h.objects, h.datasetsBucket),
      deployments: { ownsLoopbackUrl: (origin) => origin === SERVICE },
    });
    for (let i = 0; i < 3; i++)
      await seedVersion(h.store, await seedRun(h.store, { modelName: MODEL, status: 'succeeded' }), {});
  });
  afterEach(async () => {
    await app.close();
    await h.close();
  });

  const call = async (method: 'GET' | 'POST' | 'DELETE', url: string, body?: unknown) => {
    const res = await app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${TOKEN}` },
      ...(body === undefined ? {} : { payload: body as object }),
    });
    return { status: res.statusCode, body: res.json() as Record<string, unknown> };
  };
  /** What an execution does once its revision is ready (pipeline.yaml `record`). */
  const finish = (version: number, kind: 'promote' | 'rollback' = 'promote') =>
    call('POST', `/v1/models/${MODEL}/deployments`, { version, url: SERVICE, moveAlias: { kind } });

  it('starts one deploy of many concurrent promotes; the rest are refused naming it', async () => {
    const asked = [2, 3, 2, 3, 2, 3, 2, 3];
    const answers = await Promise.all(
      asked.map((version) => call('POST', `/v1/models/${MODEL}/promote`, { version })),
    );
    const started = answers.filter((a) => a.status === 202);
    expect(started).toHaveLength(1);
    expect(h.workflows.promotions).toHaveLength(1);
    const winner = h.workflows.promotions[0]!.version;
    for (const refused of answers.filter((a) => a.status !== 202)) {
      expect(refused.status).toBe(409);
      expect((refused.body.error as { message: string }).message).toContain(
        `model ${MODEL} is being deployed: promote to v${winner} by local`,
      );
    }
    expect((await call('GET', `/v1/models/${MODEL}/deploy-lock`)).body.deploy).toMatchObject({
      version: winner,
      executionId: 'promote-1',
    });

    // The older one can only follow once the first has recorded: production ends on the last asked.
    const other = winner === 2 ? 3 : 2;
    expect((await finish(winner)).status).toBe(201);
    expect((await call('GET', `/v1/models/${MODEL}/deploy-lock`)).body.deploy).toBeNull();
    expect((await call('POST', `/v1/models/${MODEL}/promote`, { version: other })).status).toBe(202);
    expect((await finish(other)).status).toBe(201);
    expect(await h.store.models.alias(MODEL, 'production')).toBe(other);
    expect((await h.store.models.deployments(MODEL))[0]).toMatchObject({ version: other });
  });

  it('holds a rollback against a promote, and frees the model when the start fails', async () => {
    expect((await call('POST', `/v1/models/${MODEL}/promote`, { version: 1 })).status).toBe(202);
    await finish(1);
    expect((await call('POST', `/v1/models/${MODEL}/promote`, { version: 2 })).status).toBe(202);
    await finish(2);
    const [rollback, promote] = await Promise.all([
      call('POST', `/v1/models/${MODEL}/rollback`),
      call('POST', `/v1/models/${MODEL}/promote`, { version: 3 }),
    ]);
    expect([rollback.status, promote.status].sort()).toEqual([202, 409]);
    await call('DELETE', `/v1/models/${MODEL}/deploy-lock`);

    h.workflows.failNext(1);
    expect((await call('POST', `/v1/models/${MODEL}/promote`, { version: 3 })).status).toBe(503);
    expect((await call('GET', `/v1/models/${MODEL}/deploy-lock`)).body.deploy).toBeNull();
    expect((await call('POST', `/v1/models/${MODEL}/promote`, { version: 3 })).status).toBe(202);
  });

  it('lets a deploy take over a model whose holder outlived its lease', async () => {
    const stale = await h.store.deployLocks.acquire(
      MODEL,
      { version: 1, kind: 'promote', holder: 'gone' },
      0,
    );
    const next = await h.store.deployLocks.acquire(MODEL, { version: 2, kind: 'promote', holder: 'next' });
    expect(next).toMatchObject({ version: 2, holder: 'next' });
    expect(next.lockId).not.toBe(stale.lockId);
    await expect(
      h.store.deployLocks.acquire(MODEL, { version: 3, kind: 'rollback', holder: 'third' }),
    ).rejects.toMatchObject({ code: 'failed_precondition' });
  });
});
