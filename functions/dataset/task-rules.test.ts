import { describe, expect, it } from 'vitest';
import { multilabelCsv, pairCsv, regressionCsv, replaceRow } from './fixtures/task-csvs.ts';
import { type ValidateOptions, validateCsvBytes } from './validate-csv.ts';

/** The profile of a file that must pass. */
async function profileOf(csv: string, options?: ValidateOptions) {
  const r = await validateCsvBytes(csv, options);
  if (!r.ok) throw new Error(`${r.rejection.code}: ${r.rejection.message}`);
  return r.profile;
}

describe('task detection (the profile says which task and why)', () => {
  it('detects multilabel from a labels column and counts a row once per class', async () => {
    const p = await profileOf(multilabelCsv(12));
    expect(p).toMatchObject({ task: 'multilabel', taskReason: 'a "labels" column', labelColumn: 'labels' });
    // Rows cycle billing, shipping, billing|shipping, refund|billing: 3 of each in 12 rows.
    expect(p.labelCounts).toEqual({ billing: 9, refund: 3, shipping: 6 });
    expect(p.labelsPerRow).toEqual({ min: 1, median: 1.5, max: 2 });
  });

  it('detects pair from a text_pair column', async () => {
    const p = await profileOf(pairCsv(12));
    expect(p).toMatchObject({
      task: 'pair',
      taskReason: 'a "text_pair" column',
      textPairColumn: 'text_pair',
    });
    expect(p.labelCounts).toEqual({ match: 6, no_match: 6 });
  });

  it('detects regression from numeric labels with more than 10 distinct values, with the target in the profile', async () => {
    const p = await profileOf(regressionCsv(22, 11, 'label', 1));
    expect(p.task).toBe('regression');
    expect(p.taskReason).toMatch(
      /every "label" value is a number and there are 11 distinct values \(more than 10\)/,
    );
    expect(p.labelCounts).toEqual({});
    // Values 1..11 twice and then 1, 2: mean and population std by hand.
    const values = [...Array.from({ length: 22 }, (_, i) => 1 + (i % 11))];
    const mean = values.reduce((a, v) => a + v, 0) / values.length;
    const std = Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / values.length);
    expect(p.target?.min).toBe(1);
    expect(p.target?.max).toBe(11);
    expect(p.target?.distinct).toBe(11);
    expect(p.target?.mean).toBeCloseTo(mean, 12);
    expect(p.target?.std).toBeCloseTo(std, 12);
  });

  it('keeps numeric labels with 10 distinct values as classification and says how to choose regression', async () => {
    const p = await profileOf(regressionCsv(20, 10, 'label', 1));
    expect(p.task).toBe('classification');
    expect(p.taskReason).toMatch(/only 10 distinct/);
    expect(p.warnings.join(' ')).toMatch(
      /"task": "regression" in droptune.json \(or submit with --task regression\)/,
    );
  });

  it('reads a score column as the target and names it', async () => {
    const p = await profileOf(regressionCsv(30));
    expect(p).toMatchObject({
      task: 'regression',
      labelColumn: 'score',
      target: { min: 1, max: 5.75, distinct: 20 },
    });
  });

  it('detects classification from class names, and warns about labels holding the delimiter', async () => {
    const csv = replaceRow(
      replaceRow(pairCsv(12).replace('text,text_pair,label', 'text,other,label'), 1, 'a,b,match|no_match'),
      2,
      'c,d,match|no_match',
    );
    const p = await profileOf(csv);
    expect(p).toMatchObject({ task: 'classification', taskReason: 'a "label" column of class names' });
    expect(p.warnings.join(' ')).toMatch(/some labels contain "\|" \("match\|no_match"\)/);
  });

  it('lets droptune.json task override detection (regression on few distinct numbers)', async () => {
    const p = await profileOf(regressionCsv(20, 5, 'label', 1), { task: 'regression' });
    expect(p).toMatchObject({
      task: 'regression',
      taskReason: 'droptune.json "task"',
      target: { distinct: 5 },
    });
  });

  it('lets droptune.json task choose classification on a file with a text_pair column', async () => {
    const p = await profileOf(pairCsv(12), { task: 'classification' });
    expect(p.task).toBe('classification');
    expect(p.textPairColumn).toBeUndefined();
  });

  it('reads the task columns and delimiter named in the settings', async () => {
    const csv = multilabelCsv(12).replace('text,labels', 'body,topics').replaceAll('|', ';');
    const p = await profileOf(csv, { textColumn: 'body', labelsColumn: 'topics', labelDelimiter: ';' });
    expect(p).toMatchObject({
      task: 'multilabel',
      labelColumn: 'topics',
      labelCounts: { billing: 9, refund: 3, shipping: 6 },
    });
  });
});

describe('per-task duplicates and conflicts', () => {
  it('pair: the same question with another answer is neither a duplicate nor a conflict', async () => {
    const csv = `${pairCsv(12)}question 1?,another answer,no_match\nQUESTION 1?,answer 1,match\n`;
    const p = await profileOf(csv);
    expect([p.duplicates, p.conflicts]).toEqual([1, 0]);
  });

  it('pair: the same two texts with another label is a conflict', async () => {
    const csv = `${pairCsv(12)}question 1?,  ANSWER 1,no_match\n`;
    const p = await profileOf(csv, { maxConflictShare: 0.5 });
    expect(p.conflicts).toBe(1);
    expect(p.conflictExamples[0]).toMatchObject({ rows: [1, 13], labels: ['match', 'no_match'] });
  });

  it('multilabel: the same text and class set (in any order) is a duplicate; another set is not a conflict', async () => {
    const csv = `${multilabelCsv(12)}ticket number 3,shipping|billing\nticket number 1,shipping\n`;
    const p = await profileOf(csv);
    expect([p.duplicates, p.conflicts]).toEqual([1, 0]);
  });

  it('regression: the same text and value is a duplicate; another value is not a conflict', async () => {
    const csv = `${regressionCsv(20)}review number 1,1\nreview number 2,4\n`;
    const p = await profileOf(csv);
    expect([p.duplicates, p.conflicts]).toEqual([1, 0]);
  });
});

describe('long texts', () => {
  it('counts texts whose words cannot fit maxLength tokens (a lower bound), and suggests chunk', async () => {
    const long = Array.from({ length: 20 }, (_, i) => `word${i}`).join(' ');
    const csv = replaceRow(
      replaceRow(pairCsv(12).replace('text,text_pair,label', 'text,x,label'), 3, `${long},x,match`),
      4,
      `${long.slice(0, 40)},y,no_match`,
    );
    const p = await profileOf(csv, { maxLength: 16 });
    // 20 words + [CLS] + [SEP] > 16; the 6 words of the second one fit.
    expect(p.longTexts).toEqual({ maxLength: 16, count: 1, method: 'words' });
    expect(p.warnings.join(' ')).toMatch(
      /at least 1 text is longer than maxLength 16 tokens.*"longText": "chunk"/,
    );
  });

  it('counts both texts of a pair, and defaults to maxLength 128', async () => {
    const half = Array.from({ length: 7 }, () => 'w').join(' ');
    const csv = replaceRow(pairCsv(12), 1, `${half},${half},match`);
    expect((await profileOf(csv, { maxLength: 16 })).longTexts?.count).toBe(1); // 7 + 7 + 3 > 16
    expect((await profileOf(csv, { maxLength: 17 })).longTexts?.count).toBe(0);
    expect((await profileOf(csv)).longTexts).toEqual({ maxLength: 128, count: 0, method: 'words' });
  });
});
