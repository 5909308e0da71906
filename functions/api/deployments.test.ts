import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_BACKENDS } from '../../shared/db/testing.ts';
import { seedRun, seedVersion } from '../../web/testing/seed.ts';
import { type Harness, openHarness } from '../testing/harness.ts';
import { buildControlApi } from './app.ts';
import type { Authenticator } from './auth.ts';
import { cloudDeploymentPolicy } from './deployment-policy.ts';
import { LocalUploads } from './uploads.ts';

const WORKFLOW = 'droptune-workflow@proj.iam.gserviceaccount.com';
const TRAINER = 'droptune-trainer@proj.iam.gserviceaccount.com';
/** The verified identity behind each bearer value (the ID-token check itself is auth.test.ts's). */
const identities: Authenticator = {
  async authenticate(authorization) {
    const subject = authorization === 'Bearer workflow' ? WORKFLOW : TRAINER;
    return { subject, kind: 'google' };
  },
};

describe('recording deployments and the predict proxy', () => {
  let h: Harness;
  let cloud: FastifyInstance;
  let local: FastifyInstance;
  let service: Server;
  let serviceOrigin: string;
  let answer: (res: import('node:http').ServerResponse) => void = (res) => res.end('{}');

  beforeAll(async () => {
    h = await openHarness(TEST_BACKENDS[0]!);
    const run = await seedRun(h.store, { modelName: 'sentiment', status: 'succeeded' });
    await seedVersion(h.store, run, { accuracy: 0.9 });
    service = createServer((_req, res) => answer(res));
    await new Promise<void>((r) => service.listen(0, '127.0.0.1', r));
    serviceOrigin = `http://127.0.0.1:${(service.address() as AddressInfo).port}`;
    const common = { ...h, uploads: new LocalUploads(h.objects, h.datasetsBucket) };
    cloud = buildControlApi({
      ...common,
      auth: identities,
      deployments: cloudDeploymentPolicy([WORKFLOW, TRAINER]),
    });
    local = buildControlApi({
      ...common,
      auth: { authenticate: async () => ({ subject: 'local', kind: 'local-token' }) },
      deployments: { ownsLoopbackUrl: (origin) => origin === serviceOrigin },
      predictMaxBytes: 1024 * 1024,
    });
    await Promise.all([cloud.ready(), local.ready()]);
  });
  afterAll(async () => {
    await Promise.all([cloud.close(), local.close()]);
    service.close();
    await h.close();
  });

  const record = (app: FastifyInstance, url: string, who = 'workflow') =>
    app.inject({
      method: 'POST',
      url: '/v1/models/sentiment/deployments',
      headers: { authorization: `Bearer ${who}` },
      payload: { version: 1, url, revision: 'r1' },
    });

  it('lets only the workflow identity record a deployment', async () => {
    const res = await record(cloud, 'https://predict-sentiment-abc123def4-uc.a.run.app', 'trainer');
    expect(res.statusCode).toBe(403);
    expect(res.json().error.message).toContain("only the pipeline's workflow identity");
    expect((await record(cloud, 'https://predict-sentiment-abc123def4-uc.a.run.app')).statusCode).toBe(201);
    expect((await record(cloud, 'https://predict-sentiment-123456789.us-central1.run.app')).statusCode).toBe(
      201,
    );
  });

  it.each([
    ['the metadata server', 'http://169.254.169.254/computeMetadata/v1/'],
    ['another host', 'https://evil.example.com'],
    ['another model', 'https://predict-other-abc123def4-uc.a.run.app'],
    ['a look-alike host', 'https://predict-sentiment-x.a.run.app.evil.example.com'],
    ['plain http', 'http://predict-sentiment-abc123def4-uc.a.run.app'],
    ['a path', 'https://predict-sentiment-abc123def4-uc.a.run.app/admin'],
    ['credentials', 'https://u:p@predict-sentiment-abc123def4-uc.a.run.app'],
    ['an unowned loopback port', 'http://127.0.0.1:5432'],
  ])('refuses a deployment URL to %s', async (_what, url) => {
    for (const app of [cloud, local]) {
      const res = await record(app, url);
      expect(res.statusCode, url).toBe(400);
      expect(res.json().error.message).toContain('expected https://predict-sentiment-');
    }
  });

  it('records a deployment and moves production in one transaction, or neither', async () => {
    const call = (payload: object) =>
      cloud.inject({
        method: 'POST',
        url: '/v1/models/sentiment/deployments',
        headers: { authorization: 'Bearer workflow' },
        payload,
      });
    const url = 'https://predict-sentiment-abc123def4-uc.a.run.app';
    const before = (await h.store.models.deployments('sentiment')).length;
    const missing = await call({ version: 9, url, moveAlias: { kind: 'promote' } });
    expect(missing.statusCode).toBe(404);
    expect(await h.store.models.deployments('sentiment')).toHaveLength(before);
    const both = await call({ version: 1, url, revision: 'r2', moveAlias: { kind: 'promote' } });
    expect(both.statusCode).toBe(201);
    expect(both.json().aliasMove).toMatchObject({ alias: 'production', version: 1 });
    expect(await h.store.models.alias('sentiment', 'production')).toBe(1);
    expect((await h.store.models.deployments('sentiment'))[0]).toMatchObject({ version: 1, revision: 'r2' });
  });

  it('proxies to an owned loopback service, refusing redirects and answers past the size cap', async () => {
    expect((await record(local, serviceOrigin)).statusCode).toBe(201);
    await h.store.models.setAlias('sentiment', 'production', 1);
    const predict = () =>
      local.inject({
        method: 'POST',
        url: '/v1/models/sentiment:predict',
        headers: { authorization: 'Bearer local' },
        payload: { instances: ['x'] },
      });
    answer = (res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"predictions":[]}');
    expect((await predict()).json()).toEqual({ predictions: [] });
    answer = (res) => res.writeHead(200).end(Buffer.alloc(2 * 1024 * 1024, 'a'));
    const big = await predict();
    expect(big.statusCode).toBe(503);
    expect(big.json().error.message).toContain('more than 1048576 bytes');
    answer = (res) => res.writeHead(307, { location: 'http://169.254.169.254/' }).end();
    const redirect = await predict();
    expect(redirect.statusCode).toBe(503);
    expect(redirect.json().error.message).toContain('redirect');
  });
});
