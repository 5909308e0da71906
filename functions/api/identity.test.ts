/**
 * The trainer's identity, end to end on the cloud's code path: the trainer's Python client
 * fetches an ID token from the metadata server (the loopback twin, found via GCE_METADATA_HOST)
 * and the real control API verifies it with google-auth-library against the twin's certs URL:
 * signature, audience, expiry, issuer, then the allow-list of service-account emails.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_BACKENDS } from '../../shared/db/testing.ts';
import { MetadataServer } from '../../shared/identity/metadata-server.ts';
import { TRAINER_DIR, trainerPython } from '../../shared/trainer-python.ts';
import { type Harness, openHarness } from '../testing/harness.ts';
import { buildControlApi } from './app.ts';
import { googleIdTokenAuth } from './auth.ts';
import { LocalUploads } from './uploads.ts';

const TRAINER_SA = 'trainer@local-project.iam.gserviceaccount.com';
const IDENTITY = '/computeMetadata/v1/instance/service-accounts/default/identity';

describe('control API with ID tokens from the metadata-server twin', () => {
  let h: Harness;
  let metadata: MetadataServer;
  let app: FastifyInstance;
  let apiUrl = '';
  const statuses: number[] = [];

  beforeAll(async () => {
    h = await openHarness(TEST_BACKENDS.find((b) => b.name === 'postgres')!);
    metadata = await new MetadataServer({ email: TRAINER_SA }).start();
    app = buildControlApi({
      ...h,
      auth: googleIdTokenAuth({
        audience: () => apiUrl,
        allowedEmails: [TRAINER_SA],
        certsUrl: metadata.certsUrl,
      }),
      uploads: new LocalUploads(h.objects, h.datasetsBucket),
    });
    app.addHook('onResponse', async (_req, reply) => {
      statuses.push(reply.statusCode);
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    apiUrl = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  });
  afterAll(async () => {
    await app?.close();
    await metadata?.stop();
    await h?.close();
  });

  const fetchToken = async (audience: string) => {
    const res = await fetch(
      `http://${metadata.host}${IDENTITY}?audience=${encodeURIComponent(audience)}&format=full`,
      { headers: { 'Metadata-Flavor': 'Google' } },
    );
    expect(res.headers.get('metadata-flavor')).toBe('Google');
    return { status: res.status, text: await res.text() };
  };
  const listRuns = (token: string) =>
    fetch(`${apiUrl}/v1/runs`, { headers: { authorization: `Bearer ${token}` } });

  it('mints only for requests with Metadata-Flavor and an audience, like the metadata server', async () => {
    const bare = await fetch(`http://${metadata.host}${IDENTITY}?audience=${apiUrl}`);
    expect(bare.status).toBe(403);
    const forwarded = await fetch(`http://${metadata.host}${IDENTITY}?audience=${apiUrl}`, {
      headers: { 'Metadata-Flavor': 'Google', 'X-Forwarded-For': '10.0.0.1' },
    });
    expect(forwarded.status).toBe(403);
    expect((await fetchToken('')).status).toBe(400);
  });

  it('lets in a token for its own URL, and refuses expired, other-audience, other-issuer (401) and unlisted (403)', async () => {
    const good = await fetchToken(apiUrl);
    expect(good.status).toBe(200);
    expect((await listRuns(good.text)).status).toBe(200);

    const refused = async (token: string) => {
      const res = await listRuns(token);
      return {
        status: res.status,
        message: ((await res.json()) as { error: { message: string } }).error.message,
      };
    };
    expect(await refused(metadata.mint(apiUrl, { expired: true }))).toMatchObject({
      status: 401,
      message: expect.stringMatching(/invalid ID token: Token used too late/),
    });
    expect(await refused((await fetchToken('https://other-service.a.run.app')).text)).toMatchObject({
      status: 401,
      message: expect.stringMatching(/Wrong recipient/),
    });
    expect(await refused(metadata.mint(apiUrl, { issuer: 'https://evil.example' }))).toMatchObject({
      status: 401,
      message: expect.stringMatching(/Invalid issuer/),
    });
    expect(
      await refused(metadata.mint(apiUrl, { email: 'someone@else.iam.gserviceaccount.com' })),
    ).toMatchObject({ status: 403, message: expect.stringContaining('not in ALLOWED_INVOKERS') });
  });

  it("the trainer's client gets a fresh token when its first one is refused as expired", async () => {
    const run = await h.store.runs.create({ modelName: 'sentiment', datasetUri: 'file://datasets/s/a.csv' });
    metadata.expireNext(1);
    const mintedBefore = metadata.minted.length;
    statuses.length = 0;
    const work = mkdtempSync(join(tmpdir(), 'droptune-idtoken-'));
    const script = [
      'import sys',
      'from pathlib import Path',
      'from droptune_trainer.tracking import MetricsReporter',
      'rep = MetricsReporter(sys.argv[1], Path(sys.argv[2]) / "m.jsonl", sys.argv[3], None, flush_interval_s=0.05)',
      'for step in range(1, 6): rep.log("train_loss", 1.0 / step, step, 1)',
      'rep.close()',
      'print(rep.sent, rep.pending, rep.credentials.fetched)',
    ].join('\n');
    try {
      const out = await new Promise<string>((resolve, reject) =>
        execFile(
          trainerPython(),
          ['-c', script, run.runId, work, apiUrl],
          {
            cwd: TRAINER_DIR,
            env: { ...process.env, GCE_METADATA_HOST: metadata.host, DROPTUNE_API_TOKEN: '' },
          },
          (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout)),
        ),
      );
      expect(out.trim()).toBe('5 0 2');
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
    expect(metadata.minted.slice(mintedBefore).map((t) => t.audience)).toEqual([apiUrl, apiUrl]);
    expect(statuses).toEqual([401, 201]);
    const stored = await h.store.metrics.list(run.runId, {});
    expect(stored.map((m) => m.step)).toEqual([1, 2, 3, 4, 5]);
  });
});
