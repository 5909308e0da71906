import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAppError } from '../../shared/errors.ts';
import { padBatch } from '../predictor.ts';
import { type ClassifierSession, createClassifierSession } from './onnx-session.ts';
import { createWorkerClassifierSession } from './session-worker.ts';

const FIXTURE = join(import.meta.dirname, '../fixtures/tiny-model');
const config = JSON.parse(readFileSync(join(FIXTURE, 'config.json'), 'utf8')) as {
  inputNames: string[];
  outputName: string;
};
const options = { threads: 1, inputNames: config.inputNames, outputName: config.outputName };
const modelBytes = () => readFileSync(join(FIXTURE, 'model.onnx'));
const batch = () =>
  padBatch(
    [
      [101, 2023, 2003, 102],
      [101, 7592, 102],
    ],
    0,
  );

describe('createWorkerClassifierSession', () => {
  let inWorker: ClassifierSession;
  let onMain: ClassifierSession;
  beforeAll(async () => {
    inWorker = await createWorkerClassifierSession(modelBytes(), options);
    onMain = await createClassifierSession(modelBytes(), options);
  });
  afterAll(async () => {
    await onMain.dispose();
  });

  it('gives the same logits as the session on the main thread, for overlapping runs in order', async () => {
    const expected = await onMain.run(batch());
    const runs = await Promise.all([
      inWorker.run(batch()),
      inWorker.run(padBatch([[101, 102]], 0)),
      inWorker.run(batch()),
    ]);
    expect(runs[0]!.numLabels).toBe(expected.numLabels);
    expect(Array.from(runs[0]!.logits)).toEqual(Array.from(expected.logits));
    expect(Array.from(runs[2]!.logits)).toEqual(Array.from(expected.logits));
    expect(runs[1]!.logits.length).toBe(expected.numLabels);
    expect(inWorker.inputNames).toEqual(expect.arrayContaining(config.inputNames));
  });

  it('takes a model that is a view into a larger buffer (copies it rather than detaching the rest)', async () => {
    const bytes = modelBytes();
    const padded = new Uint8Array(bytes.length + 16);
    padded.set(bytes, 8);
    const view = padded.subarray(8, 8 + bytes.length);
    const session = await createWorkerClassifierSession(view, options);
    expect(padded.byteLength).toBe(bytes.length + 16); // not detached
    const { logits } = await session.run(batch());
    expect(Array.from(logits)).toEqual(Array.from((await onMain.run(batch())).logits));
    await session.dispose();
  });

  it('refuses bytes that are not a model with failed_precondition', async () => {
    const err = await createWorkerClassifierSession(
      new TextEncoder().encode('not an onnx graph'),
      options,
    ).catch((e: unknown) => e);
    expect(isAppError(err, 'failed_precondition')).toBe(true);
    expect((err as Error).message).toMatch(/onnxruntime could not load the model/);
  });

  it('refuses a graph whose output config.json does not name', async () => {
    const err = await createWorkerClassifierSession(modelBytes(), { ...options, outputName: 'probs' }).catch(
      (e: unknown) => e,
    );
    expect(isAppError(err, 'failed_precondition')).toBe(true);
    expect((err as Error).message).toMatch(/no output "probs"/);
  });

  it('fails a run whose tensors do not fit the graph with a clear error and keeps serving', async () => {
    const bad = { ...batch(), seqLen: 3 }; // 2 × 3 dims over 2 × 4 values
    const err = await inWorker.run(bad).catch((e: unknown) => e);
    expect(isAppError(err, 'internal')).toBe(true);
    expect((err as Error).message).toMatch(/onnxruntime failed/);
    expect((await inWorker.run(batch())).logits.length).toBeGreaterThan(0);
  });

  it('after dispose a run is refused as unavailable', async () => {
    await inWorker.dispose();
    const err = await inWorker.run(batch()).catch((e: unknown) => e);
    expect(isAppError(err, 'unavailable')).toBe(true);
  });
});
