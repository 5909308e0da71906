import { afterEach, describe, expect, it } from 'vitest';
import { PipelineHarness } from './test-support/pipeline-harness.ts';

// The trainer's identity under faults, on the cloud's code path: the trainer gets ID tokens from
// the metadata-server twin and the control API verifies them (functions/api/auth.ts). Every
// case ends terminal, with no VM left and production untouched (GATE_MIN_MACRO_F1 0.99 stops at `gated`).
let h: PipelineHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const GATED = { GATE_MIN_MACRO_F1: '0.99' };

async function expectGatedAndClean(hh: PipelineHarness, runId: string) {
  const run = await hh.store.runs.get(runId);
  expect(run.status).toBe('gated');
  expect(hh.training.list()).toEqual([]);
  expect(await hh.production('tickets')).toBeNull();
}

describe('pipeline.yaml with the trainer on ID tokens', { timeout: 180_000 }, () => {
  it('expired token → the API refuses it, the trainer fetches a fresh one and its metrics land', async () => {
    h = await PipelineHarness.open({ env: GATED });
    h.metadata.expireNext(1);
    const run = await h.createRun('tickets');
    const out = await h.execute(run);
    expect(out).toMatchObject({ result: { status: 'gated' } });
    await expectGatedAndClean(h, run.runId);
    const minted = h.metadata.minted;
    expect(minted.length).toBeGreaterThanOrEqual(2);
    expect(minted[0]!.expiresAt).toBeLessThan(Date.now() / 1000);
    expect(minted.every((t) => t.audience === h?.env.DROPTUNE_API_URL)).toBe(true);
    const losses = await h.store.metrics.list(run.runId, { key: 'train_loss' });
    expect(losses.length).toBeGreaterThan(0);
  });

  it('only expired tokens → every metrics batch is refused and the run still ends terminal', async () => {
    h = await PipelineHarness.open({ env: GATED });
    h.metadata.expireNext(10_000);
    const run = await h.createRun('tickets');
    const out = await h.execute(run);
    expect(out).toMatchObject({ result: { status: 'gated' } });
    await expectGatedAndClean(h, run.runId);
    expect(await h.store.metrics.list(run.runId, {})).toEqual([]);
  });
});
