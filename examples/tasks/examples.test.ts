import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateOptionsOf } from '../../functions/dataset/train-params.ts';
import { validateCsv } from '../../functions/dataset/validate-csv.ts';
import { ModelSettings } from '../../shared/contracts/model-settings.ts';

// The committed example of each task passes the validator as that task, with its droptune.json
// (the README shows them; examples/tasks/generate.py writes them).
const HERE = import.meta.dirname;

describe.each([
  ['multilabel', 'multilabel', 'a "labels" column'],
  ['pair', 'pair', 'a "text_pair" column'],
  ['regression', 'regression', 'every "score" value is a number'],
  ['long-text', 'classification', 'a "label" column of class names'],
])('examples/tasks/%s', (folder, task, reason) => {
  const settingsFile = join(HERE, folder, 'droptune.json');
  const settings = ModelSettings.parse(
    existsSync(settingsFile) ? JSON.parse(readFileSync(settingsFile, 'utf8')) : {},
  );
  it.each(['train.csv', 'heldout.csv'])(`%s is detected as ${task}`, async (file) => {
    const r = await validateCsv(createReadStream(join(HERE, folder, file)), validateOptionsOf(settings));
    if (!r.ok) throw new Error(r.rejection.message);
    expect(r.profile.task).toBe(task);
    expect(r.profile.taskReason).toContain(reason);
  });
});

it('the long-text example is long: most threads cannot fit 128 tokens, and it reads them in chunks', async () => {
  const r = await validateCsv(createReadStream(join(HERE, 'long-text', 'train.csv')));
  if (!r.ok) throw new Error(r.rejection.message);
  expect(r.profile.longTexts!.count).toBeGreaterThan(r.profile.rows / 2);
  expect(JSON.parse(readFileSync(join(HERE, 'long-text', 'droptune.json'), 'utf8'))).toMatchObject({
    longText: 'chunk',
  });
});
