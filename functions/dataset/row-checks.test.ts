import { describe, expect, it } from 'vitest';
import { validateCsvBytes } from './validate-csv.ts';

/** Rows `text,label`, 12 distinct texts over two labels unless given. */
function csv(extra: string[] = [], header = 'text,label', base = true): string {
  const rows = base
    ? Array.from({ length: 12 }, (_, i) => `ticket ${i} about things,${i % 2 ? 'billing' : 'shipping'}`)
    : [];
  return `${[header, ...rows, ...extra].join('\n')}\n`;
}

describe('duplicates, conflicts, split column and imbalance (checked before any VM)', () => {
  it('counts duplicates by the normalised text the trainer uses', async () => {
    const r = await validateCsvBytes(
      csv(['"  Ticket 3   ABOUT things ",billing', 'ticket 3 about things,billing']),
    );
    if (!r.ok) throw new Error(r.rejection.message);
    expect(r.profile).toMatchObject({ duplicates: 2, conflicts: 0, conflictExamples: [], warnings: [] });
  });

  it('reports a conflict below the threshold with both row numbers, as a warning', async () => {
    const body = csv(['TICKET 4 about things,billing'], 'text,label');
    const r = await validateCsvBytes(body, { maxConflictShare: 0.5 });
    if (!r.ok) throw new Error(r.rejection.message);
    expect(r.profile.conflicts).toBe(1);
    expect(r.profile.conflictExamples).toEqual([
      { text: 'TICKET 4 about things', rows: [5, 13], labels: ['shipping', 'billing'] },
    ]);
    expect(r.profile.warnings.join(' ')).toMatch(
      /rows 5 and 13 \("TICKET 4 about things": "shipping" vs "billing"\)/,
    );
  });

  it('rejects conflicts above droptune.json maxConflictShare (default 1 %), naming the rows', async () => {
    const r = await validateCsvBytes(csv(['TICKET 4 about things,billing']));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.rejection.code).toBe('label_conflicts');
    expect(r.rejection.message).toMatch(
      /^1 of 13 rows \(7\.7 %\) repeat a text with a different label, more than maxConflictShare 0\.01 allows: rows 5 and 13/,
    );
  });

  it('honours a checked split column and rejects other values with the row', async () => {
    const rows = Array.from(
      { length: 12 },
      (_, i) => `t${i},${i % 2 ? 'a' : 'b'},${i < 4 ? 'validation' : i === 11 ? 'TEST' : 'train'}`,
    );
    const ok = await validateCsvBytes(csv(rows, 'text,label,split', false));
    if (!ok.ok) throw new Error(ok.rejection.message);
    expect(ok.profile.splitCounts).toEqual({ train: 7, validation: 4, test: 1 });
    const bad = await validateCsvBytes(csv([...rows, 'x,a,holdout'], 'text,label,split', false));
    expect(bad.ok || bad.rejection).toMatchObject({
      code: 'invalid_split',
      details: { row: 13, line: 14, value: 'holdout' },
    });
    if (!bad.ok)
      expect(bad.rejection.message).toMatch(
        /^row 13 \(line 14\), column "split": "holdout" is not a split value; use train, validation or test/,
      );
  });

  it('rejects a split column that leaves a label without validation rows', async () => {
    const rows = Array.from(
      { length: 12 },
      (_, i) => `t${i},${i % 2 ? 'a' : 'b'},${i % 2 && i < 6 ? 'validation' : 'train'}`,
    );
    const r = await validateCsvBytes(csv(rows, 'text,label,split', false));
    expect(r.ok || r.rejection.code).toBe('invalid_split');
    if (!r.ok) expect(r.rejection.message).toContain('"b" (6 train, 0 validation)');
  });

  it('warns on heavy imbalance with the numbers', async () => {
    const rows = [...Array.from({ length: 40 }, (_, i) => `big ${i},big`), 'small 1,small', 'small 2,small'];
    const r = await validateCsvBytes(csv(rows, 'text,label', false));
    if (!r.ok) throw new Error(r.rejection.message);
    expect(r.profile.warnings).toEqual([
      expect.stringMatching(/^classes are imbalanced: "big" has 40 rows, "small" 2 \(20:1\)/),
    ]);
  });
});

describe('normalisedHash', () => {
  it('equals the hash of the shared normalisation on ASCII and non-ASCII text alike', async () => {
    const { hash52, normalisedHash } = await import('./row-checks.ts');
    const { normaliseText } = await import('../../shared/text-key.ts');
    for (const s of [
      '  A  b\t\tC \r\n',
      'plain',
      'x\u000by\u000cz',
      'Café  CRÈME ',
      'ΑΣ  ß',
      '   ',
      'a\u00a0b',
    ]) {
      expect(normalisedHash(s)).toBe(hash52(normaliseText(s)));
    }
  });
});
