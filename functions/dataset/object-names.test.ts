import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_BACKENDS } from '../../shared/db/testing.ts';
import { type Harness, openHarness } from '../testing/harness.ts';
import { matchDatasetObject } from './dataset-event.ts';
import { buildDatasetTrigger } from './dataset-trigger.ts';
import { rows } from './fixtures/bad-csvs.ts';

const UNSAFE = [
  [
    'a URL-encoded path that a decoder turns into ../../api-token',
    'tickets/%2e%2e%2f%2e%2e%2fapi-token.csv',
    '"%"',
  ],
  ['a "#" that a URI parser cuts the name at', 'tickets/data#.csv', '"#"'],
  ['a "?" that a URI parser cuts the name at', 'tickets/data?x=1.csv', '"?"'],
  ['a newline that forges a log line', 'tickets/a\n{"msg":"forged"}.csv', 'U+000A'],
  ['a bell control character', 'tickets/a\u0007b.csv', 'U+0007'],
  ['a Unicode line separator', 'tickets/a\u2028b.csv', 'U+2028'],
  ['a GCS wildcard', 'tickets/data*.csv', '"*"'],
] as const;

describe('dataset object names at the trigger', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await openHarness(TEST_BACKENDS[0]!);
  });
  afterAll(async () => h.close());

  it.each(UNSAFE)('rejects %s with a clear message, before reading the object', async (_why, name, shown) => {
    const stat = await h.objects.write(h.datasetsBucket, name, rows(30));
    const trigger = buildDatasetTrigger({ ...h, log: () => {} });
    const outcome = await trigger({ bucket: stat.bucket, name, generation: stat.generation });
    expect(outcome).toMatchObject({ action: 'rejected', code: 'invalid_object_name' });
    const message = (outcome as { message: string }).message;
    expect(message).toContain(`has ${shown.startsWith('U+') ? `control character ${shown}` : shown}`);
    expect(message).toContain('Rename the file');
    // The name is shown escaped: no raw control character reaches the run, the report or a log.
    // biome-ignore lint/suspicious/noControlCharactersInRegex: that is the check
    expect(message).not.toMatch(/[\u0000-\u001f\u2028]/u);
    expect(h.workflows.starts.filter((s) => s.datasetUri?.endsWith(name))).toEqual([]);
    const run = await h.store.runs.get((outcome as { runId: string }).runId);
    expect(run).toMatchObject({ status: 'rejected', error: message });
  });

  it('takes names with spaces, brackets-free punctuation and non-ASCII letters', async () => {
    for (const fileName of ['my data (v2).csv', 'billets_été-2026.csv', "O'Brien & co, +1.csv"]) {
      expect(matchDatasetObject(`tickets/${fileName}`)).toEqual({ modelName: 'tickets', fileName });
    }
    const name = 'tickets/my data (v2).csv';
    const stat = await h.objects.write(h.datasetsBucket, name, rows(30));
    const trigger = buildDatasetTrigger({ ...h, log: () => {} });
    const outcome = await trigger({ bucket: stat.bucket, name, generation: stat.generation });
    expect(outcome).toMatchObject({ action: 'started' });
  });
});
