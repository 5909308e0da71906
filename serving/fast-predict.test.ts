import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type InProcessServer,
  post,
  type StagedModel,
  stageModel,
  startInProcess,
} from './testing/harness.ts';

/**
 * `:predict` over real HTTP is answered by the node:http fast path; `app.inject` goes through
 * fastify's own route. Both must answer every body the same way, byte for byte.
 */
const BODIES: [string, string, Record<string, string>?][] = [
  ['two texts', JSON.stringify({ instances: ['great service thanks', { text: 'refund please' }] })],
  ['top_k', JSON.stringify({ instances: ['a'], parameters: { top_k: 1 } })],
  ['truncated', JSON.stringify({ instances: ['word '.repeat(2000)] })],
  [
    'refused long text',
    JSON.stringify({ instances: ['word '.repeat(2000)], parameters: { truncate: false } }),
  ],
  ['empty', ''],
  ['bad JSON', '{"instances": ["a"'],
  ['unknown field', JSON.stringify({ instances: ['a'], extra: 1 })],
  ['too many instances', JSON.stringify({ instances: Array(65).fill('a') })],
  [
    'form content type',
    JSON.stringify({ instances: ['a'] }),
    { 'content-type': 'application/x-www-form-urlencoded' },
  ],
];

describe('the :predict fast path (plain node:http)', () => {
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

  it.each(BODIES)('%s: the same status and body as the fastify route', async (_what, body, headers) => {
    const url = `/v1/models/${staged.modelName}:predict`;
    const contentType = headers ?? { 'content-type': 'application/json' };
    const viaHttp = await post(`${server.url}${url}`, body, contentType);
    const viaFastify = await server.app.inject({ method: 'POST', url, payload: body, headers: contentType });
    expect(viaHttp.status).toBe(viaFastify.statusCode);
    expect(viaHttp.text).toBe(viaFastify.body);
  });

  it('answers a model that is not served here with the same 404', async () => {
    const body = JSON.stringify({ instances: ['a'] });
    const viaHttp = await post(`${server.url}/v1/models/other:predict`, body);
    const viaFastify = await server.app.inject({
      method: 'POST',
      url: '/v1/models/other:predict',
      payload: body,
    });
    expect(viaHttp.status).toBe(404);
    expect(viaHttp.text).toBe(viaFastify.body);
  });

  it('counts its requests in the same metrics series as the fastify route', async () => {
    await post(`${server.url}/v1/models/${staged.modelName}:predict`, JSON.stringify({ instances: ['a'] }));
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(
      /droptune_http_requests_total\{route="\/v1\/models\/:name",method="POST",status="200"\} [1-9]/,
    );
  });
});
