/**
 * The end-of-training evaluation on the held-out split, per task: per-class precision/recall/F1
 * and the confusion matrix as a table whose cells are shaded by share of the true class (the
 * numbers stay readable text, so it works without colour and with a screen reader); for
 * multi-label each class's tuned threshold (no confusion matrix: a row may have several
 * classes); for regression a predicted-vs-true scatter plot.
 */
import type { Evaluation } from './api.ts';
import { h } from './dom.ts';
import { formatInt, formatMetric } from './format.ts';
import { scatterView } from './scatter-view.ts';

export function evaluationView(e: Evaluation): HTMLElement {
  const parts =
    e.task === 'regression'
      ? [scatterView(e.points ?? [])]
      : e.task === 'multilabel'
        ? [perClassTable(e)]
        : [perClassTable(e), confusionTable(e)];
  return h(
    'section',
    { 'aria-labelledby': 'eval-title', 'data-task': e.task },
    h('h2', { id: 'eval-title' }, 'Evaluation'),
    h(
      'div',
      { class: 'two-col' },
      parts.map((part) => h('div', { class: 'scroll-x' }, part)),
    ),
  );
}

/** Precision, recall, F1 and examples per class; multi-label adds each class's tuned threshold. */
function perClassTable(e: Evaluation): HTMLElement {
  const labels = e.labels;
  const thresholds = e.task === 'multilabel';
  const head = ['Label', 'Precision', 'Recall', 'F1', 'Examples', ...(thresholds ? ['Threshold'] : [])];
  return h(
    'table',
    { class: 'data', id: 'per-class' },
    h('caption', null, 'Per-class metrics (held-out split)'),
    h(
      'thead',
      null,
      h(
        'tr',
        null,
        head.map((t, i) => h('th', { scope: 'col', class: i ? 'num' : null }, t)),
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
          thresholds
            ? h('td', { class: 'num' }, c?.threshold === undefined ? '—' : c.threshold.toFixed(2))
            : null,
        );
      }),
    ),
  );
}

/** Rows are the true label, columns the predicted one (single-label tasks). */
function confusionTable(e: Evaluation): HTMLElement {
  const labels = e.labels;
  return h(
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
  const points = r.points as Evaluation['points'];
  return { task, labels, perClass, confusionMatrix, ...(Array.isArray(points) ? { points } : {}) };
}
