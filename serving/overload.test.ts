import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type InProcessServer,
  post,
  type StagedModel,
  stageModel,
  startInProcess,
} from './testing/harness.ts';

describe('overload', () => {
  let staged: StagedModel;
  let server: InProcessServer;
  let predictUrl: string;
  beforeAll(async () => {
    staged = stageModel();
    server = await startInProcess(staged, { maxQueue: 16, maxBatch: 1 });
    predictUrl = `${server.url}/v1/models/${staged.modelName}:predict`;
  });
  afterAll(async () => {
    await server.close();
    staged.cleanup();
  });

  it('answers 429 with Retry-After once the queue is full, serves the rest, then recovers', async () => {
    const texts = Array.from(
      { length: 8 },
      (_, i) => `please refund order ${i} which arrived damaged and late`,
    );
    const burst = await Promise.all(
      Array.from({ length: 200 }, () => post(predictUrl, { instances: texts })),
    );
    const rejected = burst.filter((r) => r.status === 429);
    const served = burst.filter((r) => r.status === 200);
    expect(rejected.length).toBeGreaterThan(0);
    expect(served.length).toBeGreaterThan(0);
    expect(rejected.length + served.length).toBe(200);
    for (const r of rejected) {
      expect(Number(r.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(r.json.error?.code).toBe('resource_exhausted');
      expect(r.json.error?.message).toMatch(/at capacity \(\d+ queued of 16\)/);
    }
    // The queue drained: the next requests are served, and the queue gauge is back to zero.
    for (let i = 0; i < 3; i++) expect((await post(predictUrl, { instances: texts })).status).toBe(200);
    expect(await (await fetch(`${server.url}/metrics`)).text()).toContain('droptune_queue_depth 0');
  });

  it('rejects a request that could never fit the queue with 400 stating the limit, not 429', async () => {
    const res = await post(predictUrl, { instances: Array.from({ length: 17 }, () => 'x') });
    expect(res.status).toBe(400);
    expect(res.json.error?.message).toBe(
      'instances: 17 texts can never fit the queue of 16; send at most 16',
    );
  });
});
