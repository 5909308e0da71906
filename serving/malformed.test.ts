import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type InProcessServer,
  post,
  type StagedModel,
  stageModel,
  startInProcess,
} from './testing/harness.ts';

/** [what, body (raw string, or a value sent as JSON), expected status, message fragment] */
const MALFORMED: [string, string | { json: unknown }, number, string][] = [
  ['empty body', '', 400, 'body: empty'],
  ['whitespace body', ' \n ', 400, 'body: empty'],
  ['nested pollution', '{"instances": [{"text": "a", "__proto__": {"x": 1}}]}', 400, 'instances[0]'],
  ['truncated JSON', '{"instances": ["a"', 400, 'not valid JSON'],
  ['trailing garbage', '{"instances": ["a"]} x', 400, 'not valid JSON'],
  ['single quotes', "{'instances': ['a']}", 400, 'not valid JSON'],
  ['bare word', 'hello', 400, 'not valid JSON'],
  ['NaN literal', '{"instances": [NaN]}', 400, 'not valid JSON'],
  ['JSON null', { json: null }, 400, 'body: expected a JSON object'],
  ['JSON number', { json: 42 }, 400, 'body: expected a JSON object'],
  ['JSON string', { json: 'text' }, 400, 'body: expected a JSON object'],
  ['JSON array of texts', { json: ['a', 'b'] }, 400, 'body: expected a JSON object'],
  ['empty object', { json: {} }, 400, 'instances: expected an array'],
  ['instances misspelled', { json: { instance: ['a'] } }, 400, 'instances: expected an array'],
  ['instances a string', { json: { instances: 'a' } }, 400, 'instances: expected an array'],
  ['instances an object', { json: { instances: { text: 'a' } } }, 400, 'instances: expected an array'],
  ['instances null', { json: { instances: null } }, 400, 'instances: expected an array'],
  ['instances empty', { json: { instances: [] } }, 400, 'instances: must hold at least one text'],
  [
    'instance a number',
    { json: { instances: ['ok', 7] } },
    400,
    'instances[1]: expected a string or an object',
  ],
  ['instance null', { json: { instances: [null] } }, 400, 'instances[0]: expected a string or an object'],
  [
    'instance nested array',
    { json: { instances: [['a']] } },
    400,
    'instances[0]: expected a string or an object',
  ],
  [
    'instance object without text',
    { json: { instances: [{ txt: 'a' }] } },
    400,
    'instances[0]: expected a string or an object',
  ],
  [
    'instance text not a string',
    { json: { instances: [{ text: 5 }] } },
    400,
    'instances[0]: expected a string or an object',
  ],
  ['unknown top-level field', { json: { instances: ['a'], extra: 1 } }, 400, 'body: unknown field "extra"'],
  [
    'parameters not an object',
    { json: { instances: ['a'], parameters: 'x' } },
    400,
    'parameters: expected an object',
  ],
  [
    'top_k zero',
    { json: { instances: ['a'], parameters: { top_k: 0 } } },
    400,
    'parameters.top_k: must be at least 1',
  ],
  [
    'top_k fractional',
    { json: { instances: ['a'], parameters: { top_k: 1.5 } } },
    400,
    'parameters.top_k: expected an integer',
  ],
  [
    'top_k a string',
    { json: { instances: ['a'], parameters: { top_k: '2' } } },
    400,
    'parameters.top_k: expected an integer',
  ],
  [
    'truncate a string',
    { json: { instances: ['a'], parameters: { truncate: 'yes' } } },
    400,
    'parameters.truncate: expected true or false',
  ],
  [
    'unknown parameter',
    { json: { instances: ['a'], parameters: { temperature: 1 } } },
    400,
    'parameters: unknown field "temperature"',
  ],
  [
    'prototype pollution',
    '{"instances": ["a"], "__proto__": {"polluted": true}}',
    400,
    'body: unknown field "__proto__"',
  ],
  [
    'constructor pollution',
    '{"instances": ["a"], "constructor": {"prototype": {"x": 1}}}',
    400,
    'body: unknown field "constructor"',
  ],
  [
    'too many instances',
    { json: { instances: Array.from({ length: 65 }, () => 'a') } },
    400,
    'the limit is 64 per request',
  ],
  ['text too long', { json: { instances: ['z'.repeat(10_001)] } }, 400, 'the limit is 10000 characters'],
  ['lone surrogate escape is still text', { json: { instances: ['\ud800'] } }, 200, ''],
];

describe('malformed requests', () => {
  let staged: StagedModel;
  let server: InProcessServer;
  let predictUrl: string;
  beforeAll(async () => {
    staged = stageModel();
    server = await startInProcess(staged);
    predictUrl = `${server.url}/v1/models/${staged.modelName}:predict`;
  });
  afterAll(async () => {
    await server.close();
    staged.cleanup();
  });

  it(`covers at least 25 kinds of malformed body`, () => {
    expect(MALFORMED.filter(([, , status]) => status >= 400).length).toBeGreaterThanOrEqual(25);
  });

  it.each(MALFORMED)(
    '%s: answered with a JSON error naming the problem',
    async (_what, body, status, fragment) => {
      const res = await post(predictUrl, typeof body === 'string' ? body : JSON.stringify(body.json));
      expect(res.status).toBe(status);
      if (status >= 400) {
        expect(res.json.error?.code).toBe('invalid_argument');
        expect(res.json.error?.message).toContain(fragment);
        expect(res.text).not.toMatch(/at .*\.(ts|js):\d+/); // never a stack trace
      }
    },
  );

  it('reads a body sent without a JSON content type (curl -d) as JSON', async () => {
    const res = await post(predictUrl, JSON.stringify({ instances: ['a'] }), {
      'content-type': 'application/x-www-form-urlencoded',
    });
    expect(res.status).toBe(200);
    const noType = await post(predictUrl, JSON.stringify({ instances: ['a'] }), {});
    expect(noType.status).toBe(200);
  });

  it('answers 413 with the limit for a body over the cap, without reading it all', async () => {
    const big = JSON.stringify({ instances: ['x'.repeat(2 * 1024 * 1024)] });
    const res = await post(predictUrl, big);
    expect(res.status).toBe(413);
    expect(res.json.error).toEqual({
      code: 'too_large',
      message: 'request body is larger than the limit of 1048576 bytes',
      details: { limit: 1048576 },
    });
  });

  it('answers 413 when Content-Length alone announces an oversize body', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(
        predictUrl,
        {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'content-length': String(50 * 1024 * 1024) },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.write('{"instances": [');
    });
    expect(status).toBe(413);
  });

  it('answers a wrong method with a JSON 404', async () => {
    const res = await fetch(predictUrl, { method: 'PUT', body: '{}' });
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('not_found');
  });
});
