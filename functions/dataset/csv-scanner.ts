import { isAscii } from 'node:buffer';
import { countCodePoints, KeptField } from './kept-field.ts';
import { FNV_SEED, LabelCache } from './label-cache.ts';
import type { ValidationLimits } from './limits.ts';
import { reject, where } from './rejection.ts';

/**
 * A byte-level RFC 4180 scanner that checks and profiles records as chunks stream through it.
 *
 * Why not csv-parse's stream here: it materialises every field as a string and every record as an
 * array, which tops out near 25-30 MB/s on our machines (see bench/validate.bench.ts, which runs
 * it as the baseline). Validation needs none of that: we count fields, count the text's
 * characters, and decode only the label. The scanner keeps no more than one header or one label
 * in memory, so memory is bounded whatever the file size. Its parse agrees with csv-parse's
 * (checked by a differential property test in `validate-csv.property.test.ts`).
 *
 * Dialect: `,` delimiter, `"` quotes with `""` escapes, records end at LF, CRLF or a lone CR,
 * quoted fields may hold newlines, blank lines are skipped, a `"` inside an unquoted field is
 * literal (as csv-parse's `relax_quotes`), a quoted field followed by anything but a delimiter
 * is rejected.
 */

const QUOTE = 0x22;
const COMMA = 0x2c;
const LF = 0x0a;
const CR = 0x0d;

const FIELD_START = 0;
const UNQUOTED = 1;
const IN_QUOTES = 2;
const AFTER_QUOTE = 3;

const ROLE_OTHER = 0;
const ROLE_TEXT = 1;
const ROLE_LABEL = 2;
const ROLE_HEADER = 3;
const ROLE_SPLIT = 4;
/** `pair`: the second text, kept and checked like the text. */
const ROLE_PAIR = 5;
/** A split value longer than this is invalid anyway; only its first bytes are kept. */
const MAX_SPLIT_BYTES = 32;

/** What the scanner reports: the header once, then every data row that passed the row checks. */
export interface ScannerSink {
  /**
   * Returns the indexes of the text and label columns (the sink checks required columns) and of
   * the split column (-1 or absent: none).
   */
  onHeader(names: string[], line: number): ScannedColumns;
  /**
   * `text` is the row's text (at most one record, so memory stays bounded); `split` its split
   * value; `pair` the second text (`pairIndex` set). `label` may be empty: what an empty target
   * means depends on the task, so the sink rejects it.
   */
  onRow(
    textChars: number,
    label: string,
    row: number,
    line: number,
    text: string,
    split: string | undefined,
    pair: string | undefined,
  ): void;
}

/** The columns a sink asks the scanner to read (-1 or absent: none). */
export interface ScannedColumns {
  textIndex: number;
  /** The target: the label, the class set (multilabel) or the number (regression). */
  labelIndex: number;
  splitIndex?: number;
  pairIndex?: number;
  /** Most bytes the target may hold (default `maxLabelBytes`; a multi-label cell holds several classes). */
  labelBytes?: number;
}

export class CsvScanner {
  private state = FIELD_START;
  private role = ROLE_HEADER;
  private fieldIndex = 0;
  private fieldQuoted = false;
  private crPending = false;
  private asciiBuffer = false;
  /** 1-based physical line of the next byte. */
  line = 1;
  /** Line on which the current record began. */
  private recordLine = 1;
  /** Line on which the open quote of the current field was opened. */
  private quoteLine = 1;
  /** Data rows seen (the header is row 0). */
  row = 0;
  private headerDone = false;
  private columns: string[] = [];
  private textIndex = -1;
  private labelIndex = -1;
  private splitIndex = -1;
  private pairIndex = -1;
  private readonly pair = new KeptField();
  private labelLimit: number;
  /** The current record's text bytes (a record is at most maxRecordBytes). */
  private readonly text = new KeptField();
  private readonly splitBuf = Buffer.alloc(MAX_SPLIT_BYTES);
  private splitLen = 0;
  private textChars = 0;
  private readonly labelBuf: Buffer;
  private labelLen = 0;
  /** FNV-1a of the label bytes so far (seeded per record). */
  private labelHash = FNV_SEED;
  private readonly labels: LabelCache;
  private readonly header = new KeptField();
  private headerFields: string[] = [];
  /** File offset where the current record began. */
  private recordStart = 0;

  constructor(
    private readonly limits: ValidationLimits,
    private readonly sink: ScannerSink,
  ) {
    this.labelBuf = Buffer.alloc(Math.max(limits.maxLabelBytes, limits.maxLabelSetBytes));
    this.labelLimit = limits.maxLabelBytes;
    this.labels = new LabelCache(limits.maxClasses * 4);
  }

  /** True while no record has started (used to tell an empty file from a header-only one). */
  get sawHeader(): boolean {
    return this.headerDone;
  }

  /**
   * Scans `buf`, whose first byte sits at file offset `base`. Runs of field content are skipped
   * with `indexOf` (memchr) rather than byte by byte; each delimiter position is looked up once
   * per buffer (cached in `next`), so a buffer costs O(length) whatever its shape.
   */
  push(buf: Buffer, base: number): void {
    const end = buf.length;
    // One vectorised check per buffer: all-ASCII buffers (most English text) count characters as bytes.
    this.asciiBuffer = isAscii(buf);
    const next = [-1, -1, -1, -1]; // next comma, LF, CR, quote at or after the last lookup
    const find = (slot: number, byte: number, from: number): number => {
      let at = next[slot]!;
      if (at < from) {
        at = buf.indexOf(byte, from);
        if (at < 0) at = end;
        next[slot] = at;
      }
      return at;
    };
    let i = 0;
    while (i < end) {
      if (this.state === IN_QUOTES) {
        const stop = find(3, QUOTE, i);
        this.countLines(find, i, stop);
        if (stop > i) this.content(buf, i, stop, base);
        if (stop >= end) break;
        this.state = AFTER_QUOTE;
        i = stop + 1;
        continue;
      }
      const b = buf[i]!;
      if (b === LF && this.crPending) {
        this.crPending = false;
        this.recordStart = base + i + 1;
        i++;
        continue;
      }
      this.crPending = false;
      if (b === COMMA) {
        this.endField();
        this.state = FIELD_START;
        i++;
        continue;
      }
      if (b === LF || b === CR) {
        this.endRecord(base + i);
        this.line++;
        this.recordLine = this.line;
        this.recordStart = base + i + 1;
        this.state = FIELD_START;
        this.crPending = b === CR;
        i++;
        continue;
      }
      if (this.state === AFTER_QUOTE) {
        if (b !== QUOTE) {
          const loc = { row: this.row + 1, line: this.line, column: this.columnName() };
          reject(
            'invalid_quote',
            `${where(loc)}: a quoted field is closed and then followed by ${JSON.stringify(String.fromCharCode(b))}. ` +
              'Inside a quoted field write a quote as two quotes (""), and put nothing between the closing quote and the next comma.',
            { ...loc, byteOffset: base + i },
          );
        }
        // `""` inside a quoted field is one literal quote.
        this.content(buf, i, i + 1, base);
        this.state = IN_QUOTES;
        i++;
        continue;
      }
      if (this.state === FIELD_START && b === QUOTE) {
        this.state = IN_QUOTES;
        this.fieldQuoted = true;
        this.quoteLine = this.line;
        i++;
        continue;
      }
      // An unquoted run: up to the next comma or line end (a quote in it is literal).
      this.state = UNQUOTED;
      const stop = Math.min(find(0, COMMA, i), find(1, LF, i), find(2, CR, i));
      this.content(buf, i, stop, base);
      i = stop;
    }
    if (this.textChars > this.limits.maxTextChars) this.rejectLongText(this.row + 1);
    this.checkRecordSize(base + end);
  }

  /** Counts the line feeds inside a quoted run `[from, stop)`. */
  private countLines(
    find: (slot: number, byte: number, from: number) => number,
    from: number,
    stop: number,
  ): void {
    for (let at = find(1, LF, from); at < stop; at = find(1, LF, at + 1)) this.line++;
  }

  /** Field content `buf[from, stop)`: what we keep depends on the column's role. */
  private content(buf: Buffer, from: number, stop: number, base: number): void {
    const role = this.role;
    if (role === ROLE_TEXT) {
      // Whole buffer ASCII: characters are bytes. Otherwise ask per run (native, vectorised) and
      // count continuation bytes only in runs that hold non-ASCII text.
      this.textChars +=
        this.asciiBuffer || isAscii(buf.subarray(from, stop))
          ? stop - from
          : countCodePoints(buf, from, stop);
      this.text.append(buf, from, stop);
    } else if (role === ROLE_LABEL) {
      // Labels are short: a byte loop beats Buffer#copy, and hashes the label on the way.
      if (this.labelLen + (stop - from) > this.labelLimit)
        this.rejectLongLabel(base + from + this.labelLimit - this.labelLen);
      const labelBuf = this.labelBuf;
      let len = this.labelLen;
      let hash = this.labelHash;
      for (let k = from; k < stop; k++) {
        const b = buf[k]!;
        labelBuf[len++] = b;
        hash = Math.imul(hash ^ b, 16777619);
      }
      this.labelLen = len;
      this.labelHash = hash;
    } else if (role === ROLE_HEADER) {
      this.header.append(buf, from, stop);
    } else if (role === ROLE_PAIR) {
      this.pair.append(buf, from, stop);
    } else if (role === ROLE_SPLIT) {
      const n = Math.min(stop - from, MAX_SPLIT_BYTES - this.splitLen);
      if (n > 0) this.splitLen += buf.copy(this.splitBuf, this.splitLen, from, from + n);
    }
  }

  /** At the end of input: closes the last record (no trailing newline needed) or rejects an open quote. */
  finish(fileSize: number): void {
    if (this.state === IN_QUOTES) {
      const column = this.columnName();
      reject(
        'unclosed_quote',
        `${where({ row: this.headerDone ? this.row + 1 : 0, line: this.quoteLine, column })}: a quoted field opens on line ${this.quoteLine} and is never closed before the end of the file. ` +
          'Close the quote, or write quotes inside a quoted field as two quotes ("").',
        { row: this.headerDone ? this.row + 1 : 0, line: this.quoteLine, column },
      );
    }
    this.endRecord(fileSize);
  }

  private columnName(): string | undefined {
    return this.headerDone ? (this.columns[this.fieldIndex] ?? `#${this.fieldIndex + 1}`) : undefined;
  }

  private endField(): void {
    if (!this.headerDone) {
      this.headerFields.push(this.header.toString());
      this.header.reset();
    }
    this.fieldIndex++;
    this.fieldQuoted = false;
    this.role = this.roleOf(this.fieldIndex);
  }

  private roleOf(index: number): number {
    if (!this.headerDone) return ROLE_HEADER;
    if (index === this.textIndex) return ROLE_TEXT;
    if (index === this.labelIndex) return ROLE_LABEL;
    if (index === this.splitIndex) return ROLE_SPLIT;
    if (index === this.pairIndex) return ROLE_PAIR;
    return ROLE_OTHER;
  }

  private endRecord(offset: number): void {
    const blank = this.fieldIndex === 0 && this.state === FIELD_START && !this.fieldQuoted;
    if (!blank) {
      // The most specific limit first, so whole-buffer and chunked reads give the same verdict.
      if (this.headerDone && this.textChars > this.limits.maxTextChars) this.rejectLongText(this.row + 1);
      this.checkRecordSize(offset);
      if (!this.headerDone) this.finishHeader();
      else this.finishRow();
    }
    this.fieldIndex = 0;
    this.fieldQuoted = false;
    this.textChars = 0;
    this.labelLen = 0;
    this.labelHash = FNV_SEED;
    this.text.reset();
    this.splitLen = 0;
    this.pair.reset();
    this.role = this.roleOf(0);
  }

  private finishHeader(): void {
    this.headerFields.push(this.header.toString());
    this.header.reset();
    this.columns = this.headerFields.map((name) => name.trim());
    this.headerFields = [];
    const chosen = this.sink.onHeader(this.columns, this.recordLine);
    this.textIndex = chosen.textIndex;
    this.labelIndex = chosen.labelIndex;
    this.splitIndex = chosen.splitIndex ?? -1;
    this.pairIndex = chosen.pairIndex ?? -1;
    this.labelLimit = Math.min(this.labelBuf.length, chosen.labelBytes ?? this.limits.maxLabelBytes);
    this.headerDone = true;
  }

  private finishRow(): void {
    this.row++;
    const row = this.row;
    const line = this.recordLine;
    const fields = this.fieldIndex + 1;
    if (fields !== this.columns.length) {
      reject(
        'ragged_row',
        `${where({ row, line })}: has ${fields} field${fields === 1 ? '' : 's'} but the header has ${this.columns.length} (${this.columns.join(', ')}). ` +
          'Quote any field that contains a comma, and give every row the same number of columns.',
        { row, line, fields, expected: this.columns.length },
      );
    }
    const textColumn = this.columns[this.textIndex]!;
    if (!this.text.nonBlank) {
      reject(
        'empty_text',
        `${where({ row, line, column: textColumn })}: the text is empty. Every row needs a text to learn from: fill it in or delete the row.`,
        { row, line, column: textColumn },
      );
    }
    if (this.textChars > this.limits.maxTextChars) this.rejectLongText(row);
    const pair = this.pairIndex >= 0 ? this.finishPair(row, line) : undefined;
    const label = this.labels.decode(this.labelBuf, this.labelLen, this.labelHash);
    const text = this.text.toString();
    const split = this.splitIndex >= 0 ? this.splitBuf.toString('utf8', 0, this.splitLen) : undefined;
    this.sink.onRow(this.textChars, label, row, line, text, split, pair);
  }

  /** The second text of a `pair` row: non-empty and within the text limit, like the first. */
  private finishPair(row: number, line: number): string {
    const column = this.columns[this.pairIndex]!;
    if (!this.pair.nonBlank) {
      reject(
        'empty_text',
        `${where({ row, line, column })}: the second text is empty. A pair model reads both texts of every row: fill it in or delete the row.`,
        { row, line, column },
      );
    }
    const pair = this.pair.toString();
    if ([...pair].length > this.limits.maxTextChars) this.rejectLongText(row, column);
    return pair;
  }

  private checkRecordSize(offset: number): void {
    const size = offset - this.recordStart;
    if (size <= this.limits.maxRecordBytes) return;
    const row = this.headerDone ? this.row + 1 : 0;
    reject(
      'record_too_large',
      `${where({ row, line: this.recordLine })}: the ${row === 0 ? 'header' : 'record'} is larger than ${this.limits.maxRecordBytes} bytes (the most one record may hold). ` +
        'Check for a quote that is never closed, or shorten the row.',
      { row, line: this.recordLine, limit: this.limits.maxRecordBytes },
    );
  }

  private rejectLongText(row: number, column = this.columns[this.textIndex]): never {
    return reject(
      'text_too_long',
      `${where({ row, line: this.recordLine, column })}: the text is longer than ${this.limits.maxTextChars} characters (the limit). ` +
        (this.state === IN_QUOTES && this.line > this.quoteLine
          ? `The quoted field opened on line ${this.quoteLine} is still open: check for a quote that is never closed.`
          : 'Shorten it: models only read the first few hundred words anyway.'),
      { row, line: this.recordLine, column, limit: this.limits.maxTextChars },
    );
  }

  private rejectLongLabel(offset: number): never {
    const row = this.row + 1;
    const column = this.columns[this.labelIndex];
    return reject(
      'label_too_long',
      `${where({ row, line: this.recordLine, column })}: the label is longer than ${this.labelLimit} bytes. ` +
        'Labels are class names; check that the label column is the right one.',
      { row, line: this.recordLine, column, byteOffset: offset, limit: this.labelLimit },
    );
  }
}
