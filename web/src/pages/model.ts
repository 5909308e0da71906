/**
 * One model's page: its versions with their metrics, which one is `production`, promote and
 * roll back (after a confirmation), the deployment history and the prediction URL with a `curl`
 * example to copy. Each part is its own component under `model/`; this file loads and lays out.
 */
import { api, type Deployment, type ModelSummary, type ModelVersion } from '../api.ts';
import { errorBox, h, loading, replace } from '../dom.ts';
import type { PageContext } from '../router.ts';
import { type AliasMoves, aliasMoves } from './model/alias-moves.ts';
import { deploymentsTable } from './model/deployments-table.ts';
import { predictionUrlCard } from './model/prediction-url.ts';
import { versionsTable } from './model/versions-table.ts';

interface ModelData {
  summary: ModelSummary | undefined;
  /** Newest first. */
  versions: ModelVersion[];
  /** Newest first. */
  deployments: Deployment[];
}

export async function modelPage(ctx: PageContext, modelName: string): Promise<void> {
  const { main, signal } = ctx;
  replace(main, loading(`Loading ${modelName}`));
  let data: ModelData;
  try {
    data = await loadModel(modelName, signal);
  } catch (err) {
    replace(
      main,
      errorBox(
        `Could not load ${modelName}`,
        (err as Error).message,
        h('a', { href: '#/models' }, 'All models'),
      ),
    );
    return;
  }
  const { summary, versions, deployments } = data;
  const production =
    summary?.productionVersion ?? versions.find((v) => v.aliases.includes('production'))?.version ?? null;
  const status = h('div', { id: 'move-status', 'aria-live': 'polite' });
  const moves = aliasMoves({
    modelName,
    production,
    main,
    status,
    signal,
    reload: () => modelPage(ctx, modelName),
  });
  const url = summary?.url ?? deployments.find((d) => d.version === production)?.url ?? null;
  replace(
    main,
    modelHead(modelName, production, moves),
    status,
    predictionUrlCard(url, modelName),
    versionsTable(versions, production, (version) => void moves.promote(version)),
    deploymentsTable(deployments),
  );
}

async function loadModel(modelName: string, signal: AbortSignal): Promise<ModelData> {
  const [models, versions, deployments] = await Promise.all([
    api.listModels(signal),
    api.versions(modelName, signal),
    api.deployments(modelName, signal),
  ]);
  return {
    summary: models.find((m) => m.modelName === modelName),
    versions: [...versions].sort((a, b) => b.version - a.version),
    deployments: [...deployments].sort((a, b) => b.createdAt.localeCompare(a.createdAt)),
  };
}

/** The title with the production badge, and the Try it / Roll back actions when a version serves. */
function modelHead(modelName: string, production: number | null, moves: AliasMoves): HTMLElement {
  return h(
    'div',
    { class: 'page-head' },
    h(
      'div',
      null,
      h('p', { class: 'eyebrow' }, h('a', { href: '#/models' }, 'Models'), ' / ', modelName),
      h(
        'h1',
        null,
        modelName,
        ' ',
        production
          ? h('span', { class: 'badge badge-ok', id: 'production-version' }, `production v${production}`)
          : h('span', { class: 'badge' }, 'no production version'),
      ),
    ),
    h(
      'div',
      { class: 'actions' },
      production
        ? h('a', { class: 'button', href: `#/try?model=${encodeURIComponent(modelName)}` }, 'Try it')
        : null,
      production
        ? h(
            'button',
            { type: 'button', class: 'danger', id: 'rollback', onclick: () => void moves.rollback() },
            'Roll back',
          )
        : null,
    ),
  );
}
