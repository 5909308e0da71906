import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadTokenizer } from './model/tokenizer.ts';
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

    it('gives the same probabilities when every golden text shares one padded batch', async () => {
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
