import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_BACKENDS } from '../shared/db/testing.ts';
import { launchBrowser, type TestBrowser } from './testing/browser.ts';
import { startTestControlApi, type TestControlApi } from './testing/control-api.ts';
import { snap } from './testing/screenshots.ts';
import { curve, seedMetrics, seedRun, seedVersion } from './testing/seed.ts';

const pglite = TEST_BACKENDS.find((b) => b.name === 'pglite')!;

/** The trainer's metrics.json `validation` block for three classes. */
const EVALUATION = {
  validation: {
    accuracy: 0.8,
    macro_f1: 0.79,
    loss: 0.52,
    labels: ['billing', 'shipping', 'technical'],
    per_class: {
      billing: { precision: 0.9, recall: 0.9, f1: 0.9, support: 10 },
      shipping: { precision: 0.8, recall: 0.8, f1: 0.8, support: 10 },
      technical: { precision: 0.7, recall: 0.7, f1: 0.7, support: 10 },
    },
    confusion_matrix: [
      [9, 1, 0],
      [1, 8, 1],
      [0, 3, 7],
    ],
  },
  split: {
    method: 'hash',
    trainRows: 480,
    validationRows: 120,
    duplicates: 7,
    conflicts: 1,
    truncated: 3,
    fingerprint: 'f'.repeat(64),
  },
  gate: {
    metric: 'macro_f1',
    challenger: 0.79,
    champion: 0.74,
    rows: 96,
    decision: 'promote',
    reason: 'better beyond noise: macro_f1 0.7900 vs 0.7400 on 96 rows champion v1 never trained on',
  },
};

describe('run page (browser, real control API)', () => {
  let api: TestControlApi;
  let browser: TestBrowser;

  beforeAll(async () => {
    [api, browser] = await Promise.all([startTestControlApi(pglite), launchBrowser()]);
    await browser.page.goto(`${api.url}/#token=${api.token}`);
  });
  afterAll(async () => {
    await browser?.close();
    await api?.close();
  });

  it('draws 10,000 metric points and keeps adding live points', async () => {
    const { page } = browser;
    const run = await seedRun(api.store, { modelName: 'support-intents', status: 'training' });
    const points = curve(9_600, 4);
    await seedMetrics(api.store, run.runId, points);
    const total = points.length;
    expect(total).toBeGreaterThanOrEqual(9_600);
    const trainPoints = points.filter((p) => p.key === 'train_loss' || p.key === 'val_loss').length;

    // Behaviour only: render, key-to-paint and long-task times are a benchmark's business.
    await page.goto(`${api.url}/#/runs/${run.runId}`);
    const loss = page.locator('figure.chart', { hasText: 'Loss' }).first();
    await expect.poll(() => loss.getAttribute('data-points'), { timeout: 20_000 }).toBe(String(trainPoints));
    await page.getByText(/Live: [\d,]+ metric points so far/).waitFor();

    // Live: the trainer logs more points; the chart gains them without a reload.
    await seedMetrics(api.store, run.runId, [
      { key: 'train_loss', step: 9_601, epoch: 4, value: 0.09 },
      { key: 'train_loss', step: 9_602, epoch: 4, value: 0.08 },
    ]);
    await expect
      .poll(() => loss.getAttribute('data-points'), { timeout: 10_000 })
      .toBe(String(trainPoints + 2));
    await page.locator('.timeline [aria-current="step"]', { hasText: 'training' }).waitFor();
    await snap(page, 'run-live', { fullPage: false });
    expect(browser.errors).toEqual([]);
  });

  it('shows the per-class metrics and confusion matrix when training has ended', async () => {
    const { page } = browser;
    const run = await seedRun(api.store, {
      modelName: 'support-intents',
      status: 'succeeded',
      costEstimate: 0.04,
    });
    await seedMetrics(api.store, run.runId, [
      ...curve(300, 3, 0.82),
      { key: 'accuracy', step: 300, epoch: 3, value: 0.8 },
      { key: 'macro_f1', step: 300, epoch: 3, value: 0.79 },
    ]);
    await seedVersion(api.store, run, { accuracy: 0.8, macro_f1: 0.79 });
    await api.objects.write(api.modelsBucket, `runs/${run.runId}/metrics.json`, JSON.stringify(EVALUATION));
    // Registration copies it into the version; the page prefers that copy.
    await api.objects.write(
      api.modelsBucket,
      `models/support-intents/v1/metrics.json`,
      JSON.stringify(EVALUATION),
    );
    await api.store.datasets
      .upsert({
        modelName: 'support-intents',
        datasetUri: run.datasetUri,
        generation: '1',
        sha256: 'a'.repeat(64),
        bytes: 48_213,
        rows: 600,
        labelCounts: { billing: 200, shipping: 220, technical: 180 },
        textLength: { min: 12, median: 64, max: 310 },
      })
      .then((d) => api.store.runs.update(run.runId, { datasetId: d.datasetId }));

    await page.goto(`${api.url}/#/runs/${run.runId}`);
    const matrix = page.locator('#confusion-matrix');
    await matrix.waitFor();
    const cells = await matrix
      .locator('tbody tr')
      .evaluateAll((rows) =>
        rows.map((r) => Array.from(r.querySelectorAll('td')).map((td) => Number(td.textContent))),
      );
    expect(cells).toEqual(EVALUATION.validation.confusion_matrix);
    const technical = page.locator('#per-class tr', { has: page.locator('th', { hasText: 'technical' }) });
    expect(await technical.locator('td').allTextContents()).toEqual(['70.0%', '70.0%', '70.0%', '10']);
    await expect.poll(() => page.locator('[data-stat="accuracy"] .stat-value').textContent()).toBe('80.0%');
    await page.getByRole('table', { name: 'Examples per class' }).waitFor();
    await page.locator('.timeline .step-succeeded.step-done').waitFor();
    await page.getByText('600', { exact: true }).first().waitFor();
    await page.getByText('metric points.', { exact: false }).waitFor();
    const gate = page.getByRole('table', { name: 'Quality gate comparison' });
    expect(await gate.locator('td').allTextContents()).toEqual([
      'Promoted',
      '79.0%',
      '74.0%',
      '96',
      EVALUATION.gate.reason,
    ]);
    await page
      .getByText('7 duplicates collapsed, 1 conflicting texts left out, 3 texts truncated', { exact: false })
      .waitFor();
    await snap(page, 'run-succeeded');
  });

  it('explains a failed run and a rejected dataset in plain words', async () => {
    const { page } = browser;
    const failed = await seedRun(api.store, {
      modelName: 'support-intents',
      status: 'failed',
      error: 'out of memory with batchSize 64 and maxLength 512; try batchSize 32',
    });
    await page.goto(`${api.url}/#/runs/${failed.runId}`);
    const alert = page.getByRole('alert');
    await alert.getByText('The run failed').waitFor();
    expect(await alert.locator('.run-error').textContent()).toBe(
      'out of memory with batchSize 64 and maxLength 512; try batchSize 32',
    );
    await alert
      .getByText('the production model did not change', { exact: false })
      .or(alert.getByText('Nothing was deployed'))
      .first()
      .waitFor();
    expect(await page.locator('.timeline .step-stopped').allTextContents()).toEqual([
      expect.stringContaining('training'),
      expect.stringContaining('failed'),
    ]);

    const rejected = await seedRun(api.store, {
      modelName: 'support-intents',
      status: 'rejected',
      error: 'row 12 (line 13), column "label": the label is empty. Every row needs a label.',
    });
    await page.goto(`${api.url}/#/runs/${rejected.runId}`);
    await page.getByRole('alert').getByText('The dataset was rejected').waitFor();
    await page.getByText('row 12 (line 13), column "label": the label is empty.', { exact: false }).waitFor();
    expect(await page.getByRole('button', { name: 'Cancel run' }).count()).toBe(0);
    await snap(page, 'run-rejected', { fullPage: false });
  });

  it('cancels a live run after a confirmation', async () => {
    const { page } = browser;
    const run = await seedRun(api.store, { modelName: 'support-intents', status: 'provisioning' });
    await page.goto(`${api.url}/#/runs/${run.runId}`);
    await page.getByRole('button', { name: 'Cancel run' }).click();
    const dialog = page.getByRole('dialog', { name: `Cancel run ${run.runId}?` });
    await dialog.waitFor();
    await page.keyboard.press('Escape'); // keeps the run
    await dialog.waitFor({ state: 'detached' });
    expect((await api.store.runs.get(run.runId)).status).toBe('provisioning');
    await page.getByRole('button', { name: 'Cancel run' }).click();
    await dialog.getByRole('button', { name: 'Cancel run' }).click();
    await page.locator('h1 [data-status="cancelled"]').waitFor();
    expect((await api.store.runs.get(run.runId)).status).toBe('cancelled');
  });
});
