/**
 * `npm run bench:workflow`: steps per second of the local Workflows runtime on a 100,000-step
 * loop (two loop shapes), against a baseline in the same run: the same work as a plain awaited
 * TypeScript loop (what the interpreter costs over hand-written code). Then (unless `--no-e2e`)
 * one local end-to-end run of pipeline.yaml (tiny model, real control API on embedded
 * PostgreSQL, real trainer and serving processes, real time) split by stage from the run's
 * status history. Writes bench/results/workflow.json in DESIGN.md's Benchmarks format.
 */
import { execSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { startEmbeddedPostgres } from '../shared/db/embedded.ts';
import { migrate } from '../shared/db/migrate.ts';
import { embeddedDatabase } from '../shared/db/pool.ts';
import { VirtualClock } from '../workflows/runtime/context.ts';
import { PipelineHarness } from '../workflows/test-support/pipeline-harness.ts';

type Row = {
  system: string;
  metric: string;
  value: number;
  unit: string;
  conditions: Record<string, unknown>;
};

/** One pipeline run on the local stack; stage times from the status history's timestamps. */
async function endToEnd(): Promise<Row[]> {
  const h = await PipelineHarness.open({
    realTime: true,
    env: { POLL_INITIAL_SECONDS: '1', POLL_MAX_SECONDS: '2' },
    openDb: async () => {
      const pg = await startEmbeddedPostgres();
      const db = embeddedDatabase(pg.url, 'memory', pg.stop);
      await migrate(db.pool);
      return db;
    },
  });
  try {
    const run = await h.createRun('bench');
    const t0 = performance.now();
    const out = await h.execute(run);
    const total = (performance.now() - t0) / 1000;
    if (!('result' in out) || out.result.status !== 'succeeded')
      throw new Error(`pipeline did not succeed: ${JSON.stringify(out)}`);
    const t1 = performance.now();
    const res = await fetch(`${out.result.url}/v1/models/bench:predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ instances: ['my parcel is late'] }),
    });
    if (res.status !== 200) throw new Error(`prediction failed: ${res.status} ${await res.text()}`);
    const predictMs = performance.now() - t1;
    const history = await h.store.runs.history(run.runId);
    const at = (s: string) => Date.parse(history.find((x) => x.toStatus === s)?.at ?? '');
    const stage = (from: string, to: string) => (at(to) - at(from)) / 1000;
    const conditions = { model: '2-layer 32-wide BERT, 60 rows, 2 epochs, CPU', polls: '1-2 s real time' };
    const row = (metric: string, value: number, unit = 's'): Row => ({
      system: 'droptune',
      metric,
      value: Number(value.toFixed(3)),
      unit,
      conditions,
    });
    return [
      row('e2e_total_s', total),
      row('stage_claim_and_provision_s', stage('provisioning', 'training')),
      row('stage_training_s', stage('training', 'registering')),
      row('stage_register_and_gate_s', stage('registering', 'deploying')),
      row('stage_deploy_s', stage('deploying', 'succeeded')),
      row('first_prediction_ms', predictMs, 'ms'),
    ];
  } finally {
    await h.close();
  }
}

import { Interpreter } from '../workflows/runtime/interpreter.ts';
import { loadWorkflow } from '../workflows/runtime/loader.ts';
import { buildLibrary } from '../workflows/runtime/stdlib/index.ts';

const STEPS = 100_000;

// Two steps per iteration (assign + switch/next): 50,000 iterations = 100,000 steps.
const JUMP_LOOP = `
main:
  params: [n]
  steps:
    - init:
        assign:
          - i: 0
          - acc: 0
    - body:
        assign:
          - i: \${i + 1}
          - acc: \${acc + i % 7}
    - again:
        switch:
          - condition: \${i < n}
            next: body
    - done:
        return: \${acc}
`;

// One step per iteration inside a for range.
const FOR_LOOP = `
main:
  params: [n]
  steps:
    - init:
        assign:
          - acc: 0
    - loop:
        for:
          value: i
          range: [1, '\${n}']
          steps:
            - add:
                assign:
                  - acc: \${acc + i % 7}
    - done:
        return: \${acc}
`;

async function timeWorkflow(
  source: string,
  n: number,
): Promise<{ steps: number; ms: number; result: unknown }> {
  const lib = buildLibrary();
  const program = loadWorkflow(source, lib);
  const interp = new Interpreter(program, lib, {
    clock: new VirtualClock(),
    maxSteps: Number.POSITIVE_INFINITY,
  });
  const t0 = performance.now();
  const result = await interp.run(BigInt(n));
  return { steps: interp.stepsExecuted, ms: performance.now() - t0, result };
}

async function plainLoop(n: number): Promise<{ ms: number; result: number }> {
  const step = async (i: number, acc: number): Promise<number> => acc + (i % 7);
  const t0 = performance.now();
  let acc = 0;
  for (let i = 1; i <= n; i++) acc = await step(i, acc);
  return { ms: performance.now() - t0, result: acc };
}

function machine(): string {
  const c = cpus();
  let gpu = 'none';
  try {
    gpu =
      execSync('nvidia-smi --query-gpu=name --format=csv,noheader', { stdio: ['ignore', 'pipe', 'ignore'] })
        .toString()
        .trim() || 'none';
  } catch {
    // no NVIDIA GPU
  }
  return `${c[0]?.model ?? 'unknown cpu'}, ${c.length} cores, gpu ${gpu}`;
}

async function main(): Promise<void> {
  // Warm up the JIT on a small run of each shape.
  await timeWorkflow(JUMP_LOOP, 5000);
  await timeWorkflow(FOR_LOOP, 5000);
  const best = async <T extends { ms: number }>(f: () => Promise<T>): Promise<T> => {
    let b: T | undefined;
    for (let r = 0; r < 3; r++) {
      const x = await f();
      if (!b || x.ms < b.ms) b = x;
    }
    return b as T;
  };
  const jump = await best(() => timeWorkflow(JUMP_LOOP, STEPS / 2));
  const forLoop = await best(() => timeWorkflow(FOR_LOOP, STEPS - 2));
  const plain = await best(() => plainLoop(STEPS));

  const expectedJump = Array.from({ length: STEPS / 2 }, (_, k) => (k + 1) % 7).reduce((a, b) => a + b, 0);
  if (Number(jump.result) !== expectedJump)
    throw new Error(`jump loop computed ${jump.result}, expected ${expectedJump}`);
  const jumpRate = (jump.steps / jump.ms) * 1000;
  const forRate = (forLoop.steps / forLoop.ms) * 1000;
  const plainRate = (STEPS / plain.ms) * 1000;

  const rows: Row[] = [
    {
      system: 'droptune',
      metric: 'steps_per_s',
      value: Math.round(jumpRate),
      unit: 'steps/s',
      conditions: { loop: 'assign + switch/next', steps: jump.steps },
    },
    {
      system: 'droptune',
      metric: 'steps_per_s_for_range',
      value: Math.round(forRate),
      unit: 'steps/s',
      conditions: { loop: 'for range, one assign step', steps: forLoop.steps },
    },
    {
      system: 'plain-typescript',
      metric: 'awaited_iterations_per_s',
      value: Math.round(plainRate),
      unit: 'iterations/s',
      conditions: { iterations: STEPS },
    },
  ];
  console.log('\nlocal Workflows runtime, 100,000-step loops');
  console.table(
    rows.map((r) => ({ system: r.system, metric: r.metric, value: r.value.toLocaleString(), unit: r.unit })),
  );
  const ratios: Record<string, number> = { plain_ts_over_runtime: Number((plainRate / jumpRate).toFixed(2)) };
  if (!process.argv.includes('--no-e2e')) {
    const e2e = await endToEnd();
    console.log('\npipeline.yaml end to end on the local stack (real time)');
    console.table(e2e.map((r) => ({ metric: r.metric, value: r.value, unit: r.unit })));
    rows.push(...e2e);
    const total = e2e.find((r) => r.metric === 'e2e_total_s')?.value ?? 0;
    const train = e2e.find((r) => r.metric === 'stage_training_s')?.value ?? 0;
    if (total > 0) ratios.training_share_of_e2e = Number((train / total).toFixed(2));
  }
  const out = {
    bench: 'workflow',
    machine: machine(),
    date: new Date().toISOString(),
    results: rows,
    ratios,
  };
  mkdirSync('bench/results', { recursive: true });
  writeFileSync('bench/results/workflow.json', `${JSON.stringify(out, null, 2)}\n`);
  console.log('wrote bench/results/workflow.json');
}

await main();
