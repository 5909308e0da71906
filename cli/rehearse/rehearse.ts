import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { FileObjectStore } from '../../shared/storage/index.ts';
import type { Run } from '../../shared/store/index.ts';
import { TRAINER_DIR } from '../../shared/trainer-python.ts';
import { ContainerServingBackend, ContainerTrainingBackend } from '../../workflows/connectors/index.ts';
import { imageDigest, PODMAN_RUN_FLAGS, podman } from '../../workflows/connectors/podman.ts';
import { type LocalStack, startLocalStack } from '../local-stack/stack.ts';

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
  /** Seconds per stage, in order. */
  stageSeconds: Record<string, number>;
  home: string;
  /** Every container of this rehearsal carries the label `droptune-session=<session>`. */
  session: string;
}

export interface RehearsalOptions {
  /** State directory (default: a fresh temporary one, removed after a pass). */
  home?: string;
  log?: (line: string) => void;
  /** How long one training run may take (default 15 min: CPU, a loaded machine). */
  runTimeoutMs?: number;
  trainerImage?: string;
  servingImage?: string;
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
 * Runs the cloud path on this machine with the cloud's images: the trainer image as the
 * Compute twin's VM container, the serving image as the Cloud Run twin's revisions, both driven
 * by pipeline.yaml on the local Workflows runtime. Drops a CSV, waits for `succeeded`, predicts
 * through the control API's proxy, trains a second version, rolls back and promotes (each a
 * redeploy of the serving container), and times each stage. Never throws: a failure is in the
 * summary with its stage and the container's log tail, and every container is removed.
 */
export async function rehearse(options: RehearsalOptions = {}): Promise<RehearsalSummary> {
  const log = options.log ?? (() => {});
  const trainerImage = options.trainerImage ?? TRAINER_IMAGE;
  const servingImage = options.servingImage ?? SERVING_IMAGE;
  const home = options.home ?? mkdtempSync(join(tmpdir(), 'droptune-rehearsal-'));
  const summary: RehearsalSummary = {
    status: 'failed',
    images: { trainer: { image: trainerImage }, serving: { image: servingImage } },
    stageSeconds: {},
    home,
    session: `rehearsal-${randomUUID().slice(0, 8)}`,
  };
  let stack: LocalStack | undefined;
  let training: ContainerTrainingBackend | undefined;
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
      startLocalStack({
        home,
        port: 0,
        log,
        pipelineEnv: { TRAINER_IMAGE: trainerImage, SERVING_IMAGE: servingImage, GATE_MIN_ACCURACY: '0.5' },
        backends: ({ home: h, token }) => {
          const session = summary.session;
          training = new ContainerTrainingBackend({
            home: h,
            session,
            extraEnv: { DROPTUNE_API_TOKEN: token },
          });
          const serving = new ContainerServingBackend({ home: h, session, readyTimeoutMs: 180_000 });
          return {
            training,
            serving,
            describe: `containers of ${trainerImage} (podman, the VM's startup script)`,
          };
        },
      }),
    );
    const s = stack;
    const objects = new FileObjectStore(join(home, 'buckets'));
    const csv = await stage('fixtures', () => makeFixtures(home, trainerImage));
    const trained = async (name: string, file: string, version: number) =>
      stage(name, async () => {
        await objects.write('datasets', `${MODEL}/${file}`, readFileSync(csv));
        const run = await waitForRun(s, file, options.runTimeoutMs ?? 900_000);
        summary.runStatus = run.status;
        if (run.status !== 'succeeded' || run.version !== version)
          throw new RehearsalError(
            name,
            `run ${run.runId} ended ${run.status} (v${run.version ?? '-'}): ${run.error ?? 'no reason recorded'}`,
            training?.lastOutputOfLatest(20),
          );
        summary.version = run.version;
        await s.api.waitForProduction(MODEL, version, 300_000).catch((err: Error) => {
          throw new RehearsalError(name, err.message, servingLogTail(home));
        });
      });
    await stage('settings', () =>
      objects.write('datasets', `${MODEL}/droptune.json`, JSON.stringify(settings(baseModelDir(home)))),
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
    summary.logTail = e.logTail ?? training?.lastOutputOfLatest(20) ?? servingLogTail(home);
  } finally {
    const start = performance.now();
    await stack?.stop().catch((err: Error) => log(`while stopping: ${err.message}`));
    summary.stageSeconds.stop = Math.round(performance.now() - start) / 1000;
  }
  if (summary.status === 'passed' && !options.home) rmSync(home, { recursive: true, force: true });
  return summary;
}

/** The tiny BERT base model and the CSV, made by the trainer image's own fixture code. */
async function makeFixtures(home: string, trainerImage: string): Promise<string> {
  const buckets = join(home, 'buckets');
  const script = [
    'from pathlib import Path',
    'import sys',
    'sys.path.insert(0, "/opt/droptune-tests")',
    'from tiny_model import build_tiny_bert, write_synthetic_csv',
    `build_tiny_bert(Path("${baseModelDir(home)}"))`,
    `write_synthetic_csv(Path("${buckets}/rehearsal-train.csv"), rows_per_label=80)`,
  ].join('\n');
  await podman([
    'run',
    '--rm',
    ...PODMAN_RUN_FLAGS,
    '--user',
    '0',
    '--volume',
    `${buckets}:${buckets}`,
    '--volume',
    `${join(TRAINER_DIR, 'tests')}:/opt/droptune-tests:ro`,
    '--entrypoint',
    'python',
    trainerImage,
    '-c',
    script,
  ]);
  return join(buckets, 'rehearsal-train.csv');
}

/** Inside the mounted buckets folder, so the trainer container sees it at the same path. */
function baseModelDir(home: string): string {
  return join(home, 'buckets', 'base-models', 'tiny-bert');
}

async function waitForRun(stack: LocalStack, file: string, timeoutMs: number): Promise<Run> {
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
async function predictVersion(stack: LocalStack, version: number): Promise<unknown> {
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
