/**
 * Models: every model with its production version; a model's page lists its versions with
 * their metrics, marks `production`, promotes or rolls back (after a confirmation), shows the
 * deployment history and the prediction URL with a `curl` example to copy.
 */
import { type AliasChange, api, type Deployment, type ModelSummary, type ModelVersion } from '../api.ts';
import { confirmDialog, errorBox, h, loading, replace, toast } from '../dom.ts';
import { formatAgo, formatMetric, formatTime } from '../format.ts';
import type { PageContext } from '../router.ts';

/** How long the page waits for a promote/rollback deploy before saying it is still running. */
const DEPLOY_WAIT_MS = 300_000;

/** The prediction endpoint for a deployment URL (a service base URL, or already the full route). */
export function predictUrl(url: string, modelName: string): string {
  if (url.includes(':predict')) return url;
  return `${url.replace(/\/+$/, '')}/v1/models/${modelName}:predict`;
}

export function curlExample(url: string, modelName: string): string {
  return [
    `curl -X POST '${predictUrl(url, modelName)}' \\`,
    `  -H 'Content-Type: application/json' \\`,
    `  -d '{"instances": ["I was charged twice for my subscription"]}'`,
  ].join('\n');
}

export async function modelsPage(ctx: PageContext): Promise<void> {
  if (ctx.params.modelName) return modelPage(ctx, ctx.params.modelName);
  const { main, signal } = ctx;
  replace(main, h('div', { class: 'page-head' }, h('h1', null, 'Models')), loading('Loading models'));
  let models: ModelSummary[];
  try {
    models = await api.listModels(signal);
  } catch (err) {
    replace(main, errorBox('Could not load models', (err as Error).message));
    return;
  }
  replace(
    main,
    h('div', { class: 'page-head' }, h('h1', null, 'Models')),
    models.length === 0
      ? h(
          'div',
          { class: 'empty' },
          h('p', null, 'No models yet: a model appears when its first run finishes training.'),
          h('a', { class: 'button primary', href: '#/new' }, 'Start a run'),
        )
      : h(
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
          h(
            'tbody',
            null,
            models.map((m) =>
              h(
                'tr',
                { 'data-model': m.modelName },
                h(
                  'th',
                  { scope: 'row' },
                  h('a', { href: `#/models/${encodeURIComponent(m.modelName)}` }, m.modelName),
                ),
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
                  m.url
                    ? h('code', null, predictUrl(m.url, m.modelName))
                    : h('span', { class: 'muted' }, 'not deployed'),
                ),
              ),
            ),
          ),
        ),
  );
}

async function modelPage(ctx: PageContext, modelName: string): Promise<void> {
  const { main, signal } = ctx;
  replace(main, loading(`Loading ${modelName}`));
  let summary: ModelSummary | undefined;
  let versions: ModelVersion[];
  let deployments: Deployment[];
  try {
    const [models, v, d] = await Promise.all([
      api.listModels(signal),
      api.versions(modelName, signal),
      api.deployments(modelName, signal),
    ]);
    summary = models.find((m) => m.modelName === modelName);
    versions = [...v].sort((a, b) => b.version - a.version);
    deployments = [...d].sort((a, b) => b.createdAt.localeCompare(a.createdAt));
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
  const production =
    summary?.productionVersion ?? versions.find((v) => v.aliases.includes('production'))?.version ?? null;
  const reload = () => modelPage(ctx, modelName);

  /**
   * Runs a promote/rollback. When the API answers with a deploying execution, production moves
   * only once the version serves: say so, wait for it (polling the model), then show the result.
   */
  const move = async (
    call: () => Promise<AliasChange>,
    done: (version: number, was: number | null) => string,
  ) => {
    for (const b of Array.from(main.querySelectorAll<HTMLButtonElement>('button'))) b.disabled = true;
    try {
      const change = await call();
      if (change.state === 'deploying' || change.executionId) {
        replace(
          status,
          h(
            'p',
            { class: 'alert alert-warn', role: 'status' },
            `Deploying v${change.version}… production moves to it as soon as it serves.`,
          ),
        );
        const end = Date.now() + DEPLOY_WAIT_MS;
        let now: ModelSummary | undefined;
        while (Date.now() < end && !signal.aborted) {
          await new Promise((r) => setTimeout(r, 1000));
          now = (await api.listModels(signal)).find((m) => m.modelName === modelName);
          if (now?.productionVersion === change.version) break;
        }
        if (now?.productionVersion !== change.version) {
          toast(
            `v${change.version} is not serving yet (execution ${change.executionId ?? '?'}); production is still v${now?.productionVersion ?? '—'}.`,
            'error',
          );
          await reload();
          return;
        }
      }
      toast(done(change.version, change.previousVersion));
    } catch (err) {
      toast((err as Error).message, 'error');
    }
    await reload();
  };

  const promote = async (version: number) => {
    const ok = await confirmDialog({
      title: `Promote v${version} to production?`,
      body: h(
        'p',
        null,
        production
          ? `Predictions for ${modelName} are served by v${production} now; after this they come from v${version}. You can roll back afterwards.`
          : `v${version} becomes the version that serves predictions for ${modelName}.`,
      ),
      confirm: `Promote v${version}`,
    });
    if (!ok) return;
    await move(
      () => api.promote(modelName, version),
      (v, was) => `${modelName}: production is now v${v}${was ? ` (was v${was})` : ''}.`,
    );
  };
  const rollback = async () => {
    const ok = await confirmDialog({
      title: `Roll back ${modelName}?`,
      body: h(
        'p',
        null,
        `Production moves from v${production} back to the version that was in production before it.`,
      ),
      confirm: 'Roll back',
      danger: true,
    });
    if (!ok) return;
    await move(
      () => api.rollback(modelName),
      (v) => `${modelName}: rolled back to v${v}.`,
    );
  };

  const status = h('div', { id: 'move-status', 'aria-live': 'polite' });
  const url = summary?.url ?? deployments.find((d) => d.version === production)?.url ?? null;
  const curl = url ? curlExample(url, modelName) : null;
  const copy = h('button', { type: 'button', id: 'copy-curl' }, 'Copy');
  copy.addEventListener('click', async () => {
    if (!curl) return;
    try {
      await navigator.clipboard.writeText(curl);
    } catch {
      // Clipboard API unavailable (not a secure context): select the text so Ctrl+C copies it.
      const range = document.createRange();
      range.selectNodeContents(document.getElementById('curl-example')!);
      getSelection()?.removeAllRanges();
      getSelection()?.addRange(range);
    }
    copy.textContent = 'Copied';
    setTimeout(() => {
      copy.textContent = 'Copy';
    }, 2000);
  });

  replace(
    main,
    h(
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
          ? h('button', { type: 'button', class: 'danger', id: 'rollback', onclick: rollback }, 'Roll back')
          : null,
      ),
    ),
    status,
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'url-title' },
      h('h2', { id: 'url-title' }, 'Prediction URL'),
      url
        ? [
            h('p', null, h('code', { id: 'predict-url' }, predictUrl(url, modelName))),
            h(
              'div',
              { class: 'code-block' },
              h('pre', { id: 'curl-example', tabindex: '0', 'aria-label': 'curl example' }, curl),
              copy,
            ),
            h(
              'p',
              { class: 'muted' },
              'The answer is {"predictions": [{"label", "scores"}], "model": {"name", "version"}}.',
            ),
          ]
        : h('p', { class: 'muted' }, 'Not deployed yet: the URL appears once a version is in production.'),
    ),
    h(
      'section',
      { 'aria-labelledby': 'versions-title' },
      h('h2', { id: 'versions-title' }, 'Versions'),
      h(
        'table',
        { class: 'data', id: 'versions-table' },
        h(
          'thead',
          null,
          h(
            'tr',
            null,
            ['Version', 'Accuracy', 'Macro F1', 'Run', 'Created', 'Aliases', ''].map((t, i) =>
              h(
                'th',
                { scope: 'col', class: i === 1 || i === 2 ? 'num' : null },
                t || h('span', { class: 'visually-hidden' }, 'Actions'),
              ),
            ),
          ),
        ),
        h(
          'tbody',
          null,
          versions.map((v) =>
            h(
              'tr',
              { 'data-version': v.version, class: v.version === production ? 'current' : null },
              h('th', { scope: 'row' }, `v${v.version}`),
              h(
                'td',
                { class: 'num' },
                formatMetric('accuracy', v.metrics.accuracy ?? v.metrics.val_accuracy),
              ),
              h(
                'td',
                { class: 'num' },
                formatMetric('macro_f1', v.metrics.macro_f1 ?? v.metrics.val_macro_f1),
              ),
              h('td', null, h('a', { href: `#/runs/${encodeURIComponent(v.runId)}` }, v.runId)),
              h('td', { title: formatTime(v.createdAt) }, formatAgo(v.createdAt)),
              h(
                'td',
                null,
                v.aliases.map((a) =>
                  h('span', { class: `badge ${a === 'production' ? 'badge-ok' : ''}` }, a),
                ),
              ),
              h(
                'td',
                null,
                v.version === production
                  ? h('span', { class: 'muted' }, 'serving')
                  : h(
                      'button',
                      {
                        type: 'button',
                        'aria-label': `Promote v${v.version} to production`,
                        onclick: () => promote(v.version),
                      },
                      'Promote',
                    ),
              ),
            ),
          ),
        ),
      ),
    ),
    h(
      'section',
      { 'aria-labelledby': 'deploys-title' },
      h('h2', { id: 'deploys-title' }, 'Deployment history'),
      deployments.length
        ? h(
            'table',
            { class: 'data', id: 'deployments-table' },
            h(
              'thead',
              null,
              h(
                'tr',
                null,
                ['When', 'Version', 'URL', 'Revision'].map((t) => h('th', { scope: 'col' }, t)),
              ),
            ),
            h(
              'tbody',
              null,
              deployments.map((d) =>
                h(
                  'tr',
                  null,
                  h('td', null, formatTime(d.createdAt)),
                  h('td', null, `v${d.version}`),
                  h('td', { class: 'truncate' }, h('code', null, d.url)),
                  h('td', null, d.revision ?? '—'),
                ),
              ),
            ),
          )
        : h('p', { class: 'muted' }, 'No deployments yet.'),
    ),
  );
}
