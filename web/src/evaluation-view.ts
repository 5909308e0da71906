/**
 * The end-of-training evaluation on the held-out split: per-class precision/recall/F1 and the
 * confusion matrix as a table whose cells are shaded by share of the true class (the numbers
 * stay readable text, so it works without colour and with a screen reader).
 */
import type { Evaluation } from './api.ts';
import { h } from './dom.ts';
import { formatInt, formatMetric } from './format.ts';

export function evaluationView(e: Evaluation): HTMLElement {
  const labels = e.labels;
  const perClass = h(
    'table',
    { class: 'data', id: 'per-class' },
    h('caption', null, 'Per-class metrics (held-out split)'),
    h(
      'thead',
      null,
      h(
        'tr',
        null,
        ['Label', 'Precision', 'Recall', 'F1', 'Examples'].map((t, i) =>
          h('th', { scope: 'col', class: i ? 'num' : null }, t),
        ),
      ),
    ),
    h(
      'tbody',
      null,
      labels.map((label) => {
        const c = e.perClass[label];
        return h(
          'tr',
          { class: c && c.f1 < 0.5 ? 'weak' : null },
          h('th', { scope: 'row' }, label),
          h('td', { class: 'num' }, formatMetric('precision', c?.precision)),
          h('td', { class: 'num' }, formatMetric('recall', c?.recall)),
          h('td', { class: 'num' }, formatMetric('f1', c?.f1)),
          h('td', { class: 'num' }, c ? formatInt(c.support) : '—'),
        );
      }),
    ),
  );
  const matrix = h(
    'table',
    { class: 'data confusion', id: 'confusion-matrix' },
    h('caption', null, 'Confusion matrix: rows are the true label, columns the predicted one'),
    h(
      'thead',
      null,
      h(
        'tr',
        null,
        h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'True label')),
        labels.map((l) => h('th', { scope: 'col', class: 'num' }, l)),
      ),
    ),
    h(
      'tbody',
      null,
      labels.map((truth, i) => {
        const row = e.confusionMatrix[i] ?? [];
        const total = row.reduce((s, n) => s + n, 0) || 1;
        return h(
          'tr',
          null,
          h('th', { scope: 'row' }, truth),
          labels.map((predicted, j) => {
            const n = row[j] ?? 0;
            const share = n / total;
            const diagonal = i === j;
            return h(
              'td',
              {
                class: `num cell ${diagonal ? 'diag' : n ? 'off' : ''}`,
                style: `--share:${share.toFixed(3)}`,
                title: `${formatInt(n)} "${truth}" examples predicted as "${predicted}" (${(share * 100).toFixed(1)}%)`,
              },
              formatInt(n),
            );
          }),
        );
      }),
    ),
  );
  return h(
    'section',
    { 'aria-labelledby': 'eval-title' },
    h('h2', { id: 'eval-title' }, 'Evaluation'),
    h(
      'div',
      { class: 'two-col' },
      h('div', { class: 'scroll-x' }, perClass),
      h('div', { class: 'scroll-x' }, matrix),
    ),
  );
}

/** Accepts the API's camelCase evaluation or the trainer's metrics.json `validation` block. */
export function normalizeEvaluation(raw: unknown): Evaluation | null {
  if (!raw || typeof raw !== 'object') return null;
  const r = raw as Record<string, unknown>;
  const labels = r.labels as string[] | undefined;
  const perClass = (r.perClass ?? r.per_class) as Evaluation['perClass'] | undefined;
  const confusionMatrix = (r.confusionMatrix ?? r.confusion_matrix) as number[][] | undefined;
  if (!Array.isArray(labels) || !perClass || !Array.isArray(confusionMatrix)) return null;
  const task = (typeof r.task === 'string' ? r.task : 'classification') as Evaluation['task'];
  return { task, labels, perClass, confusionMatrix };
}
