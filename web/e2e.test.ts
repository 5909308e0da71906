/**
 * The no-code path end to end on the real local stack (`startLocalStack`: embedded PostgreSQL,
 * file:// buckets, the bucket watcher, onDatasetUploaded, pipeline.yaml on the local Workflows
 * runtime, the Python trainer with a tiny random BERT, the serving process), driven only
 * through the page in Chromium: a bad CSV gets the validator's precise message; a good one
 * trains while the chart gains points, succeeds, answers in Try it, and is promoted and rolled
 * back from the Models page.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalStack, startLocalStack } from '../cli/local-stack/stack.ts';
import { validateCsvBytes } from '../functions/dataset/validate-csv.ts';
import { makeTinyModelAndData } from '../test/tiny-model.ts';
import { ensureWebBuilt } from './build.ts';
import { launchBrowser, type TestBrowser } from './testing/browser.ts';

const MODEL = 'web-tickets';
/** Promote/rollback deploy the version (a serving process) before production moves. */
const DEPLOY_MS = 180_000;
const BAD_CSV = 'text,label\n' + 'hello there,greeting\n'.repeat(30); // one class only

const work = mkdtempSync(join(tmpdir(), 'droptune-web-e2e-'));
let stack: LocalStack;
let browser: TestBrowser;
let tinyBert: string;
/** The stack's log lines (workflow steps included), shown when a step of a test times out. */
const stackLog: string[] = [];

/** Adds the page's text and the stack's last log lines to a failed wait, so the cause is visible. */
async function explain<T>(page: Page, wait: Promise<T>): Promise<T> {
  return wait.catch(async (err) => {
    const shown = await page
      .locator('main')
      .innerText()
      .catch(() => '(no page)');
    throw new Error(
      `${(err as Error).message}\npage shows: ${shown}\nstack log:\n${stackLog.slice(-40).join('\n')}`,
    );
  });
}
let trainCsv: string;

/** Drives New run: pick the file, wait for the check, fill the form, start; returns the run id. */
async function startRunFromPage(page: Page, csv: string): Promise<string> {
  await page.goto(`${stack.apiUrl}/#/runs`);
  await page.getByRole('link', { name: 'New run', exact: true }).first().click();
  await page.getByLabel('Drop a CSV here').setInputFiles(csv);
  await page.locator('#validation [data-verdict="ok"]').waitFor({ timeout: 60_000 });
  await page.getByLabel('Model name').fill(MODEL);
  await page.getByLabel('Base model').fill(tinyBert);
  // Enough steps per epoch (3,000 rows) that the run stays live for several chart polls even on a
  // fast, quiet machine, where early stopping ends it after a few epochs.
  await page.getByLabel('Epochs').fill('20');
  await page.getByLabel('Learning rate').fill('0.003');
  await page.getByLabel('Max length (tokens)').fill('64');
  await page.getByRole('button', { name: 'Start training' }).click();
  await page.waitForURL(/#\/runs\/r-/, { timeout: 120_000 });
  return decodeURIComponent(page.url().split('#/runs/')[1]!);
}

async function waitForStatus(page: Page, statuses: string[], timeoutMs = 600_000): Promise<string> {
  const badge = page.locator('h1 [data-status]');
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const s = await badge.getAttribute('data-status').catch(() => null);
    if (s && statuses.includes(s)) return s;
    await page.waitForTimeout(500);
  }
  throw new Error(`the run did not reach ${statuses.join('/')} in ${timeoutMs / 1000} s`);
}

beforeAll(async () => {
  ({ bert: tinyBert, csv: trainCsv } = makeTinyModelAndData(work, 1000, 'tickets.csv'));
  writeFileSync(join(work, 'one-class.csv'), BAD_CSV);
  await ensureWebBuilt();
  [stack, browser] = await Promise.all([
    startLocalStack({
      home: join(work, 'home'),
      port: 0,
      pipelineEnv: { GATE_MIN_ACCURACY: '0', GATE_MIN_MACRO_F1: '0.5' },
      log: (l) => stackLog.push(l),
    }),
    launchBrowser(),
  ]);
  // The link `droptune up` prints.
  await browser.page.goto(stack.webUrl);
  await browser.page.getByRole('heading', { name: 'Runs' }).waitFor();
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
  rmSync(work, { recursive: true, force: true });
}, 120_000);

describe('the web page on the local stack', () => {
  it('shows the precise reason a bad CSV cannot be used, before anything is uploaded', async () => {
    const { page } = browser;
    const expected = await validateCsvBytes(BAD_CSV);
    if (expected.ok) throw new Error('the bad CSV is accepted by the validator');
    await page.goto(`${stack.apiUrl}/#/new`);
    await page.getByLabel('Drop a CSV here').setInputFiles(join(work, 'one-class.csv'));
    const rejection = page.locator('#validation [role="alert"]');
    await rejection.waitFor();
    expect(await rejection.locator('.rejection-message').textContent()).toBe(expected.rejection.message);
    expect(await stack.store.runs.list({ limit: 10 })).toEqual([]);
  });

  it('uploads a CSV, charts the run live, succeeds, and answers in Try it', async () => {
    const { page } = browser;
    const runId = await startRunFromPage(page, trainCsv);
    const loss = page.locator('figure.chart', { hasText: 'Loss' }).first();
    // Watch the chart grow while the run is still live.
    const seen: number[] = [];
    const end = Date.now() + 600_000;
    while (Date.now() < end) {
      const status = await page.locator('h1 [data-status]').getAttribute('data-status');
      const n = Number(await loss.getAttribute('data-points'));
      if (status && ['succeeded', 'failed', 'gated', 'rejected', 'cancelled'].includes(status)) break;
      if (n > 0 && n !== seen.at(-1)) seen.push(n);
      await page.waitForTimeout(300);
    }
    expect(seen.length).toBeGreaterThanOrEqual(2);
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    expect(await waitForStatus(page, ['succeeded', 'failed', 'gated'])).toBe('succeeded');
    await page.locator('#confusion-matrix').waitFor({ timeout: 30_000 });
    const run = await stack.store.runs.get(runId);
    expect(run.version).toBe(1);

    await page.getByRole('link', { name: 'Try it' }).first().click();
    await page.getByLabel('Model').selectOption(MODEL);
    await page.getByLabel('Text').fill('my invoice and the refund problem');
    await page.getByRole('button', { name: 'Predict' }).click();
    await page.locator('#predicted-label').waitFor({ timeout: 60_000 });
    expect(await page.locator('#predicted-label').textContent()).toBe('billing');
    await page.getByText(`${MODEL} v1`).waitFor();
  }, 900_000);

  it('promotes and rolls back from the Models page, and Try it follows', async () => {
    const { page } = browser;
    // A second version to move between (a copy of the same file: a new upload, a new run).
    const second = join(work, 'tickets-again.csv');
    writeFileSync(second, readFileSync(trainCsv));
    await startRunFromPage(page, second);
    const outcome = await waitForStatus(page, ['succeeded', 'gated', 'failed']);
    expect(['succeeded', 'gated']).toContain(outcome);

    await page.goto(`${stack.apiUrl}/#/models/${MODEL}`);
    if (outcome === 'gated') {
      await page.getByRole('button', { name: 'Promote v2 to production' }).click();
      await page.getByRole('dialog').getByRole('button', { name: 'Promote v2' }).click();
    }
    await explain(
      page,
      page.locator('#production-version', { hasText: 'production v2' }).waitFor({ timeout: DEPLOY_MS }),
    );

    await page.getByRole('button', { name: 'Roll back' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Roll back' }).click();
    await explain(
      page,
      page.locator('#production-version', { hasText: 'production v1' }).waitFor({ timeout: DEPLOY_MS }),
    );
    expect(await stack.store.models.alias(MODEL, 'production')).toBe(1);
    // Rollback redeployed v1 before moving production: Try it now answers from v1.
    await page.getByRole('link', { name: 'Try it' }).first().click();
    await page.getByLabel('Text').fill('question about delivery and the package');
    await page.getByRole('button', { name: 'Predict' }).click();
    await page
      .getByText(`${MODEL} v1 ·`)
      .waitFor({ timeout: 60_000 })
      .catch(async (err) => {
        throw new Error(`${(err as Error).message}\npage shows: ${await page.locator('main').innerText()}`);
      });

    await page.goto(`${stack.apiUrl}/#/models/${MODEL}`);
    await page.getByRole('button', { name: 'Promote v2 to production' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Promote v2' }).click();
    await explain(
      page,
      page.locator('#production-version', { hasText: 'production v2' }).waitFor({ timeout: DEPLOY_MS }),
    );
    expect(await stack.store.models.alias(MODEL, 'production')).toBe(2);
    expect(browser.errors).toEqual([]);
  }, 900_000);
});
