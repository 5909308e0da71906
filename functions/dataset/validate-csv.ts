import { createHash } from 'node:crypto';
import type { DatasetProfile } from '../../shared/contracts/dataset.ts';
import { DEFAULT_MODEL_SETTINGS } from '../../shared/contracts/model-settings.ts';
import type { Task } from '../../shared/contracts/task.ts';
import { CsvScanner, type ScannedColumns } from './csv-scanner.ts';
import { LengthHistogram } from './length-histogram.ts';
import { DEFAULT_LIMITS, type ValidationLimits } from './limits.ts';
import { LongTexts } from './long-texts.ts';
import { type DatasetRejection, RejectionSignal, reject, where } from './rejection.ts';
import { RowChecks } from './row-checks.ts';
import { DEFAULT_COLUMN_NAMES, resolveColumns, type TaskColumnNames } from './task-columns.ts';
import { TaskTargets } from './task-targets.ts';
import { Utf8Checker } from './utf8-check.ts';

/**
 * Streaming validation and profile of a dataset CSV: one pass, bounded memory, before anything
 * that costs money. A bad file gives a `DatasetRejection` value (never a throw); only a failing
 * source stream (I/O, network) throws, so the caller can tell transient from permanent.
 */

/** Stored with the dataset and on the run; the shape is a contract (shared/contracts/dataset.ts). */
export type { DatasetProfile };

export type ValidationResult =
  | { ok: true; profile: DatasetProfile }
  | { ok: false; rejection: DatasetRejection; bytesRead: number };

/** droptune.json's fields of the same names (shared/contracts/model-settings.ts); unset: their defaults. */
export interface ValidateOptions extends Partial<TaskColumnNames> {
  /** The task chosen in droptune.json or by `submit --task`; unset: detected. */
  task?: Task;
  /** `multilabel`: the character between classes in a cell (default `|`). */
  labelDelimiter?: string;
  /** Tokens per example: texts that cannot fit are counted in the profile's `longTexts` (default 128). */
  maxLength?: number;
  /** droptune.json `longText` (default `truncate`): `chunk` reads long texts whole, so the profile does not suggest it. */
  longText?: 'truncate' | 'chunk';
  /** The column holding train / validation / test, when the file has it (default `split`). */
  splitColumn?: string;
  /** Most conflicting rows accepted, as a share of all rows (droptune.json `maxConflictShare`, default 0.01). */
  maxConflictShare?: number;
  limits?: Partial<ValidationLimits>;
}

export const DEFAULT_MAX_CONFLICT_SHARE = 0.01;

type Chunk = Buffer | Uint8Array | string;

/** Validates and profiles a CSV read from `source` (a Readable or any async iterable of bytes). */
export async function validateCsv(
  source: AsyncIterable<Chunk>,
  options: ValidateOptions = {},
): Promise<ValidationResult> {
  const run = new Validation(options);
  try {
    for await (const raw of source) run.push(toBuffer(raw));
    return { ok: true, profile: run.finish() };
  } catch (err) {
    if (err instanceof RejectionSignal) return { ok: false, rejection: err.rejection, bytesRead: run.bytes };
    throw err;
  }
}

/** Convenience for tests and small inputs: validates bytes already in memory. */
export function validateCsvBytes(bytes: Chunk, options: ValidateOptions = {}): Promise<ValidationResult> {
  return validateCsv(oneChunk(toBuffer(bytes)), options);
}

function toBuffer(raw: Chunk): Buffer {
  if (typeof raw === 'string') return Buffer.from(raw, 'utf8');
  return Buffer.isBuffer(raw) ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
}

const BOM = [0xef, 0xbb, 0xbf];
/** The first chunk is at least this long (unless the file is shorter), so binary sniffing never depends on chunking. */
const SNIFF_BYTES = 8192;

class Validation {
  readonly limits: ValidationLimits;
  readonly names: TaskColumnNames;
  bytes = 0;
  private readonly hash = createHash('sha256');
  private readonly utf8 = new Utf8Checker();
  private readonly scanner: CsvScanner;
  private readonly lengths: LengthHistogram;
  private readonly checks: RowChecks;
  private readonly longTexts: LongTexts;
  /** Set by the header: the target column's checks, per task. */
  private targets: TaskTargets | undefined;
  private textColumn = '';
  private targetColumn = '';
  private pairColumn: string | undefined;
  private readonly splitColumn: string;
  private columns: string[] = [];
  /** The first bytes, held until we can sniff the BOM, UTF-16 and binary data (SNIFF_BYTES or the end). */
  private head: Buffer[] | undefined = [];
  private headLength = 0;
  private hasBom = false;
  /** The file's first 64 bytes, to tell UTF-16 from other binary data. */
  private fileHead = Buffer.alloc(0);
  /** Last bytes of the previous chunk: an invalid sequence may start there. */
  private previousTail = Buffer.alloc(0);

  constructor(private readonly options: ValidateOptions) {
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.names = { ...DEFAULT_COLUMN_NAMES, ...definedOnly(options) };
    this.longTexts = new LongTexts(options.maxLength ?? DEFAULT_MODEL_SETTINGS.maxLength, options.longText);
    this.lengths = new LengthHistogram(this.limits.maxTextChars);
    this.splitColumn = options.splitColumn ?? 'split';
    this.checks = new RowChecks(options.maxConflictShare ?? DEFAULT_MAX_CONFLICT_SHARE, this.splitColumn);
    this.scanner = new CsvScanner(this.limits, {
      onHeader: (names, line) => this.onHeader(names, line),
      onRow: (textChars, label, row, line, text, split, pair) => {
        this.lengths.add(textChars);
        this.longTexts.add(text, textChars, pair);
        const target = this.targets!.add(label, row, line);
        const bad = this.checks.add(text, target, row, line, split, pair);
        if (bad) reject(bad.code, bad.message, bad.details);
      },
    });
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    if (this.head) {
      this.head.push(chunk);
      this.headLength += chunk.length;
      if (this.headLength < SNIFF_BYTES) return;
      chunk = Buffer.concat(this.head);
      this.head = undefined;
      this.sniff(chunk);
    }
    this.consume(chunk);
  }

  finish(): DatasetProfile {
    if (this.head) {
      const chunk = Buffer.concat(this.head);
      this.head = undefined;
      this.sniff(chunk);
      this.consume(chunk);
    }
    const bad = this.utf8.finish();
    if (bad >= 0) this.rejectEncoding(bad, Buffer.alloc(0), this.bytes, true);
    this.scanner.finish(this.bytes);
    return this.profile();
  }

  /** BOM handling and UTF-16 detection on the first bytes. */
  private sniff(first: Buffer): void {
    if (first[0] === BOM[0] && first[1] === BOM[1] && first[2] === BOM[2]) this.hasBom = true;
    const le = first[0] === 0xff && first[1] === 0xfe;
    const be = first[0] === 0xfe && first[1] === 0xff;
    if (le || be) {
      reject(
        'not_utf8',
        `byte offset 0: the file starts with a UTF-16 ${le ? 'little' : 'big'}-endian byte-order mark (0x${first[0]!.toString(16)} 0x${first[1]!.toString(16)}), so it is UTF-16, not UTF-8. ` +
          'Save it as "CSV UTF-8" (Excel: File > Save As > CSV UTF-8) or convert it: iconv -f UTF-16 -t UTF-8 in.csv > out.csv.',
        { byteOffset: 0, encoding: le ? 'utf-16le' : 'utf-16be' },
      );
    }
  }

  private consume(chunk: Buffer): void {
    const base = this.bytes;
    if (base < 64) this.fileHead = Buffer.concat([this.fileHead, chunk.subarray(0, 64 - base)]);
    this.bytes += chunk.length;
    this.hash.update(chunk);
    if (this.bytes > this.limits.maxFileBytes) {
      reject(
        'file_too_large',
        `the file is larger than ${formatBytes(this.limits.maxFileBytes)} (the limit). Split it, or sample it down to fewer rows.`,
        { byteOffset: this.limits.maxFileBytes, limit: this.limits.maxFileBytes },
      );
    }
    const badUtf8 = this.utf8.check(chunk);
    const nul = chunk.indexOf(0);
    const nulOffset = nul >= 0 ? base + nul : -1;
    let problem = firstOf(badUtf8, nulOffset);
    // A NUL near the start means a binary file: say that, not the UTF-8 error it also causes.
    if (problem >= 0 && nulOffset >= 0 && nulOffset < SNIFF_BYTES) problem = nulOffset;
    if (problem >= 0 && problem === nulOffset) this.rejectBinary(nulOffset);
    const skip = base === 0 && this.hasBom ? 3 : 0;
    const end = problem >= 0 ? Math.max(0, problem - base) : chunk.length;
    if (end > skip) this.scanner.push(chunk.subarray(skip, end), base + skip);
    if (problem < 0) {
      this.previousTail = Buffer.from(chunk.subarray(Math.max(0, chunk.length - 4)));
      return;
    }
    this.rejectEncoding(problem, chunk, base);
  }

  private onHeader(names: string[], line: number): ScannedColumns {
    this.columns = names;
    const seen = new Map<string, number>();
    names.forEach((name, i) => {
      if (name === '') return;
      const first = seen.get(name);
      if (first !== undefined) {
        reject(
          'duplicate_column',
          `${where({ row: 0, line })}: column "${name}" appears twice (columns ${first + 1} and ${i + 1}). Give every column a different name.`,
          { row: 0, line, column: name },
        );
      }
      seen.set(name, i);
    });
    const chosen = resolveColumns(names, line, this.names, this.options.task);
    this.textColumn = this.names.textColumn;
    this.targetColumn = chosen.targetColumn;
    this.pairColumn = chosen.pairIndex >= 0 ? this.names.textPairColumn : undefined;
    this.targets = new TaskTargets({
      limits: this.limits,
      column: chosen.targetColumn,
      task: chosen.task,
      reason: chosen.reason,
      labelDelimiter: this.options.labelDelimiter ?? DEFAULT_MODEL_SETTINGS.labelDelimiter,
    });
    return {
      textIndex: chosen.textIndex,
      labelIndex: chosen.targetIndex,
      splitIndex: names.indexOf(this.splitColumn),
      pairIndex: chosen.pairIndex,
      labelBytes: chosen.task === 'multilabel' ? this.limits.maxLabelSetBytes : this.limits.maxLabelBytes,
    };
  }

  private profile(): DatasetProfile {
    const rows = this.scanner.row;
    if (!this.scanner.sawHeader) {
      reject(
        'empty_file',
        'the file is empty: it has no header and no rows. Upload a CSV whose first line names the columns (text,label).',
        {},
      );
    }
    if (rows < this.limits.minRows) {
      reject(
        'too_few_rows',
        `the file has ${rows === 0 ? 'a header but no data rows' : `only ${rows} data row${rows === 1 ? '' : 's'}`}; at least ${this.limits.minRows} are needed to train and validate. Add more labelled rows.`,
        { rows, limit: this.limits.minRows },
      );
    }
    const target = this.targets!.finish();
    const counts = Object.entries(target.labelCounts);
    const checked = this.checks.finish(rows, counts, target.task);
    if ('rejection' in checked)
      reject(checked.rejection.code, checked.rejection.message, checked.rejection.details);
    const { report } = checked;
    return {
      rows,
      bytes: this.bytes,
      sha256: this.hash.digest('hex'),
      columns: this.columns,
      task: target.task,
      taskReason: target.taskReason,
      textColumn: this.textColumn,
      ...(this.pairColumn !== undefined ? { textPairColumn: this.pairColumn } : {}),
      labelColumn: this.targetColumn,
      labelCounts: target.labelCounts,
      ...(target.target ? { target: target.target } : {}),
      ...(target.labelsPerRow ? { labelsPerRow: target.labelsPerRow } : {}),
      longTexts: this.longTexts.summary(),
      textLength: this.lengths.summary(),
      hasBom: this.hasBom,
      duplicates: report.duplicates,
      conflicts: report.conflicts,
      conflictExamples: report.conflictExamples,
      ...(report.splitCounts ? { splitCounts: report.splitCounts } : {}),
      warnings: [...target.warnings, ...report.warnings, ...this.longTexts.warnings()],
    };
  }

  private rejectBinary(offset: number): never {
    const utf16 = looksLikeUtf16(this.fileHead);
    return reject(
      'binary_content',
      `byte offset ${offset}: the file contains a NUL byte, so it is ${utf16 ? 'UTF-16 text without a byte-order mark' : 'binary data'}, not a UTF-8 CSV. ` +
        (utf16
          ? 'Save it as "CSV UTF-8" or convert it: iconv -f UTF-16 -t UTF-8 in.csv > out.csv.'
          : 'Upload the CSV itself (not a spreadsheet, archive or compressed file), saved as UTF-8.'),
      { byteOffset: offset },
    );
  }

  private rejectEncoding(offset: number, chunk: Buffer, base: number, atEnd = false): never {
    const at = offset - base;
    // One byte: what follows may sit in a chunk not read yet, and the message must not depend on chunking.
    const sample =
      at >= 0
        ? chunk.subarray(at, at + 1)
        : this.previousTail.subarray(this.previousTail.length + at, this.previousTail.length + at + 1);
    const row = this.scanner.sawHeader ? this.scanner.row + 1 : 0;
    return reject(
      'not_utf8',
      `byte offset ${offset} (${where({ row, line: this.scanner.line })}): ${atEnd ? 'the file ends inside a multi-byte character, which is' : `the byte ${hex(sample)} starts a sequence that is`} not valid UTF-8. ` +
        'The file is probably Latin-1 or Windows-1252 (common in Excel exports); save it as "CSV UTF-8" or convert it: iconv -f WINDOWS-1252 -t UTF-8 in.csv > out.csv.',
      { byteOffset: offset, row, line: this.scanner.line, bytes: hex(sample) },
    );
  }
}

function firstOf(a: number, b: number): number {
  if (a < 0) return b;
  if (b < 0) return a;
  return Math.min(a, b);
}

function hex(bytes: Uint8Array): string {
  return [...bytes].map((b) => `0x${b.toString(16).padStart(2, '0')}`).join(' ');
}

/** Many NULs at odd or even positions: ASCII text encoded as UTF-16. */
function looksLikeUtf16(head: Buffer): boolean {
  let even = 0;
  let odd = 0;
  for (let i = 0; i < head.length; i++) if (head[i] === 0) i % 2 === 0 ? even++ : odd++;
  return head.length >= 8 && Math.max(even, odd) >= head.length / 4 && Math.min(even, odd) === 0;
}

export function formatBytes(n: number): string {
  if (n >= 1024 ** 3) return `${+(n / 1024 ** 3).toFixed(2)} GiB`;
  if (n >= 1024 ** 2) return `${+(n / 1024 ** 2).toFixed(2)} MiB`;
  if (n >= 1024) return `${+(n / 1024).toFixed(2)} KiB`;
  return `${n} bytes`;
}

/** The options actually given (an explicit `undefined` keeps the default). */
function definedOnly(options: ValidateOptions): Partial<TaskColumnNames> {
  const out: Partial<TaskColumnNames> = {};
  for (const key of Object.keys(DEFAULT_COLUMN_NAMES) as (keyof TaskColumnNames)[]) {
    const value = options[key];
    if (value !== undefined) out[key] = value;
  }
  return out;
}

async function* oneChunk(chunk: Buffer): AsyncGenerator<Buffer> {
  yield chunk;
}
