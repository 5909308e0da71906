/**
 * Views of a dataset: the profile (rows, size, classes with counts, text lengths) and a
 * rejection (what is wrong and where). Shared by New run (before training) and the run page.
 */
import type { DatasetRejection } from '../../shared/contracts/dataset.ts';
import type { RunDetail } from './api.ts';
import { h } from './dom.ts';
import { formatBytes, formatInt } from './format.ts';

type Profile = NonNullable<RunDetail['dataset']>;

export function profileView(profile: Profile): HTMLElement {
  const counts = Object.entries(profile.labelCounts ?? {}).sort((a, b) => b[1] - a[1]);
  const max = Math.max(1, ...counts.map(([, n]) => n));
  const total = counts.reduce((s, [, n]) => s + n, 0);
  const smallest = counts.at(-1);
  const imbalance = counts.length > 1 && smallest ? counts[0]![1] / Math.max(1, smallest[1]) : 1;
  return h(
    'section',
    { class: 'profile', 'aria-label': 'Dataset profile' },
    h(
      'dl',
      { class: 'facts' },
      profile.task ? fact('Task', `${profile.task} (${profile.taskReason ?? ''})`) : null,
      fact('Rows', profile.rows === undefined ? '—' : formatInt(profile.rows)),
      fact('Size', profile.bytes === undefined ? '—' : formatBytes(profile.bytes)),
      fact('Classes', String(counts.length)),
      profile.textLength
        ? fact(
            'Text length (characters)',
            `min ${formatInt(profile.textLength.min)} · median ${formatInt(profile.textLength.median)} · max ${formatInt(profile.textLength.max)}`,
          )
        : null,
      profile.textColumn ? fact('Columns used', `${profile.textColumn}, ${profile.labelColumn}`) : null,
      profile.sha256
        ? fact('SHA-256', h('code', { class: 'hash' }, profile.sha256.slice(0, 16) + '…'))
        : null,
    ),
    imbalance >= 10
      ? h(
          'p',
          { class: 'alert alert-warn' },
          `The classes are unbalanced: "${counts[0]![0]}" has ${Math.round(imbalance)}× more examples than "${smallest![0]}". The model may rarely predict the small classes; more examples of them help.`,
        )
      : null,
    h(
      'table',
      { class: 'data bars' },
      h('caption', null, 'Examples per class'),
      h(
        'thead',
        null,
        h(
          'tr',
          null,
          h('th', { scope: 'col' }, 'Label'),
          h('th', { scope: 'col', class: 'num' }, 'Rows'),
          h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Share')),
        ),
      ),
      h(
        'tbody',
        null,
        counts.map(([label, n]) =>
          h(
            'tr',
            null,
            h('th', { scope: 'row' }, label),
            h('td', { class: 'num' }, formatInt(n)),
            h(
              'td',
              { class: 'bar-cell' },
              h('span', {
                class: 'bar',
                style: `width:${((n / max) * 100).toFixed(1)}%`,
                title: `${((n / Math.max(1, total)) * 100).toFixed(1)}%`,
              }),
            ),
          ),
        ),
      ),
    ),
  );
}

function fact(name: string, value: string | Node): HTMLElement[] {
  return [h('dt', null, name), h('dd', null, value)];
}

/** The validator's rejection: the message (already precise), plus where, as a list. */
export function rejectionView(rejection: DatasetRejection): HTMLElement {
  const d = rejection.details ?? {};
  const where: [string, string][] = [];
  if (typeof d.row === 'number') where.push(['Row', formatInt(d.row)]);
  if (typeof d.line === 'number') where.push(['Line', formatInt(d.line)]);
  if (typeof d.column === 'string') where.push(['Column', d.column]);
  if (typeof d.byteOffset === 'number') where.push(['Byte offset', formatInt(d.byteOffset)]);
  return h(
    'div',
    { class: 'alert alert-error', role: 'alert', 'data-code': rejection.code },
    h('strong', null, 'This file cannot be used for training'),
    h('p', { class: 'rejection-message' }, rejection.message),
    where.length
      ? h(
          'dl',
          { class: 'facts inline' },
          where.flatMap(([k, v]) => [h('dt', null, k), h('dd', null, v)]),
        )
      : null,
    h('p', { class: 'muted' }, `Reason code: ${rejection.code}. Nothing was uploaded or trained.`),
  );
}
