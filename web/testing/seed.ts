/**
 * Test support: writes runs, metrics and model versions through the tracking store exactly as
 * the trigger, the trainer (via the API) and registration do, so the page reads real rows.
 */

import type pg from 'pg';
import type { RunStatus } from '../../shared/contracts/run-status.ts';
import type { MetricPoint, Run, TrackingStore } from '../../shared/store/index.ts';

const HAPPY: RunStatus[] = [
  'validating',
  'provisioning',
  'training',
  'registering',
  'deploying',
  'succeeded',
];

/** Statuses to walk through to reach `status` legally. */
export function pathTo(status: RunStatus): RunStatus[] {
  const i = HAPPY.indexOf(status);
  if (i >= 0) return HAPPY.slice(0, i + 1);
  if (status === 'rejected') return ['validating', 'rejected'];
  if (status === 'gated') return ['validating', 'provisioning', 'training', 'registering', 'gated'];
  if (status === 'failed') return ['validating', 'provisioning', 'training', 'failed'];
  return ['validating', 'provisioning', 'cancelled'];
}

export async function seedRun(
  store: TrackingStore,
  input: {
    modelName: string;
    status: RunStatus;
    fileName?: string;
    params?: Record<string, unknown>;
    error?: string;
    costEstimate?: number;
  },
): Promise<Run> {
  const run = await store.runs.create({
    modelName: input.modelName,
    datasetUri: `file://datasets/${input.modelName}/${input.fileName ?? 'train.csv'}`,
    datasetGeneration: '1',
    params: input.params ?? { epochs: 3, learningRate: 5e-5, batchSize: 16, maxLength: 128 },
  });
  const steps = pathTo(input.status);
  let last = run;
  for (const [i, s] of steps.entries()) {
    const final = i === steps.length - 1;
    last = await store.runs.transition(
      run.runId,
      s,
      final ? { error: input.error ?? null, costEstimate: input.costEstimate ?? null } : {},
      final ? input.error : undefined,
    );
  }
  return last;
}

/**
 * A training curve like the trainer logs: `train_loss` every step, and at each epoch end
 * `val_loss`, `val_accuracy`, `val_macro_f1`. `steps` train points over `epochs` epochs.
 */
export function curve(steps: number, epochs: number, quality = 0.9): MetricPoint[] {
  const points: MetricPoint[] = [];
  const perEpoch = Math.ceil(steps / epochs);
  for (let step = 1; step <= steps; step++) {
    const epoch = Math.ceil(step / perEpoch);
    const loss = 1.6 * Math.exp(-step / (steps / 3)) + 0.08 + 0.05 * Math.sin(step * 1.7);
    points.push({ key: 'train_loss', step, epoch, value: loss });
    if (step % perEpoch === 0 || step === steps) {
      const p = quality * (1 - Math.exp(-epoch));
      points.push({ key: 'val_loss', step, epoch, value: loss + 0.1 });
      points.push({ key: 'val_accuracy', step, epoch, value: p });
      points.push({ key: 'val_macro_f1', step, epoch, value: p - 0.03 });
    }
  }
  return points;
}

/** Appends in API-sized batches (the route takes at most 10,000 per request). */
export async function seedMetrics(store: TrackingStore, runId: string, points: MetricPoint[]): Promise<void> {
  for (let i = 0; i < points.length; i += 5000) await store.metrics.append(runId, points.slice(i, i + 5000));
}

/** Registers a version for a succeeded run (as registration does after copying the files). */
export async function seedVersion(
  store: TrackingStore,
  run: Run,
  metrics: Record<string, number>,
): Promise<number> {
  const { version } = await store.models.registerVersion(run.modelName, run.runId, async (v) => ({
    modelUri: `file://models/models/${run.modelName}/v${v}/`,
    metrics,
  }));
  return version.version;
}

/**
 * `n` finished or live runs in one statement (seeding 1,000 runs one transition at a time takes
 * minutes on the single-connection embedded database). Run i: model `models[i % len]`, status
 * `statuses[i % len]`, dataset `tickets-<i>.csv`, created i minutes ago.
 */
export async function seedManyRuns(
  pool: pg.Pool,
  n: number,
  models: string[],
  statuses: string[],
): Promise<void> {
  await pool.query(
    `insert into runs (run_id, model_name, dataset_uri, dataset_generation, params, status, error, cost_estimate,
                       created_at, updated_at, started_at, finished_at)
     select 'r-bulk' || lpad(i::text, 6, '0'),
            ($2::text[])[1 + i % array_length($2::text[], 1)],
            'file://datasets/' || ($2::text[])[1 + i % array_length($2::text[], 1)] || '/tickets-' || i || '.csv',
            '1', '{"epochs": 3}'::jsonb,
            ($3::text[])[1 + i % array_length($3::text[], 1)],
            case when ($3::text[])[1 + i % array_length($3::text[], 1)] = 'failed' then 'the trainer ran out of memory' end,
            case when i % 7 = 0 then 0.12 end,
            now() - make_interval(mins => i), now() - make_interval(mins => i),
            now() - make_interval(mins => i), now() - make_interval(mins => i) + interval '4 minutes'
     from generate_series(0, $1 - 1) as i`,
    [n, models, statuses],
  );
}
