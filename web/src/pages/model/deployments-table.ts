/** The model page's deployment history: every revision that served a version, newest first. */
import type { Deployment } from '../../api.ts';
import { h } from '../../dom.ts';
import { formatTime } from '../../format.ts';

export function deploymentsTable(deployments: Deployment[]): HTMLElement {
  return h(
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
  );
}
