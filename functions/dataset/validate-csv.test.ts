import { createHash } from 'node:crypto';
import { createReadStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, describe, expect, it } from 'vitest';
import { REJECTION_CODES } from '../../shared/contracts/dataset.ts';
import { badCsvs, rows, trickyValidCsvs } from './fixtures/bad-csvs.ts';
import { type ValidationResult, validateCsv, validateCsvBytes } from './validate-csv.ts';

const dir = mkdtempSync(join(tmpdir(), 'droptune-csv-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Streams the bytes from a real file in small chunks, so every boundary case gets exercised. */
async function fromDisk(
  bytes: Buffer,
  name: string,
  options?: Parameters<typeof validateCsv>[1],
): Promise<ValidationResult> {
  const path = join(dir, `${name.replaceAll(/\W+/g, '-')}.csv`);
  writeFileSync(path, bytes);
  const highWaterMark = bytes.length > 200_000 ? 65_536 : 7;
  return validateCsv(createReadStream(path, { highWaterMark }), options);
}

function withoutBytesRead(r: ValidationResult): unknown {
  return r.ok ? r : { ok: false, rejection: r.rejection };
}

const corpus = badCsvs();

describe('the bad-CSV corpus', () => {
  it('has at least 30 files and covers every rejection code', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(30);
    const codes = new Set(corpus.map((c) => c.code));
    // Conflicts and split values have their own tests (row-checks.test.ts); settings and object names are the trigger's.
    const byTrigger = ['label_conflicts', 'invalid_split', 'invalid_settings', 'invalid_object_name'];
    for (const code of REJECTION_CODES.filter((c) => !byTrigger.includes(c)))
      expect(codes, code).toContain(code);
  });

  it.each(corpus.map((c) => [c.name, c] as const))(
    'rejects %s with the expected code and message',
    async (_name, c) => {
      const result = await validateCsvBytes(c.bytes, c.options);
      if (result.ok) throw new Error(`accepted: ${JSON.stringify(result.profile)}`);
      expect(result.rejection.code).toBe(c.code);
      let from = 0;
      for (const part of c.message) {
        const at = result.rejection.message.indexOf(part, from);
        expect(
          at,
          `message ${JSON.stringify(result.rejection.message)} lacks ${JSON.stringify(part)}`,
        ).toBeGreaterThanOrEqual(0);
        from = at + part.length;
      }
      // Streamed from disk in small chunks, the verdict is the same to the letter.
      expect(withoutBytesRead(await fromDisk(c.bytes, c.name, c.options))).toEqual(withoutBytesRead(result));
    },
  );

  it('stops reading a huge bad file early instead of reading it all', async () => {
    const big = Buffer.from(`text,label\nhello,${'l'.repeat(50 * 1024 * 1024)}\n`);
    const result = await fromDisk(big, 'huge-label');
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.bytesRead).toBeLessThan(1024 * 1024);
  });
});

describe('valid tricky files', () => {
  it.each(trickyValidCsvs().map((c) => [c.name, c] as const))('accepts %s', async (_name, c) => {
    const result = await validateCsvBytes(c.bytes);
    if (!result.ok) throw new Error(result.rejection.message);
    expect(result.profile.rows).toBe(c.rows);
    expect(result.profile.labelCounts).toEqual(c.labelCounts);
    expect(result.profile.bytes).toBe(c.bytes.length);
    expect(result.profile.sha256).toBe(createHash('sha256').update(c.bytes).digest('hex'));
    expect(withoutBytesRead(await fromDisk(c.bytes, c.name))).toEqual(result);
    // csv-parse, the reference parser, reads the same rows and labels.
    const records: Record<string, string>[] = parse(c.bytes, {
      bom: true,
      columns: (h: string[]) => h.map((x) => x.trim()),
      skip_empty_lines: true,
      relax_quotes: true,
    });
    expect(records.length).toBe(c.rows);
    const counts: Record<string, number> = {};
    for (const r of records) counts[r.label!.trim()] = (counts[r.label!.trim()] ?? 0) + 1;
    expect(counts).toEqual(c.labelCounts);
  });

  it('profiles text lengths in characters with an exact median', async () => {
    const csv =
      'text,label\n' +
      [
        'a',
        'bb',
        'ccc',
        'dddd',
        'ééééé',
        '😀😀😀😀😀😀',
        'g'.repeat(7),
        'h'.repeat(8),
        'i'.repeat(9),
        'j'.repeat(10),
      ]
        .map((t, i) => `${t},${i % 2 ? 'odd' : 'even'}`)
        .join('\n');
    const result = await validateCsvBytes(csv);
    if (!result.ok) throw new Error(result.rejection.message);
    expect(result.profile.textLength).toEqual({ min: 1, median: 5.5, max: 10 });
    expect(result.profile).toMatchObject({
      rows: 10,
      columns: ['text', 'label'],
      textColumn: 'text',
      labelColumn: 'label',
      hasBom: false,
    });
  });

  it('reads the columns named in the settings', async () => {
    const csv = rows(12, ['x', 'y'], 'review,stars');
    const result = await validateCsvBytes(csv, { textColumn: 'review', labelColumn: 'stars' });
    if (!result.ok) throw new Error(result.rejection.message);
    expect(result.profile.labelCounts).toEqual({ x: 6, y: 6 });
  });
});
