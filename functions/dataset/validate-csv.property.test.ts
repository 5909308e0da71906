import { Readable } from 'node:stream';
import { parse } from 'csv-parse/sync';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { REJECTION_CODES } from '../../shared/contracts/dataset.ts';
import { normaliseText } from '../../shared/text-key.ts';
import type { DatasetRejectionCode } from './rejection.ts';
import { type ValidationResult, validateCsv, validateCsvBytes } from './validate-csv.ts';

/**
 * Properties of the validator over random input: it never throws (only returns a rejection),
 * never hangs, gives the same verdict however the bytes are chunked, agrees with a model of the
 * data on files built from records, and keeps memory flat on a large stream.
 */

/** Any code the contract lists (shared/contracts/dataset.ts), so a new rule needs no edit here. */
const CODES: readonly DatasetRejectionCode[] = REJECTION_CODES;

/** Small limits so random inputs reach every rule. */
const LIMITS = {
  maxRecordBytes: 200,
  maxTextChars: 120,
  maxLabelBytes: 12,
  maxClasses: 6,
  minRows: 2,
  minExamplesPerClass: 1,
};

function chunked(bytes: Uint8Array, sizes: number[]): AsyncIterable<Buffer> {
  const chunks: Buffer[] = [];
  let at = 0;
  for (let i = 0; at < bytes.length; i++) {
    const n = Math.max(1, sizes[i % sizes.length] ?? 1);
    chunks.push(Buffer.from(bytes.subarray(at, at + n)));
    at += n;
  }
  return Readable.from(chunks);
}

function verdict(r: ValidationResult): unknown {
  return r.ok ? r.profile : r.rejection;
}

function expectWellFormed(r: ValidationResult): void {
  if (r.ok) return;
  expect(CODES).toContain(r.rejection.code);
  expect(r.rejection.message.length).toBeGreaterThan(20);
}

const VALID_CSV = Buffer.from('text,label\r\n"a, ""b""\nc",x\nplain,y\n"é😀",x\n,\n"q"z,y\nlast,x');
const SPECIAL = [0x22, 0x2c, 0x0a, 0x0d, 0x00, 0xff, 0xe2, 0x82, 0xef, 0xbb, 0xbf, 0x20];

describe('validateCsv on random input', () => {
  it('never throws on 10,000 random byte strings and is chunking-invariant', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 300 }),
        fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 5 }),
        async (bytes, sizes) => {
          const whole = await validateCsvBytes(Buffer.from(bytes), { limits: LIMITS });
          expectWellFormed(whole);
          const parts = await validateCsv(chunked(bytes, sizes), { limits: LIMITS });
          expect(verdict(parts)).toEqual(verdict(whole));
        },
      ),
      { numRuns: 10_000 },
    );
  });

  it('never throws on 10,000 mutated CSVs and is chunking-invariant', async () => {
    const mutation = fc.record({
      at: fc.nat(),
      kind: fc.constantFrom('insert', 'delete', 'replace'),
      byte: fc.oneof(fc.constantFrom(...SPECIAL), fc.integer({ min: 0, max: 255 })),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.array(mutation, { minLength: 1, maxLength: 6 }),
        fc.array(fc.integer({ min: 1, max: 16 }), { minLength: 1, maxLength: 4 }),
        async (mutations, sizes) => {
          const bytes = [...VALID_CSV];
          for (const m of mutations) {
            const at = m.at % (bytes.length + 1);
            if (m.kind === 'insert') bytes.splice(at, 0, m.byte);
            else if (m.kind === 'delete') bytes.splice(at, 1);
            else bytes[Math.min(at, bytes.length - 1)] = m.byte;
          }
          const input = Uint8Array.from(bytes);
          const whole = await validateCsvBytes(Buffer.from(input), { limits: LIMITS });
          expectWellFormed(whole);
          expect(verdict(await validateCsv(chunked(input, sizes), { limits: LIMITS }))).toEqual(
            verdict(whole),
          );
        },
      ),
      { numRuns: 10_000 },
    );
  });
});

/** Characters that stress quoting, line ends and UTF-8 widths. */
const CHARS = ['a', 'b', ' ', ',', '"', '\n', '\r', '\r\n', 'é', '日', '😀', '\t', "'"];
const cell = fc.array(fc.constantFrom(...CHARS), { maxLength: 12 }).map((a) => a.join(''));

function quote(s: string): string {
  return /[",\r\n]/.test(s) || s.startsWith(' ') ? `"${s.replaceAll('"', '""')}"` : s;
}

describe('validateCsv against a model of the data', () => {
  it('profiles files serialized from random records exactly (and csv-parse agrees)', async () => {
    const record = fc.record({
      text: cell,
      label: fc.constantFrom('pos', 'neg', ' pos ', 'ünï', '"q"', 'a,b'),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.array(record, { minLength: 1, maxLength: 30 }),
        fc.constantFrom('\n', '\r\n'),
        fc.boolean(),
        async (records, eol, bom) => {
          const csv = `${bom ? '\ufeff' : ''}text,label${eol}${records.map((r) => `${quote(r.text)},${quote(r.label)}`).join(eol)}${eol}`;
          const result = await validateCsvBytes(csv, {
            limits: { minRows: 1, minExamplesPerClass: 1 },
            maxConflictShare: 1,
          });
          const blankText = records.findIndex((r) => !/[^\t\n\r ]/.test(r.text));
          const labels = new Set(records.map((r) => r.label.trim()));
          if (blankText >= 0) {
            expect(result.ok ? 'ok' : result.rejection.code).toBe('empty_text');
            if (!result.ok) expect(result.rejection.details.row).toBe(blankText + 1);
            return;
          }
          if (labels.size < 2) {
            expect(result.ok ? 'ok' : result.rejection.code).toBe('too_few_classes');
            return;
          }
          if (!result.ok) throw new Error(result.rejection.message);
          const counts: Record<string, number> = {};
          for (const r of records) counts[r.label.trim()] = (counts[r.label.trim()] ?? 0) + 1;
          const lengths = records.map((r) => [...r.text].length).sort((a, b) => a - b);
          const mid =
            (lengths[Math.floor((lengths.length - 1) / 2)]! + lengths[Math.floor(lengths.length / 2)]!) / 2;
          expect(result.profile.rows).toBe(records.length);
          expect(result.profile.labelCounts).toEqual(counts);
          expect(result.profile.textLength).toEqual({ min: lengths[0], median: mid, max: lengths.at(-1) });
          expect(result.profile.hasBom).toBe(bom);
          // Duplicates and conflicts by the shared normalisation, against the first occurrence.
          const first = new Map<string, string>();
          let duplicates = 0;
          let conflicts = 0;
          for (const r of records) {
            const key = normaliseText(r.text);
            const label = first.get(key);
            if (label === undefined) first.set(key, r.label.trim());
            else if (label === r.label.trim()) duplicates++;
            else conflicts++;
          }
          expect([result.profile.duplicates, result.profile.conflicts]).toEqual([duplicates, conflicts]);
          const parsed: string[][] = parse(csv, { bom: true, skip_empty_lines: true });
          expect(parsed.length - 1).toBe(records.length);
        },
      ),
      { numRuns: 2_000 },
    );
  });
});

describe('validateCsv memory', () => {
  it('stays flat while streaming 150 MB', async () => {
    const row = Buffer.from('a fairly ordinary sentence about a product,pos\n"another, with a comma",neg\n');
    const block = Buffer.concat(Array.from({ length: Math.ceil(65_536 / row.length) }, () => row));
    const total = 150 * 1024 * 1024;
    let sent = 0;
    let peak = 0;
    const source = new Readable({
      read() {
        peak = Math.max(peak, process.memoryUsage().rss);
        if (sent === 0) this.push('text,label\n');
        if (sent >= total) {
          this.push(null);
          return;
        }
        sent += block.length;
        this.push(block);
      },
    });
    const before = process.memoryUsage().rss;
    const result = await validateCsv(source);
    if (!result.ok) throw new Error(result.rejection.message);
    expect(result.profile.bytes).toBeGreaterThan(total);
    expect(peak - before).toBeLessThan(100 * 1024 * 1024);
  });
});
