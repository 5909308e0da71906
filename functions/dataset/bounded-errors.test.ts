import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { capDetails, capList, capText } from '../../shared/bounded.ts';
import { TEST_BACKENDS } from '../../shared/db/testing.ts';
import { buildControlApi } from '../api/app.ts';
import { localTokenAuth } from '../api/auth.ts';
import { LocalUploads } from '../api/uploads.ts';
import { type Harness, openHarness } from '../testing/harness.ts';
import { buildDatasetTrigger } from './dataset-trigger.ts';

const TOKEN = 'test-token-0123456789abcdef';

describe('bounded error messages', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await openHarness(TEST_BACKENDS[0]!);
  });
  afterAll(async () => h.close());

  it('keeps the run error, the report and the runs list small for a 500 KB header of commas', async () => {
    const header = `a${','.repeat(500_000)}`;
    const trigger = buildDatasetTrigger({ ...h, log: () => {} });
    for (let i = 0; i < 5; i++) {
      const stat = await h.objects.write(h.datasetsBucket, `wide/w${i}.csv`, `${header}\nx,y\n`);
      const outcome = await trigger({ bucket: stat.bucket, name: stat.name, generation: stat.generation });
      expect(outcome).toMatchObject({ action: 'rejected', code: 'missing_column' });
    }
    const runs = await h.store.runs.list({ modelName: 'wide' });
    expect(runs).toHaveLength(5);
    for (const run of runs) {
      expect(run.error!.length).toBeLessThan(2100);
      const report = await h.objects.read(h.modelsBucket, `reports/${run.runId}.json`);
      expect(report.length).toBeLessThan(16 * 1024);
    }
    const app = buildControlApi({
      ...h,
      auth: localTokenAuth(TOKEN),
      uploads: new LocalUploads(h.objects, h.datasetsBucket),
    });
    const list = await app.inject({
      method: 'GET',
      url: '/v1/runs?modelName=wide',
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(list.statusCode).toBe(200);
    expect(list.body.length).toBeLessThan(64 * 1024);
    await app.close();
  });

  it('lists at most 20 names, then "and N more"; cuts long text and deep details', () => {
    const names = Array.from({ length: 100 }, (_, i) => `col${i}`);
    expect(capList(names)).toBe(
      `${names
        .slice(0, 20)
        .map((n) => `"${n}"`)
        .join(', ')} and 80 more`,
    );
    expect(capText('x'.repeat(5000))).toMatch(/^x{2000}… \(3000 more characters\)$/);
    const details = capDetails({ columns: names, value: 'y'.repeat(1000) });
    expect(details.columns).toHaveLength(21);
    expect(details.columns[20]).toBe('… and 80 more');
    expect(details.value.length).toBeLessThan(260);
  });
});
