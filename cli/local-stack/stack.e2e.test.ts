/**
 * The whole pipeline on one machine, end to end, with real parts only: embedded PostgreSQL,
 * file:// buckets, the bucket watcher's CloudEvents, onDatasetUploaded, pipeline.yaml on the
 * local Workflows runtime, the Python trainer as a child process (a tiny random BERT so it
 * trains in seconds on a CPU), the serving process, and the `droptune` CLI as a child process.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Run } from '../../shared/store/index.ts';
import { makeTinyModelAndData } from '../../test/tiny-model.ts';
import { type LocalStack, startLocalStack } from './stack.ts';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const work = mkdtempSync(join(tmpdir(), 'droptune-e2e-'));
let stack: LocalStack;
let tinyBert: string;
let trainCsv: string;

/** Easy held-out texts: one keyword-laden sentence per class of the synthetic data. */
const EASY = [
  { text: 'my invoice and the refund problem', label: 'billing' },
  { text: 'my parcel and the courier problem', label: 'shipping' },
  { text: 'my crash and the error problem', label: 'technical' },
];

/** Runs the real CLI as a child process (async: the stack it talks to lives in this process). */
function cli(args: string[]): Promise<{ stdout: string; status: number }> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [join(REPO, 'cli', 'bin.js'), '--home', stack.home, ...args],
      { encoding: 'utf8', timeout: 300_000 },
      (err, stdout) => done({ stdout, status: err ? ((err as { code?: number }).code ?? 1) : 0 }),
    );
  });
}

async function waitForRun(predicate: (runs: Run[]) => Run | undefined, timeoutMs = 600_000): Promise<Run> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const found = predicate(await stack.store.runs.list({ limit: 100 }));
    if (found) return found;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error('timed out waiting for a run');
}

const terminal = (r: Run) => ['succeeded', 'failed', 'rejected', 'gated', 'cancelled'].includes(r.status);

async function predict(url: string, texts: string[]) {
  const res = await fetch(`${url}/v1/models/e2e-tickets:predict`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ instances: texts }),
  });
  return (await res.json()) as { predictions: Array<{ label: string }>; model: { version: number } };
}

beforeAll(async () => {
  ({ bert: tinyBert, csv: trainCsv } = makeTinyModelAndData(work, 80));
  stack = await startLocalStack({
    home: join(work, 'home'),
    port: 0,
    pipelineEnv: { GATE_MIN_ACCURACY: '0', GATE_MIN_MACRO_F1: '0.5' },
  });
  await stack.store.runs.list(); // the database answers
  const settings = {
    baseModel: tinyBert,
    epochs: 6,
    batchSize: 16,
    learningRate: 3e-3,
    maxLength: 64,
    seed: 7,
  };
  await (await import('../../shared/storage/index.ts'))
    .storeFor('file', { home: stack.home })
    .write('datasets', 'e2e-tickets/droptune.json', JSON.stringify(settings));
}, 300_000);

afterAll(async () => {
  await stack?.stop();
}, 120_000);

describe('the local stack', () => {
  let first: Run;

  it('turns a dropped CSV into a succeeded run whose prediction URL answers with the right labels', async () => {
    const objects = (await import('../../shared/storage/index.ts')).storeFor('file', { home: stack.home });
    await objects.write('datasets', 'e2e-tickets/train.csv', readFileSync(trainCsv));
    first = await waitForRun((runs) => runs.find((r) => r.modelName === 'e2e-tickets' && terminal(r)));
    expect(first.error).toBeNull();
    expect(first.status).toBe('succeeded');
    expect(first.version).toBe(1);

    const models = JSON.parse((await cli(['--json', 'models'])).stdout) as Array<{
      modelName: string;
      productionVersion: number;
      url: string;
    }>;
    const model = models.find((m) => m.modelName === 'e2e-tickets')!;
    expect(model.productionVersion).toBe(1);
    const body = await predict(
      model.url,
      EASY.map((e) => e.text),
    );
    expect(body.predictions.map((p) => p.label)).toEqual(EASY.map((e) => e.label));
    expect(body.model.version).toBe(1);

    const viaCli = JSON.parse((await cli(['--json', 'predict', 'e2e-tickets', EASY[0]!.text])).stdout) as {
      predictions: Array<{ label: string }>;
    };
    expect(viaCli.predictions[0]!.label).toBe('billing');
    const shown = JSON.parse((await cli(['--json', 'run', first.runId])).stdout) as Record<string, unknown>;
    expect(shown).toMatchObject({
      runId: first.runId,
      modelName: 'e2e-tickets',
      status: 'succeeded',
      error: null,
    });
    expect(shown.metrics).toBeTypeOf('object');
    // The trainer reached the API with ID tokens from the metadata-server twin (no static token).
    const trainLoss = await stack.store.metrics.list(first.runId, { key: 'train_loss' });
    expect(trainLoss.length).toBeGreaterThan(0);
  }, 900_000);

  it('starts no second run when the same upload event is delivered again', async () => {
    const before = (await stack.store.runs.list({ modelName: 'e2e-tickets' })).length;
    const res = await fetch(stack.functionsUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'ce-specversion': '1.0',
        'ce-id': 'redelivery-1',
        'ce-type': 'google.cloud.storage.object.v1.finalized',
        'ce-source': '//storage.googleapis.com/projects/_/buckets/datasets',
      },
      body: JSON.stringify({
        bucket: 'datasets',
        name: 'e2e-tickets/train.csv',
        generation: first.datasetGeneration,
      }),
    });
    // The framework answers once the handler has finished, so the duplicate's outcome is settled.
    expect(res.status).toBe(204);
    expect((await stack.store.runs.list({ modelName: 'e2e-tickets' })).length).toBe(before);
  });

  it('rejects a bad CSV with its precise message and starts no trainer', async () => {
    const objects = (await import('../../shared/storage/index.ts')).storeFor('file', { home: stack.home });
    const trainersBefore = stack.training.list().length;
    await objects.write(
      'datasets',
      'e2e-bad/one-class.csv',
      'text,label\n' + 'hello there,greeting\n'.repeat(50),
    );
    const run = await waitForRun((runs) => runs.find((r) => r.modelName === 'e2e-bad' && terminal(r)));
    expect(run.status).toBe('rejected');
    expect(run.error).toMatch(/class/i);
    expect(stack.training.list().length).toBe(trainersBefore);
    const shown = await cli(['--json', 'run', run.runId]);
    expect(JSON.parse(shown.stdout)).toMatchObject({ status: 'rejected', error: run.error });
  });

  it('switches what the URL serves on promote and rollback', async () => {
    const objects = (await import('../../shared/storage/index.ts')).storeFor('file', { home: stack.home });
    // The tiny data holds a handful of validation rows: below the default gate.minRows the
    // trainer would refuse to compare with v1 and hold; one row is enough to compare here.
    await objects.write('datasets', 'e2e-tickets/droptune.json', JSON.stringify({ gate: { minRows: 1 } }));
    await objects.write('datasets', 'e2e-tickets/train-2.csv', readFileSync(trainCsv));
    const second = await waitForRun((runs) =>
      runs.find((r) => r.modelName === 'e2e-tickets' && r.datasetUri.endsWith('train-2.csv') && terminal(r)),
    );
    expect(second.status).toBe('succeeded');
    expect(second.version).toBe(2);
    const url = async () =>
      (
        JSON.parse((await cli(['--json', 'models'])).stdout) as Array<{ modelName: string; url: string }>
      ).find((m) => m.modelName === 'e2e-tickets')!.url;
    expect((await predict(await url(), [EASY[0]!.text])).model.version).toBe(2);

    const back = await cli(['--json', 'rollback', 'e2e-tickets']);
    expect(back.status).toBe(0);
    expect(JSON.parse(back.stdout)).toMatchObject({ version: 1, previousVersion: 2 });
    expect((await predict(await url(), [EASY[0]!.text])).model.version).toBe(1);

    const forward = await cli(['--json', 'promote', 'e2e-tickets', '2']);
    expect(forward.status).toBe(0);
    expect((await predict(await url(), [EASY[0]!.text])).model.version).toBe(2);
  }, 900_000);
});
