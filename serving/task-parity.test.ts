import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LongTextConfig, Task } from '../shared/contracts/task.ts';
import { openStore } from '../shared/storage/index.ts';
import { loadModel, type ServedModel } from './model/load-model.ts';
import { Predictor } from './predictor.ts';
import {
  type InProcessServer,
  post,
  REPO_ROOT,
  type StagedModel,
  stageModel,
  startInProcess,
} from './testing/harness.ts';

/** `golden.json` of a per-task fixture, written by the trainer's export code (issue #17). */
interface TaskGolden {
  task: Task;
  maxLength: number;
  labels: string[];
  tolerance: number;
  longText: LongTextConfig;
  cases: {
    text: string;
    textPair?: string;
    windows: number[][];
    tokenTypeIds?: number[][];
    logits: number[];
    prediction: {
      label?: string;
      labels?: string[];
      scores?: Record<string, number>;
      value?: number;
      truncated?: boolean;
    };
  }[];
}

const FIXTURES = ['tiny-multilabel', 'tiny-pair', 'tiny-regression', 'tiny-chunk'].map((name) =>
  join(REPO_ROOT, 'serving/fixtures', name),
);

describe.each(FIXTURES.map((dir) => [dir.split('/').pop()!, dir] as const))(
  'parity with Python: %s',
  (_name, dir) => {
    const golden = JSON.parse(readFileSync(join(dir, 'golden.json'), 'utf8')) as TaskGolden;
    const instance = (c: TaskGolden['cases'][number]) =>
      c.textPair === undefined ? { text: c.text } : { text: c.text, textPair: c.textPair };
    let staged: StagedModel;
    let model: ServedModel;
    let predictor: Predictor;
    beforeAll(async () => {
      staged = stageModel(dir);
      const { store, bucket, name } = openStore(staged.modelUri, { home: staged.home });
      model = await loadModel(
        { store, bucket, prefix: name, uri: staged.modelUri },
        { variant: 'fp32', threads: 1 },
      );
      predictor = new Predictor(model, { maxBatch: 64, maxBatchTokens: 8192, maxWaitMs: 0, maxQueue: 256 });
    });
    afterAll(async () => {
      await model.session.dispose();
      staged.cleanup();
    });

    it('builds the same windows (token ids, and token type ids where the graph takes them) as Python', () => {
      expect(predictor.task).toBe(golden.task);
      for (const c of golden.cases) {
        const [encoded] = predictor.tokenize([instance(c)]);
        expect(
          encoded!.windows.map((w) => w.ids),
          c.text.slice(0, 40),
        ).toEqual(c.windows);
        if (c.tokenTypeIds) expect(encoded!.windows.map((w) => w.typeIds)).toEqual(c.tokenTypeIds);
        expect(encoded!.truncated).toBe(c.prediction.truncated === true);
      }
    });

    it('pools the raw outputs within the stated tolerance, all cases batched together', async () => {
      const encoded = predictor.tokenize(golden.cases.map(instance));
      const pooled = await predictor.pooledOutputs(encoded);
      for (const [i, c] of golden.cases.entries()) {
        const worst = Math.max(...c.logits.map((l, k) => Math.abs(l - pooled[i]![k]!)));
        expect(worst, c.text.slice(0, 40)).toBeLessThanOrEqual(golden.tolerance);
      }
    });

    describe('over HTTP', () => {
      let server: InProcessServer;
      beforeAll(async () => {
        server = await startInProcess(staged);
      });
      afterAll(async () => {
        await server.close();
      });

      it('serves the prediction Python computed (same labels / value / truncated, scores within tolerance)', async () => {
        const res = await post(`${server.url}/v1/models/${staged.modelName}:predict`, {
          instances: golden.cases.map((c) =>
            c.textPair === undefined ? c.text : { text: c.text, text_pair: c.textPair },
          ),
        });
        expect(res.status).toBe(200);
        const served = res.json.predictions as TaskGolden['cases'][number]['prediction'][];
        for (const [i, c] of golden.cases.entries()) {
          const want = c.prediction;
          const got = served[i]!;
          const what = c.text.slice(0, 40);
          expect(Object.keys(got).sort(), what).toEqual(Object.keys(want).sort());
          if (want.label !== undefined) expect(got.label, what).toBe(want.label);
          if (want.labels !== undefined) expect(got.labels, what).toEqual(want.labels);
          if (want.value !== undefined)
            expect(Math.abs(got.value! - want.value), what).toBeLessThanOrEqual(golden.tolerance);
          for (const [label, p] of Object.entries(want.scores ?? {}))
            expect(Math.abs(got.scores![label]! - p), `${what} ${label}`).toBeLessThanOrEqual(
              golden.tolerance,
            );
        }
      });
    });
  },
);
