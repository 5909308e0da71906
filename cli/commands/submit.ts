import { createReadStream, existsSync } from 'node:fs';
import { basename } from 'node:path';
import { SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import { MODEL_NAME_PATTERN } from '../../shared/contracts/model-settings.ts';
import { isTerminal, type RunStatus } from '../../shared/contracts/run-status.ts';
import { TASKS } from '../../shared/contracts/task.ts';
import { AppError } from '../../shared/errors.ts';
import { openStore, storeFor } from '../../shared/storage/index.ts';
import type { Run } from '../../shared/store/index.ts';
import { ApiClient } from '../api-client.ts';
import { colorStatus, emit, fail, type GlobalOptions, note } from '../output.ts';

interface SubmitOptions {
  model: string;
  bucket?: string;
  wait: boolean;
  epochs?: string;
  lr?: string;
  batchSize?: string;
  maxLength?: string;
  baseModel?: string;
  task?: string;
  timeout: string;
}

/** Hyper-parameter flags → the `droptune.json` keys they set (schema: shared/contracts/model-settings.ts). */
function settingsFromFlags(o: SubmitOptions): Record<string, unknown> {
  const num = (v: string | undefined, flag: string) => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isFinite(n))
      throw new AppError('invalid_argument', `--${flag} must be a number (got "${v}")`);
    return n;
  };
  if (o.task !== undefined && !(TASKS as readonly string[]).includes(o.task)) {
    throw new AppError('invalid_argument', `--task must be one of ${TASKS.join(', ')} (got "${o.task}")`);
  }
  const s: Record<string, unknown> = {
    task: o.task,
    epochs: num(o.epochs, 'epochs'),
    learningRate: num(o.lr, 'lr'),
    batchSize: num(o.batchSize, 'batch-size'),
    maxLength: num(o.maxLength, 'max-length'),
    baseModel: o.baseModel,
  };
  return Object.fromEntries(Object.entries(s).filter(([, v]) => v !== undefined));
}

/**
 * Puts the CSV where the trigger watches — the local datasets bucket, or `--bucket gs://…` —
 * exactly as a person dropping a file would, then finds the run the upload started and
 * (unless `--no-wait`) follows it to the end.
 */
export async function submit(csv: string, o: SubmitOptions, g: GlobalOptions): Promise<void> {
  if (!existsSync(csv)) throw new AppError('invalid_argument', `no such file: ${csv}`);
  if (!MODEL_NAME_PATTERN.test(o.model)) {
    throw new AppError(
      'invalid_argument',
      `model name "${o.model}" must match ${MODEL_NAME_PATTERN.source} (lowercase letters, digits, "-"; not ending with "-")`,
    );
  }
  if (!csv.toLowerCase().endsWith('.csv'))
    throw new AppError('invalid_argument', `${csv} is not a .csv file`);
  const api = ApiClient.forOptions(g);
  const home = g.home ?? process.env.DROPTUNE_HOME ?? '.droptune';
  const target = o.bucket
    ? openStore(o.bucket.replace(/\/?$/, '/'))
    : { store: storeFor('file', { home }), bucket: 'datasets', name: '' };
  const name = `${target.name}${o.model}/${basename(csv)}`;
  const settings = settingsFromFlags(o);
  if (Object.keys(settings).length) {
    const settingsName = `${target.name}${o.model}/droptune.json`;
    const current = await target.store.read(target.bucket, settingsName).then(
      (b) => JSON.parse(b.toString()) as object,
      () => ({}),
    );
    await target.store.write(
      target.bucket,
      settingsName,
      JSON.stringify({ ...current, ...settings }, null, 2),
    );
    note(
      `updated ${target.store.scheme}://${target.bucket}/${settingsName} with ${JSON.stringify(settings)} (used by this and later drops of ${o.model})`,
    );
  }
  const written = await target.store.write(target.bucket, name, createReadStream(csv), {
    contentType: 'text/csv',
  });
  const datasetUri = `${target.store.scheme}://${target.bucket}/${name}`;
  note(`uploaded ${csv} → ${datasetUri}`);
  const run = await findRun(api, o.model, datasetUri, written.generation);
  if (!o.wait) {
    emit(g, { runId: run.runId }, () => console.log(run.runId));
    return;
  }
  const final = await follow(api, run.runId, Number(o.timeout) * 1000);
  const { models } = await api.models();
  const url = models.find((m) => m.modelName === o.model)?.url ?? null;
  const detail = await api.run(final.runId);
  emit(g, { ...detail, url }, () => {
    if (final.status === 'succeeded') {
      console.log(`${colorStatus('succeeded')}: ${o.model} v${final.version} is live at ${url}`);
      console.log(`try: npx droptune predict ${o.model} "your text here"`);
    } else {
      console.log(`${colorStatus(final.status)}: ${final.error ?? ''}`);
    }
  });
  if (final.status !== 'succeeded') process.exitCode = 1;
}

/** The run the trigger created for this exact upload (same dataset URI and generation). */
async function findRun(
  api: ApiClient,
  modelName: string,
  datasetUri: string,
  generation: string,
): Promise<Run> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const { runs } = await api.runs({ modelName, limit: 20 });
    const run = runs.find(
      (r) =>
        r.datasetUri === datasetUri && (r.datasetGeneration === generation || r.datasetGeneration === null),
    );
    if (run) return run;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new AppError(
    'deadline_exceeded',
    `no run appeared for ${datasetUri} within 60 s: is the stack's trigger running? ("npx droptune up")`,
  );
}

/** Follows a run to a terminal status: stage changes as lines, a progress bar over training steps. */
async function follow(api: ApiClient, runId: string, timeoutMs: number): Promise<Run> {
  let status: RunStatus | undefined;
  let afterId = 0;
  let bar: SingleBar | undefined;
  const deadline = Date.now() + timeoutMs;
  try {
    while (Date.now() < deadline) {
      const run = await api.run(runId);
      if (run.status !== status) {
        bar?.stop();
        bar = undefined;
        status = run.status;
        note(`${new Date().toISOString().slice(11, 19)}  ${runId}  ${colorStatus(status)}`);
      }
      if (isTerminal(run.status)) return run;
      if (run.status === 'training') {
        const { metrics } = await api.metrics(runId, afterId);
        for (const m of metrics) {
          afterId = Math.max(afterId, m.id);
          if (m.key === 'train_loss') {
            if (!bar && process.stderr.isTTY) {
              bar = new SingleBar({ format: '  training step {value}  loss {loss}', stream: process.stderr });
              bar.start(m.step + 1, 0, { loss: '-' });
            }
            bar?.setTotal(m.step + 1);
            bar?.update(m.step + 1, { loss: m.value.toFixed(4) });
          }
          if (m.key === 'val_accuracy')
            note(`  epoch ${m.epoch}: val_accuracy ${(m.value * 100).toFixed(1)}%`);
        }
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  } finally {
    bar?.stop();
  }
  throw new AppError(
    'deadline_exceeded',
    `run ${runId} did not finish within ${timeoutMs / 1000} s (it goes on; follow it with "npx droptune run ${runId}")`,
  );
}

export function registerSubmit(program: Command, globals: () => GlobalOptions): void {
  program
    .command('submit <csv>')
    .description(
      'upload a labelled CSV (text,label; text,labels; text,text_pair,label; text,score) and follow the run it starts',
    )
    .requiredOption('--model <name>', 'model name: lowercase letters, digits and "-"')
    .option('--bucket <uri>', "a real datasets bucket, e.g. gs://my-datasets (default: the local stack's)")
    .option('--no-wait', 'print the run id and return at once')
    .option('--epochs <n>', 'training epochs')
    .option('--lr <rate>', 'learning rate')
    .option('--batch-size <n>', 'batch size')
    .option('--max-length <n>', 'max tokens per text')
    .option('--base-model <name>', 'base model (hub name, gs:// or local path)')
    .option(
      '--task <task>',
      `what to learn, instead of the task detected from the columns: ${TASKS.join(', ')} (written to droptune.json)`,
    )
    .option('--timeout <seconds>', 'how long to follow the run', '3600')
    .action(async (csv: string, o: SubmitOptions) => {
      const g = globals();
      try {
        await submit(csv, o, g);
      } catch (err) {
        fail(g, err);
      }
    });
}
