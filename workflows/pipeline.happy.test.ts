import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelSettings } from '../shared/contracts/model-settings.ts';
import { PipelineHarness } from './test-support/pipeline-harness.ts';

// pipeline.yaml on the local runtime with the real control API, trainer and prediction service.
// The tests share one model, in order: v1 goes to production, then a gated challenger (v2) and
// a failed deploy (v3) must leave v1 serving.
describe.sequential('pipeline.yaml end to end', { timeout: 180_000 }, () => {
  let h: PipelineHarness;
  let url = '';
  let firstRun: Awaited<ReturnType<PipelineHarness['createRun']>>;

  beforeAll(async () => {
    h = await PipelineHarness.open();
  });
  afterAll(async () => {
    await h?.close();
  });

  const predict = async (text: string) => {
    const res = await fetch(`${url}/v1/models/tickets:predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ instances: [text] }),
    });
    return {
      status: res.status,
      body: (await res.json()) as {
        predictions: { label: string; scores: Record<string, number> }[];
        model: { name: string; version: number };
      },
    };
  };

  it('CSV → run succeeded → prediction answered by the local serving URL', async () => {
    firstRun = await h.createRun('tickets');
    const out = await h.execute(firstRun);
    expect(out).toHaveProperty('result');
    const result = (out as { result: Record<string, unknown> }).result;
    expect(result).toMatchObject({
      runId: firstRun.runId,
      status: 'succeeded',
      version: 1,
      modelUri: 'file://models/models/tickets/v1/',
    });
    url = result.url as string;

    const run = await h.store.runs.get(firstRun.runId);
    expect(run.status).toBe('succeeded');
    expect(run.error).toBeNull();
    expect(run.version).toBe(1);
    expect(run.costEstimate).toBeGreaterThan(0);
    expect(run.machine).toMatchObject({
      provisioningModel: 'SPOT',
      zone: 'local1-a',
      preemptions: 0,
      machineType: 'g2-standard-8',
    });
    expect((await h.store.runs.history(run.runId)).map((s) => s.toStatus)).toEqual([
      'queued',
      'validating',
      'provisioning',
      'training',
      'registering',
      'deploying',
      'succeeded',
    ]);
    expect(await h.production('tickets')).toBe(1);
    const deployments = await h.store.models.deployments('tickets');
    expect(deployments.map((d) => [d.version, d.url])).toEqual([[1, url]]);
    expect(h.training.list()).toEqual([]);

    // What was asked of Cloud Run: predict-<model> pinned to v1, its own service account, scaling.
    const service = h.serving.get('projects/local-project/locations/local1/services/predict-tickets');
    expect(service?.env).toEqual({ MODEL_URI: 'file://models/models/tickets/v1/' });
    expect(service?.body).toMatchObject({
      labels: { 'droptune-model': 'tickets', 'droptune-version': 'v1' },
      template: {
        serviceAccount: 'serving@local-project.iam.gserviceaccount.com',
        maxInstanceRequestConcurrency: 80,
        scaling: { minInstanceCount: 0, maxInstanceCount: 3 },
        containers: [{ image: 'droptune-serving:local', startupProbe: { httpGet: { path: '/readyz' } } }],
      },
    });

    const { status, body } = await predict('my invoice shows a wrong refund');
    expect(status).toBe(200);
    expect(body.model).toMatchObject({ name: 'tickets', version: 1 });
    expect(['billing', 'shipping', 'technical']).toContain(body.predictions[0]?.label);
  });

  it('a second execution for the same run is a no-op', async () => {
    const out = await h.execute(firstRun, { executionId: 'exec-again' });
    expect(out).toEqual({
      result: {
        runId: firstRun.runId,
        status: 'succeeded',
        skipped: true,
        reason: 'run is already succeeded; nothing to do',
      },
    });
    expect((await h.store.models.versions('tickets')).length).toBe(1);
    expect(h.training.list()).toEqual([]);
  });

  it('gate: a challenger not better than the champion by the margin ends gated with both scores; production untouched', async () => {
    // The tiny data holds 6 validation rows: below the default gate.minRows the trainer would
    // refuse to compare (and hold); one row is enough to compare here.
    const run = await h.createRun('tickets', { gate: { minRows: 1 } });
    // A margin of -0.5 demands the challenger beat the champion by 0.5 on the same split.
    const out = await h.execute(run, { env: { GATE_MAX_REGRESSION: '-0.5' } });
    expect(out).toMatchObject({ result: { status: 'gated', version: 2 } });
    const gate = (out as { result: { gate: Record<string, unknown> } }).result.gate;
    expect(gate).toMatchObject({ promote: false, metric: 'macro_f1', championVersion: 1 });
    expect(typeof gate.challenger).toBe('number');
    expect(typeof gate.champion).toBe('number');
    const stored = await h.store.runs.get(run.runId);
    expect(stored.status).toBe('gated');
    expect(stored.error).toMatch(
      /^gate: challenger macro_f1 [\d.]+ is worse than champion v1 [\d.]+ by more than gate\.maxRegression -0\.5$/,
    );
    expect(await h.production('tickets')).toBe(1);
    expect(h.training.list()).toEqual([]);
  });

  it('a failed deploy leaves the previous revision serving and production unchanged', async () => {
    h.serving.failNextDeploys(1);
    const run = await h.createRun('tickets', { gate: { minRows: 1 } });
    const out = await h.execute(run);
    expect(out).toHaveProperty('error');
    const message = (out as { error: { message: string } }).error.message;
    expect(message).toMatch(
      /^deploy of v3 failed: Revision 'predict-tickets-00002' is not ready and cannot serve traffic.*; production unchanged \(still v1\)$/s,
    );
    const stored = await h.store.runs.get(run.runId);
    expect(stored.status).toBe('failed');
    expect(stored.error).toBe(message);
    expect(await h.production('tickets')).toBe(1);
    expect(h.training.list()).toEqual([]);
    const { status, body } = await predict('the parcel never arrived');
    expect(status).toBe(200);
    expect(body.model.version).toBe(1);
  });
  it('droptune.json settings reach the trainer and the gate under their own names', async () => {
    // Parsed by the same schema the trigger applies to droptune.json; the harness's tiny base model stays.
    const { baseModel: _, ...settings } = ModelSettings.parse({
      epochs: 2,
      learningRate: 0.003,
      maxLength: 32,
      earlyStoppingPatience: 0,
      quantize: false,
      maxSteps: 3,
      gate: { minAccuracy: 0, minMacroF1: 0.99 },
    });
    const run = await h.createRun('tickets', settings);
    const out = await h.execute(run);
    // The version number depends on the tests before; the decision and its reason do not.
    expect(out).toMatchObject({ result: { status: 'gated' } });
    const gate = (out as { result: { gate: Record<string, unknown> } }).result.gate;
    expect(gate).toMatchObject({ promote: false, minAccuracy: 0, minMacroF1: 0.99 });
    expect((await h.store.runs.get(run.runId)).error).toMatch(
      /^gate: macro_f1 [\d.]+ is below gate\.minMacroF1 0\.99$/,
    );
    const metrics = JSON.parse(
      (await h.objects.read('models', `runs/${run.runId}/metrics.json`)).toString('utf8'),
    );
    expect(metrics.params).toMatchObject({ maxSteps: 3, gate: { minAccuracy: 0, minMacroF1: 0.99 } });
    expect(metrics.train.steps).toBeLessThanOrEqual(3);
    expect(await h.production('tickets')).toBe(1);
  });
});
