import type { Command } from 'commander';
import { ServingEnv } from '../../serving/config.ts';
import type { PredictInstance, Prediction, PredictResponse } from '../../shared/contracts/prediction.ts';
import { AppError } from '../../shared/errors.ts';
import { ApiClient } from '../api-client.ts';
import { emit, fail, type GlobalOptions, note, table } from '../output.ts';
import { readInstances } from './predict-input.ts';

/** Instances per request: serving's own default limit (`DROPTUNE_SERVE_MAX_INSTANCES`), one definition. */
export const DEFAULT_BATCH_SIZE: number = ServingEnv.shape.DROPTUNE_SERVE_MAX_INSTANCES.parse(undefined);

/** Most times one batch is sent again after a 429 (the server's queue was full). */
const MAX_TRIES = 5;

/** Reads texts from stdin, one per line, when `predict` is given none. */
async function stdinLines(): Promise<string[]> {
  if (process.stdin.isTTY) return [];
  let raw = '';
  for await (const chunk of process.stdin) raw += chunk;
  return raw.split(/\r?\n/).filter((l) => l.trim() !== '');
}

/**
 * Every instance's prediction from `url`, in order, as ONE `:predict` response: the instances are
 * sent in batches of `batchSize` (within the server's per-request limit), one after another, a
 * batch that meets a full queue (429) waits the Retry-After the server gives and is sent again.
 * Every batch must come from the same version: a deploy in the middle fails the whole call rather
 * than mixing two models' predictions in one answer.
 */
export async function predictAll(
  url: string,
  model: string,
  instances: readonly PredictInstance[],
  batchSize = DEFAULT_BATCH_SIZE,
): Promise<PredictResponse> {
  const predictions: Prediction[] = [];
  let served: PredictResponse['model'] | undefined;
  for (let start = 0; start < instances.length; start += batchSize) {
    const batch = instances.slice(start, start + batchSize);
    const body = await predictBatch(url, model, batch, start);
    if (served && served.version !== body.model.version)
      throw new AppError(
        'failed_precondition',
        `${model} changed from v${served.version} to v${body.model.version} while predicting; run it again`,
      );
    served = body.model;
    predictions.push(...body.predictions);
  }
  return { predictions, model: served! };
}

async function predictBatch(
  url: string,
  model: string,
  instances: readonly PredictInstance[],
  offset: number,
): Promise<PredictResponse> {
  for (let attempt = 1; ; attempt++) {
    const res = await fetch(`${url}/v1/models/${encodeURIComponent(model)}:predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ instances }),
    }).catch((err: Error) => {
      throw new AppError('unavailable', `cannot reach ${url} (${err.message})`);
    });
    const body = (await res.json().catch(() => ({}))) as PredictResponse & { error?: { message: string } };
    if (res.ok) return body;
    if (res.status === 429 && attempt < MAX_TRIES) {
      const seconds = Number(res.headers.get('retry-after')) || 1;
      note(`${model} is busy; sending instances ${offset}… again in ${seconds} s`);
      await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
      continue;
    }
    const message = body.error?.message ?? `HTTP ${res.status}`;
    throw new AppError(
      res.status === 400 ? 'invalid_argument' : res.status === 404 ? 'not_found' : 'unavailable',
      // The server names `instances[i]` within the batch; say which instance of the whole input it is.
      message.replace(/^instances\[(\d+)\]/, (_, i: string) => `instances[${offset + Number(i)}]`),
    );
  }
}

/** The production URL of `model`, from the control API. */
async function servingUrl(g: GlobalOptions, model: string): Promise<string> {
  const { models } = await ApiClient.forOptions(g).models();
  const found = models.find((m) => m.modelName === model);
  if (!found)
    throw new AppError(
      'not_found',
      `no model named "${model}" (known: ${models.map((m) => m.modelName).join(', ') || 'none'})`,
    );
  if (!found.url)
    throw new AppError('failed_precondition', `model "${model}" has no deployed production version yet`);
  return found.url;
}

/** One table row per instance: its text (and pair), then what the model's task predicts. */
export function predictionRows(instances: readonly PredictInstance[], predictions: readonly Prediction[]) {
  const text = (i: PredictInstance) =>
    typeof i === 'string' ? i : 'text_pair' in i ? `${i.text} ⟂ ${i.text_pair}` : i.text;
  return predictions.map((p, i) => {
    const shown = text(instances[i]!).slice(0, 60);
    if ('value' in p) return [shown, p.value.toPrecision(4), ''];
    if ('labels' in p) return [shown, p.labels.join(', ') || '(none)', ''];
    return [shown, p.label, p.scores[p.label]?.toFixed(3)];
  });
}

export function registerPredict(program: Command, globals: () => GlobalOptions): void {
  program
    .command('predict <model> [texts...]')
    .description(
      'predict with the production model: texts as arguments, lines on stdin, or --input <file.jsonl|file.csv>',
    )
    .option('--input <file>', 'instances to score: .jsonl (one instance a line) or .csv (text[,text_pair])')
    .option('--batch-size <n>', `instances per request (default ${DEFAULT_BATCH_SIZE}, serving's limit)`)
    .action(async (model: string, texts: string[], o: { input?: string; batchSize?: string }) => {
      const g = globals();
      try {
        if (o.input && texts.length)
          throw new AppError('invalid_argument', 'give texts as arguments or --input <file>, not both');
        const instances: PredictInstance[] = o.input
          ? readInstances(o.input)
          : texts.length
            ? texts
            : await stdinLines();
        if (instances.length === 0)
          throw new AppError(
            'invalid_argument',
            'nothing to predict: give texts as arguments, lines on stdin, or --input <file>',
          );
        const batchSize = o.batchSize === undefined ? DEFAULT_BATCH_SIZE : Number(o.batchSize);
        if (!Number.isInteger(batchSize) || batchSize < 1)
          throw new AppError(
            'invalid_argument',
            `--batch-size must be a positive whole number (got "${o.batchSize}")`,
          );
        const body = await predictAll(await servingUrl(g, model), model, instances, batchSize);
        emit(g, body, () =>
          console.log(table(['text', 'prediction', 'score'], predictionRows(instances, body.predictions))),
        );
      } catch (err) {
        fail(g, err);
      }
    });
}
