import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSnippet } from './test-support/run-snippet.ts';

// Real HTTP on loopback: status codes become HttpError maps, refused connections ConnectionError,
// slow answers TimeoutError, and http.default_retry retries 503 with back-off on the clock.
let server: Server;
let base: string;
let hits: Record<string, number> = {};

beforeAll(async () => {
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    hits[url.pathname] = (hits[url.pathname] ?? 0) + 1;
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      if (url.pathname === '/flaky' && (hits['/flaky'] ?? 0) <= 2) {
        res.writeHead(503, { 'content-type': 'application/json' }).end('{"error":{"code":"unavailable"}}');
      } else if (url.pathname === '/missing') {
        res
          .writeHead(404, { 'content-type': 'application/json', 'x-why': 'gone' })
          .end('{"error":{"code":"not_found","message":"no run"}}');
      } else if (url.pathname === '/slow') {
        setTimeout(() => res.writeHead(200).end('late'), 1500);
      } else {
        res.writeHead(200, { 'content-type': 'application/json' }).end(
          JSON.stringify({
            method: req.method,
            query: Object.fromEntries(url.searchParams),
            body: body ? JSON.parse(body) : null,
            auth: req.headers.authorization ?? null,
          }),
        );
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('http.*', () => {
  it('posts a JSON body with query and returns code and parsed body', async () => {
    const out = await runSnippet(
      `
- c:
    call: http.post
    args:
      url: ${base}/echo
      query: {a: 1}
      body: {n: 2, list: [x]}
      auth: {type: OIDC}
    result: r
- ret:
    return: \${[r.code, r.body]}`,
      undefined,
      { authHeaders: () => ({ Authorization: 'Bearer local-token' }) },
    );
    expect(out).toEqual({
      result: [
        200,
        { method: 'POST', query: { a: '1' }, body: { n: 2, list: ['x'] }, auth: 'Bearer local-token' },
      ],
    });
  });

  it('raises HttpError with code, body and headers on 404', async () => {
    const out = await runSnippet(`
- c:
    try:
      call: http.get
      args:
        url: ${base}/missing
    except:
      as: e
      steps:
        - r:
            return: \${[e.tags, e.code, e.body.error.code, e.headers["x-why"]]}`);
    expect(out).toEqual({ result: [['HttpError'], 404, 'not_found', 'gone'] });
  });

  it('retries 503 with http.default_retry until it succeeds', async () => {
    hits = {};
    const out = await runSnippet(`
- c:
    try:
      call: http.get
      args:
        url: ${base}/flaky
      result: r
    retry: \${http.default_retry}
- ret:
    return: \${r.code}`);
    expect(out).toEqual({ result: 200 });
    expect(hits['/flaky']).toBe(3);
  });

  it('raises ConnectionError when nothing listens', async () => {
    const out = (await runSnippet(`
- c:
    call: http.delete
    args:
      url: http://127.0.0.1:1/nothing`)) as { error: { tags: string[] } };
    expect(out.error.tags).toEqual(['ConnectionError']);
  });

  it('raises TimeoutError past the timeout', async () => {
    const out = (await runSnippet(`
- c:
    call: http.request
    args:
      method: GET
      url: ${base}/slow
      timeout: 0.3`)) as { error: { tags: string[] } };
    expect(out.error.tags).toEqual(['TimeoutError']);
  });
});
