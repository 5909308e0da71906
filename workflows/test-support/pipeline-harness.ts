/**
 * Runs workflows/pipeline.yaml end to end on real parts: the real control API
 * (functions/api, on a real PostgreSQL database) listening on loopback, `file://` buckets in a
 * temp DROPTUNE_HOME, the real trainer as a child process (LocalTrainingBackend) and the real
 * prediction service (LocalServingBackend). Only time is virtual: polls and back-offs sleep on
 * a scaled clock. Faults are options of the local backends.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { type AddressInfo, createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildControlApi } from '../../functions/api/app.ts';
import { compose, localPlatform } from '../../functions/compose.ts';
import type { WorkflowStarter } from '../../functions/workflow-starter/port.ts';
import type { Database } from '../../shared/db/pool.ts';
import { MetadataServer } from '../../shared/identity/metadata-server.ts';
import { localObjectStore } from '../../shared/storage/index.ts';
import { createStore, type Run, type TrackingStore } from '../../shared/store/index.ts';
import { REPO_ROOT as REPO, TRAINER_DIR, trainerPython } from '../../shared/trainer-python.ts';
import { makeTinyModelAndData } from '../../test/tiny-model.ts';
import {
  ExecutionTracker,
  executionName,
  LocalServingBackend,
  LocalTrainingBackend,
  localBindings,
  type ServingFaults,
  type TrainingFaults,
} from '../connectors/index.ts';
import {
  type LoadedWorkflow,
  type LogEntry,
  loadWorkflowSource,
  realClock,
  toJs,
  VirtualClock,
  WorkflowError,
} from '../runtime/index.ts';

export const PYTHON = trainerPython();
/** The trainer VM's service account (the workflow's TRAINER_SA): what the metadata twin mints for. */
const TRAINER_SA = 'trainer@local-project.iam.gserviceaccount.com';
/** Real ms per virtual second: polls of 5-30 s take 50-300 ms. */
export const MS_PER_SECOND = 10;

/** Builds (once per machine) a 2-layer random BERT and a labelled CSV (test/tiny-model.ts). */
export function trainingFixtures(): { baseModel: string; csv: string } {
  const dir = join(tmpdir(), 'droptune-workflow-fixtures');
  const baseModel = join(dir, 'tiny-bert');
  const csv = join(dir, 'tickets.csv');
  if (!existsSync(join(baseModel, 'config.json')) || !existsSync(csv)) {
    mkdirSync(dir, { recursive: true });
    makeTinyModelAndData(dir, 20, 'tickets.csv');
  }
  return { baseModel, csv };
}

export interface HarnessOptions {
  trainingFaults?: TrainingFaults;
  servingFaults?: ServingFaults;
  /** userEnvVars of the workflow on top of the test defaults. */
  env?: Record<string, string>;
  /** Sleep in real time (the local stack's setting) instead of on the scaled virtual clock. */
  realTime?: boolean;
  /** A fresh migrated database (default: one on the test PostgreSQL server, needs vitest). */
  openDb?: () => Promise<Database>;
}

export interface ExecuteInputOptions {
  executionId?: string;
  env?: Record<string, string>;
  /** Aborting it cancels the execution, as `gcloud workflows executions cancel` does. */
  signal?: AbortSignal;
  /** This execution sleeps in real time (e.g. the reaper comparing with database times). */
  realTime?: boolean;
}

export type Outcome = { result: Record<string, unknown> } | { error: { tags?: string[]; message: string } };

export class PipelineHarness {
  readonly home = mkdtempSync(join(tmpdir(), 'droptune-wf-'));
  readonly objects = localObjectStore(this.home);
  readonly token = randomBytes(24).toString('base64url');
  readonly logs: LogEntry[] = [];
  /** Every execution this harness ran, for the reaper's executions.get. */
  readonly executions = new ExecutionTracker();
  /** The trainer's metadata server (twin): its ID tokens are how the trainer reaches the API. */
  metadata!: MetadataServer;
  training!: LocalTrainingBackend;
  serving!: LocalServingBackend;
  store!: TrackingStore;
  apiUrl = '';
  env: Record<string, string> = {};
  /** Connections cut while the API was "down" (evidence that the workflow retried). */
  refusedConnections = 0;
  private down = false;
  private proxy?: Server;
  private readonly sockets = new Set<Socket>();
  private db!: Database;
  private api?: FastifyInstance;
  private port = 0;
  private workflow!: LoadedWorkflow;
  private fixtures = trainingFixtures();
  private executionCount = 0;
  private realTime = false;

  static async open(options: HarnessOptions = {}): Promise<PipelineHarness> {
    const h = new PipelineHarness();
    await h.init(options);
    return h;
  }

  private async init(options: HarnessOptions): Promise<void> {
    this.db = options.openDb
      ? await options.openDb()
      : await (await import('../../shared/db/testing.ts')).TEST_BACKENDS.find(
          (b) => b.name === 'postgres',
        )!.open();
    this.store = createStore(this.db.pool);
    this.realTime = options.realTime ?? false;
    this.metadata = await new MetadataServer({ email: TRAINER_SA }).start();
    await this.apiUp();
    await this.startProxy();
    this.training = new LocalTrainingBackend({
      home: this.home,
      python: PYTHON,
      cwd: TRAINER_DIR,
      // No static token: the trainer fetches ID tokens from the metadata-server twin, as in the cloud.
      extraEnv: {
        GCE_METADATA_HOST: this.metadata.host,
        DROPTUNE_API_TOKEN: '',
        DROPTUNE_WORK_DIR: join(this.home, 'work'),
      },
      msPerSecond: MS_PER_SECOND,
      faults: options.trainingFaults,
    });
    this.serving = new LocalServingBackend({
      home: this.home,
      cwd: REPO,
      readyTimeoutMs: 90_000,
      faults: options.servingFaults,
    });
    this.env = {
      DROPTUNE_API_URL: this.apiUrl,
      MODELS_BUCKET: 'models',
      DROPTUNE_STORAGE: 'file',
      PROJECT_ID: 'local-project',
      REGION: 'local1',
      ZONES: 'local1-a,local1-b,local1-c',
      TRAINER_IMAGE: 'droptune-trainer:local',
      SERVING_IMAGE: 'droptune-serving:local',
      TRAINER_SA,
      SERVING_SA: 'serving@local-project.iam.gserviceaccount.com',
      GPU_PRICE_PER_HOUR: '2.5',
      SPOT_GPU_PRICE_PER_HOUR: '0.8',
      POLL_INITIAL_SECONDS: '5',
      POLL_MAX_SECONDS: '30',
      MAX_TRAIN_SECONDS: '100000',
      GATE_MIN_ACCURACY: '0',
      ...options.env,
    };
    const source = readFileSync(join(REPO, 'workflows/pipeline.yaml'), 'utf8');
    this.workflow = loadWorkflowSource(
      source,
      localBindings({
        training: this.training,
        serving: this.serving,
        store: this.objects,
        executions: this.executions,
      }),
    );
  }

  /** Starts the real control API on a loopback port, composed as the local stack composes it. */
  private async apiUp(): Promise<void> {
    const base = {
      store: this.store,
      objects: this.objects,
      datasetsBucket: 'datasets',
      modelsBucket: 'models',
    };
    const idTokens = {
      certsUrl: this.metadata.certsUrl,
      audience: () => this.apiUrl,
      allowedEmails: [TRAINER_SA],
    };
    const { controlApi } = compose(
      base,
      localPlatform({
        ...base,
        token: this.token,
        workflows: this.starter,
        idTokens,
        // As the local stack: deployments may point only at this harness's serving proxies.
        ownsLoopbackUrl: (origin) => this.serving.list().some((svc) => svc.uri === origin),
      }),
    );
    this.api = buildControlApi(controlApi);
    await this.api.listen({ host: '127.0.0.1', port: this.port });
    this.port = (this.api.server.address() as AddressInfo).port;
    this.apiUrl = `http://127.0.0.1:${this.port}`;
  }

  /**
   * The workflow and the trainer reach the API through a TCP relay, so a test can take the API
   * "down" for a while: every connection is then reset (a ConnectionError in the workflow).
   */
  private async startProxy(): Promise<void> {
    const apiPort = this.port;
    this.proxy = createServer((client) => {
      if (this.down) {
        this.refusedConnections++;
        client.resetAndDestroy();
        return;
      }
      this.sockets.add(client);
      const upstream = createConnection({ host: '127.0.0.1', port: apiPort });
      this.sockets.add(upstream);
      client.pipe(upstream).pipe(client);
      const drop = (): void => {
        client.destroy();
        upstream.destroy();
        this.sockets.delete(client);
        this.sockets.delete(upstream);
      };
      client.on('error', drop).on('close', drop);
      upstream.on('error', drop).on('close', drop);
    });
    await new Promise<void>((r) => this.proxy?.listen(0, '127.0.0.1', r));
    this.apiUrl = `http://127.0.0.1:${(this.proxy.address() as AddressInfo).port}`;
  }

  /** Promote and rollback through the API execute the pipeline's promote action here. */
  private readonly starter: WorkflowStarter = {
    start: async (args) => {
      const executionId = `exec-${++this.executionCount}`;
      void this.executeInput(args, { executionId }).catch((err) =>
        this.logs.push({ severity: 'ERROR', data: String(err), time: Date.now() }),
      );
      return { executionId };
    },
  };

  /** Takes the API down for `ms` real milliseconds: open connections are cut, new ones reset. */
  async outage(ms: number): Promise<void> {
    this.down = true;
    for (const s of this.sockets) s.destroy();
    await new Promise((r) => setTimeout(r, ms));
    this.down = false;
  }

  /** Resolves once the run reaches `status` (polling the store). */
  async waitForStatus(runId: string, status: string, timeoutMs = 120_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if ((await this.store.runs.get(runId)).status === status) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`run ${runId} did not reach ${status} within ${timeoutMs} ms`);
  }

  private async apiDown(): Promise<void> {
    await this.api?.close();
    this.api = undefined;
  }

  /** Puts the CSV in the datasets bucket and creates its run as the dataset trigger does (validating). */
  async createRun(modelName: string, params: Record<string, unknown> = {}): Promise<Run> {
    const datasetUri = `file://datasets/${modelName}/train.csv`;
    await this.objects.write('datasets', `${modelName}/train.csv`, readFileSync(this.fixtures.csv));
    const run = await this.store.runs.create({
      modelName,
      datasetUri,
      params: {
        baseModel: this.fixtures.baseModel,
        epochs: 2,
        batchSize: 16,
        learningRate: 0.003,
        maxLength: 32,
        earlyStoppingPatience: 0,
        quantize: false,
        ...params,
      },
    });
    return this.store.runs.transition(run.runId, 'validating');
  }

  /** Executes pipeline.yaml for a run, as Cloud Workflows would with the function's arguments. */
  async execute(run: Run, options: ExecuteInputOptions = {}): Promise<Outcome> {
    return this.executeInput(
      { runId: run.runId, modelName: run.modelName, datasetUri: run.datasetUri, params: run.params },
      options,
    );
  }

  /** Executes pipeline.yaml with any input (e.g. `{action: "reap"}`); `signal` cancels it. */
  async executeInput(input: Record<string, unknown>, options: ExecuteInputOptions = {}): Promise<Outcome> {
    const executionId = options.executionId ?? `exec-${++this.executionCount}`;
    const env = { ...this.env, ...options.env };
    try {
      const context = this.context(executionId, env);
      const result = await this.executions.track(
        executionName(context.env, executionId),
        () =>
          this.workflow.execute(input, {
            ...context,
            signal: options.signal,
            clock: options.realTime ? realClock : context.clock,
          }),
        options.signal,
      );
      return { result: result as Record<string, unknown> };
    } catch (err) {
      if (err instanceof WorkflowError)
        return { error: toJs(err.value) as { tags?: string[]; message: string } };
      throw err;
    }
  }

  private context(executionId: string, env: Record<string, string> = {}) {
    return {
      env: { ...this.env, ...env },
      executionId,
      clock: this.realTime ? realClock : new VirtualClock({ scale: MS_PER_SECOND / 1000 }),
      authHeaders: () => ({ Authorization: `Bearer ${this.token}` }),
      log: (e: LogEntry) => this.logs.push(e),
    };
  }

  async production(modelName: string): Promise<number | null> {
    return this.store.models.alias(modelName, 'production');
  }

  async close(): Promise<void> {
    await this.training?.close();
    await this.serving?.close();
    for (const sock of this.sockets) sock.destroy();
    await new Promise<void>((r) => (this.proxy ? this.proxy.close(() => r()) : r()));
    await this.apiDown();
    await this.metadata?.stop();
    await this.db?.close();
    rmSync(this.home, { recursive: true, force: true });
  }
}
