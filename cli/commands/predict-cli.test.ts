import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type InProcessServer,
  REPO_ROOT,
  type StagedModel,
  stageModel,
  startInProcess,
} from '../../serving/testing/harness.ts';
import { TEST_BACKENDS } from '../../shared/db/testing.ts';
import { startTestControlApi, type TestControlApi } from '../../web/testing/control-api.ts';
import { seedRun, seedVersion } from '../../web/testing/seed.ts';

const run = promisify(execFile);
const pglite = TEST_BACKENDS.find((b) => b.name === 'pglite')!;
const DIR = join(REPO_ROOT, 'serving/fixtures/tiny-multilabel');
const golden = JSON.parse(readFileSync(join(DIR, 'golden.json'), 'utf8')) as {
  cases: { text: string; prediction: { labels: string[] } }[];
};

describe('droptune predict --input (child process, real control API and prediction service)', () => {
  let api: TestControlApi;
  let staged: StagedModel;
  let serving: InProcessServer;
  const tmp = mkdtempSync(join(tmpdir(), 'droptune-predict-cli-'));

  beforeAll(async () => {
    staged = stageModel(DIR);
    [api, serving] = await Promise.all([
      startTestControlApi(pglite),
      startInProcess(staged, { maxInstances: 3 }),
    ]);
    const seeded = await seedRun(api.store, { modelName: staged.modelName, status: 'succeeded' });
    const version = await seedVersion(api.store, seeded, { micro_f1: 0.5 });
    await api.store.models.recordDeployment({
      modelName: staged.modelName,
      version,
      url: serving.url,
      revision: 'r-1',
    });
    await api.store.models.setAlias(staged.modelName, 'production', version, 'test');
  });
  afterAll(async () => {
    await serving?.close();
    await api?.close();
    staged?.cleanup();
    rmSync(tmp, { recursive: true, force: true });
  });

  const droptune = (args: string[]) =>
    run(process.execPath, [join(REPO_ROOT, 'cli/bin.js'), '--api', api.url, ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, DROPTUNE_API_TOKEN: api.token, NO_COLOR: '1' },
    });

  it('prints ONE prediction response with every prediction of the file in order (--json: the API body)', async () => {
    const input = join(tmp, 'held-out.jsonl');
    writeFileSync(input, golden.cases.map((c) => JSON.stringify({ text: c.text })).join('\n'));
    const { stdout } = await droptune([
      '--json',
      'predict',
      staged.modelName,
      '--input',
      input,
      '--batch-size',
      '3',
    ]);
    const body = JSON.parse(stdout) as { predictions: { labels: string[] }[]; model: { name: string } };
    expect(body.model.name).toBe(staged.modelName);
    expect(body.predictions.map((p) => p.labels)).toEqual(golden.cases.map((c) => c.prediction.labels));
  });

  it('fails with a clear error naming the bad line, and text arguments keep working', async () => {
    const input = join(tmp, 'bad.jsonl');
    writeFileSync(input, '"fine"\n{"text": "ok"}\n{"texts": "typo"}\n');
    const failed = await droptune(['predict', staged.modelName, '--input', input]).catch(
      (e: { code: number; stderr: string }) => e,
    );
    expect((failed as { code: number }).code).toBe(1);
    expect((failed as { stderr: string }).stderr).toContain('bad.jsonl line 3: expected');
    const { stdout } = await droptune(['predict', staged.modelName, golden.cases[0]!.text]);
    expect(stdout).toContain(golden.cases[0]!.prediction.labels.join(', '));
  });
});
