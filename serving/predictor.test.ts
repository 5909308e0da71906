import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAppError } from '../shared/errors.ts';
import { openStore } from '../shared/storage/index.ts';
import { loadModel, type ServedModel } from './model/load-model.ts';
import { Predictor, padBatch } from './predictor.ts';
import { readGolden, type StagedModel, stageModel } from './testing/harness.ts';

const golden = readGolden();

describe('Predictor', () => {
  let staged: StagedModel;
  let model: ServedModel;
  beforeAll(async () => {
    staged = stageModel();
    const { store, bucket, name } = openStore(staged.modelUri, { home: staged.home });
    model = await loadModel(
      { store, bucket, prefix: name, uri: staged.modelUri },
      { variant: 'fp32', threads: 1 },
    );
  });
  afterAll(async () => {
    await model.session.dispose();
    staged.cleanup();
  });

  it('checks queue capacity before tokenizing: a full queue answers 429 even for a text it would refuse', async () => {
    const predictor = new Predictor(model, { maxBatch: 1, maxBatchTokens: 512, maxWaitMs: 0, maxQueue: 2 });
    const running = predictor.predict(['first']); // runs at once
    const queued = predictor.predict(['second', 'third']); // fills the queue of 2
    const tooLong = 'word '.repeat(golden.maxLength * 4);
    const refused = await predictor.predict([tooLong], { truncate: false }).catch((e: unknown) => e);
    // Tokenizing first would have answered 400 (too long) and spent the CPU; capacity comes first.
    expect(isAppError(refused, 'resource_exhausted')).toBe(true);
    await Promise.all([running, queued]);
    const nowRefused = await predictor.predict([tooLong], { truncate: false }).catch((e: unknown) => e);
    expect(isAppError(nowRefused, 'invalid_argument')).toBe(true);
  });

  it('cuts a long text to the max length by default and marks that prediction truncated', async () => {
    const predictor = new Predictor(model, { maxBatch: 8, maxBatchTokens: 512, maxWaitMs: 0, maxQueue: 64 });
    const long = 'my parcel never arrived '.repeat(golden.maxLength);
    const [short, cut] = await predictor.predict(['my parcel never arrived', long]);
    expect(short).not.toHaveProperty('truncated');
    expect(cut!.truncated).toBe(true);
    const [alone] = await predictor.predict([long]);
    expect(alone).toEqual(cut);
  });
});

describe('padBatch', () => {
  it('pads to the longest row with the pad id and masks the padding, as int64', () => {
    const b = padBatch(
      [
        [101, 7, 102],
        [101, 70000, 9, 102],
      ],
      1,
    );
    expect(b).toMatchObject({ size: 2, seqLen: 4 });
    expect([...b.inputIds]).toEqual([101n, 7n, 102n, 1n, 101n, 70000n, 9n, 102n]);
    expect([...b.attentionMask]).toEqual([1n, 1n, 1n, 0n, 1n, 1n, 1n, 1n]);
    expect([...b.tokenTypeIds]).toEqual(Array(8).fill(0n));
  });
});
