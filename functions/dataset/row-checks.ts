import type { LabelConflict } from '../../shared/contracts/dataset.ts';
import type { Task } from '../../shared/contracts/task.ts';
import { normaliseText } from '../../shared/text-key.ts';
import { type DatasetRejection, where } from './rejection.ts';

/**
 * Row checks that need the text itself, run by the validator before any VM:
 * - duplicates and label conflicts by the trainer's own text key (shared/text-key.ts): the same
 *   normalised text twice with one label collapses to one example; with two labels it is a
 *   conflict (both row numbers reported), rejected above `maxConflictShare` of the rows;
 * - a user `split` column: values `train` / `validation` / `test` only, and every class needs a
 *   training and a validation row;
 * - class imbalance: a warning with the numbers (the file is still accepted).
 *
 * "Same text" is the trainer's rule: equal after `normaliseText` (shared/text-key.ts, golden
 * vectors shared with Python). Memory: one Map entry per distinct text, keyed by a 52-bit hash of
 * the normalised text (a false "same text" needs two of ~1e6 texts to share 52 bits: about
 * 1e-4 % of files that size). Not the trainer's salted sha256: that costs ~10× the whole scan.
 */

export const SPLIT_VALUES = ['train', 'validation', 'test'] as const;
/** Largest class / smallest class at or above this ratio gets a warning. */
export const IMBALANCE_WARNING_RATIO = 10;
/** How many conflicts a rejection or profile lists (all are counted). */
const LISTED = 20;
/**
 * Packs (row, target id) into one number (rows < 2^31, exact in a double). Targets are interned
 * up to INTERNED ids (every class of a classification file: limits.maxClasses ≤ 1000); past that
 * (regression values, multi-label sets) the id is a hash, so two different targets share one with
 * odds of 1 in ~4 million: only duplicate counts can be off, never a conflict (those are counted
 * for classes only).
 */
const LABEL_BITS = 2 ** 22;
const INTERNED = 2048;

export type { LabelConflict };

export interface RowCheckReport {
  /** Rows whose normalised text and label repeat an earlier row (they collapse in training). */
  duplicates: number;
  /** Rows whose normalised text repeats an earlier row with another label. */
  conflicts: number;
  conflictExamples: LabelConflict[];
  /** Rows per split value when the file has a split column. */
  splitCounts?: Record<string, number>;
  warnings: string[];
}

export class RowChecks {
  private readonly seen = new Map<number, number>();
  private readonly labelIds = new Map<string, number>();
  private readonly labelNames: string[] = [];
  private duplicates = 0;
  private conflicts = 0;
  private readonly examples: LabelConflict[] = [];
  private readonly splitByLabel = new Map<string, Record<string, number>>();
  private splitTotals: Record<string, number> | undefined;

  constructor(
    private readonly maxConflictShare: number,
    private readonly splitColumn: string,
  ) {}

  /**
   * Returns a rejection for a bad split value, else undefined. `label` is the canonical target
   * (the class, the sorted class set, the number's text); `pair` the second text of a pair row,
   * part of what makes two rows the same.
   */
  add(
    text: string,
    label: string,
    row: number,
    line: number,
    split: string | undefined,
    pair?: string,
  ): DatasetRejection | undefined {
    const key =
      pair === undefined ? normalisedHash(text) : hash52(`${normalisedHash(text)}|${normalisedHash(pair)}`);
    const id = this.labelId(label);
    const earlier = this.seen.get(key);
    if (earlier === undefined) {
      this.seen.set(key, row * LABEL_BITS + id);
    } else if (earlier % LABEL_BITS === id) {
      this.duplicates++;
    } else {
      this.conflicts++;
      if (this.examples.length < LISTED) {
        const first = Math.floor(earlier / LABEL_BITS);
        this.examples.push({
          text: text.slice(0, 200),
          rows: [first, row],
          labels: [this.labelNames[earlier % LABEL_BITS]!, label],
        });
      }
    }
    return split === undefined ? undefined : this.addSplit(split, label, row, line);
  }

  private labelId(label: string): number {
    const id = this.labelIds.get(label);
    if (id !== undefined) return id;
    if (this.labelNames.length < INTERNED) {
      this.labelIds.set(label, this.labelNames.length);
      return this.labelNames.push(label) - 1;
    }
    return INTERNED + (hash52(label) % (LABEL_BITS - INTERNED));
  }

  private addSplit(raw: string, label: string, row: number, line: number): DatasetRejection | undefined {
    const value = raw.trim().toLowerCase();
    this.splitTotals ??= { train: 0, validation: 0, test: 0 };
    if (!(SPLIT_VALUES as readonly string[]).includes(value)) {
      return {
        code: 'invalid_split',
        message:
          `${where({ row, line, column: this.splitColumn })}: ${JSON.stringify(raw)} is not a split value; use train, validation or test. ` +
          `A "${this.splitColumn}" column tells training which rows to hold out; rename the column if it means something else.`,
        details: { row, line, column: this.splitColumn, value: raw },
      };
    }
    this.splitTotals[value] = (this.splitTotals[value] ?? 0) + 1;
    // Per class only for interned targets (the classes of a classification file): bounded memory.
    if (!this.labelIds.has(label)) return undefined;
    const counts = this.splitByLabel.get(label) ?? { train: 0, validation: 0, test: 0 };
    counts[value] = (counts[value] ?? 0) + 1;
    this.splitByLabel.set(label, counts);
    return undefined;
  }

  /**
   * The report, or the rejection the whole file earns (too many conflicts, a one-sided class).
   * Conflicts are a class question (classification, pair); for a class set or a number, a text
   * seen with another target is not counted (multi-label sets and scores legitimately vary).
   */
  finish(
    rows: number,
    labelCounts: [string, number][],
    task: Task,
  ): { report: RowCheckReport } | { rejection: DatasetRejection } {
    const perClass = task === 'classification' || task === 'pair';
    if (!perClass) {
      this.conflicts = 0;
      this.examples.length = 0;
    }
    if (this.conflicts > this.maxConflictShare * rows) return { rejection: this.conflictRejection(rows) };
    const split = this.splitRejection(perClass);
    if (split) return { rejection: split };
    const report: RowCheckReport = {
      duplicates: this.duplicates,
      conflicts: this.conflicts,
      conflictExamples: this.examples,
      warnings: imbalanceWarnings(labelCounts),
    };
    if (this.conflicts > 0) {
      report.warnings.push(
        `${this.conflicts} row${this.conflicts === 1 ? ' repeats' : 's repeat'} a text with another label (${describeConflicts(this.examples.slice(0, 3))}); training leaves those texts out.`,
      );
    }
    if (this.splitTotals) report.splitCounts = this.splitTotals;
    return { report };
  }

  private conflictRejection(rows: number): DatasetRejection {
    const share = `${this.conflicts} of ${rows} rows (${((100 * this.conflicts) / rows).toFixed(1)} %)`;
    return {
      code: 'label_conflicts',
      message:
        `${share} repeat a text with a different label, more than maxConflictShare ${this.maxConflictShare} allows: ${describeConflicts(this.examples.slice(0, 5))}. ` +
        'Give each text one label (texts count as the same ignoring case and spacing), or raise "maxConflictShare" in droptune.json.',
      details: { conflicts: this.conflicts, rows, limit: this.maxConflictShare, examples: this.examples },
    };
  }

  private splitRejection(perClass: boolean): DatasetRejection | undefined {
    const groups: [string, Record<string, number>][] = perClass
      ? [...this.splitByLabel.entries()]
      : this.splitTotals
        ? [['(all rows)', this.splitTotals]]
        : [];
    const oneSided = groups.filter(([, c]) => c.train === 0 || c.validation === 0);
    if (oneSided.length === 0) return undefined;
    const listed = oneSided
      .slice(0, 10)
      .map(([label, c]) => `${JSON.stringify(label)} (${c.train} train, ${c.validation} validation)`)
      .join(', ');
    return {
      code: 'invalid_split',
      message: `column "${this.splitColumn}": every label needs at least one train and one validation row; ${listed}. Move some rows, or remove the column to let droptune split.`,
      details: { column: this.splitColumn, labels: Object.fromEntries(oneSided.slice(0, 100)) },
    };
  }
}

/**
 * `hash52(normaliseText(text))` without building the normalised string for ASCII text (most
 * rows): for ASCII, NFC changes nothing, case folding is lower-casing A-Z and the whitespace set
 * is tab, LF, VT, FF, CR and space. Anything else takes the full path.
 */
export function normalisedHash(text: string): number {
  let a = 0x811c9dc5;
  let b = 0x01000193;
  let space = false;
  let started = false;
  for (let i = 0; i < text.length; i++) {
    let c = text.charCodeAt(i);
    if (c >= 0x80) return hash52(normaliseText(text));
    if (c === 32 || (c >= 9 && c <= 13)) {
      space = started;
      continue;
    }
    if (space) {
      a = Math.imul(a ^ 32, 16777619);
      b = Math.imul(b ^ 32, 0x5bd1e995) ^ (b >>> 15);
      space = false;
    }
    if (c >= 65 && c <= 90) c += 32;
    a = Math.imul(a ^ c, 16777619);
    b = Math.imul(b ^ c, 0x5bd1e995) ^ (b >>> 15);
    started = true;
  }
  return (a >>> 0) * 2 ** 20 + ((b >>> 0) & 0xfffff);
}

/** Two 32-bit FNV-1a variants over the UTF-16 code units, combined into 52 bits (exact in a double). */
export function hash52(s: string): number {
  let a = 0x811c9dc5;
  let b = 0x01000193;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    a = Math.imul(a ^ c, 16777619);
    b = Math.imul(b ^ c, 0x5bd1e995) ^ (b >>> 15);
  }
  return (a >>> 0) * 2 ** 20 + ((b >>> 0) & 0xfffff);
}

function describeConflicts(list: LabelConflict[]): string {
  return list
    .map(
      (c) =>
        `rows ${c.rows[0]} and ${c.rows[1]} (${JSON.stringify(c.text.slice(0, 40))}: ${JSON.stringify(c.labels[0])} vs ${JSON.stringify(c.labels[1])})`,
    )
    .join('; ');
}

function imbalanceWarnings(labelCounts: [string, number][]): string[] {
  if (labelCounts.length < 2) return [];
  const sorted = [...labelCounts].sort((a, b) => b[1] - a[1]);
  const [big, small] = [sorted[0]!, sorted[sorted.length - 1]!];
  if (big[1] < IMBALANCE_WARNING_RATIO * small[1]) return [];
  return [
    `classes are imbalanced: ${JSON.stringify(big[0])} has ${big[1]} rows, ${JSON.stringify(small[0])} ${small[1]} (${Math.round(big[1] / small[1])}:1). ` +
      'Add examples of the small classes, or set "classWeights": "balanced" in droptune.json.',
  ];
}
