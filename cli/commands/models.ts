import type { Command } from 'commander';
import { AppError } from '../../shared/errors.ts';
import { type AliasChange, ApiClient } from '../api-client.ts';
import { emit, fail, type GlobalOptions, note, table } from '../output.ts';

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
}
