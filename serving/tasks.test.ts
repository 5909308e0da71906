import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../shared/storage/index.ts';
import { loadModel, type ServedModel } from './model/load-model.ts';
import { loadTokenizer } from './model/tokenizer.ts';
import { Predictor, padBatch, sigmoid, softmax } from './predictor.ts';
import {
  FIXTURE_DIR,
  type InProcessServer,
  maxProbDiff,
  patchConfig,
  post,
  readGolden,
  type StagedModel,
  stageModel,
  startInProcess,
} from './testing/harness.ts';

// What serving does per task, on the trained tiny graph served under each task's config.json
// (the per-task parity with Python lives in the golden-vector tests of each fixture).
const golden = readGolden();
const tokenizerJson = JSON.parse(readFileSync(join(FIXTURE_DIR, 'tokenizer.json'), 'utf8'));
const OPTIONS = { maxBatch: 16, maxBatchTokens: 4096, maxWaitMs: 0, maxQueue: 64 };

async function load(staged: StagedModel): Promise<ServedModel> {
  const { store, bucket, name } = openStore(staged.modelUri, { home: staged.home });
  return loadModel({ store, bucket, prefix: name, uri: staged.modelUri }, { variant: 'fp32', threads: 1 });
}

/** Starts a server on the tiny graph with `patch` applied to its config.json. */
function served(patch: Record<string, unknown>) {
  const ctx = {} as {
    staged: StagedModel;
    server: InProcessServer;
    predict(body: unknown): ReturnType<typeof post>;
  };
  beforeAll(async () => {
    ctx.staged = stageModel();
    patchConfig(ctx.staged, patch);
    ctx.server = await startInProcess(ctx.staged);
    ctx.predict = (body) => post(`${ctx.server.url}/v1/models/${ctx.staged.modelName}:predict`, body);
  });
  afterAll(async () => {
    await ctx.server.close();
    ctx.staged.cleanup();
  });
  return ctx;
}

describe('multilabel: sigmoid per class and the tuned thresholds', () => {
  const thresholds = { billing: 0.5, shipping: 0.503, technical: 0.49 };
  const ctx = served({ task: 'multilabel', thresholds });

  it('scores are the sigmoid of the logits Python computed and labels those at or above their threshold', async () => {
    const res = await ctx.predict({ instances: golden.cases.map((c) => c.text) });
    expect(res.status).toBe(200);
    const predictions = res.json.predictions as { labels: string[]; scores: Record<string, number> }[];
    const seen = new Set<string>();
    for (const [row, c] of golden.cases.entries()) {
      const probs = c.logits.map(sigmoid);
      expect(maxProbDiff(predictions[row]!.scores, probs, golden.labels)).toBeLessThanOrEqual(
        golden.tolerance,
      );
      const expected = golden.labels.filter((l, i) => probs[i]! >= thresholds[l as keyof typeof thresholds]);
      expect(predictions[row]!.labels, c.text.slice(0, 30)).toEqual(expected);
      for (const l of expected) seen.add(l);
      expect(predictions[row]).not.toHaveProperty('label');
    }
    expect(seen.size).toBeGreaterThan(0);
  });

  it('refuses text_pair with a 400 naming the field, and says its task in the metadata', async () => {
    const res = await ctx.predict({ instances: ['ok', { text: 'a', text_pair: 'b' }] });
    expect(res.status).toBe(400);
    expect(res.json.error?.message).toMatch(/^instances\[1\]\.text_pair: .*multilabel model/);
    const meta = await (await fetch(`${ctx.server.url}/v1/models/${ctx.staged.modelName}`)).json();
    expect(meta).toMatchObject({ task: 'multilabel', thresholds });
  });

  it('V2 infer gives labels as a BOOL mask over the classes', async () => {
    const res = await post(`${ctx.server.url}/v2/models/${ctx.staged.modelName}/infer`, {
      inputs: [{ name: 'text', datatype: 'BYTES', shape: [1], data: [golden.cases[0]!.text] }],
    });
    expect(res.status).toBe(200);
    const outputs = res.json.outputs as { name: string; shape: number[]; data: unknown[] }[];
    expect(outputs.map((o) => o.name)).toEqual(['labels', 'probabilities', 'truncated']);
    const probs = golden.cases[0]!.logits.map(sigmoid);
    expect(outputs[0]).toMatchObject({
      shape: [1, 3],
      data: golden.labels.map((l, i) => probs[i]! >= thresholds[l as keyof typeof thresholds]),
    });
  });
});

describe('chunk: overlapping windows pooled by the mean of their logits', () => {
  const longText = { mode: 'chunk', stride: 4, maxChunks: 3 };
  const ctx = served({ longText });
  const tok = loadTokenizer(tokenizerJson);
  const width = golden.maxLength - 2;
  const step = width - longText.stride;
  const words = (n: number) =>
    // one token per word, so n words are n tokens
    Array.from({ length: n }, (_, i) => ['order', 'late', 'help', 'card'][i % 4]).join(' ');

  it('windows start every W − stride tokens, each [CLS] + W tokens + [SEP], until one reaches the end', async () => {
    const model = await load(ctx.staged);
    try {
      const predictor = new Predictor(model, OPTIONS);
      const text = words(100);
      const ids = tok.encodeText(text);
      expect(ids.length).toBe(100);
      const [encoded] = predictor.tokenize([text]);
      expect(encoded!.truncated).toBe(false);
      expect(encoded!.windows.map((w) => w.ids)).toEqual([
        [101, ...ids.slice(0, width), 102],
        [101, ...ids.slice(step, step + width), 102],
      ]);
      // The pooled prediction: each window run alone, logits averaged, then softmax.
      const rows: Float32Array[] = [];
      for (const w of encoded!.windows) rows.push((await model.session.run(padBatch([w.ids], 0))).logits);
      const mean = rows[0]!.map((_, k) => rows.reduce((sum, r) => sum + r[k]!, 0) / rows.length);
      const res = await ctx.predict({ instances: ['short one', text, words(7)] });
      expect(res.status).toBe(200);
      const prediction = (res.json.predictions as { scores: Record<string, number> }[])[1]!;
      expect(maxProbDiff(prediction.scores, [...softmax(mean, 0, 3)], golden.labels)).toBeLessThanOrEqual(
        1e-6,
      );
    } finally {
      await model.session.dispose();
    }
  });

  it('a text needing more than maxChunks windows is cut and says truncated; truncate: false refuses it', async () => {
    const long = words(width + 3 * step);
    const cut = await ctx.predict({ instances: [long] });
    expect((cut.json.predictions as { truncated?: boolean }[])[0]!.truncated).toBe(true);
    const fits = await ctx.predict({ instances: [words(width + 2 * step)] });
    expect(fits.json.predictions as object[]).not.toHaveProperty('0.truncated');
    const refused = await ctx.predict({ instances: ['ok', long], parameters: { truncate: false } });
    expect(refused.status).toBe(400);
    expect(refused.json.error?.message).toMatch(
      /^instances\[1\] is longer than the model's max length of 64 tokens × 3 windows/,
    );
  });

  it('a text within one window predicts exactly as Python did without chunking', async () => {
    const c = golden.cases[0]!;
    const res = await ctx.predict({ instances: [c.text] });
    const prediction = (res.json.predictions as { scores: Record<string, number> }[])[0]!;
    expect(maxProbDiff(prediction.scores, c.probs, golden.labels)).toBeLessThanOrEqual(golden.tolerance);
  });
});

describe('pair: the tokenizer pair template', () => {
  const ctx = served({ task: 'pair' });
  const library = new Tokenizer(tokenizerJson, {});

  it('lays out [CLS] a [SEP] b [SEP] with type ids 0 then 1, as tokenizer.json says', () => {
    const tok = loadTokenizer(tokenizerJson);
    for (const [a, b] of [
      ['is my parcel lost?', 'tracking shows it was delivered'],
      ['Café crème', '我的账户'],
    ] as const) {
      const expected = library.encode(a, { text_pair: b, return_token_type_ids: true });
      const got = tok.wrap(tok.encodeText(a), tok.encodeText(b));
      expect(got).toEqual({ ids: expected.ids, typeIds: expected.token_type_ids });
    }
    expect(tok.pairSpecials).toBe(3);
  });

  it('serves pairs, and refuses a bare text with a 400 naming instances[i].text_pair', async () => {
    const res = await ctx.predict({ instances: [{ text: 'where is it', text_pair: 'in transit' }] });
    expect(res.status).toBe(200);
    expect(res.json.predictions as object[]).toMatchObject([{ label: expect.any(String) }]);
    const refused = await ctx.predict({ instances: [{ text: 'a', text_pair: 'b' }, 'bare'] });
    expect(refused.status).toBe(400);
    expect(refused.json.error?.message).toMatch(/^instances\[1\]\.text_pair: required/);
  });

  it('caps text_pair at maxLength/2 tokens and slides windows over text with the pair whole in each', async () => {
    const model = await load(ctx.staged);
    try {
      const chunked = {
        ...model,
        config: { ...model.config, longText: { mode: 'chunk' as const, stride: 2, maxChunks: 4 } },
      };
      const predictor = new Predictor(chunked, OPTIONS);
      const tok = model.tokenizer;
      const pair = 'refund '.repeat(40);
      const [capped] = predictor.tokenize([{ text: 'hi', textPair: pair }]);
      expect(capped!.truncated).toBe(false); // only text's windows count, as in the trainer
      expect(capped!.windows[0]!.ids).toHaveLength(3 + 1 + golden.maxLength / 2);
      const text = 'parcel '.repeat(60);
      const [encoded] = predictor.tokenize([{ text, textPair: 'late again' }]);
      const pairIds = tok.encodeText('late again');
      const width = golden.maxLength - 3 - pairIds.length;
      const ids = tok.encodeText(text);
      expect(encoded!.windows[1]).toEqual(tok.wrap(ids.slice(width - 2, 2 * width - 2), pairIds));
      expect(encoded!.windows.every((w) => w.ids.length <= golden.maxLength)).toBe(true);
    } finally {
      await model.session.dispose();
    }
  });
});

describe('regression and token type ids', () => {
  it('a regression prediction is the pooled value itself, in the target units', async () => {
    const staged = stageModel();
    const model = await load(staged);
    try {
      const predictor = new Predictor(
        { ...model, config: { ...model.config, task: 'regression' }, labels: ['score'] },
        OPTIONS,
      );
      expect(predictor.format(Float64Array.of(3.7))).toEqual({ value: 3.7 });
      expect(predictor.format(Float64Array.of(-1.25), undefined, true)).toEqual({
        value: -1.25,
        truncated: true,
      });
    } finally {
      await model.session.dispose();
      staged.cleanup();
    }
  });

  it('padBatch writes each row’s token type ids, zero over the padding', () => {
    const b = padBatch(
      [
        [101, 7, 102, 8, 102],
        [101, 9, 102],
      ],
      0,
      [
        [0, 0, 0, 1, 1],
        [0, 0, 0],
      ],
    );
    expect([...b.tokenTypeIds]).toEqual([0n, 0n, 0n, 1n, 1n, 0n, 0n, 0n, 0n, 0n]);
  });
});
