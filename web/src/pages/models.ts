/**
 * Models: every model with its production version and prediction URL. `#/models/<modelName>`
 * opens that model's page (`model.ts`).
 */
import { api, type ModelSummary } from '../api.ts';
import { errorBox, h, loading, replace } from '../dom.ts';
import type { PageContext } from '../router.ts';
import { predictUrl } from './model/prediction-url.ts';
import { modelPage } from './model.ts';

export async function modelsPage(ctx: PageContext): Promise<void> {
  if (ctx.params.modelName) return modelPage(ctx, ctx.params.modelName);
  const { main, signal } = ctx;
  const head = () => h('div', { class: 'page-head' }, h('h1', null, 'Models'));
  replace(main, head(), loading('Loading models'));
  let models: ModelSummary[];
  try {
    models = await api.listModels(signal);
  } catch (err) {
    replace(main, errorBox('Could not load models', (err as Error).message));
    return;
  }
  replace(main, head(), models.length === 0 ? noModelsYet() : modelsTable(models));
}

function noModelsYet(): HTMLElement {
  return h(
    'div',
    { class: 'empty' },
    h('p', null, 'No models yet: a model appears when its first run finishes training.'),
    h('a', { class: 'button primary', href: '#/new' }, 'Start a run'),
  );
}

function modelsTable(models: ModelSummary[]): HTMLElement {
  return h(
    'table',
    { class: 'data', id: 'models-table' },
    h(
      'thead',
      null,
      h(
        'tr',
        null,
        ['Model', 'Production', 'Candidate', 'Latest', 'Prediction URL'].map((t) =>
          h('th', { scope: 'col' }, t),
        ),
      ),
    ),
    h('tbody', null, models.map(modelRow)),
  );
}

function modelRow(m: ModelSummary): HTMLElement {
  return h(
    'tr',
    { 'data-model': m.modelName },
    h('th', { scope: 'row' }, h('a', { href: `#/models/${encodeURIComponent(m.modelName)}` }, m.modelName)),
    h(
      'td',
      null,
      m.productionVersion
        ? h('span', { class: 'badge badge-ok' }, `v${m.productionVersion}`)
        : h('span', { class: 'muted' }, 'none'),
    ),
    h('td', null, m.candidateVersion ? `v${m.candidateVersion}` : '—'),
    h('td', null, `v${m.latestVersion}`),
    h(
      'td',
      { class: 'truncate' },
      m.url ? h('code', null, predictUrl(m.url, m.modelName)) : h('span', { class: 'muted' }, 'not deployed'),
    ),
  );
}
