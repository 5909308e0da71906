/**
 * One run: status timeline, live loss and accuracy charts (polling new metric points every 2 s
 * while the run is live), the reason in plain words when it did not succeed, per-class metrics
 * and the confusion matrix once evaluated, its parameters and its dataset's profile.
 */
import { type GateMetricName, TASK_METRICS, Task } from '../../../shared/contracts/task.ts';
import { ApiError, api, type RunDetail } from '../api.ts';
import { alignSeries, type LineChart, lineChart } from '../chart.ts';
import { confirmDialog, errorBox, h, loading, replace, toast } from '../dom.ts';
import { evaluationView, normalizeEvaluation } from '../evaluation-view.ts';
import { formatDuration, formatMetric, formatTime, formatUsd, formatWhen } from '../format.ts';
import { gateView } from '../gate-view.ts';
import { MetricSeries } from '../metric-series.ts';
import { paramsView } from '../params-view.ts';
import { profileView } from '../profile-view.ts';
import { type PageContext, poll } from '../router.ts';
import { isTerminal, NEXT_STEP, STAGE_HELP, statusBadge } from '../status.ts';
import { timelineView } from '../timeline-view.ts';
import { runDuration } from './runs.ts';

const POLL_MS = 2000;

export async function runPage(ctx: PageContext): Promise<void> {
  const { main, signal } = ctx;
  const runId = ctx.params.runId!;
  replace(main, loading(`Loading run ${runId}`));
  let run: RunDetail;
  try {
    run = await api.getRun(runId, signal);
  } catch (err) {
    const msg =
      err instanceof ApiError && err.status === 404 ? `There is no run ${runId}.` : (err as Error).message;
    replace(main, errorBox('Could not load the run', msg, h('a', { href: '#/runs' }, 'Back to runs')));
    return;
  }

  const series = new MetricSeries(runId);
  const lossChart = lineChart({
    title: 'Loss',
    xLabel: 'step',
    series: [
      { label: 'training loss', key: 'train_loss' },
      { label: 'validation loss', key: 'val_loss', points: true },
    ],
  });
  const qualityChart = lineChart({
    title: 'Validation accuracy and macro F1',
    xLabel: 'step',
    series: [
      { label: 'accuracy', key: 'val_accuracy', points: true },
      { label: 'macro F1', key: 'val_macro_f1', points: true, dash: [6, 4] },
    ],
  });
  signal.addEventListener('abort', () => {
    lossChart.destroy();
    qualityChart.destroy();
  });

  const head = h('div', { class: 'page-head' });
  const reason = h('div');
  const timeline = h('div');
  const facts = h('div');
  const live = h('p', { class: 'muted', id: 'live-note', 'aria-live': 'polite' });
  const evaluation = h('div');
  const gate = h('div');
  const details = h('div', { class: 'two-col' });
  replace(
    main,
    head,
    reason,
    timeline,
    facts,
    gate,
    h(
      'section',
      { 'aria-labelledby': 'charts-title' },
      h('h2', { id: 'charts-title' }, 'Training curves'),
      live,
      h('div', { class: 'charts' }, lossChart.element, qualityChart.element),
    ),
    evaluation,
    details,
  );

  const drawCharts = () => {
    draw(lossChart, series, ['train_loss', 'val_loss']);
    draw(qualityChart, series, ['val_accuracy', 'val_macro_f1']);
  };

  let shownEvaluation = false;
  const showRun = (r: RunDetail) => {
    run = r;
    const cancel =
      !isTerminal(r.status) &&
      h(
        'button',
        {
          type: 'button',
          class: 'danger',
          onclick: async () => {
            const ok = await confirmDialog({
              title: `Cancel run ${r.runId}?`,
              body: 'Training stops and the machine is released. The production model does not change.',
              confirm: 'Cancel run',
              danger: true,
            });
            if (!ok) return;
            try {
              showRun({ ...run, ...(await api.cancelRun(r.runId)) });
            } catch (err) {
              toast((err as Error).message, 'error');
            }
          },
        },
        'Cancel run',
      );
    replace(
      head,
      h(
        'div',
        null,
        h('p', { class: 'eyebrow' }, h('a', { href: '#/runs' }, 'Runs'), ' / ', r.runId),
        h('h1', null, r.modelName, ' ', statusBadge(r.status)),
        h('p', { class: 'muted' }, STAGE_HELP[r.status]),
      ),
      h(
        'div',
        { class: 'actions' },
        cancel,
        h('a', { class: 'button', href: `#/compare?runs=${r.runId}` }, 'Compare…'),
      ),
    );
    replace(reason, reasonView(r));
    replace(timeline, timelineView(r));
    replace(facts, factsView(r, series));
    replace(gate, gateView(r.gate, r.split));
    replace(
      details,
      h(
        'section',
        { 'aria-labelledby': 'params-title' },
        h('h2', { id: 'params-title' }, 'Parameters'),
        paramsView(r.params),
      ),
      h(
        'section',
        { 'aria-labelledby': 'dataset-title' },
        h('h2', { id: 'dataset-title' }, 'Dataset'),
        h('p', { class: 'muted truncate', title: r.datasetUri }, h('code', null, r.datasetUri)),
        r.dataset
          ? profileView(r.dataset)
          : h('p', { class: 'muted' }, 'The profile appears once the file is checked.'),
      ),
    );
    const evaluated = normalizeEvaluation(r.evaluation);
    if (evaluated && !shownEvaluation) {
      shownEvaluation = true;
      replace(evaluation, evaluationView(evaluated));
    }
  };
  showRun(run);

  let finalFetch = isTerminal(run.status);
  let first = true;
  let evaluationTries = 0;
  poll(
    async () => {
      const [fresh, added] = await Promise.all([api.getRun(runId, signal), series.refresh(signal)]);
      if (added > 0 || first) drawCharts();
      if (!shownEvaluation && evaluationTries < 3 && (fresh.version !== null || isTerminal(fresh.status))) {
        evaluationTries++;
        const e = await api.evaluation(runId, signal).catch(() => null);
        if (e) fresh.evaluation = e;
      }
      if (
        first ||
        added > 0 ||
        fresh.updatedAt !== run.updatedAt ||
        (normalizeEvaluation(fresh.evaluation) && !shownEvaluation)
      ) {
        showRun(fresh);
      }
      first = false;
      const points = [...series.byKey.values()].reduce((n, s) => n + s.x.length, 0);
      if (isTerminal(fresh.status)) {
        if (finalFetch) {
          live.textContent = `${points.toLocaleString('en-US')} metric points.`;
          return false;
        }
        finalFetch = true; // one more round picks up points logged just before the end
        return true;
      }
      live.textContent = `Live: ${points.toLocaleString('en-US')} metric points so far, refreshing every ${POLL_MS / 1000} s.`;
      return true;
    },
    POLL_MS,
    signal,
    (err) => {
      live.textContent = `Could not refresh: ${(err as Error).message} Retrying…`;
    },
  );
}

function draw(chart: LineChart, series: MetricSeries, keys: string[]): void {
  const { x, ys } = alignSeries(keys.map((k) => series.series(k)));
  chart.setData(x, ys);
}

function reasonView(r: RunDetail): HTMLElement | null {
  if (r.status === 'succeeded' || !isTerminal(r.status)) return null;
  const title =
    r.status === 'rejected'
      ? 'The dataset was rejected'
      : r.status === 'failed'
        ? 'The run failed'
        : r.status === 'gated'
          ? 'Not promoted by the quality gate'
          : 'The run was cancelled';
  return h(
    'div',
    {
      class: `alert ${r.status === 'gated' || r.status === 'cancelled' ? 'alert-warn' : 'alert-error'}`,
      role: 'alert',
    },
    h('strong', null, title),
    h('p', { class: 'run-error' }, r.error ?? STAGE_HELP[r.status]),
    NEXT_STEP[r.status] ? h('p', null, NEXT_STEP[r.status]) : null,
  );
}

/** How each task metric is titled on its card. */
const METRIC_LABELS: Record<GateMetricName, string> = {
  accuracy: 'Accuracy',
  macro_f1: 'Macro F1',
  micro_f1: 'Micro F1',
  rmse: 'RMSE',
  mae: 'MAE',
  spearman: 'Spearman',
  r2: 'R²',
};

/** The run's task: from its evaluation, else its params (the trigger fills it), else classification. */
function runTask(r: RunDetail): Task {
  const parsed = Task.safeParse(r.evaluation?.task ?? (r.params as { task?: unknown } | null)?.task);
  return parsed.success ? parsed.data : 'classification';
}

function factsView(r: RunDetail, series: MetricSeries): HTMLElement {
  const m = r.metrics ?? {};
  const pick = (...keys: string[]) => {
    for (const k of keys) if (m[k] !== undefined) return m[k]!;
    for (const k of keys) if (series.latest(k) !== null) return series.latest(k);
    return null;
  };
  const card = (label: string, value: string | Node, id?: string) =>
    h(
      'div',
      { class: 'stat', 'data-stat': id ?? label },
      h('span', { class: 'stat-label' }, label),
      h('span', { class: 'stat-value' }, value),
    );
  return h(
    'div',
    { class: 'stats' },
    TASK_METRICS[runTask(r)].map((metric) =>
      card(METRIC_LABELS[metric], formatMetric(metric, pick(metric, `val_${metric}`)), metric),
    ),
    card('Validation loss', formatMetric('val_loss', pick('val_loss')), 'val_loss'),
    card('Duration', formatDuration(runDuration(r)), 'duration'),
    card('Cost', formatUsd(r.costEstimate), 'cost'),
    card(
      'Version',
      r.version ? h('a', { href: `#/models/${encodeURIComponent(r.modelName)}` }, `v${r.version}`) : '—',
      'version',
    ),
    card(
      'Started',
      h('span', { title: formatTime(r.startedAt ?? r.createdAt) }, formatWhen(r.startedAt ?? r.createdAt)),
      'started',
    ),
  );
}
