import type { ValidationLimits } from './limits.ts';
import { reject, where } from './rejection.ts';

/**
 * Rows per class (classification, pair; multilabel counts a row once for each of its classes),
 * with the class rules: at most `maxClasses` classes, at least 2, each in at least
 * `minExamplesPerClass` rows.
 *
 * `deferOverflow`: while a file may still be regression (numeric labels, no task chosen), one
 * class too many is remembered instead of rejected and counting new classes stops (memory stays
 * bounded); `rejectOverflow` raises it once the file turns out to be classification after all.
 */
export class ClassCounts {
  private readonly counts = new Map<string, number>();
  private overflow: { label: string; row: number; line: number } | undefined;

  constructor(
    private readonly limits: ValidationLimits,
    private readonly column: string,
  ) {}

  add(label: string, row: number, line: number, deferOverflow = false): void {
    const count = this.counts.get(label);
    if (count !== undefined) {
      this.counts.set(label, count + 1);
      return;
    }
    if (this.counts.size >= this.limits.maxClasses) {
      this.overflow ??= { label, row, line };
      if (deferOverflow) return;
      this.rejectOverflow();
    }
    this.counts.set(label, 1);
  }

  /** Rejects `too_many_classes` at the first row over the limit, if there was one. */
  rejectOverflow(): void {
    if (this.overflow === undefined) return;
    const { label, row, line } = this.overflow;
    reject(
      'too_many_classes',
      `${where({ row, line, column: this.column })}: label ${JSON.stringify(label)} is distinct label number ${this.limits.maxClasses + 1}; at most ${this.limits.maxClasses} classes are supported. ` +
        'Check that the label column holds class names, not free text or ids.',
      { row, line, column: this.column, limit: this.limits.maxClasses },
    );
  }

  /** Counts sorted by label, after the class rules (what a class needs to be learned). */
  finish(): [string, number][] {
    this.rejectOverflow();
    const counts = [...this.counts.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    if (counts.length < 2) {
      reject(
        'too_few_classes',
        `column "${this.column}": every row has the label ${JSON.stringify(counts[0]?.[0] ?? '')}; a classifier needs at least 2 different labels. Add rows of other classes.`,
        { column: this.column, classes: counts.length },
      );
    }
    const small = counts.filter(([, n]) => n < this.limits.minExamplesPerClass);
    if (small.length > 0) {
      const listed = small
        .slice(0, 10)
        .map(([label, n]) => `${JSON.stringify(label)} (${n})`)
        .join(', ');
      reject(
        'class_too_small',
        `column "${this.column}": ${small.length} label${small.length === 1 ? ' has' : 's have'} fewer than ${this.limits.minExamplesPerClass} rows: ${listed}${small.length > 10 ? ', …' : ''}. ` +
          'Add examples of those classes, or remove their rows (a typo in a label makes a class of its own).',
        {
          column: this.column,
          classes: Object.fromEntries(small.slice(0, 100)),
          limit: this.limits.minExamplesPerClass,
        },
      );
    }
    return counts;
  }
}
