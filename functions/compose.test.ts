/**
 * The cloud composition with its cloud adapters pointed at local twins: `gs://` on
 * fake-gcs-server, the Workflow Executions API (REST) on a loopback twin, credentials and ID
 * tokens from the metadata-server twin (GCE_METADATA_HOST), a real PostgreSQL database. What the
 * cloud functions get is what is tested: promote deploys through a workflow execution (it used to
 * move only the alias), the trigger starts runs, the predict proxy carries an ID token.
 */
import { createServer as createHttpServer, type Server } from 'node:http';
import { type AddressInfo, createServer } from 'node:net';
import { ExecutionsClient } from '@google-cloud/workflows';
import type { FastifyInstance } from 'fastify';
import { Compute, GoogleAuth, OAuth2Client } from 'google-auth-library';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../shared/db/pool.ts';
import { TEST_BACKENDS } from '../shared/db/testing.ts';
import { MetadataServer } from '../shared/identity/metadata-server.ts';
import { type FakeGcs, startFakeGcs } from '../test/fake-gcs-server.ts';
import { buildControlApi } from './api/app.ts';
import { type Composition, composeCloud } from './compose.ts';
import { buildDatasetTrigger } from './dataset/dataset-trigger.ts';
import { finalizedEvent } from './testing/harness.ts';
import { WorkflowExecutionsTwin } from './testing/workflow-executions-twin.ts';

const WORKFLOW_SA = 'workflow@p.iam.gserviceaccount.com';
const PARENT = 'projects/p/locations/us-central1/workflows/droptune-pipeline';

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** A fresh empty database on the test server, as a URL (the composition opens and migrates it). */
async function freshDatabaseUrl(): Promise<string> {
  const db = await TEST_BACKENDS.find((b) => b.name === 'postgres')!.open({ migrated: false });
  const url = (db.pool.options as pg.PoolConfig).connectionString!;
  await db.close();
  return url;
}

describe('cloud composition on twins', () => {
  /** Where the twinned Cloud Run service of the predict-proxy test listens. */
  let servingOrigin = '';
  let gcs: FakeGcs;
  let metadata: MetadataServer;
  let executions: WorkflowExecutionsTwin;
  let composition: Composition & { db: Database };
  let app: FastifyInstance;
  let apiUrl: string;

  beforeAll(async () => {
    gcs = await startFakeGcs(['p-datasets', 'p-models']);
    metadata = await new MetadataServer({ email: WORKFLOW_SA }).start();
    // The variable Google's libraries read to find the metadata server (the twin).
    process.env.GCE_METADATA_HOST = metadata.host;
    executions = await new WorkflowExecutionsTwin([PARENT], (t) => metadata.accessTokens.has(t)).start();
    apiUrl = `http://127.0.0.1:${await freePort()}`;
    composition = await composeCloud(
      {
        DATABASE_URL: await freshDatabaseUrl(),
        DROPTUNE_STORAGE: 'gs',
        DATASETS_BUCKET: 'p-datasets',
        MODELS_BUCKET: 'p-models',
        DROPTUNE_API_URL: apiUrl,
        GOOGLE_CLOUD_PROJECT: 'p',
        REGION: 'us-central1',
        WORKFLOW_NAME: 'droptune-pipeline',
        ALLOWED_INVOKERS: `${WORKFLOW_SA},trainer@p.iam.gserviceaccount.com`,
      },
      {
        storage: gcs.storage,
        executions: new ExecutionsClient({
          fallback: true,
          apiEndpoint: '127.0.0.1',
          port: executions.port,
          protocol: 'http',
          authClient: new Compute(),
          // google-gax bundles its own google-auth-library: same class, another declaration.
        } as unknown as ConstructorParameters<typeof ExecutionsClient>[0]),
        googleAuth: new GoogleAuth({ authClient: new Compute() }),
        certsUrl: metadata.certsUrl,
        // The prediction service below plays Cloud Run on loopback.
        servingOrigins: (origin) => origin === servingOrigin,
      },
    );
    app = buildControlApi({ ...composition.controlApi, logger: false });
    await app.listen({ host: '127.0.0.1', port: Number(new URL(apiUrl).port) });
  });
  afterAll(async () => {
    await app?.close();
    await composition?.db.close();
    await executions?.stop();
    await metadata?.stop();
    gcs?.stop();
    delete process.env.GCE_METADATA_HOST;
  });

  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(apiUrl + path, {
      method,
      headers: {
        authorization: `Bearer ${metadata.mint(apiUrl)}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  it('refuses requests without a Google ID token for its URL', async () => {
    expect((await fetch(`${apiUrl}/v1/runs`)).status).toBe(401);
    const other = await fetch(`${apiUrl}/v1/runs`, {
      headers: { authorization: `Bearer ${metadata.mint('https://elsewhere.a.run.app')}` },
    });
    expect(other.status).toBe(401);
  });

  it('promote starts a deploy execution on the Workflow Executions API and leaves the alias to it', async () => {
    const { store } = composition.controlApi;
    const run = await store.runs.create({
      modelName: 'sentiment',
      datasetUri: 'gs://p-datasets/sentiment/a.csv',
    });
    await store.models.registerVersion('sentiment', run.runId, async (v) => ({
      modelUri: `gs://p-models/models/sentiment/v${v}/`,
      metrics: {},
    }));
    const res = await call('POST', '/v1/models/sentiment/promote', { version: 1 });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({
      state: 'deploying',
      executionId: expect.stringMatching(`^${PARENT}/executions/`),
    });
    expect(executions.executions.at(-1)).toMatchObject({
      argument: { action: 'promote', modelName: 'sentiment', version: 1, kind: 'promote' },
      labels: { action: 'promote', model: 'sentiment' },
    });
    expect(await store.models.alias('sentiment', 'production')).toBeNull();
  });

  it('the trigger validates a gs:// upload and starts its pipeline execution', async () => {
    const csv = `text,label\n${Array.from({ length: 40 }, (_, i) => `ticket number ${i},${i % 2 ? 'pos' : 'neg'}`).join('\n')}\n`;
    const [file] = await gcs.storage
      .bucket('p-datasets')
      .file('tickets/train.csv')
      .save(csv)
      .then(() => gcs.storage.bucket('p-datasets').file('tickets/train.csv').getMetadata());
    const event = finalizedEvent({
      bucket: 'p-datasets',
      name: 'tickets/train.csv',
      generation: String(file.generation),
      size: Buffer.byteLength(csv),
    });
    const outcome = await buildDatasetTrigger(composition.trigger)(event.data);
    expect(outcome).toMatchObject({ action: 'started', executionId: expect.stringMatching(`^${PARENT}/`) });
    expect(executions.executions.at(-1)?.argument).toMatchObject({
      modelName: 'tickets',
      datasetUri: 'gs://p-datasets/tickets/train.csv',
    });
  });

  it("the predict proxy calls the production service with an ID token for the service's URL", async () => {
    const verifier = new OAuth2Client({ endpoints: { oauth2FederatedSignonPemCertsUrl: metadata.certsUrl } });
    let serviceUrl = '';
    const seen: string[] = [];
    const service: Server = createHttpServer(async (req, res) => {
      const token = (req.headers.authorization ?? '').replace(/^Bearer /, '');
      try {
        const ticket = await verifier.verifyIdToken({ idToken: token, audience: serviceUrl });
        seen.push(ticket.getPayload()?.email ?? '');
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"predictions":[{"label":"pos"}]}');
      } catch {
        res.writeHead(401).end();
      }
    });
    await new Promise<void>((r) => service.listen(0, '127.0.0.1', r));
    serviceUrl = `http://127.0.0.1:${(service.address() as AddressInfo).port}`;
    servingOrigin = serviceUrl;
    try {
      const { store } = composition.controlApi;
      const run = await store.runs.create({
        modelName: 'served',
        datasetUri: 'gs://p-datasets/served/a.csv',
      });
      await store.models.registerVersion('served', run.runId, async (v) => ({
        modelUri: `gs://p-models/models/served/v${v}/`,
        metrics: {},
      }));
      await store.models.setAlias('served', 'production', 1, 'test');
      await store.models.recordDeployment({ modelName: 'served', version: 1, url: serviceUrl });
      const res = await call('POST', '/v1/models/served:predict', { instances: ['great'] });
      expect(res).toEqual({ status: 200, body: { predictions: [{ label: 'pos' }] } });
      expect(seen).toEqual([WORKFLOW_SA]);
    } finally {
      await new Promise((r) => service.close(r));
    }
  });
});
