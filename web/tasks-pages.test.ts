import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  fixtureModelName,
  type InProcessServer,
  patchConfig,
  REPO_ROOT,
  type StagedModel,
  stageModel,
  startInProcess,
} from '../serving/testing/harness.ts';
import type { Task } from '../shared/contracts/task.ts';
import { TEST_BACKENDS } from '../shared/db/testing.ts';
import { launchBrowser, type TestBrowser } from './testing/browser.ts';
import { startTestControlApi, type TestControlApi } from './testing/control-api.ts';
import { snap } from './testing/screenshots.ts';
import { seedMetrics, seedRun, seedVersion } from './testing/seed.ts';

const pglite = TEST_BACKENDS.find((b) => b.name === 'pglite')!;

/** A trainer `metrics.json` of `task` (validation block as the trainer writes it). */
function metricsFile(task: Task, validation: Record<string, unknown>) {
  return JSON.stringify({ task, validation });
}

const MULTILABEL = {
  micro_f1: 0.81,
  macro_f1: 0.74,
  labels: ['billing', 'shipping', 'technical'],
  per_class: {
    billing: { precision: 0.9, recall: 0.8, f1: 0.85, support: 12, threshold: 0.42 },
    shipping: { precision: 0.7, recall: 0.8, f1: 0.75, support: 9, threshold: 0.5 },
    technical: { precision: 0.6, recall: 0.65, f1: 0.62, support: 7, threshold: 0.61 },
  },
};
const POINTS: [number, number][] = [
  [1, 1.4],
  [2, 2.1],
  [3, 2.7],
  [4, 4.4],
  [5, 4.6],
];
const REGRESSION = { rmse: 0.31, mae: 0.28, spearman: 0.97, r2: 0.95, points: POINTS };

describe('pages per task (browser, real control API and prediction service)', () => {
  let api: TestControlApi;
  let browser: TestBrowser;
  let staged: StagedModel | undefined;
  let serving: InProcessServer | undefined;
  const modelName = fixtureModelName();

  beforeAll(async () => {
    [api, browser] = await Promise.all([startTestControlApi(pglite), launchBrowser()]);
    await browser.page.goto(`${api.url}/#token=${api.token}`);
  });
  afterAll(async () => {
    await browser?.close();
    await api?.close();
    await serving?.close();
    staged?.cleanup();
  });

  /** Seeds a succeeded run of `task` with its metrics.json, registered as the next version. */
  async function seedTaskRun(
    name: string,
    task: Task,
    validation: Record<string, unknown>,
    metrics: Record<string, number>,
  ) {
    const run = await seedRun(api.store, { modelName: name, status: 'succeeded', params: { task } });
    const version = await seedVersion(api.store, run, metrics);
    await seedMetrics(
      api.store,
      run.runId,
      Object.entries(metrics).map(([key, value]) => ({ key, step: 10, epoch: 1, value })),
    );
    const file = metricsFile(task, validation);
    await api.objects.write(api.modelsBucket, `runs/${run.runId}/metrics.json`, file);
    await api.objects.write(api.modelsBucket, `models/${name}/v${version}/metrics.json`, file);
    return { run, version };
  }

  /**
   * Serves the trainer's fixture of `task` (`tiny-<task>`), or the tiny graph with `patch` on its
   * config, and makes it `modelName`'s production version.
   */
  async function deploy(task: Task, validation: Record<string, unknown>, patch?: Record<string, unknown>) {
    await serving?.close();
    staged?.cleanup();
    staged = patch ? stageModel() : stageModel(join(REPO_ROOT, 'serving/fixtures', `tiny-${task}`));
    if (patch) patchConfig(staged, { task, ...patch });
    serving = await startInProcess(staged);
    const { version } = await seedTaskRun(modelName, task, validation, { micro_f1: 0.8 });
    await api.store.models.recordDeployment({
      modelName,
      version,
      url: serving.url,
      revision: `r-${version}`,
    });
    await api.store.models.setAlias(modelName, 'production', version, `${task} model`);
  }

  async function direct(instance: unknown) {
    const res = await fetch(`${serving!.url}/v1/models/${modelName}:predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ instances: [instance] }),
    });
    return ((await res.json()) as { predictions: Record<string, unknown>[] }).predictions[0]!;
  }

  it('shows multi-label per-class thresholds and no confusion matrix, with micro F1 among the facts', async () => {
    const { page } = browser;
    const { run } = await seedTaskRun('tagged-tickets', 'multilabel', MULTILABEL, {
      micro_f1: 0.81,
      macro_f1: 0.74,
    });
    await page.goto(`${api.url}/#/runs/${run.runId}`);
    const technical = page.locator('#per-class tr', { has: page.locator('th', { hasText: 'technical' }) });
    await technical.waitFor();
    expect(await technical.locator('td').allTextContents()).toEqual(['60.0%', '65.0%', '62.0%', '7', '0.61']);
    expect(await page.locator('#confusion-matrix').count()).toBe(0);
    await expect.poll(() => page.locator('[data-stat="micro_f1"] .stat-value').textContent()).toBe('81.0%');
    expect(browser.errors).toEqual([]);
  });

  it('shows a predicted-vs-true scatter and the regression metrics for a regression run', async () => {
    const { page } = browser;
    const { run } = await seedTaskRun('review-scores', 'regression', REGRESSION, { rmse: 0.31, r2: 0.95 });
    await page.goto(`${api.url}/#/runs/${run.runId}`);
    const scatter = page.locator('#regression-scatter');
    await scatter.waitFor();
    expect(await scatter.getAttribute('data-points')).toBe(String(POINTS.length));
    const dots = await scatter
      .locator('circle.point')
      .evaluateAll((cs) => cs.map((c) => [Number(c.getAttribute('cx')), Number(c.getAttribute('cy'))]));
    expect(dots).toHaveLength(POINTS.length);
    // Higher true → further right; higher predicted → higher up (smaller y).
    for (let i = 1; i < dots.length; i++) expect(dots[i]![0]).toBeGreaterThan(dots[i - 1]![0]!);
    expect(dots[3]![1]).toBeLessThan(dots[2]![1]!);
    expect(await page.locator('#per-class').count()).toBe(0);
    await expect.poll(() => page.locator('[data-stat="rmse"] .stat-value').textContent()).toBe('0.31');
    await page.locator('[data-stat="r2"]').waitFor();
    await snap(page, 'run-regression');
    expect(browser.errors).toEqual([]);
  });

  it('Try it takes two texts for a pair model and shows the same prediction as the service', async () => {
    const { page } = browser;
    await deploy(
      'pair',
      { macro_f1: 0.7, accuracy: 0.7, labels: [], per_class: {}, confusion_matrix: [] },
      {},
    );
    await page.goto(`${api.url}/#/try?model=${modelName}`);
    const pair = page.getByLabel('Compared with');
    await pair.waitFor();
    await page.getByLabel('Text', { exact: true }).fill('is my parcel lost?');
    await pair.fill('tracking shows it was delivered yesterday');
    await page.getByRole('button', { name: 'Predict' }).click();
    await page.locator('#predicted-label').waitFor();
    const expected = await direct({
      text: 'is my parcel lost?',
      text_pair: 'tracking shows it was delivered yesterday',
    });
    expect(await page.locator('#predicted-label').textContent()).toBe(expected.label);
    await snap(page, 'try-it-pair', { fullPage: false });
    // The second text is required for a pair model.
    await pair.fill(' ');
    await page.getByRole('button', { name: 'Predict' }).click();
    await page.getByRole('alert').getByText('Type the second text too.').waitFor();
    expect(browser.errors).toEqual([]);
  });

  it('Try it shows the labels a multi-label model picked, and no pair box', async () => {
    const { page } = browser;
    await deploy('multilabel', MULTILABEL, { thresholds: { billing: 0.3, shipping: 0.3, technical: 0.9 } });
    await page.goto(`${api.url}/#/models`); // the same hash again would not re-render the page
    await page.goto(`${api.url}/#/try?model=${modelName}`);
    await page.locator('form[data-task="multilabel"]').waitFor();
    expect(await page.getByLabel('Compared with').isVisible()).toBe(false);
    await page.getByLabel('Text', { exact: true }).fill('charged twice and the parcel is late');
    await page.getByRole('button', { name: 'Predict' }).click();
    await page.locator('#predicted-label').waitFor();
    const expected = (await direct('charged twice and the parcel is late')) as { labels: string[] };
    expect(expected.labels).toEqual(['billing', 'shipping']);
    expect(await page.locator('#predicted-label').textContent()).toBe('billing, shipping');
    const marked = await page.locator('#scores tbody tr.current th').allTextContents();
    expect(marked.sort()).toEqual(['billing', 'shipping']);
    expect(browser.errors).toEqual([]);
  });

  it('Try it shows the value a regression model predicts, without a scores table', async () => {
    const { page } = browser;
    await deploy('regression', REGRESSION);
    await page.goto(`${api.url}/#/models`);
    await page.goto(`${api.url}/#/try?model=${modelName}`);
    await page.locator('form[data-task="regression"]').waitFor();
    await page.getByLabel('Text', { exact: true }).fill('great product, arrived early');
    await page.getByRole('button', { name: 'Predict' }).click();
    await page.locator('#predicted-label').waitFor();
    const expected = (await direct('great product, arrived early')) as { value: number };
    expect(await page.locator('#predicted-label').textContent()).toBe(String(expected.value));
    await page.getByText('Value:').waitFor();
    expect(await page.locator('#scores').count()).toBe(0);
    expect(browser.errors).toEqual([]);
  });
});
