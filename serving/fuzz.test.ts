import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChildServer, type StagedModel, spawnServer, stageModel } from './testing/harness.ts';

const REQUESTS = 10_000;

/** True for the (rare) random value that is a well-formed predict body: those are not errors. */
function wellFormed(v: unknown): boolean {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const o = v as Record<string, unknown>;
  return Array.isArray(o.instances) && o.instances.length > 0;
}

/** Random bodies: arbitrary JSON, near-miss objects around `instances`, non-JSON text and bytes. */
const body: fc.Arbitrary<Buffer> = fc.oneof(
  fc
    .jsonValue()
    .filter((v) => !wellFormed(v))
    .map((v) => Buffer.from(JSON.stringify(v) ?? 'null')),
  fc
    .record({ instances: fc.jsonValue(), parameters: fc.option(fc.jsonValue(), { nil: undefined }) })
    .filter(
      (v) =>
        !Array.isArray(v.instances) ||
        v.instances.length === 0 ||
        v.instances.some((i) => typeof i !== 'string'),
    )
    .filter(
      (v) =>
        !wellFormed(v) ||
        (v.instances as unknown[]).some(
          (i) =>
            typeof i !== 'string' &&
            (typeof i !== 'object' ||
              i === null ||
              Object.keys(i).join() !== 'text' ||
              typeof (i as { text: unknown }).text !== 'string'),
        ),
    )
    .map((v) => Buffer.from(JSON.stringify(v))),
  fc.string({ unit: 'binary', maxLength: 200 }).map((s) => Buffer.from(s)),
  fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
);

function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m![1]) * 1024;
}

describe('10,000 random request bodies against a real server process', () => {
  let staged: StagedModel;
  let server: ChildServer;
  beforeAll(async () => {
    staged = stageModel();
    server = await spawnServer({ MODEL_URI: staged.modelUri, DROPTUNE_HOME: staged.home });
  });
  afterAll(async () => {
    server.child.kill('SIGTERM');
    await server.exited;
    staged.cleanup();
  });

  it('answers every one with a 4xx JSON error, never dies, and keeps RSS flat', async () => {
    const bodies = fc.sample(body, { numRuns: REQUESTS, seed: 20261122 });
    const url = new URL(`${server.url}/v1/models/${staged.modelName}:predict`);
    const agent = new Agent({ keepAlive: true, maxSockets: 16 });
    const send = (b: Buffer) =>
      new Promise<{ status: number; text: string }>((resolve, reject) => {
        const req = request(
          url,
          {
            method: 'POST',
            agent,
            headers: { 'content-type': 'application/json', 'content-length': b.length },
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () =>
              resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
            );
          },
        );
        req.on('error', reject);
        req.end(b);
      });

    const statuses = new Map<number, number>();
    const bad: string[] = [];
    let next = 0;
    let rssAfterWarmup = 0;
    const worker = async () => {
      while (next < bodies.length) {
        const i = next++;
        if (i === 1000) rssAfterWarmup = rssBytes(server.child.pid!);
        const res = await send(bodies[i]!);
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        let ok = res.status >= 400 && res.status < 500;
        try {
          const json = JSON.parse(res.text) as { error?: { code?: unknown; message?: unknown } };
          ok &&= typeof json.error?.code === 'string' && typeof json.error?.message === 'string';
        } catch {
          ok = false;
        }
        if (!ok || /\.(ts|js):\d+/.test(res.text))
          bad.push(`${bodies[i]!.toString('utf8').slice(0, 80)} → ${res.status} ${res.text.slice(0, 200)}`);
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
    agent.destroy();
    const rssAtEnd = rssBytes(server.child.pid!);

    expect(bad.slice(0, 5)).toEqual([]);
    expect([...statuses.values()].reduce((a, b) => a + b, 0)).toBe(REQUESTS);
    expect(server.child.exitCode).toBeNull();
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
    // Flat: 9,000 more requests may not grow the resident set by more than 32 MB.
    expect(rssAtEnd - rssAfterWarmup).toBeLessThan(32 * 1024 * 1024);
  }, 180_000);
});
