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

async function get(url: string): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(url);
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

describe('KServe V1 and Open Inference Protocol V2', () => {
  let staged: StagedModel;
  let server: InProcessServer;
  let m: string;
  beforeAll(async () => {
    staged = stageModel();
    server = await startInProcess(staged, { maxInstances: 8, maxTextChars: 2000 });
    m = staged.modelName;
  });
  afterAll(async () => {
    await server.close();
    staged.cleanup();
  });

  it('V1: GET / is alive, GET /v1/models lists the model, its metadata says ready', async () => {
    expect(await get(`${server.url}/`)).toEqual({ status: 200, json: { status: 'alive' } });
    expect(await get(`${server.url}/v1/models`)).toEqual({ status: 200, json: { models: [m] } });
    const meta = await get(`${server.url}/v1/models/${m}`);
    expect(meta.status).toBe(200);
    expect(meta.json).toMatchObject({ name: m, ready: true, version: 1, labels: golden.labels });
  });

  it('V2: health, server metadata, model metadata and readiness, with and without the version', async () => {
    expect(await get(`${server.url}/v2/health/live`)).toEqual({ status: 200, json: { live: true } });
    expect(await get(`${server.url}/v2/health/ready`)).toEqual({ status: 200, json: { ready: true } });
    expect((await get(`${server.url}/v2`)).json).toMatchObject({ name: 'droptune-serving' });
    const meta = await get(`${server.url}/v2/models/${m}`);
    expect(meta.json).toMatchObject({
      name: m,
      versions: ['1'],
      platform: 'onnxruntime_onnx',
      inputs: [{ name: 'text', datatype: 'BYTES', shape: [-1] }],
    });
    expect(await get(`${server.url}/v2/models/${m}/ready`)).toEqual({
      status: 200,
      json: { name: m, ready: true },
    });
    expect((await get(`${server.url}/v2/models/${m}/versions/1/ready`)).status).toBe(200);
    const wrongVersion = await get(`${server.url}/v2/models/${m}/versions/7/ready`);
    expect(wrongVersion.status).toBe(404);
    expect(wrongVersion.json.error).toContain('version "7"');
    const other = await get(`${server.url}/v2/models/other/ready`);
    expect(other).toMatchObject({ status: 404, json: { error: expect.stringContaining('not served here') } });
  });

  it('V2 infer: labels and probabilities per text equal the V1 :predict answer', async () => {
    const texts = golden.cases.slice(0, 3).map((c) => c.text);
    const v1 = await post(`${server.url}/v1/models/${m}:predict`, { instances: texts });
    const v2 = await post(`${server.url}/v2/models/${m}/infer`, {
      id: 'req-1',
      inputs: [{ name: 'text', shape: [texts.length], datatype: 'BYTES', data: texts }],
    });
    expect(v2.status).toBe(200);
    expect(v2.json).toMatchObject({ model_name: m, model_version: '1', id: 'req-1' });
    const outputs = v2.json.outputs as { name: string; datatype: string; shape: number[]; data: unknown[] }[];
    const by = Object.fromEntries(outputs.map((o) => [o.name, o]));
    const predictions = v1.json.predictions as { label: string; scores: Record<string, number> }[];
    expect(by.label).toEqual({
      name: 'label',
      datatype: 'BYTES',
      shape: [3],
      data: predictions.map((p) => p.label),
    });
    expect(by.probabilities!.shape).toEqual([3, golden.labels.length]);
    const rows = predictions.map((_, r) =>
      (by.probabilities!.data as number[]).slice(r * golden.labels.length, (r + 1) * golden.labels.length),
    );
    for (let r = 0; r < 3; r++)
      expect(maxProbDiff(predictions[r]!.scores, rows[r]!, golden.labels)).toBeLessThan(1e-12);
    expect(by.truncated).toEqual({
      name: 'truncated',
      datatype: 'BOOL',
      shape: [3],
      data: [false, false, false],
    });
  });

  it('V2 infer: [n, 1] shapes, requested outputs, and the binary tensor extension', async () => {
    const res = await post(`${server.url}/v2/models/${m}/versions/1/infer`, {
      inputs: [
        { name: 'text', shape: [2, 1], datatype: 'BYTES', data: [['refund please'], ['where is it']] },
      ],
      outputs: [{ name: 'label' }],
    });
    expect(res.status).toBe(200);
    expect((res.json.outputs as { name: string }[]).map((o) => o.name)).toEqual(['label']);

    const header = Buffer.from(
      JSON.stringify({
        inputs: [{ name: 'text', shape: [2], datatype: 'BYTES', parameters: { binary_data_size: 0 } }],
      }),
    );
    const elements = ['refund please', 'where is it'].map((t) => {
      const bytes = Buffer.from(t);
      const len = Buffer.alloc(4);
      len.writeUInt32LE(bytes.length);
      return Buffer.concat([len, bytes]);
    });
    const tensor = Buffer.concat(elements);
    const json = Buffer.from(
      header.toString().replace('"binary_data_size":0', `"binary_data_size":${tensor.length}`),
    );
    const binary = await fetch(`${server.url}/v2/models/${m}/infer`, {
      method: 'POST',
      headers: {
        'content-type': 'application/octet-stream',
        'inference-header-content-length': String(json.length),
      },
      body: Buffer.concat([json, tensor]),
    });
    expect(binary.status).toBe(200);
    const out = (await binary.json()) as { outputs: { name: string; data: unknown[] }[] };
    expect(out.outputs.find((o) => o.name === 'label')!.data).toEqual(
      (res.json.outputs as { data: unknown[] }[])[0]!.data,
    );
    const v1 = await fetch(`${server.url}/v1/models/${m}:predict`, {
      method: 'POST',
      headers: {
        'content-type': 'application/octet-stream',
        'inference-header-content-length': String(json.length),
      },
      body: Buffer.concat([json, tensor]),
    });
    expect(v1.status).toBe(400);
    expect(((await v1.json()) as { error: { message: string } }).error.message).toContain(
      'is for POST /v2/models/',
    );
  });

  it.each([
    [
      'a non-BYTES input',
      { inputs: [{ name: 'text', shape: [1], datatype: 'FP32', data: [1] }] },
      'inputs[0].datatype',
    ],
    [
      'a shape that disagrees with the data',
      { inputs: [{ name: 'text', shape: [2], datatype: 'BYTES', data: ['a'] }] },
      'holds 1 elements but the shape says 2',
    ],
    [
      'an unknown input name',
      { inputs: [{ name: 'txt', shape: [1], datatype: 'BYTES', data: ['a'] }] },
      'unknown input "txt"',
    ],
    ['no inputs', { inputs: [] }, 'inputs: must hold the "text" input'],
    [
      'too many texts',
      { inputs: [{ name: 'text', shape: [9], datatype: 'BYTES', data: Array(9).fill('a') }] },
      'the limit is 8 per request',
    ],
    [
      'an unknown output',
      {
        inputs: [{ name: 'text', shape: [1], datatype: 'BYTES', data: ['a'] }],
        outputs: [{ name: 'logits' }],
      },
      'unknown output "logits"',
    ],
    [
      'text_pair for a single-text model',
      {
        inputs: [
          { name: 'text', shape: [1], datatype: 'BYTES', data: ['a'] },
          { name: 'text_pair', shape: [1], datatype: 'BYTES', data: ['b'] },
        ],
      },
      'sentence-pair models',
    ],
  ])('V2 infer refuses %s with 400 and a V2 error body', async (_what, body, message) => {
    const res = await post(`${server.url}/v2/models/${m}/infer`, body);
    expect(res.status).toBe(400);
    expect(typeof res.json.error).toBe('string');
    expect(res.json.error).toContain(message);
  });
});

describe('protocol endpoints before the model is loaded', () => {
  it('V1 model metadata and V2 readiness answer 503 while loading; liveness answers 200', async () => {
    const staged = stageModel();
    const server = await startInProcess(staged, {}, { load: false });
    try {
      expect((await get(`${server.url}/`)).status).toBe(200);
      expect((await get(`${server.url}/v2/health/live`)).status).toBe(200);
      expect((await get(`${server.url}/v2/health/ready`)).status).toBe(503);
      expect((await get(`${server.url}/v2/models/${staged.modelName}/ready`)).status).toBe(503);
      expect((await get(`${server.url}/v1/models/${staged.modelName}`)).status).toBe(503);
    } finally {
      await server.close();
      staged.cleanup();
    }
  });
});
