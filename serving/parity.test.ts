import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../shared/storage/index.ts';
import { loadModel } from './model/load-model.ts';
import { loadTokenizer } from './model/tokenizer.ts';
import { padBatch } from './predictor.ts';
import {
  FIXTURE_DIR,
  type InProcessServer,
  maxProbDiff,
  post,
  readGolden,
  type StagedModel,
  stageModel,
  startInProcess,
} from './testing/harness.ts';

// Golden vectors written by the Python trainer (training-image export.golden_vectors): the
// tokenizer.json ids and the fp32 ONNX probabilities Python computed for awkward texts
// (accents, emoji, CJK, a text far past maxLength, "?", whitespace).
const golden = readGolden();

describe('parity with the Python trainer', () => {
  const tokenizer = loadTokenizer(JSON.parse(readFileSync(join(FIXTURE_DIR, 'tokenizer.json'), 'utf8')));

  it.each(golden.cases.map((c) => [c.text.slice(0, 40), c] as const))(
    'token ids equal Python for %j',
    (_name, c) => {
      expect(tokenizer.truncate(tokenizer.encode(c.text), golden.maxLength)).toEqual(c.inputIds);
    },
  );

  it('covers a text longer than maxLength, so truncation is checked too', () => {
    expect(golden.cases.some((c) => tokenizer.encode(c.text).length > golden.maxLength)).toBe(true);
  });

  it(`raw logits from the onnxruntime-node session match Python's within ${golden.tolerance}, alone and padded in one batch`, async () => {
    const staged = stageModel();
    const { store, bucket, name } = openStore(staged.modelUri, { home: staged.home });
    const model = await loadModel(
      { store, bucket, prefix: name, uri: staged.modelUri },
      { variant: 'fp32', threads: 1 },
    );
    try {
      for (const c of golden.cases) {
        const { logits } = await model.session.run(padBatch([c.inputIds], model.tokenizer.padId));
        const worst = Math.max(...c.logits.map((l, i) => Math.abs(l - logits[i]!)));
        expect(worst, c.text.slice(0, 40)).toBeLessThanOrEqual(golden.tolerance);
      }
      // All cases in one batch padded to the longest (64 tokens): padding must not leak into a row.
      const batch = await model.session.run(
        padBatch(
          golden.cases.map((c) => c.inputIds),
          model.tokenizer.padId,
        ),
      );
      for (const [row, c] of golden.cases.entries()) {
        const worst = Math.max(
          ...c.logits.map((l, i) => Math.abs(l - batch.logits[row * batch.numLabels + i]!)),
        );
        expect(worst, `padded: ${c.text.slice(0, 40)}`).toBeLessThanOrEqual(golden.tolerance);
      }
    } finally {
      await model.session.dispose();
      staged.cleanup();
    }
  });

  describe('over HTTP', () => {
    let staged: StagedModel;
    let server: InProcessServer;
    beforeAll(async () => {
      staged = stageModel();
      server = await startInProcess(staged);
    });
    afterAll(async () => {
      await server.close();
      staged.cleanup();
    });

    it(`predicted probabilities match Python within ${golden.tolerance}, one request per text`, async () => {
      for (const c of golden.cases) {
        const res = await post(`${server.url}/v1/models/${staged.modelName}:predict`, {
          instances: [c.text],
          parameters: { truncate: true },
        });
        expect(res.status).toBe(200);
        const prediction = (res.json.predictions as { label: string; scores: Record<string, number> }[])[0]!;
        expect(prediction.label).toBe(c.label);
        expect(
          maxProbDiff(prediction.scores, c.probs, golden.labels),
          c.text.slice(0, 40),
        ).toBeLessThanOrEqual(golden.tolerance);
      }
    });

    it('gives the same probabilities when every golden text is sent in one request', async () => {
      const res = await post(`${server.url}/v1/models/${staged.modelName}:predict`, {
        instances: golden.cases.map((c) => ({ text: c.text })),
        parameters: { truncate: true },
      });
      expect(res.status).toBe(200);
      const predictions = res.json.predictions as { scores: Record<string, number> }[];
      for (const [row, c] of golden.cases.entries()) {
        expect(maxProbDiff(predictions[row]!.scores, c.probs, golden.labels)).toBeLessThanOrEqual(
          golden.tolerance,
        );
      }
    });
  });
});
