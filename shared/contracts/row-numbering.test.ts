import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { validateCsvBytes } from '../../functions/dataset/validate-csv.ts';

/** Golden cases shared with training-image/tests/test_row_numbering.py: both languages, one rule. */
const golden = JSON.parse(
  readFileSync(new URL('./fixtures/row-numbering.json', import.meta.url), 'utf8'),
) as {
  cases: { name: string; csv: string; code: string; line: number }[];
};

describe('the row-numbering rule (docs/contracts.md)', () => {
  it.each(golden.cases)('$name: the validator names line $line', async ({ csv, code, line }) => {
    const result = await validateCsvBytes(csv);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.rejection.code).toBe(code);
    expect(result.rejection.details.line).toBe(line);
    expect(result.rejection.message).toContain(`line ${line}`);
  });
});
