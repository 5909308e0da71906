import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { spawnServer, stageModel } from './testing/harness.ts';

describe('graceful shutdown (real child process)', () => {
  it('on SIGTERM finishes every in-flight request, then exits 0', async () => {
    const staged = stageModel();
    // One sequence per session.run, so 40 requests × 32 texts keep the server busy for a while.
    const server = await spawnServer({
      MODEL_URI: staged.modelUri,
      DROPTUNE_HOME: staged.home,
      DROPTUNE_SERVE_MAX_BATCH: '1',
      DROPTUNE_SERVE_MAX_QUEUE: '4096',
    });
    try {
      const body = JSON.stringify({
        instances: Array.from({ length: 32 }, (_, i) => `text ${i} `.repeat(20)),
        parameters: { truncate: true },
      });
      const url = new URL(`${server.url}/v1/models/${staged.modelName}:predict`);
      let answered = 0;
      const sent: Promise<void>[] = [];
      const results = Array.from({ length: 40 }, () => {
        let markSent!: () => void;
        sent.push(new Promise<void>((r) => (markSent = r)));
        return new Promise<{ status: number; predictions: number }>((resolve, reject) => {
          const req = request(
            url,
            { method: 'POST', headers: { 'content-type': 'application/json' }, agent: false },
            (res) => {
              let text = '';
              res.on('data', (c: Buffer) => (text += c.toString('utf8')));
              res.on('end', () => {
                answered++;
                resolve({
                  status: res.statusCode ?? 0,
                  predictions: (JSON.parse(text) as { predictions?: unknown[] }).predictions?.length ?? 0,
                });
              });
            },
          );
          req.on('error', reject);
          req.on('finish', markSent);
          req.end(body);
        });
      });
      await Promise.all(sent);
      // Wait until the server has received every request (in flight there or already answered):
      // connections still in the kernel accept queue when the listener closes are reset by the
      // kernel, and those were never in flight.
      let inFlight = 0;
      for (;;) {
        const metrics = await (await fetch(`${server.url}/metrics`)).text();
        inFlight = Number(/^droptune_http_requests_in_flight (\d+)/m.exec(metrics)?.[1]) - 1; // minus this scrape
        if (inFlight + answered >= 40) break;
        await new Promise((r) => setTimeout(r, 5));
      }
      const pending = inFlight;
      server.child.kill('SIGTERM');
      const done = await Promise.all(results);
      expect(pending).toBeGreaterThan(0); // the signal really arrived with requests in flight
      expect(done.filter((r) => r.status !== 200 || r.predictions !== 32)).toEqual([]);
      expect(await server.exited).toBe(0);
      expect(server.logs.some((l) => l.message === 'SIGTERM: draining in-flight requests')).toBe(true);
      expect(server.logs.at(-1)?.message).toBe('stopped');
    } finally {
      if (server.child.exitCode === null) server.child.kill('SIGKILL');
      staged.cleanup();
    }
  });
});

describe('a tampered or incomplete model version never becomes ready', () => {
  const cases: [string, (dir: string) => void, string][] = [
    [
      'one flipped byte in model.onnx',
      (dir) => {
        const p = join(dir, 'model.onnx');
        const bytes = readFileSync(p);
        const middle = bytes.length >> 1;
        bytes[middle] = bytes[middle]! ^ 0xff;
        writeFileSync(p, bytes);
      },
      'model.onnx: sha256 mismatch',
    ],
    [
      'a truncated tokenizer.json',
      (dir) =>
        writeFileSync(
          join(dir, 'tokenizer.json'),
          readFileSync(join(dir, 'tokenizer.json')).subarray(0, 100),
        ),
      'tokenizer.json: size mismatch',
    ],
    [
      'labels.json deleted',
      (dir) => rmSync(join(dir, 'labels.json')),
      'labels.json is listed in manifest.json but missing',
    ],
    ['no manifest.json', (dir) => rmSync(join(dir, 'manifest.json')), 'manifest.json is missing'],
  ];

  it.each(cases)(
    '%s: alive, /readyz 503 naming the file, an ERROR log line naming it',
    async (_what, tamper, fragment) => {
      const staged = stageModel();
      tamper(staged.dir);
      const server = await spawnServer({ MODEL_URI: staged.modelUri, DROPTUNE_HOME: staged.home });
      try {
        const line = server.logs.find((l) => l.severity === 'ERROR');
        expect(String(line?.message)).toContain(fragment);
        await new Promise((r) => setTimeout(r, 300));
        expect(server.child.exitCode).toBeNull();
        expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
        const ready = await fetch(`${server.url}/readyz`);
        expect(ready.status).toBe(503);
        expect(((await ready.json()) as { error: { message: string } }).error.message).toContain(fragment);
        const predict = await fetch(`${server.url}/v1/models/${staged.modelName}:predict`, {
          method: 'POST',
          body: '{"instances":["x"]}',
        });
        expect(predict.status).toBe(503);
      } finally {
        server.child.kill('SIGTERM');
        await server.exited;
        staged.cleanup();
      }
    },
  );
});

describe('configuration', () => {
  it('exits 2 with a CRITICAL line naming the variable when MODEL_URI is missing', async () => {
    await expect(spawnServer({})).rejects.toThrow(/exited \(2\).*MODEL_URI is required/);
  });
});
