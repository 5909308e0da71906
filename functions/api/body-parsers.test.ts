import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_BACKENDS } from '../../shared/db/testing.ts';
import { type Harness, openHarness } from '../testing/harness.ts';
import { buildControlApi } from './app.ts';
import { localTokenAuth } from './auth.ts';
import { LocalUploads } from './uploads.ts';

const TOKEN = 'test-token-0123456789abcdef';
const auth = { authorization: `Bearer ${TOKEN}` };

/** A lazy body of `total` bytes that counts how much of it the server pulled. */
function countedBody(total: number): { stream: Readable; read: () => number } {
  let sent = 0;
  const chunk = Buffer.alloc(64 * 1024, 'a');
  const stream = new Readable({
    read() {
      if (sent >= total) this.push(null);
      else {
        sent += chunk.length;
        this.push(chunk);
      }
    },
  });
  return { stream, read: () => sent };
}

describe('control API body parsers', () => {
  let h: Harness;
  let app: FastifyInstance;
  beforeAll(async () => {
    h = await openHarness(TEST_BACKENDS[0]!);
    app = buildControlApi({
      ...h,
      auth: localTokenAuth(TOKEN),
      uploads: new LocalUploads(h.objects, h.datasetsBucket),
    });
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
    await h.close();
  });

  it('answers a text/plain upload with a 4xx JSON error without reading the body', async () => {
    const body = countedBody(64 * 1024 * 1024);
    const res = await app.inject({
      method: 'PUT',
      url: '/v1/uploads/tickets/train.csv',
      headers: { ...auth, 'content-type': 'text/plain' },
      payload: body.stream,
    });
    expect(res.statusCode).toBeGreaterThanOrEqual(400);
    expect(res.statusCode).toBeLessThan(500);
    expect(res.json().error.message).toMatch(/text\/csv/);
    // The old default text parser buffered all 64 MiB (and threw past 512 MiB, killing the stack).
    expect(body.read()).toBeLessThan(1024 * 1024);
  });

  it('answers text/plain and CSV bodies on JSON routes with a 4xx JSON error', async () => {
    for (const type of ['text/plain', 'text/csv', 'application/x-www-form-urlencoded']) {
      const res = await app.inject({
        method: 'POST',
        url: '/v1/uploads',
        headers: { ...auth, 'content-type': type },
        payload: 'modelName=tickets',
      });
      expect(res.statusCode, type).toBe(400);
      expect(res.json().error.message, type).toMatch(/unsupported content-type/);
    }
  });

  it('streams a CSV upload into the bucket and still takes JSON elsewhere', async () => {
    const put = await app.inject({
      method: 'PUT',
      url: '/v1/uploads/tickets/train.csv',
      headers: { ...auth, 'content-type': 'text/csv' },
      payload: 'text,label\nhello,a\n',
    });
    expect(put.statusCode).toBe(201);
    expect(put.json().bytes).toBe(19);
    const ticket = await app.inject({
      method: 'POST',
      url: '/v1/uploads',
      headers: auth,
      payload: { modelName: 'tickets', fileName: 'train.csv' },
    });
    expect(ticket.statusCode).toBe(201);
  });
});
