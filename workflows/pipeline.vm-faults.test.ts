import { afterEach, describe, expect, it } from 'vitest';
import { executionName } from './connectors/index.ts';
import { type HarnessOptions, type Outcome, PipelineHarness } from './test-support/pipeline-harness.ts';

// The money-and-safety faults of the GPU VM on the strict twins (every connector call checked
// against Google's discovery documents): each ends terminal with a precise reason, no VM left
// and production untouched.
let h: PipelineHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const GATED = { GATE_MIN_MACRO_F1: '0.99' };
const LADDER = JSON.stringify([
  { gpuType: 'nvidia-l4', machineType: 'g2-standard-8', memoryGb: 24 },
  { gpuType: 'nvidia-tesla-t4', machineType: 'n1-standard-8', memoryGb: 16 },
  { gpuType: 'nvidia-tesla-a100', machineType: 'a2-highgpu-1g', memoryGb: 40 },
]);

async function scenario(options: HarnessOptions, params: Record<string, unknown> = {}) {
  h = await PipelineHarness.open(options);
  const run = await h.createRun('tickets', params);
  return { h, run };
}

async function expectTerminal(hh: PipelineHarness, runId: string, status: string, reason: RegExp) {
  const run = await hh.store.runs.get(runId);
  expect(run.status).toBe(status);
  expect(run.error).toMatch(reason);
  expect(hh.training.list()).toEqual([]);
  expect(await hh.production('tickets')).toBeNull();
  return run;
}

const message = (out: Outcome): string => (out as { error: { message: string } }).error?.message ?? '';

describe('pipeline.yaml: GPU VM faults', { timeout: 420_000 }, () => {
  it('a VM deleted by maxRunDuration is not taken for a preemption: failed, no second VM', async () => {
    const { h, run } = await scenario({ trainingFaults: { hang: true }, env: { MAX_RUN_SECONDS: '60' } });
    const out = await h.execute(run);
    expect(message(out)).toMatch(/deleted before the trainer finished.*no new VM was started/);
    await expectTerminal(h, run.runId, 'failed', /not a preemption|no Spot preemption on record/);
    expect(h.training.inserted).toHaveLength(1);
    expect(h.training.preempted).toEqual([]);
  });

  it('a delete that fails twice is retried: the run still ends gated and the VM is gone', async () => {
    const { h, run } = await scenario({ trainingFaults: { failDeletes: 2 }, env: GATED });
    const out = await h.execute(run);
    expect(out).toMatchObject({ result: { status: 'gated' } });
    await expectTerminal(h, run.runId, 'gated', /^gate: /);
  });

  it('an insert that fails after creating its VM: the VM is deleted, the run fails with the error', async () => {
    const { h, run } = await scenario({ trainingFaults: { insertFailsAfterCreate: true } });
    const out = await h.execute(run);
    expect(message(out)).toMatch(/^INTERNAL_ERROR: Internal error while creating/);
    await expectTerminal(h, run.runId, 'failed', /^INTERNAL_ERROR/);
    expect(h.training.inserted).toHaveLength(1);
  });

  it('a cancelled execution leaves its run and VM; the reaper fails the run and deletes the VM', async () => {
    const { h, run } = await scenario({ trainingFaults: { hang: true } });
    const cancel = new AbortController();
    const running = h.execute(run, { executionId: 'exec-cancelled', signal: cancel.signal });
    await h.waitForStatus(run.runId, 'training');
    cancel.abort();
    await running;
    expect(h.executions.state(executionName(h.env, 'exec-cancelled'))).toBe('CANCELLED');
    // Like Cloud Workflows, a cancelled execution runs no except block: the VM is still there.
    expect(h.training.list()).toHaveLength(1);
    expect((await h.store.runs.get(run.runId)).status).toBe('training');
    const reaped = await h.executeInput(
      { action: 'reap' },
      { realTime: true, env: { REAP_AFTER_SECONDS: '0' } },
    );
    expect(reaped).toMatchObject({ result: { reaped: [{ runId: run.runId, execution: 'CANCELLED' }] } });
    await expectTerminal(
      h,
      run.runId,
      'failed',
      /^reaped: the run was training for \d+ s with no live workflow execution \(exec-cancelled: CANCELLED\)$/,
    );
  });

  it('the reaper fails a run whose workflow execution never started (none recorded)', async () => {
    const { h, run } = await scenario({});
    const reaped = await h.executeInput(
      { action: 'reap' },
      { realTime: true, env: { REAP_AFTER_SECONDS: '0' } },
    );
    expect(reaped).toMatchObject({ result: { reaped: [{ runId: run.runId, execution: 'NONE' }] } });
    await expectTerminal(
      h,
      run.runId,
      'failed',
      /^reaped: the run was validating for \d+ s with no live workflow execution \(none recorded: NONE\)$/,
    );
  });

  it('the reaper leaves a run whose execution is still running alone', async () => {
    const { h, run } = await scenario({ trainingFaults: { hang: true }, env: { MAX_TRAIN_SECONDS: '300' } });
    const running = h.execute(run);
    await h.waitForStatus(run.runId, 'training');
    const reaped = await h.executeInput(
      { action: 'reap' },
      { realTime: true, env: { REAP_AFTER_SECONDS: '0' } },
    );
    expect(reaped).toEqual({ result: { reaped: [] } });
    expect(message(await running)).toMatch(/^training did not finish within 300 s/);
    await expectTerminal(h, run.runId, 'failed', /^training did not finish/);
  });

  it('GPU quota exceeded everywhere → failed naming the quota, not "no capacity"', async () => {
    const { h, run } = await scenario({
      trainingFaults: { quotaExceededZones: ['local1-a', 'local1-b', 'local1-c'] },
      env: { ALLOW_ON_DEMAND: 'false' },
    });
    const out = await h.execute(run);
    expect((out as { error: { tags: string[] } }).error.tags).toEqual(['PipelineError', 'QuotaError']);
    expect(message(out)).toMatch(
      /^GPU quota exceeded \(QUOTA_EXCEEDED\): Quota 'GPUS_ALL_REGIONS' exceeded\. .*request more GPU quota/,
    );
    await expectTerminal(h, run.runId, 'failed', /^GPU quota exceeded/);
  });

  it('capacity ladder: no L4 anywhere → the next GPU type with enough memory (T4 too small) on Spot', async () => {
    const { h, run } = await scenario({
      trainingFaults: { exhaustedMachineTypes: ['g2-standard-8'] },
      env: { ...GATED, GPU_LADDER: LADDER, MIN_GPU_MEMORY_GB: '20' },
    });
    const out = await h.execute(run);
    expect(out).toMatchObject({ result: { status: 'gated' } });
    const done = await expectTerminal(h, run.runId, 'gated', /^gate: /);
    expect(done.machine).toMatchObject({
      machineType: 'a2-highgpu-1g',
      gpuType: 'nvidia-tesla-a100',
      provisioningModel: 'SPOT',
    });
    expect(h.training.inserted.map((s) => s.body.machineType)).toEqual([
      'zones/local1-a/machineTypes/a2-highgpu-1g',
    ]);
  });

  it('no GPU on any rung of the ladder → failed listing every attempt, no VM', async () => {
    const { h, run } = await scenario({
      trainingFaults: { exhaustedMachineTypes: ['g2-standard-8', 'n1-standard-8', 'a2-highgpu-1g'] },
      env: { GPU_LADDER: LADDER, ALLOW_ON_DEMAND: 'false' },
    });
    const out = await h.execute(run);
    const attempts = JSON.parse(message(out).replace(/^no GPU capacity after 9 insert attempt\(s\): /, ''));
    expect(attempts).toHaveLength(9);
    expect(attempts[0]).toMatch(/^SPOT g2-standard-8 nvidia-l4 in local1-a: ZONE_RESOURCE_POOL_EXHAUSTED: /);
    expect(attempts[8]).toMatch(/^SPOT a2-highgpu-1g nvidia-tesla-a100 in local1-c: /);
    await expectTerminal(h, run.runId, 'failed', /^no GPU capacity after 9 insert attempt/);
  });

  it('a malformed GPU_LADDER fails the run at once naming the rung, before any VM', async () => {
    const { h, run } = await scenario({ env: { GPU_LADDER: '[{"gpuType": "nvidia-l4", "memoryGb": 24}]' } });
    const out = await h.execute(run);
    expect(message(out)).toBe(
      'GPU_LADDER[0] must be {gpuType: string, machineType: string, memoryGb: number}, got {"gpuType":"nvidia-l4","memoryGb":24}',
    );
    expect(h.training.inserted).toEqual([]);
    await expectTerminal(h, run.runId, 'failed', /^GPU_LADDER\[0\] must be/);
  });
});
