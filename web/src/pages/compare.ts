/**
 * Compare: runs side by side — headline metrics (best marked), parameters (differences
 * marked) and overlaid curves. Runs come from `#/compare?runs=a,b,c`; without two of them the
 * page offers a picker.
 */
import { api, type RunDetail } from '../api.ts';
import { alignSeries, lineChart, PALETTE } from '../chart.ts';
import { errorBox, h, loading, replace } from '../dom.ts';
import { fileName, formatAgo, formatMetric } from '../format.ts';
import { MetricSeries } from '../metric-series.ts';
import { flatten } from '../params-view.ts';
import type { PageContext } from '../router.ts';
import { statusBadge } from '../status.ts';

/** Headline metrics first, in this order; lower is better for losses. */
const HEADLINE = [
  'accuracy',
  'macro_f1',
  'val_loss',
  'int8_accuracy',
  'best_epoch',
  'train_samples_per_second',
];
const lowerIsBetter = (key: string) => /loss/.test(key);

export async function comparePage(ctx: PageContext): Promise<void> {
  const { main, signal } = ctx;
  const ids = [...new Set((ctx.query.get('runs') ?? '').split(',').filter(Boolean))];
  replace(main, h('div', { class: 'page-head' }, h('h1', null, 'Compare runs')), loading('Loading runs'));
  let recent: RunDetail[];
  try {
    recent = await api.listRuns({ limit: 300 }, signal);
  } catch (err) {
    replace(main, errorBox('Could not load runs', (err as Error).message));
    return;
  }
  const picker = pickerView(recent, ids);
  if (ids.length < 2) {
    replace(
      main,
      h('div', { class: 'page-head' }, h('h1', null, 'Compare runs')),
      h('p', null, 'Pick two or more runs.'),
      picker,
    );
    return;
  }

  let runs: RunDetail[];
  const series = ids.map((id) => new MetricSeries(id));
  try {
    runs = await Promise.all(ids.map((id) => api.getRun(id, signal)));
    await Promise.all(series.map((s) => s.refresh(signal)));
  } catch (err) {
    replace(main, errorBox('Could not load a run', (err as Error).message), picker);
    return;
  }

  const name = (r: RunDetail) => `${r.modelName} · ${r.runId}`;
  const headCells = runs.map((r, i) =>
    h(
      'th',
      { scope: 'col' },
      h('span', {
        class: 'swatch',
        style: `background:${PALETTE[i % PALETTE.length]}`,
        'aria-hidden': 'true',
      }),
      h('a', { href: `#/runs/${encodeURIComponent(r.runId)}` }, r.runId),
      h('div', { class: 'muted small' }, r.modelName, ' ', statusBadge(r.status)),
    ),
  );

  const metricKeys = new Set<string>();
  for (const r of runs) for (const k of Object.keys(r.metrics ?? {})) metricKeys.add(k);
  const ordered = [
    ...HEADLINE.filter((k) => metricKeys.has(k)),
    ...[...metricKeys].filter((k) => !HEADLINE.includes(k)).sort(),
  ];
  const metricsTable = h(
    'table',
    { class: 'data compare', id: 'compare-metrics' },
    h('caption', null, 'Metrics (best in bold)'),
    h('thead', null, h('tr', null, h('th', { scope: 'col' }, 'Metric'), headCells)),
    h(
      'tbody',
      null,
      ordered.map((key) => {
        const values = runs.map((r) => r.metrics?.[key] ?? null);
        const present = values.filter((v): v is number => v !== null);
        const best =
          present.length > 1 ? (lowerIsBetter(key) ? Math.min(...present) : Math.max(...present)) : null;
        return h(
          'tr',
          null,
          h('th', { scope: 'row' }, h('code', null, key)),
          values.map((v) =>
            h(
              'td',
              { class: `num${v !== null && v === best ? ' best' : ''}` },
              formatMetric(key, v),
              v !== null && v === best ? h('span', { class: 'visually-hidden' }, ' (best)') : null,
            ),
          ),
        );
      }),
    ),
  );

  const flat = runs.map((r) => flatten(r.params ?? {}));
  const paramKeys = [...new Set(flat.flatMap((p) => Object.keys(p)))].sort();
  const paramsTable = h(
    'table',
    { class: 'data compare', id: 'compare-params' },
    h('caption', null, 'Parameters (differences highlighted)'),
    h(
      'thead',
      null,
      h(
        'tr',
        null,
        h('th', { scope: 'col' }, 'Parameter'),
        runs.map((r) => h('th', { scope: 'col' }, r.runId)),
      ),
    ),
    h(
      'tbody',
      null,
      h(
        'tr',
        null,
        h('th', { scope: 'row' }, 'dataset'),
        runs.map((r) => h('td', { class: 'truncate', title: r.datasetUri }, fileName(r.datasetUri))),
      ),
      paramKeys.map((k) => {
        const values = flat.map((p) => (k in p ? JSON.stringify(p[k]) : '—'));
        const differs = new Set(values).size > 1;
        return h(
          'tr',
          { class: differs ? 'changed' : null },
          h(
            'th',
            { scope: 'row' },
            h('code', null, k),
            differs ? h('span', { class: 'visually-hidden' }, ' (differs)') : null,
          ),
          values.map((v) => h('td', null, v.replace(/^"|"$/g, ''))),
        );
      }),
    ),
  );

  const overlay = (title: string, key: string, by: 'step' | 'epoch', points: boolean) => {
    const chart = lineChart({
      title,
      xLabel: by,
      series: runs.map((r) => ({ label: name(r), key, points })),
    });
    const { x, ys } = alignSeries(series.map((s) => s.series(key, by)));
    queueMicrotask(() => chart.setData(x, ys));
    signal.addEventListener('abort', () => chart.destroy());
    return chart.element;
  };

  replace(
    main,
    h('div', { class: 'page-head' }, h('h1', null, `Compare ${runs.length} runs`)),
    h('div', { class: 'scroll-x' }, metricsTable),
    h(
      'section',
      { 'aria-labelledby': 'curves-title' },
      h('h2', { id: 'curves-title' }, 'Curves'),
      h(
        'div',
        { class: 'charts' },
        overlay('Validation accuracy by epoch', 'val_accuracy', 'epoch', true),
        overlay('Validation loss by epoch', 'val_loss', 'epoch', true),
        overlay('Training loss by step', 'train_loss', 'step', false),
        overlay('Validation macro F1 by epoch', 'val_macro_f1', 'epoch', true),
      ),
    ),
    h('div', { class: 'scroll-x' }, paramsTable),
    h('details', { class: 'card' }, h('summary', null, 'Change the runs compared'), picker),
  );
}

function pickerView(recent: RunDetail[], chosen: string[]): HTMLElement {
  const selected = new Set(chosen);
  const button = h('button', { type: 'submit', class: 'primary' }, 'Compare');
  const sync = () => {
    button.disabled = selected.size < 2;
    button.textContent = `Compare ${selected.size} runs`;
  };
  const list = h(
    'ul',
    { class: 'pick-list' },
    recent.map((r) => {
      const box = h('input', { type: 'checkbox', id: `pick-${r.runId}`, value: r.runId });
      box.checked = selected.has(r.runId);
      box.addEventListener('change', () => {
        if (box.checked) selected.add(r.runId);
        else selected.delete(r.runId);
        sync();
      });
      return h(
        'li',
        null,
        box,
        h(
          'label',
          { for: `pick-${r.runId}` },
          h('strong', null, r.modelName),
          ` ${r.runId} `,
          statusBadge(r.status),
          h(
            'span',
            { class: 'muted' },
            ` ${formatMetric('accuracy', r.metrics?.accuracy ?? null)} · ${formatAgo(r.createdAt)}`,
          ),
        ),
      );
    }),
  );
  const form = h(
    'form',
    { class: 'picker' },
    recent.length ? list : h('p', { class: 'muted' }, 'No runs yet.'),
    h('div', { class: 'actions' }, button),
  );
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    location.hash = `#/compare?runs=${[...selected].map(encodeURIComponent).join(',')}`;
  });
  sync();
  return form;
}
