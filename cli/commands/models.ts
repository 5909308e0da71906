import type { Command } from 'commander';
import { AppError } from '../../shared/errors.ts';
import { type AliasChange, ApiClient } from '../api-client.ts';
import { emit, fail, type GlobalOptions, note, table } from '../output.ts';

/** Reads texts from stdin, one per line, when `predict` is given none. */
async function stdinLines(): Promise<string[]> {
  if (process.stdin.isTTY) return [];
  let raw = '';
  for await (const chunk of process.stdin) raw += chunk;
  return raw.split(/\r?\n/).filter((l) => l.trim() !== '');
}

/** Waits until the promoted version serves (the deploy runs in the pipeline), then prints where. */
async function printServing(
  g: GlobalOptions,
  api: ApiClient,
  model: string,
  moved: AliasChange,
): Promise<void> {
  const serving = await api.waitForProduction(model, moved.version);
  const { executionId: _, ...move } = moved as AliasChange & { state?: string };
  const out = { ...move, state: 'serving', url: serving.url };
  emit(g, out, () =>
    console.log(
      `${model}: production v${moved.previousVersion ?? '-'} → v${moved.version}, serving at ${serving.url}`,
    ),
  );
}

export function registerModelCommands(program: Command, globals: () => GlobalOptions): void {
  program
    .command('models')
    .description('list models with their production version and prediction URL')
    .action(async () => {
      const g = globals();
      try {
        const { models } = await ApiClient.forOptions(g).models();
        emit(g, models, () => {
          if (models.length === 0) return console.log('no models yet');
          console.log(
            table(
              ['model', 'production', 'latest', 'url'],
              models.map((m) => [
                m.modelName,
                m.productionVersion ? `v${m.productionVersion}` : '-',
                `v${m.latestVersion}`,
                m.url,
              ]),
            ),
          );
        });
      } catch (err) {
        fail(g, err);
      }
    });

  program
    .command('promote <model> <version>')
    .description('deploy a version and point the production alias at it')
    .action(async (model: string, version: string) => {
      const g = globals();
      try {
        const v = Number(version.replace(/^v/, ''));
        if (!Number.isInteger(v) || v < 1)
          throw new AppError(
            'invalid_argument',
            `version must be a positive whole number like 3 or v3 (got "${version}")`,
          );
        const api = ApiClient.forOptions(g);
        const moved = await api.promote(model, v);
        note(`deploying ${model} v${moved.version}…`);
        await printServing(g, api, model, moved);
      } catch (err) {
        fail(g, err);
      }
    });

  program
    .command('rollback <model>')
    .description('move production back to the version before the current one')
    .action(async (model: string) => {
      const g = globals();
      try {
        const api = ApiClient.forOptions(g);
        const moved = await api.rollback(model);
        note(`rolling ${model} back to v${moved.version}…`);
        await printServing(g, api, model, moved);
      } catch (err) {
        fail(g, err);
      }
    });

  program
    .command('predict <model> [texts...]')
    .description('classify texts with the production model (reads lines from stdin when no text is given)')
    .action(async (model: string, texts: string[]) => {
      const g = globals();
      try {
        const instances = texts.length ? texts : await stdinLines();
        if (instances.length === 0)
          throw new AppError(
            'invalid_argument',
            'nothing to predict: give texts as arguments or lines on stdin',
          );
        const { models } = await ApiClient.forOptions(g).models();
        const found = models.find((m) => m.modelName === model);
        if (!found)
          throw new AppError(
            'not_found',
            `no model named "${model}" (known: ${models.map((m) => m.modelName).join(', ') || 'none'})`,
          );
        if (!found.url)
          throw new AppError(
            'failed_precondition',
            `model "${model}" has no deployed production version yet`,
          );
        const res = await fetch(`${found.url}/v1/models/${encodeURIComponent(model)}:predict`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ instances }),
        }).catch((err: Error) => {
          throw new AppError('unavailable', `cannot reach ${found.url} (${err.message})`);
        });
        const body = (await res.json()) as {
          predictions?: Array<{ label: string; scores: Record<string, number> }>;
          error?: { message: string };
        };
        if (!res.ok)
          throw new AppError(
            res.status === 404 ? 'not_found' : 'unavailable',
            body.error?.message ?? `HTTP ${res.status}`,
          );
        emit(g, body, () => {
          console.log(
            table(
              ['text', 'label', 'score'],
              (body.predictions ?? []).map((p, i) => [
                instances[i]!.slice(0, 60),
                p.label,
                p.scores[p.label]?.toFixed(3),
              ]),
            ),
          );
        });
      } catch (err) {
        fail(g, err);
      }
    });
}
