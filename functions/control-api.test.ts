import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getTestServer } from '@google-cloud/functions-framework/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TEST_BACKENDS } from '../shared/db/testing.ts';
import { localTokenAuth } from './api/auth.ts';
import { LocalUploads } from './api/uploads.ts';
import { configureControlApi } from './control-api.ts';
import { rows } from './dataset/fixtures/bad-csvs.ts';
import { type Harness, openHarness } from './testing/harness.ts';

const TOKEN = 'ff-test-token-0123456789abcdef';

/** The HTTP function as the functions-framework serves it (Express in front, body already parsed). */
describe.each(TEST_BACKENDS)('controlApi through the functions-framework on $name', (backend) => {
  let h: Harness;
  let server: Server;
  let base: string;
  beforeEach(async () => {
    h = await openHarness(backend);
    configureControlApi({
      ...h,
      auth: localTokenAuth(TOKEN),
      uploads: new LocalUploads(h.objects, h.datasetsBucket),
    });
    server = getTestServer('controlApi');
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterEach(async () => {
    await new Promise((resolve) => server.close(resolve));
    await h.close();
  });

  const send = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
    fetch(base + path, {
      method,
      headers: {
        authorization: `Bearer ${TOKEN}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });

  it('authenticates, reads pre-parsed JSON bodies, and answers errors in the one shape', async () => {
    const anonymous = await fetch(`${base}/v1/runs`);
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toEqual({
      error: { code: 'unauthenticated', message: expect.any(String) },
    });
    const run = await h.store.runs.create({
      modelName: 'sentiment',
      datasetUri: 'file://datasets/sentiment/a.csv',
    });
    const moved = await send('POST', `/v1/runs/${run.runId}/status`, { status: 'validating' });
    expect(moved.status).toBe(200);
    expect(await moved.json()).toMatchObject({ runId: run.runId, status: 'validating' });
    const listed = await (await send('GET', '/v1/runs?modelName=sentiment')).json();
    expect(listed.runs.map((r: { status: string }) => r.status)).toEqual(['validating']);
    const bad = await send('POST', `/v1/runs/${run.runId}/status`, { status: 'validating', colour: 'red' });
    expect(bad.status).toBe(400);
    expect((await bad.json()).error.message).toContain('colour: unknown key');
  });

  it('takes a local upload through the framework (raw body) into the datasets bucket', async () => {
    const ticket = await (
      await send('POST', '/v1/uploads', { modelName: 'sentiment', fileName: 'train.csv' })
    ).json();
    const put = await send('PUT', new URL(ticket.uploadUrl).pathname, rows(12), {
      'content-type': 'text/csv',
    });
    expect(put.status).toBe(201);
    expect((await h.objects.read(h.datasetsBucket, 'sentiment/train.csv')).toString()).toBe(rows(12));
  });
});
