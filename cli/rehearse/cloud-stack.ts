/**
 * The CLOUD composition of the control API and the dataset trigger (functions/compose.ts,
 * `composeCloud`, exactly what the deployed functions run) on one machine, its adapters pointed
 * at twins: `gs://` buckets on fake-gcs-server, a real PostgreSQL server logged into as one
 * Cloud SQL IAM user per function, ID tokens from metadata-server twins, workflow starts through
 * the Workflow Executions API twin, which hands them to pipeline.yaml on the local Workflows
 * runtime. The Compute twin runs the trainer IMAGE as the VM's startup script does (GCE_METADATA_HOST,
 * no token, the image's uid 10001); the Cloud Run twin runs the serving IMAGE as revisions.
 */
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { type AddressInfo, createServer } from 'node:net';
import { join } from 'node:path';
import { getTestServer } from '@google-cloud/functions-framework/testing';
import type { FastifyInstance } from 'fastify';
import { Compute, GoogleAuth } from 'google-auth-library';
import { buildControlApi } from '../../functions/api/app.ts';
import { composeCloud } from '../../functions/compose.ts';
import type { DatasetTriggerDeps } from '../../functions/dataset/dataset-trigger.ts';
import { configureDatasetTrigger } from '../../functions/on-dataset-uploaded.ts';
import { MetadataServer } from '../../shared/identity/metadata-server.ts';
import { GcsObjectStore, type ObjectStore } from '../../shared/storage/index.ts';
import { createStore, type TrackingStore } from '../../shared/store/index.ts';
import { REPO_ROOT } from '../../shared/trainer-python.ts';
import {
  ContainerServingBackend,
  ContainerTrainingBackend,
  type ExecutionLookup,
  localBindings,
  type TrainingFaults,
} from '../../workflows/connectors/index.ts';
import { loadWorkflowSource, type WfMap } from '../../workflows/runtime/index.ts';
import { ApiClient } from '../api-client.ts';
import { deliverFinalized } from '../local-stack/bucket-events.ts';
import { LocalExecutions } from '../local-stack/local-executions.ts';
import { failRunOfFailedExecution } from '../local-stack/recover-runs.ts';
import { localPipelineEnv } from '../local-stack/stack.ts';
import {
  CONTROL_API_SA,
  DATASETS_BUCKET,
  executionsClientFor,
  iamDatabaseUser,
  MODELS_BUCKET,
  OPERATOR_SA,
  openRehearsalDatabase,
  PROJECT,
  REGION,
  SERVING_SA,
  startBuckets,
  startExecutionsTwin,
  TRAINER_SA,
  TRIGGER_SA,
  WORKFLOW_NAME,
  WORKFLOW_SA,
} from './twins.ts';

export interface CloudStackOptions {
  home: string;
  /** Every container carries `droptune-session=<session>`. */
  session: string;
  trainerImage: string;
  servingImage: string;
  log: (line: string) => void;
  /** pipeline.yaml userEnvVars on top of the rehearsal's. */
  pipelineEnv?: Record<string, string>;
  /** Admin URL of a PostgreSQL server to make the database on (default: start a throw-away one). */
  databaseServerUrl?: string;
  /**
   * Fault: the control API's configured URL (`DROPTUNE_API_URL`, the audience its ID tokens must
   * name) differs from the URL its callers reach and mint tokens for.
   */
  apiAudience?: string;
  trainingFaults?: Pick<TrainingFaults, 'crashWithExitCode' | 'hang'>;
  servingReadyTimeoutMs?: number;
}

export interface CloudStack {
  apiUrl: string;
  /** The operator's client: ID tokens for the API's URL, minted as OPERATOR_SA. */
  api: ApiClient;
  /** The control API's view of the database (its IAM login). */
  store: TrackingStore;
  objects: ObjectStore;
  training: ContainerTrainingBackend;
  serving: ContainerServingBackend;
  /** Uploads to the datasets bucket and delivers GCS's finalized event to the trigger. */
  drop(name: string, content: Buffer | string, contentType: string): Promise<void>;
  stop(): Promise<void>;
}

/** Starts the cloud composition on twins; on a failure everything started so far is stopped. */
export async function startCloudStack(o: CloudStackOptions): Promise<CloudStack> {
  const stops: Array<() => unknown> = [];
  const stop = async () => {
    for (const s of stops.reverse())
      await Promise.resolve(s()).catch((err) => o.log(`while stopping: ${err}`));
  };
  try {
    return await start(o, stops, stop);
  } catch (err) {
    await stop();
    throw err;
  }
}

async function start(o: CloudStackOptions, stops: Array<() => unknown>, stop: () => Promise<void>) {
  const db = await openRehearsalDatabase(o.databaseServerUrl);
  stops.push(() => db.stop());
  const gcs = await startBuckets();
  stops.push(() => gcs.stop());
  o.log(`buckets      gs://${DATASETS_BUCKET}, gs://${MODELS_BUCKET} on fake-gcs-server ${gcs.endpoint}`);
  // The VM's metadata server (trainer identity). Its key signs every caller's ID tokens here (the
  // workflow's OIDC calls, the operator's), as Google's one set of certs does in the cloud.
  const vm = await new MetadataServer({ email: TRAINER_SA, project: PROJECT }).start();
  stops.push(() => vm.stop());
  // The functions' own metadata server: access tokens for the Executions API, ID tokens for the
  // prediction service. Google's libraries in this process find it through GCE_METADATA_HOST.
  const fnMetadata = await new MetadataServer({ email: CONTROL_API_SA, project: PROJECT }).start();
  stops.push(() => fnMetadata.stop());
  const previousHost = process.env.GCE_METADATA_HOST;
  process.env.GCE_METADATA_HOST = fnMetadata.host;
  stops.push(() => {
    if (previousHost === undefined) delete process.env.GCE_METADATA_HOST;
    else process.env.GCE_METADATA_HOST = previousHost;
  });

  let executions: LocalExecutions | undefined;
  const twin = await startExecutionsTwin(
    (t) => fnMetadata.accessTokens.has(t),
    // GOOGLE_CLOUD_WORKFLOW_EXECUTION_ID is the id alone, the last part of the execution's name.
    (e) => executions?.start(e.argument, lastPart(e.name)),
  );
  stops.push(() => twin.stop());
  const objects = new GcsObjectStore(gcs.storage);
  const { training, serving } = containerBackends(o, vm.host, gcs.endpoint);
  stops.push(
    () => training.close(),
    () => serving.close(),
  );

  const port = await freePort();
  const apiUrl = `http://127.0.0.1:${port}`;
  const env = (identity: string) => ({
    DATABASE_URL: db.urlAs(iamDatabaseUser(identity)),
    DROPTUNE_HOME: o.home,
    DROPTUNE_STORAGE: 'gs',
    DATASETS_BUCKET,
    MODELS_BUCKET,
    DROPTUNE_API_URL: o.apiAudience ?? apiUrl,
    GOOGLE_CLOUD_PROJECT: PROJECT,
    REGION,
    WORKFLOW_NAME,
    ALLOWED_INVOKERS: [WORKFLOW_SA, TRAINER_SA, OPERATOR_SA].join(','),
  });
  const endpoints = {
    storage: gcs.storage,
    executions: executionsClientFor(twin),
    googleAuth: new GoogleAuth({ authClient: new Compute() }),
    certsUrl: vm.certsUrl,
    // Cloud Run's URLs here are the serving twin's loopback proxies.
    servingOrigins: (origin: string) => serving.list().some((svc) => svc.uri === origin),
  };
  const api = await composeCloud(env(CONTROL_API_SA), endpoints);
  stops.push(() => api.db.close());
  const trigger = await composeCloud(env(TRIGGER_SA), endpoints);
  stops.push(() => trigger.db.close());
  o.log(
    `database     PostgreSQL, IAM logins ${iamDatabaseUser(CONTROL_API_SA)}, ${iamDatabaseUser(TRIGGER_SA)}`,
  );

  const app: FastifyInstance = buildControlApi({ ...api.controlApi, logger: false });
  await app.listen({ host: '127.0.0.1', port });
  stops.push(() => app.close());
  o.log(`control API  ${apiUrl} (cloud composition: ID tokens for ${o.apiAudience ?? apiUrl})`);

  const store = createStore(api.db.pool);
  executions = startWorkflows(o, {
    training,
    serving,
    objects,
    store,
    apiUrl,
    vm,
    executionState: (n) => executions?.get(lastPart(n))?.state,
  });
  const running = executions;
  stops.push(() => running.stop());

  const functions = await serveTrigger(trigger.trigger, o.log);
  stops.push(() => functions.close());
  return {
    apiUrl,
    api: new ApiClient(apiUrl, vm.mint(apiUrl, { email: OPERATOR_SA })),
    store,
    objects,
    training,
    serving,
    async drop(name: string, content: Buffer | string, contentType: string) {
      await objects.write(DATASETS_BUCKET, name, content, { contentType });
      await deliverFinalized(objects, DATASETS_BUCKET, name, functions.url, {
        log: (m) => o.log(`eventarc     ${m}`),
      });
    },
    stop,
  } satisfies CloudStack;
}

/** The Compute twin running the trainer image and the Cloud Run twin running the serving image. */
function containerBackends(o: CloudStackOptions, metadataHost: string, gcsEndpoint: string) {
  const training = new ContainerTrainingBackend({
    home: o.home,
    session: o.session,
    storage: 'gs',
    // What the VM gives the container: its metadata server, no token. (STORAGE_EMULATOR_HOST
    // is the twin's: in the cloud the storage client finds Google's endpoint itself.)
    extraEnv: { GCE_METADATA_HOST: metadataHost, STORAGE_EMULATOR_HOST: gcsEndpoint },
    ...(o.trainingFaults ? { faults: o.trainingFaults } : {}),
  });
  const serving = new ContainerServingBackend({
    home: o.home,
    session: o.session,
    storage: 'gs',
    // Node's @google-cloud/storage takes the emulator's JSON API base (it appends nothing), where
    // Python's client appends /storage/v1 itself: the same variable, two conventions.
    extraEnv: { STORAGE_EMULATOR_HOST: `${gcsEndpoint}/storage/v1` },
    readyTimeoutMs: o.servingReadyTimeoutMs ?? 180_000,
  });
  return { training, serving };
}

/**
 * pipeline.yaml on the local runtime, with the cloud's userEnvVars (gs:// storage, the
 * rehearsal's project and service accounts, the images) and Workflows' `auth: {type: OIDC}`:
 * an ID token of the workflow's service account for each call's audience.
 */
function startWorkflows(
  o: CloudStackOptions,
  d: {
    training: ContainerTrainingBackend;
    serving: ContainerServingBackend;
    objects: ObjectStore;
    store: TrackingStore;
    apiUrl: string;
    vm: MetadataServer;
    executionState: ExecutionLookup['state'];
  },
): LocalExecutions {
  const workflow = loadWorkflowSource(
    readFileSync(join(REPO_ROOT, 'workflows', 'pipeline.yaml'), 'utf8'),
    localBindings({
      training: d.training,
      serving: d.serving,
      store: d.objects,
      executions: { state: d.executionState },
    }),
  );
  const env = localPipelineEnv(d.apiUrl, MODELS_BUCKET, {
    DROPTUNE_STORAGE: 'gs',
    PROJECT_ID: PROJECT,
    REGION,
    ZONES: `${REGION}-a`,
    TRAINER_SA,
    SERVING_SA,
    TRAINER_IMAGE: o.trainerImage,
    SERVING_IMAGE: o.servingImage,
    ...o.pipelineEnv,
  });
  const oidc = (auth: WfMap, url: string) => {
    const audience = typeof auth.audience === 'string' ? auth.audience : url;
    return { Authorization: `Bearer ${d.vm.mint(audience, { email: WORKFLOW_SA })}` };
  };
  return new LocalExecutions(
    workflow,
    env,
    oidc,
    (id, e) =>
      o.log(`workflow     ${id.slice(0, 8)} ${typeof e.data === 'string' ? e.data : JSON.stringify(e.data)}`),
    (exec) => failRunOfFailedExecution(d.store, d.training, exec),
  );
}

/** `onDatasetUploaded` behind the functions framework, as Cloud Run functions host it. */
async function serveTrigger(deps: DatasetTriggerDeps, log: (line: string) => void) {
  configureDatasetTrigger({ ...deps, log: (e) => log(`trigger      ${JSON.stringify(e)}`) });
  const server: Server = getTestServer('onDatasetUploaded');
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  log(`function     onDatasetUploaded at ${url}, events from gs://${DATASETS_BUCKET}`);
  return { url, close: () => new Promise<void>((r) => server.close(() => r())) };
}

const lastPart = (name: string): string => name.split('/').pop() ?? name;

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}
