import { randomUUID } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

import type { Run } from '../../shared/store/index.ts';
import { imageDigest, tinyFixturesInImage } from '../../workflows/connectors/podman.ts';
import { type CloudStack, startCloudStack } from './cloud-stack.ts';
import { MODELS_BUCKET } from './twins.ts';

export const TRAINER_IMAGE = process.env.DROPTUNE_TRAINER_IMAGE ?? 'localhost/droptune-trainer:latest';
export const SERVING_IMAGE = process.env.DROPTUNE_SERVING_IMAGE ?? 'localhost/droptune-serving:latest';
const MODEL = 'rehearsal-tickets';
const TERMINAL = ['succeeded', 'failed', 'rejected', 'gated', 'cancelled'];

/** One stage of the rehearsal failed: `stage` names it, `logTail` is the container's last lines. */
export class RehearsalError extends Error {
  constructor(
    readonly stage: string,
    message: string,
    readonly logTail?: string,
  ) {
    super(`rehearsal failed at ${stage}: ${message}`);
    this.name = 'RehearsalError';
  }
}

export interface RehearsalSummary {
  status: 'passed' | 'failed';
  failedStage?: string;
  error?: string;
  logTail?: string;
  runStatus?: string;
  version?: number;
  images: { trainer: { image: string; digest?: string }; serving: { image: string; digest?: string } };
  prediction?: unknown;
  /** The production version when the rehearsal ended (a failed run leaves it untouched). */
  production?: number | null;
  /** Seconds per stage, in order. */
  stageSeconds: Record<string, number>;
  home: string;
  /** Every container of this rehearsal carries the label `droptune-session=<session>`. */
  session: string;
}

/** Faults the rehearsal can inject; each must end the run `failed` with its reason. */
export interface RehearsalFaults {
  /** The control API expects ID tokens for another audience (a mistyped DROPTUNE_API_URL). */
  apiAudience?: string;
  /** The trainer container exits with this code at once. */
  trainerExitCode?: number;
  /** The pipeline's TRAINER_IMAGE (one never built: podman exits 125 on the VM twin). */
  pipelineTrainerImage?: string;
  /** The pipeline's SERVING_IMAGE (one never built: the revision never passes its startup probe). */
  pipelineServingImage?: string;
}

export interface RehearsalOptions {
  /** State directory (default: a fresh temporary one, removed after a pass). */
  home?: string;
  log?: (line: string) => void;
  /** How long one training run may take (default 15 min: CPU, a loaded machine). */
  runTimeoutMs?: number;
  trainerImage?: string;
  servingImage?: string;
  /** Admin URL of a PostgreSQL server to use (default: a throw-away server started here). */
  databaseServerUrl?: string;
  faults?: RehearsalFaults;
}

/** The trainer settings of the rehearsal's drop: a tiny BERT, an easy 3-class CSV. */
function settings(baseModel: string) {
  // v2 retrains on the same small CSV (24 validation rows): the rehearsal proves the path, not
  // the gate's statistics, so the gate compares on any number of unseen rows.
  return {
    baseModel,
    epochs: 6,
    batchSize: 16,
    learningRate: 3e-3,
    maxLength: 64,
    seed: 7,
    gate: { minRows: 1 },
  };
}

/**
 * Runs the cloud path on this machine with the cloud's images: the cloud composition of the
 * functions (cloud-stack.ts) on twins, the trainer image as the Compute twin's VM container, the
 * serving image as the Cloud Run twin's revisions, both driven by pipeline.yaml. Drops a CSV into
 * the `gs://` datasets bucket, waits for `succeeded`, predicts through the control API's proxy,
 * trains a second version, rolls back and promotes (each a redeploy of the serving container),
 * and times each stage. Never throws: a failure is in the summary with its stage and the
 * container's log tail, and every container is removed.
 */
export async function rehearse(options: RehearsalOptions = {}): Promise<RehearsalSummary> {
  const log = options.log ?? (() => {});
  const trainerImage = options.trainerImage ?? TRAINER_IMAGE;
  const servingImage = options.servingImage ?? SERVING_IMAGE;
  const faults = options.faults ?? {};
  const home = options.home ?? mkdtempSync(join(tmpdir(), 'droptune-rehearsal-'));
  const summary: RehearsalSummary = {
    status: 'failed',
    images: { trainer: { image: trainerImage }, serving: { image: servingImage } },
    stageSeconds: {},
    home,
    session: `rehearsal-${randomUUID().slice(0, 8)}`,
  };
  let stack: CloudStack | undefined;
  const stage = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
    const start = performance.now();
    log(`rehearsal    ${name}…`);
    try {
      return await fn();
    } catch (err) {
      if (err instanceof RehearsalError) throw err;
      throw new RehearsalError(name, (err as Error).message ?? String(err));
    } finally {
      summary.stageSeconds[name] = Math.round(performance.now() - start) / 1000;
    }
  };
  try {
    await stage('images', async () => {
      for (const [kind, image] of [
        ['trainer', trainerImage],
        ['serving', servingImage],
      ] as const) {
        const digest = await imageDigest(image);
        if (!digest) throw new RehearsalError('images', `image ${image} is not built (run "npm run images")`);
        summary.images[kind].digest = digest;
      }
    });
    stack = await stage('stack', () =>
      startCloudStack({
        home,
        session: summary.session,
        trainerImage: faults.pipelineTrainerImage ?? trainerImage,
        servingImage: faults.pipelineServingImage ?? servingImage,
        log,
        pipelineEnv: { GATE_MIN_ACCURACY: '0.5' },
        ...(options.databaseServerUrl ? { databaseServerUrl: options.databaseServerUrl } : {}),
        ...(faults.apiAudience ? { apiAudience: faults.apiAudience } : {}),
        ...(faults.trainerExitCode !== undefined
          ? { trainingFaults: { crashWithExitCode: faults.trainerExitCode } }
          : {}),
      }),
    );
    const s = stack;
    const fixtures = await stage('fixtures', () =>
      makeFixtures(s, trainerImage, summary.images.trainer.digest ?? 'unknown'),
    );
    const trained = async (name: string, file: string, version: number) =>
      stage(name, async () => {
        await s.drop(`${MODEL}/${file}`, readFileSync(fixtures.csv), 'text/csv');
        const run = await waitForRun(s, file, options.runTimeoutMs ?? 900_000);
        summary.runStatus = run.status;
        if (run.status !== 'succeeded' || run.version !== version)
          throw new RehearsalError(
            name,
            `run ${run.runId} ended ${run.status} (v${run.version ?? '-'}): ${run.error ?? 'no reason recorded'}`,
            s.training.lastOutputOfLatest(20),
          );
        summary.version = run.version;
        await s.api.waitForProduction(MODEL, version, 300_000).catch((err: Error) => {
          throw new RehearsalError(name, err.message, servingLogTail(home));
        });
      });
    await stage('settings', () =>
      s.drop(`${MODEL}/droptune.json`, JSON.stringify(settings(fixtures.baseModelUri)), 'application/json'),
    );
    await trained('train_v1', 'train.csv', 1);
    summary.prediction = await stage('predict_v1', () => predictVersion(s, 1));
    await trained('train_v2', 'train-2.csv', 2);
    await stage('rollback', async () => {
      await s.api.rollback(MODEL);
      await s.api.waitForProduction(MODEL, 1, 300_000);
      await predictVersion(s, 1);
    });
    await stage('promote', async () => {
      await s.api.promote(MODEL, 2);
      await s.api.waitForProduction(MODEL, 2, 300_000);
      summary.prediction = await predictVersion(s, 2);
    });
    summary.status = 'passed';
  } catch (err) {
    const e = err instanceof RehearsalError ? err : new RehearsalError('setup', (err as Error).message);
    summary.failedStage = e.stage;
    summary.error = e.message;
    // The container the failing stage was waiting on: the trainer while training, else serving.
    const trainerTail = stack?.training.lastOutputOfLatest(20);
    summary.logTail =
      e.logTail ??
      (e.stage.startsWith('train')
        ? (trainerTail ?? servingLogTail(home))
        : (servingLogTail(home) ?? trainerTail));
  } finally {
    const start = performance.now();
    if (stack) summary.production = await stack.store.models.alias(MODEL, 'production').catch(() => null);
    await stack?.stop().catch((err: Error) => log(`while stopping: ${err.message}`));
    summary.stageSeconds.stop = Math.round(performance.now() - start) / 1000;
  }
  if (summary.status === 'passed' && !options.home) rmSync(home, { recursive: true, force: true });
  return summary;
}

/**
 * The tiny BERT base model and the CSV, made by the trainer image's own fixture code once per
 * image digest (in the machine's temp folder: every rehearsal and fault test reuses them), and
 * the base model uploaded to the models bucket (the trainer downloads a `gs://` base model).
 */
async function makeFixtures(stack: CloudStack, trainerImage: string, digest: string) {
  const dir = join(tmpdir(), 'droptune-rehearsal-fixtures', digest.replace(/^sha256:/, '').slice(0, 16));
  const baseModel = join(dir, 'tiny-bert');
  const csv = join(dir, 'train.csv');
  if (!existsSync(join(baseModel, 'config.json')) || !existsSync(csv)) {
    // Built aside and renamed into place, so a concurrent rehearsal never sees half of it.
    const building = `${dir}.${randomUUID().slice(0, 8)}`;
    mkdirSync(building, { recursive: true });
    await tinyFixturesInImage(trainerImage, building, {
      baseModel: join(building, 'tiny-bert'),
      csv: join(building, 'train.csv'),
      rowsPerLabel: 80,
    });
    try {
      renameSync(building, dir);
    } catch {
      rmSync(building, { recursive: true, force: true }); // another rehearsal was first
    }
  }
  for (const file of filesUnder(baseModel))
    await stack.objects.write(
      MODELS_BUCKET,
      `base-models/tiny-bert/${relative(baseModel, file)}`,
      readFileSync(file),
    );
  return { csv, baseModelUri: `gs://${MODELS_BUCKET}/base-models/tiny-bert` };
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)],
  );
}

async function waitForRun(stack: CloudStack, file: string, timeoutMs: number): Promise<Run> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const runs = await stack.store.runs.list({ modelName: MODEL, limit: 100 });
    const run = runs.find((r) => r.datasetUri.endsWith(`/${file}`) && TERMINAL.includes(r.status));
    if (run) return run;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`no terminal run for ${file} within ${timeoutMs / 1000} s`);
}

/** POST through the control API's predict proxy; checks the answering version. */
async function predictVersion(stack: CloudStack, version: number): Promise<unknown> {
  const body = await stack.api.request<{ predictions: Array<{ label: string }>; model: { version: number } }>(
    'POST',
    `/v1/models/${MODEL}:predict`,
    { instances: ['I was charged twice for my subscription this month, please refund one payment.'] },
  );
  if (body.model?.version !== version)
    throw new Error(`the prediction URL answered with v${body.model?.version}, expected v${version}`);
  return body;
}

/** The last lines of the newest serving revision's log (its container's output). */
function servingLogTail(home: string, lines = 20): string | undefined {
  const dir = join(home, 'logs', 'serving');
  if (!existsSync(dir)) return undefined;
  const newest = readdirSync(dir)
    .map((f) => join(dir, f))
    .sort((a, b) => statSync(a).mtimeMs - statSync(b).mtimeMs)
    .at(-1);
  return newest ? readFileSync(newest, 'utf8').trim().split('\n').slice(-lines).join('\n') : undefined;
}
