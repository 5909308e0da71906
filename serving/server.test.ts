import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type InProcessServer,
  maxProbDiff,
  post,
  readGolden,
  type StagedModel,
  stageModel,
  startInProcess,
} from './testing/harness.ts';

const golden = readGolden();

describe('prediction API', () => {
  let staged: StagedModel;
  let server: InProcessServer;
  let predictUrl: string;
  beforeAll(async () => {
    staged = stageModel();
    server = await startInProcess(staged, { maxInstances: 8, maxTextChars: 2000 });
    predictUrl = `${server.url}/v1/models/${staged.modelName}:predict`;
  });
  afterAll(async () => {
    await server.close();
    staged.cleanup();
  });

  it('answers instances given as strings and as {"text"} objects, in order, with every label scored', async () => {
    const res = await post(predictUrl, { instances: ['refund my payment', { text: 'where is my parcel' }] });
    expect(res.status).toBe(200);
    expect(res.json.model).toEqual({ name: staged.modelName, version: 1 });
    const predictions = res.json.predictions as { label: string; scores: Record<string, number> }[];
    expect(predictions).toHaveLength(2);
    for (const p of predictions) {
      expect(Object.keys(p.scores).sort()).toEqual([...golden.labels].sort());
      const values = Object.values(p.scores);
      expect(values.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
      expect(p.label).toBe(Object.keys(p.scores)[0]); // highest first
      expect(values).toEqual([...values].sort((a, b) => b - a));
    }
  });

  it('limits scores to the top_k labels when asked', async () => {
    const res = await post(predictUrl, { instances: ['hello'], parameters: { top_k: 1 } });
    expect(res.status).toBe(200);
    const [p] = res.json.predictions as { label: string; scores: Record<string, number> }[];
    expect(Object.keys(p!.scores)).toEqual([p!.label]);
  });

  it('cuts a text longer than the model max length and says so, or refuses it with truncate: false', async () => {
    const long = 'word '.repeat(golden.maxLength * 2);
    const truncated = await post(predictUrl, { instances: ['short', long] });
    expect(truncated.status).toBe(200);
    const [short, cut] = truncated.json.predictions as { truncated?: boolean }[];
    expect(short).not.toHaveProperty('truncated');
    expect(cut!.truncated).toBe(true);
    const refused = await post(predictUrl, { instances: ['short', long], parameters: { truncate: false } });
    expect(refused.status).toBe(400);
    expect(refused.json.error?.code).toBe('invalid_argument');
    expect(refused.json.error?.message).toContain('instances[1]');
    expect(refused.json.error?.message).toContain(`max length of ${golden.maxLength} tokens`);
  });

  it('states the limit when there are too many instances or a text is too long', async () => {
    const many = await post(predictUrl, { instances: Array.from({ length: 9 }, () => 'x') });
    expect(many.status).toBe(400);
    expect(many.json.error?.message).toBe('instances: 9 instances sent; the limit is 8 per request');
    const longText = await post(predictUrl, { instances: [{ text: 'y'.repeat(2001) }] });
    expect(longText.status).toBe(400);
    expect(longText.json.error?.message).toBe(
      'instances[0].text: text is 2001 characters long; the limit is 2000 characters',
    );
  });

  it('answers 404 for a model it does not serve, naming the one it does', async () => {
    const res = await post(`${server.url}/v1/models/other-model:predict`, { instances: ['x'] });
    expect(res.status).toBe(404);
    expect(res.json.error).toEqual({
      code: 'not_found',
      message: `model "other-model" is not served here; this server serves "${staged.modelName}"`,
    });
    const meta = await fetch(`${server.url}/v1/models/other-model`);
    expect(meta.status).toBe(404);
  });

  it('answers 404 JSON for an unknown verb or route', async () => {
    const verb = await post(`${server.url}/v1/models/${staged.modelName}:explain`, { instances: ['x'] });
    expect(verb.status).toBe(404);
    expect(verb.json.error?.code).toBe('not_found');
    const route = await fetch(`${server.url}/nope`);
    expect(route.status).toBe(404);
    expect(((await route.json()) as { error: { code: string } }).error.code).toBe('not_found');
  });

  it('describes the served model: version, labels, metrics', async () => {
    const res = await fetch(`${server.url}/v1/models/${staged.modelName}`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      name: staged.modelName,
      version: 1,
      labels: golden.labels,
      maxLength: golden.maxLength,
      modelFile: 'model.onnx',
    });
    expect(body.metrics).toBeTypeOf('object');
  });

  it('reports health, readiness and Prometheus metrics', async () => {
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${server.url}/readyz`);
    expect(ready.status).toBe(200);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(
      /droptune_http_requests_total\{route="\/v1\/models\/:name",method="POST",status="200"\} \d+/,
    );
    expect(metrics).toMatch(/droptune_batch_size_count \d+/);
    expect(metrics).toContain('droptune_queue_depth 0');
    expect(metrics).toContain('droptune_http_request_duration_seconds_bucket');
    expect(metrics).toContain('droptune_model_ready 1');
    expect(metrics).toContain('droptune_serving_process_resident_memory_bytes');
  });

  it('coalesces concurrent requests into shared batches and still answers each its own', async () => {
    const before = await batchCount(server.url);
    const texts = Array.from(
      { length: 48 },
      (_, i) => `message number ${i} about ${i % 2 ? 'billing' : 'shipping'}`,
    );
    const alone = await Promise.all(texts.slice(0, 3).map((t) => post(predictUrl, { instances: [t] })));
    const together = await Promise.all(texts.map((t) => post(predictUrl, { instances: [t] })));
    const after = await batchCount(server.url);
    expect(together.every((r) => r.status === 200)).toBe(true);
    expect(after.batches - before.batches - 3).toBeLessThan(48); // fewer runs than requests
    // Batching (and padding) never changes an answer.
    alone.forEach((r, i) => {
      const a = (r.json.predictions as { scores: Record<string, number> }[])[0]!.scores;
      const b = (together[i]!.json.predictions as { scores: Record<string, number> }[])[0]!.scores;
      for (const label of golden.labels) expect(Math.abs(a[label]! - b[label]!)).toBeLessThan(1e-5);
    });
  });
});

describe('before the model is ready', () => {
  it('is alive but answers 503 on /readyz and :predict until loaded', async () => {
    const staged = stageModel();
    const server = await startInProcess(staged, {}, { load: false });
    try {
      expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
      const ready = await fetch(`${server.url}/readyz`);
      expect(ready.status).toBe(503);
      expect(((await ready.json()) as { error: { message: string } }).error.message).toBe(
        'the model is still loading',
      );
      const res = await post(`${server.url}/v1/models/${staged.modelName}:predict`, { instances: ['x'] });
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('1');
    } finally {
      await server.close();
      staged.cleanup();
    }
  });
});

describe('int8 variant', () => {
  it('serves model.int8.onnx when MODEL_VARIANT=int8, with probabilities close to fp32', async () => {
    const staged = stageModel();
    const server = await startInProcess(staged, { variant: 'int8' });
    try {
      const meta = (await (await fetch(`${server.url}/v1/models/${staged.modelName}`)).json()) as {
        modelFile: string;
      };
      expect(meta.modelFile).toBe('model.int8.onnx');
      const res = await post(`${server.url}/v1/models/${staged.modelName}:predict`, {
        instances: golden.cases.map((c) => c.text),
        parameters: { truncate: true },
      });
      expect(res.status).toBe(200);
      const probs = (res.json.predictions as { scores: Record<string, number> }[]).map((p) => p.scores);
      for (const [row, c] of golden.cases.entries())
        expect(maxProbDiff(probs[row]!, c.probs, golden.labels)).toBeLessThan(0.05);
    } finally {
      await server.close();
      staged.cleanup();
    }
  });
});

describe('onnxruntime in a worker thread', () => {
  it('serves the golden probabilities with DROPTUNE_SERVE_INFERENCE_THREAD=worker, batched and shut down cleanly', async () => {
    const staged = stageModel();
    const server = await startInProcess(staged, { inferenceThread: 'worker' });
    try {
      const url = `${server.url}/v1/models/${staged.modelName}:predict`;
      const answers = await Promise.all(
        golden.cases.map((c) => post(url, { instances: [c.text], parameters: { truncate: true } })),
      );
      for (const [row, c] of golden.cases.entries()) {
        expect(answers[row]!.status).toBe(200);
        const scores = (answers[row]!.json.predictions as { scores: Record<string, number> }[])[0]!.scores;
        expect(maxProbDiff(scores, c.probs, golden.labels)).toBeLessThan(golden.tolerance);
      }
    } finally {
      await server.close();
      staged.cleanup();
    }
  });
});

async function batchCount(url: string): Promise<{ batches: number }> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return { batches: Number(/droptune_batch_size_count (\d+)/.exec(text)?.[1] ?? 0) };
}
