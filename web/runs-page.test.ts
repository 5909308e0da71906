import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_BACKENDS } from '../shared/db/testing.ts';
import { launchBrowser, type TestBrowser } from './testing/browser.ts';
import { startTestControlApi, type TestControlApi } from './testing/control-api.ts';
import { snap } from './testing/screenshots.ts';
import { curve, seedManyRuns, seedMetrics, seedRun, seedVersion } from './testing/seed.ts';

const pglite = TEST_BACKENDS.find((b) => b.name === 'pglite')!;

describe('runs page and sign-in (browser, real control API)', () => {
  let api: TestControlApi;
  let browser: TestBrowser;

  beforeAll(async () => {
    [api, browser] = await Promise.all([startTestControlApi(pglite), launchBrowser()]);
  });
  afterAll(async () => {
    await browser?.close();
    await api?.close();
  });

  it('asks for the token, rejects a wrong one, and takes a login link without leaving it in the URL', async () => {
    const { page } = browser;
    await page.goto(`${api.url}/`);
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await page.getByLabel('API token').fill('not-the-token-at-all');
    await page.getByRole('button', { name: 'Sign in' }).click();
    // The API answers 401; the page drops the token and asks again.
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    expect(await page.evaluate(() => localStorage.getItem('droptune.apiToken'))).toBeNull();

    await page.goto(`${api.url}/#token=${api.token}`);
    await page.getByRole('heading', { name: 'Runs' }).waitFor();
    expect(page.url()).not.toContain(api.token);
    await page
      .getByText('No runs yet.')
      .waitFor()
      .catch(async (err) => {
        throw new Error(`${(err as Error).message}\npage shows: ${await page.locator('main').innerText()}`);
      });
  });

  it('lists 1,000 runs, filters them while typing, sorts, and selects runs to compare', async () => {
    const { page } = browser;
    const statuses = ['succeeded', 'failed', 'rejected', 'training', 'gated'];
    const models = ['support-intents', 'spam-filter', 'review-sentiment', 'ticket-priority'];
    await seedManyRuns(api.pool, 1000, models, statuses);
    // Behaviour only: render and key-to-paint times are a benchmark's business, not a test's.
    await page.goto(`${api.url}/#/runs`);
    await page.locator('#runs-count', { hasText: '1000 of 1000 runs shown' }).waitFor();
    expect(await page.locator('.runs-table tbody tr').count()).toBe(1000);

    await page.getByLabel('Search').fill('tickets-77');
    await page.locator('#runs-count', { hasText: /^\d+ of 1000 runs shown/ }).waitFor();
    const shown = await page.locator('.runs-table tbody tr:not([hidden])').allTextContents();
    expect(shown.length).toBeGreaterThan(0);
    for (const row of shown) expect(row).toContain('tickets-77');

    await page.getByLabel('Search').fill('');
    await page.getByLabel('Status').selectOption('failed');
    await page.locator('#runs-count', { hasText: '200 of 1000 runs shown' }).waitFor();
    await page.getByLabel('Model').selectOption('spam-filter');
    await page.locator('#runs-count', { hasText: '50 of 1000 runs shown' }).waitFor();

    await page.getByRole('button', { name: 'Model', exact: true }).click();
    expect(await page.locator('th[data-sort="modelName"]').getAttribute('aria-sort')).toBe('ascending');
    await snap(page, 'runs', { fullPage: false });
  });

  it('compares two runs: best metric marked, differing parameters marked, overlaid curves', async () => {
    const { page } = browser;
    const a = await seedRun(api.store, {
      modelName: 'compare-demo',
      status: 'succeeded',
      params: { epochs: 3, learningRate: 5e-5 },
    });
    const b = await seedRun(api.store, {
      modelName: 'compare-demo',
      status: 'succeeded',
      params: { epochs: 5, learningRate: 5e-5 },
    });
    await seedMetrics(api.store, a.runId, [
      ...curve(300, 3, 0.85),
      { key: 'accuracy', step: 300, epoch: 3, value: 0.84 },
    ]);
    await seedMetrics(api.store, b.runId, [
      ...curve(500, 5, 0.93),
      { key: 'accuracy', step: 500, epoch: 5, value: 0.91 },
    ]);
    await seedVersion(api.store, a, { accuracy: 0.84 });

    // Same page as the previous test: clear its filters; the 5 s refresh brings the new runs in.
    await page.getByLabel('Model').selectOption('');
    await page.getByLabel('Status').selectOption('');
    await page.getByLabel(`Select run ${a.runId} to compare`).check();
    await page.getByLabel(`Select run ${b.runId} to compare`).check();
    await page.getByRole('button', { name: 'Compare selected (2)' }).click();
    await page.getByRole('heading', { name: 'Compare 2 runs' }).waitFor();

    const accuracyRow = page.locator('#compare-metrics tr', {
      has: page.locator('code', { hasText: /^accuracy$/ }),
    });
    await expect.poll(() => accuracyRow.locator('td.best').textContent()).toContain('91.0%');
    const epochsRow = page.locator('#compare-params tr', {
      has: page.locator('code', { hasText: /^epochs$/ }),
    });
    expect(await epochsRow.getAttribute('class')).toContain('changed');
    const lrRow = page.locator('#compare-params tr', {
      has: page.locator('code', { hasText: /^learningRate$/ }),
    });
    expect(await lrRow.getAttribute('class')).toBeNull();
    const trainLoss = page.locator('figure.chart', { hasText: 'Training loss by step' });
    await expect.poll(() => trainLoss.getAttribute('data-points')).toBe('800');
    await snap(page, 'compare');
    expect(browser.errors).toEqual([]);
  });
});
