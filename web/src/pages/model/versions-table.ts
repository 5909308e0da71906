/**
 * The model page's versions table: each version's validation metrics, its run, its aliases, and
 * a Promote button on every version that is not the one serving.
 */
import type { ModelVersion } from '../../api.ts';
import { h } from '../../dom.ts';
import { formatAgo, formatMetric, formatTime } from '../../format.ts';

const COLUMNS = ['Version', 'Accuracy', 'Macro F1', 'Run', 'Created', 'Aliases', ''];
/** The metric columns are numbers: right-aligned. */
const NUMERIC_COLUMNS = new Set(['Accuracy', 'Macro F1']);

/** `versions` newest first; `production` marks the serving row; `onPromote` asks before it acts. */
export function versionsTable(
  versions: ModelVersion[],
  production: number | null,
  onPromote: (version: number) => void,
): HTMLElement {
  return h(
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
          COLUMNS.map((t) =>
            h(
              'th',
              { scope: 'col', class: NUMERIC_COLUMNS.has(t) ? 'num' : null },
              t || h('span', { class: 'visually-hidden' }, 'Actions'),
            ),
          ),
        ),
      ),
      h(
        'tbody',
        null,
        versions.map((v) => versionRow(v, production, onPromote)),
      ),
    ),
  );
}

function versionRow(
  v: ModelVersion,
  production: number | null,
  onPromote: (version: number) => void,
): HTMLElement {
  return h(
    'tr',
    { 'data-version': v.version, class: v.version === production ? 'current' : null },
    h('th', { scope: 'row' }, `v${v.version}`),
    h('td', { class: 'num' }, formatMetric('accuracy', v.metrics.accuracy ?? v.metrics.val_accuracy)),
    h('td', { class: 'num' }, formatMetric('macro_f1', v.metrics.macro_f1 ?? v.metrics.val_macro_f1)),
    h('td', null, h('a', { href: `#/runs/${encodeURIComponent(v.runId)}` }, v.runId)),
    h('td', { title: formatTime(v.createdAt) }, formatAgo(v.createdAt)),
    h(
      'td',
      null,
      v.aliases.map((a) => h('span', { class: `badge ${a === 'production' ? 'badge-ok' : ''}` }, a)),
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
              onclick: () => onPromote(v.version),
            },
            'Promote',
          ),
    ),
  );
}
