import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type HarnessOptions, type Outcome, PipelineHarness } from './test-support/pipeline-harness.ts';

// Fault injection on pipeline.yaml with the real control API, trainer and buckets. Every case
// must end with no VM left, a terminal run status with a precise reason, and production
// untouched (no deploy succeeds here: a high GATE_MIN_MACRO_F1 stops runs that train fine at `gated`).
let h: PipelineHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const GATED = { GATE_MIN_MACRO_F1: '0.99' };

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
const BELOW = /^gate: macro_f1 [\d.]+ is below gate\.minMacroF1 0\.99$/;

describe('pipeline.yaml under faults', { timeout: 420_000 }, () => {
  it('zone exhausted and quota exceeded → the next zone; ends gated with the scores', async () => {
    const { h, run } = await scenario({
      trainingFaults: { exhaustedZones: ['local1-a'], quotaExceededZones: ['local1-b'] },
      env: GATED,
    });
    const out = await h.execute(run);
    expect(out).toMatchObject({ result: { status: 'gated', version: 1 } });
    const done = await expectTerminal(h, run.runId, 'gated', BELOW);
    expect(done.machine).toMatchObject({ zone: 'local1-c', provisioningModel: 'SPOT' });
  });

  it('no Spot capacity and on-demand not allowed → failed naming every zone tried, no VM', async () => {
    const { h, run } = await scenario({
      trainingFaults: { spotUnavailable: true },
      env: { ALLOW_ON_DEMAND: 'false' },
    });
    const out = await h.execute(run);
    const attempts = JSON.parse(message(out).replace(/^no GPU capacity after 3 insert attempt\(s\): /, ''));
    expect(attempts).toEqual([
      expect.stringMatching(/^SPOT g2-standard-8 {2}in local1-a: ZONE_RESOURCE_POOL_EXHAUSTED: /),
      expect.stringMatching(/^SPOT g2-standard-8 {2}in local1-b: ZONE_RESOURCE_POOL_EXHAUSTED: /),
      expect.stringMatching(/^SPOT g2-standard-8 {2}in local1-c: ZONE_RESOURCE_POOL_EXHAUSTED: /),
    ]);
    await expectTerminal(h, run.runId, 'failed', /^no GPU capacity after 3 insert attempt/);
  });

  it('Spot preempted mid-training → resumed on-demand with the same output prefix', async () => {
    const { h, run } = await scenario(
      { trainingFaults: { preemptSpotAfterCheckpoint: true }, env: GATED },
      { epochs: 8 },
    );
    const out = await h.execute(run);
    expect(out).toMatchObject({ result: { status: 'gated' } });
    const done = await expectTerminal(h, run.runId, 'gated', BELOW);
    expect(h.training.preempted).toEqual([expect.stringMatching(/-0-1$/)]);
    expect(done.machine).toMatchObject({ provisioningModel: 'STANDARD', preemptions: 1 });
    const history = await h.store.runs.history(run.runId);
    expect(history.map((s) => s.toStatus)).toEqual([
      'queued',
      'validating',
      'provisioning',
      'training',
      'provisioning',
      'training',
      'registering',
      'gated',
    ]);
    expect(history[4]?.reason).toMatch(
      /preempted \(1\); resuming from the checkpoints in file:\/\/models\/runs\//,
    );
    // Both VMs wrote into the one run prefix; the manifest names the run.
    const manifest = JSON.parse(
      (await h.objects.read('models', `runs/${run.runId}/manifest.json`)).toString(),
    );
    expect(manifest.runId).toBe(run.runId);
  });

  it('trainer exits non-zero without writing anything → failed with the VM state', async () => {
    const { h, run } = await scenario({
      trainingFaults: { crashWithExitCode: 3 },
      env: { GPU_TYPE: 'nvidia-l4' },
    });
    const out = await h.execute(run);
    expect(message(out)).toMatch(
      /^trainer exited without writing manifest\.json or failure\.json \(VM droptune-r-[0-9a-f]+-0-1 TERMINATED\)$/,
    );
    await expectTerminal(h, run.runId, 'failed', /^trainer exited without writing manifest\.json/);
    // What was asked of Compute Engine: Spot that deletes itself, a deadline, no external IP,
    // Shielded VM, the dedicated service account, the trainer environment in metadata.
    const [spec] = h.training.inserted;
    expect(spec?.provisioningModel).toBe('SPOT');
    expect(spec?.maxRunDurationSeconds).toBe(14400);
    expect(spec?.body).toMatchObject({
      machineType: 'zones/local1-a/machineTypes/g2-standard-8',
      guestAccelerators: [],
      scheduling: {
        provisioningModel: 'SPOT',
        instanceTerminationAction: 'DELETE',
        onHostMaintenance: 'TERMINATE',
        automaticRestart: false,
      },
      shieldedInstanceConfig: { enableVtpm: true, enableIntegrityMonitoring: true },
      serviceAccounts: [{ email: 'trainer@local-project.iam.gserviceaccount.com' }],
      networkInterfaces: [{ subnetwork: 'regions/local1/subnetworks/default' }],
      labels: { 'droptune-model': 'tickets', 'droptune-run': run.runId },
      // A current Deep Learning VM family whose driver (580) runs the trainer's CUDA 13 wheels,
      // on a disk type every machine series of the ladder accepts (G2 refuses pd-standard).
      disks: [
        {
          boot: true,
          autoDelete: true,
          initializeParams: {
            sourceImage:
              'projects/deeplearning-platform-release/global/images/family/common-cu129-ubuntu-2404-nvidia-580',
            diskType: 'zones/local1-a/diskTypes/pd-balanced',
          },
        },
      ],
    });
    const items =
      (spec?.body.metadata as { items?: { key: string; value: string }[] } | undefined)?.items ?? [];
    const script = items.find((i) => i.key === 'startup-script')?.value ?? '';
    // The driver install finishes before the container starts; the container gets SIGTERM and
    // 25 s of the 30 s Spot notice; the VM deletes itself when the trainer ends.
    expect(script.indexOf('nvidia-smi')).toBeLessThan(script.indexOf('docker run'));
    expect(script).toMatch(/docker run --rm --gpus all --stop-timeout 25 /);
    // A GPU VM that comes up without CUDA fails the run with the reason, never trains on its CPU.
    expect(script).toMatch(/-e DROPTUNE_REQUIRE_GPU=true "\$IMAGE"/);
    expect(script).toMatch(/gcloud compute instances delete "\$NAME" --zone "\$ZONE" --quiet/);
    expect(spec?.body.networkInterfaces).toEqual([{ subnetwork: 'regions/local1/subnetworks/default' }]);
    expect(spec?.env).toMatchObject({
      DROPTUNE_RUN_ID: run.runId,
      DROPTUNE_MODEL_NAME: 'tickets',
      DROPTUNE_DATASET_URI: 'file://datasets/tickets/train.csv',
      DROPTUNE_OUTPUT_URI: `file://models/runs/${run.runId}/`,
      DROPTUNE_API_URL: h.apiUrl,
      DROPTUNE_CHAMPION_URI: '',
    });
    expect(JSON.parse(spec?.env.DROPTUNE_PARAMS ?? '{}')).toMatchObject({ epochs: 2, maxLength: 32 });
  });

  it('trainer reports a failure (bad hyper-parameter) → failed with its code and message', async () => {
    const { h, run } = await scenario(
      { env: { MACHINE_TYPE: 'n1-standard-8', GPU_TYPE: 'nvidia-tesla-t4' } },
      { bogusKnob: 1 },
    );
    const out = await h.execute(run);
    expect(h.training.inserted[0]?.body.guestAccelerators).toEqual([
      { acceleratorType: 'zones/local1-a/acceleratorTypes/nvidia-tesla-t4', acceleratorCount: 1 },
    ]);
    expect(message(out)).toMatch(
      /^trainer failed \(invalid_argument\): DROPTUNE_PARAMS has unknown key\(s\): bogusKnob/,
    );
    await expectTerminal(h, run.runId, 'failed', /^trainer failed \(invalid_argument\)/);
  });

  it('trainer hangs past MAX_TRAIN_SECONDS → failed timeout, VM deleted', async () => {
    const { h, run } = await scenario({ trainingFaults: { hang: true }, env: { MAX_TRAIN_SECONDS: '120' } });
    const out = await h.execute(run);
    expect(message(out)).toBe('training did not finish within 120 s (MAX_TRAIN_SECONDS); VM deleted');
    await expectTerminal(h, run.runId, 'failed', /^training did not finish within 120 s/);
  });

  it('register finds a checksum mismatch → failed, nothing registered', async () => {
    const { h, run } = await scenario({ trainingFaults: { corruptOutputFile: 'model.onnx' } });
    const out = await h.execute(run);
    expect(message(out)).toMatch(
      /^registration rejected \(failed_precondition\): model\.onnx: the manifest says \d+ bytes, the object has \d+$/,
    );
    await expectTerminal(h, run.runId, 'failed', /^registration rejected/);
    expect(await h.store.models.versions('tickets')).toEqual([]);
  });

  it('control API briefly down during training → retried, the run still ends in its terminal status', async () => {
    const { h, run } = await scenario({ env: GATED });
    const running = h.execute(run);
    await h.waitForStatus(run.runId, 'training');
    await h.outage(600);
    expect(await running).toMatchObject({ result: { status: 'gated' } });
    expect(h.refusedConnections).toBeGreaterThan(0);
    await expectTerminal(h, run.runId, 'gated', BELOW);
  });

  it('the same run started by two executions at once → exactly one trains', async () => {
    const { h, run } = await scenario({ env: GATED });
    const [a, b] = await Promise.all([
      h.execute(run, { executionId: 'exec-a' }),
      h.execute(run, { executionId: 'exec-b' }),
    ]);
    const results = [a, b].map((o) => (o as { result: Record<string, unknown> }).result);
    expect(results.filter((r) => r?.skipped === true)).toHaveLength(1);
    expect(results.filter((r) => r?.status === 'gated')).toHaveLength(1);
    const done = await expectTerminal(h, run.runId, 'gated', BELOW);
    expect(done.executionId).toBe(results[0]?.skipped ? 'exec-b' : 'exec-a');
    expect(readdirSync(join(h.home, 'logs', 'training'))).toHaveLength(1);
  });

  it('operator cancels during training → the workflow deletes the VM and ends cancelled', async () => {
    const { h, run } = await scenario({ trainingFaults: { hang: true } });
    const running = h.execute(run);
    await h.waitForStatus(run.runId, 'training');
    const res = await fetch(`${h.apiUrl}/v1/runs/${run.runId}/cancel`, {
      method: 'POST',
      headers: { authorization: `Bearer ${h.token}` },
    });
    expect(res.status).toBe(200);
    expect(await running).toEqual({ result: { runId: run.runId, status: 'cancelled' } });
    await expectTerminal(h, run.runId, 'cancelled', /^cancelled by local$/);
  });
});
