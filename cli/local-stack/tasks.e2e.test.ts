/**
 * Every task through the whole local stack (issue #17's "done when"): a CSV dropped into the
 * datasets bucket is detected as its task, trained by the Python trainer (tiny random BERT),
 * registered, served, and the prediction URL answers in the task's shape. The data are the
 * trainer's easy synthetic fixtures, so each metric floor below is far from chance.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeFor } from '../../shared/storage/index.ts';
import type { Run } from '../../shared/store/index.ts';
import { makeTinyModelAndData, type TaskExample, writeTaskCsv } from '../../test/tiny-model.ts';
import { type LocalStack, startLocalStack } from './stack.ts';

const work = mkdtempSync(join(tmpdir(), 'droptune-tasks-e2e-'));
let stack: LocalStack;
let tinyBert: string;

const terminal = (r: Run) => ['succeeded', 'failed', 'rejected', 'gated', 'cancelled'].includes(r.status);

async function waitForRun(modelName: string, timeoutMs = 600_000): Promise<Run> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const run = (await stack.store.runs.list({ modelName, limit: 10 })).find(terminal);
    if (run) return run;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for the ${modelName} run`);
}

/** POSTs `instances` to the model's prediction URL (as `droptune models` lists it). */
async function predict(modelName: string, instances: unknown[]) {
  const { url } = await stack.api.model(modelName);
  const res = await fetch(`${url}/v1/models/${modelName}:predict`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ instances }),
  });
  const body = (await res.json()) as { predictions: Array<Record<string, unknown>> };
  expect(res.status, JSON.stringify(body)).toBe(200);
  return body.predictions;
}

/** The run's latest value of each metric (the trainer's headline metrics included). */
function latest(run: Awaited<ReturnType<LocalStack['api']['run']>>): Record<string, number> {
  return (run.metrics as { latest: Record<string, number> }).latest;
}

/** Drops `task`'s CSV (and droptune.json) under `modelName`, waits, and returns the run. */
async function drop(modelName: string, task: TaskExample, settings: Record<string, unknown> = {}) {
  const objects = storeFor('file', { home: stack.home });
  const base = { baseModel: tinyBert, epochs: 6, batchSize: 16, learningRate: 3e-3, maxLength: 64, seed: 7 };
  await objects.write('datasets', `${modelName}/droptune.json`, JSON.stringify({ ...base, ...settings }));
  const csv = writeTaskCsv(join(work, `${modelName}.csv`), task, 240, 3);
  await objects.write('datasets', `${modelName}/train.csv`, readFileSync(csv));
  const run = await waitForRun(modelName);
  expect(run.error).toBeNull();
  expect(run.status).toBe('succeeded');
  return stack.api.run(run.runId);
}

beforeAll(async () => {
  ({ bert: tinyBert } = makeTinyModelAndData(work, 10));
  stack = await startLocalStack({
    home: join(work, 'home'),
    port: 0,
    pipelineEnv: { GATE_MIN_ACCURACY: '0', GATE_MIN_MACRO_F1: '0' },
  });
}, 300_000);

afterAll(async () => {
  await stack?.stop();
}, 120_000);

describe('every task from drop to prediction URL', () => {
  it('pair: detected from text_pair, served {label, scores} for {text, text_pair}', async () => {
    // The path, not the quality: a tiny random BERT stays near chance at matching two texts in a
    // few epochs, and the pre-trained MiniLM took over 10 minutes here; pair learning is not
    // measured by this test (issue #17 says so).
    const run = await drop('e2e-pair', 'pair');
    expect(run.params.task).toBe('pair'); // detected by the validator, filled in by the trigger
    const [p] = await predict('e2e-pair', [
      { text: 'question about refund', text_pair: 'my invoice and the refund problem' },
    ]);
    expect(Object.keys(p!.scores as object).sort()).toEqual(['match', 'mismatch']);
    expect(['match', 'mismatch']).toContain(p!.label);
    expect(latest(run).accuracy).toBeTypeOf('number'); // scored on its validation pairs
  }, 900_000);

  it('classification with longText chunk: long texts pooled over windows', async () => {
    const run = await drop('e2e-chunk', 'chunk', { longText: 'chunk', chunkStride: 16, maxChunks: 4 });
    const long = Array.from({ length: 12 }, () => 'my parcel and the courier problem').join(' ');
    const [p] = await predict('e2e-chunk', [long]);
    expect(p).toHaveProperty('label');
    expect(latest(run).accuracy).toBeGreaterThan(0.6);
  }, 900_000);

  it('multilabel: detected from a labels column, served {labels, scores} with tuned thresholds', async () => {
    const run = await drop('e2e-multilabel', 'multilabel', { epochs: 10 });
    expect(run.params.task).toBe('multilabel');
    const [p] = await predict('e2e-multilabel', ['my invoice and the courier problem']);
    expect(Array.isArray(p!.labels)).toBe(true);
    expect(Object.keys(p!.scores as object).sort()).toEqual(['billing', 'shipping', 'technical']);
    // Predicting every class for every row scores about 0.6 micro-F1 on this data.
    expect(latest(run).micro_f1).toBeGreaterThan(0.75);
  }, 900_000);

  it("regression: detected from a numeric score column, served {value} in the score's units", async () => {
    const run = await drop('e2e-regression', 'regression', { epochs: 10 });
    expect(run.params.task).toBe('regression');
    const [high, low] = await predict('e2e-regression', [
      'great great great great great review',
      'bad bad bad bad bad review',
    ]);
    expect(typeof high!.value).toBe('number');
    expect(high!.value as number).toBeGreaterThan(low!.value as number);
    expect(latest(run).spearman).toBeGreaterThan(0.7);
  }, 900_000);
});
