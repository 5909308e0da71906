import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  fixtureModelName,
  type InProcessServer,
  type StagedModel,
  stageModel,
  startInProcess,
} from '../serving/testing/harness.ts';
import { TEST_BACKENDS } from '../shared/db/testing.ts';
import { launchBrowser, type TestBrowser } from './testing/browser.ts';
import { finishLatestPromotion, startTestControlApi, type TestControlApi } from './testing/control-api.ts';
import { snap } from './testing/screenshots.ts';
import { seedRun, seedVersion } from './testing/seed.ts';

const pglite = TEST_BACKENDS.find((b) => b.name === 'pglite')!;

describe('models and try it (browser, real control API and prediction service)', () => {
  let api: TestControlApi;
  let browser: TestBrowser;
  let staged: StagedModel;
  let serving: InProcessServer;
  const modelName = fixtureModelName();

  beforeAll(async () => {
    staged = stageModel();
    [api, browser, serving] = await Promise.all([
      startTestControlApi(pglite),
      launchBrowser(),
      startInProcess(staged),
    ]);
    await browser.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: api.url });
    // Two trained versions, v1 in production; both deployed at some point (the fixture serves either).
    for (const accuracy of [0.81, 0.86]) {
      const run = await seedRun(api.store, { modelName, status: 'succeeded' });
      const version = await seedVersion(api.store, run, { accuracy, macro_f1: accuracy - 0.02 });
      await api.store.models.recordDeployment({
        modelName,
        version,
        url: serving.url,
        revision: `predict-${modelName}-0000${version}`,
      });
    }
    await api.store.models.setAlias(modelName, 'production', 1, 'first deployment');
    await browser.page.goto(`${api.url}/#token=${api.token}`);
  });
  afterAll(async () => {
    await browser?.close();
    await api?.close();
    await serving?.close();
    staged?.cleanup();
  });

  it('lists versions with metrics and the production marker, with a curl example that copies', async () => {
    const { page } = browser;
    await page.goto(`${api.url}/#/models`);
    await page.locator(`#models-table tr[data-model="${modelName}"]`, { hasText: 'v1' }).waitFor();
    await page.getByRole('link', { name: modelName }).click();
    await page.locator('#production-version', { hasText: 'production v1' }).waitFor();
    const rows = page.locator('#versions-table tbody tr');
    expect(await rows.count()).toBe(2);
    expect(await rows.nth(0).innerText()).toContain('86.0%');
    expect(await page.locator('#versions-table tr[data-version="1"]').getAttribute('class')).toBe('current');
    const predictUrl = `${serving.url}/v1/models/${modelName}:predict`;
    expect(await page.locator('#predict-url').textContent()).toBe(predictUrl);
    await page.getByRole('button', { name: 'Copy' }).click();
    await page.getByRole('button', { name: 'Copied' }).waitFor();
    const copied = await page.evaluate(() => navigator.clipboard.readText());
    expect(copied).toContain(`curl -X POST '${predictUrl}'`);
    // The example works as printed: same body, a real answer.
    const body = /-d '(.*)'$/m.exec(copied)![1]!;
    const direct = await fetch(predictUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    expect(direct.status).toBe(200);
    expect(await page.locator('#deployments-table tbody tr').count()).toBe(2);
    await snap(page, 'models');
  });

  it('promotes and rolls back only after a confirmation', async () => {
    const { page } = browser;
    await page.goto(`${api.url}/#/models/${modelName}`);
    await page.getByRole('button', { name: 'Promote v2 to production' }).click();
    const dialog = page.getByRole('dialog', { name: 'Promote v2 to production?' });
    await dialog.waitFor();
    await dialog.getByRole('button', { name: 'Keep as is' }).click();
    expect(await api.store.models.alias(modelName, 'production')).toBe(1);

    // Promote and rollback deploy first: production moves only when the pipeline's promote
    // action (played here once the page says it is deploying) has the version serving.
    const deployed = async (version: number, kind: 'promote' | 'rollback') => {
      const before = await api.store.models.alias(modelName, 'production');
      await page.locator('#move-status', { hasText: `Deploying v${version}` }).waitFor();
      expect(api.workflows.promotions.at(-1)).toEqual({ action: 'promote', modelName, version, kind });
      expect(await api.store.models.alias(modelName, 'production')).toBe(before);
      await finishLatestPromotion(api, serving.url);
      await page.locator('#production-version', { hasText: `production v${version}` }).waitFor();
      expect(await api.store.models.alias(modelName, 'production')).toBe(version);
    };
    await page.getByRole('button', { name: 'Promote v2 to production' }).click();
    await dialog.getByRole('button', { name: 'Promote v2' }).click();
    await deployed(2, 'promote');

    await page.getByRole('button', { name: 'Roll back' }).click();
    const rollback = page.getByRole('dialog', { name: `Roll back ${modelName}?` });
    await rollback.getByRole('button', { name: 'Roll back' }).click();
    await deployed(1, 'rollback');
    await page.getByText(`${modelName}: rolled back to v1.`).waitFor();
  });

  it('gets a prediction from the deployed model in the Try it box, identical to calling the service', async () => {
    const { page } = browser;
    const text = 'my package never arrived and tracking shows nothing';
    const direct = (await (
      await fetch(`${serving.url}/v1/models/${modelName}:predict`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ instances: [text] }),
      })
    ).json()) as { predictions: { label: string; scores: Record<string, number> }[] };

    await page.goto(`${api.url}/#/try?model=${modelName}`);
    await page.getByLabel('Text').fill(text);
    await page.getByLabel('Text').press('Control+Enter');
    await page
      .locator('#predicted-label')
      .waitFor({ timeout: 10_000 })
      .catch(async (err) => {
        throw new Error(`${(err as Error).message}\npage shows: ${await page.locator('main').innerText()}`);
      });
    expect(await page.locator('#predicted-label').textContent()).toBe(direct.predictions[0]!.label);
    const shown = await page
      .locator('#scores tbody tr')
      .evaluateAll((rows) =>
        rows.map((r) => [r.querySelector('th')!.textContent, r.querySelector('td')!.textContent]),
      );
    const expected = Object.entries(direct.predictions[0]!.scores)
      .sort((a, b) => b[1] - a[1])
      .map(([label, p]) => [label, `${(p * 100).toFixed(1)}%`]);
    expect(shown).toEqual(expected);
    await snap(page, 'try-it', { fullPage: false });

    // An empty text is refused on the page, with the reason.
    await page.getByLabel('Text').fill('   ');
    await page.getByRole('button', { name: 'Predict' }).click();
    await page.getByRole('alert').getByText('Type a text first.').waitFor();
    expect(browser.errors).toEqual([]);
  });
});
