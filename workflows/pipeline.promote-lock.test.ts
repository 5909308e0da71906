import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedRun, seedVersion } from '../web/testing/seed.ts';
import { type Outcome, PipelineHarness } from './test-support/pipeline-harness.ts';

// pipeline.yaml's promote action against the real control API, without training: it reads the
// one version and the champion (never a paged list), and a failed deploy frees the model the API
// took for it (deploy locks), leaving production where it was.
const MODEL = 'locked';
const message = (out: Outcome): string => (out as { error: { message: string } }).error?.message ?? '';

describe('pipeline.yaml promote action and the deploy lock', { timeout: 300_000 }, () => {
  let h: PipelineHarness;
  beforeAll(async () => {
    h = await PipelineHarness.open();
    // Versions whose files were never written: their deploys fail, which is the path under test.
    for (let i = 0; i < 2; i++)
      await seedVersion(h.store, await seedRun(h.store, { modelName: MODEL, status: 'succeeded' }), {});
    await h.store.models.setAlias(MODEL, 'production', 1, 'seeded');
  });
  afterAll(async () => {
    await h?.close();
  });

  const promote = (version: number) =>
    h.executeInput({ action: 'promote', modelName: MODEL, version, kind: 'promote' });

  it('an unknown version fails by name and frees the model', async () => {
    await h.store.deployLocks.acquire(MODEL, { version: 7, kind: 'promote', holder: 'test' });
    expect(message(await promote(7))).toBe(`model ${MODEL} has no version 7`);
    expect(await h.store.deployLocks.current(MODEL)).toBeNull();
  });

  it('a failed deploy names the champion it read, leaves production, and frees the model', async () => {
    await h.store.deployLocks.acquire(MODEL, { version: 2, kind: 'promote', holder: 'test' });
    expect(message(await promote(2))).toMatch(/^deploy of v2 failed: .*production unchanged \(still v1\)$/s);
    expect(await h.store.deployLocks.current(MODEL)).toBeNull();
    expect(await h.production(MODEL)).toBe(1);
  });
});
