import { reject, where } from './rejection.ts';

/**
 * A regression target's values, streamed: a plain decimal number per row (`3`, `-0.5`, `1e3`),
 * finite; mean and spread by Welford's update (one pass, no stored values). Distinct values are
 * counted exactly up to DISTINCT_CAP (detection only needs to know "more than 10"), so memory is
 * bounded whatever the row count.
 */

const DECIMAL = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
/** Distinct values counted exactly up to this many; the profile's `distinct` is at least this beyond it. */
export const DISTINCT_CAP = 100_000;

/** The number a target cell holds, or undefined when it is not a plain decimal number (may be ±Infinity on overflow). */
export function parseTarget(value: string): number | undefined {
  return DECIMAL.test(value) ? Number(value) : undefined;
}

export interface TargetStats {
  min: number;
  max: number;
  mean: number;
  std: number;
  distinct: number;
}

export class NumericTarget {
  private n = 0;
  private mean = 0;
  private m2 = 0;
  private min = Number.POSITIVE_INFINITY;
  private max = Number.NEGATIVE_INFINITY;
  private readonly distinct = new Set<number>();

  constructor(private readonly column: string) {}

  /** Counts a value known to be a finite number. */
  add(value: number): void {
    this.n++;
    const delta = value - this.mean;
    this.mean += delta / this.n;
    this.m2 += delta * (value - this.mean);
    if (value < this.min) this.min = value;
    if (value > this.max) this.max = value;
    if (this.distinct.size < DISTINCT_CAP) this.distinct.add(value);
  }

  /** Parses and counts a cell, or rejects it (`invalid_target`) naming its row, line and column. */
  addCell(cell: string, row: number, line: number): void {
    const value = parseTarget(cell);
    if (value !== undefined && Number.isFinite(value)) {
      this.add(value);
      return;
    }
    const loc = { row, line, column: this.column };
    const what =
      cell === ''
        ? 'the target is empty'
        : value !== undefined || /^[+-]?(nan|inf(inity)?)$/i.test(cell)
          ? `${JSON.stringify(cell)} is not a finite number`
          : `${JSON.stringify(cell)} is not a number`;
    reject(
      'invalid_target',
      `${where(loc)}: ${what}. A regression target is a plain number such as 3 or 4.25 (a dot for decimals, no units): fix it or delete the row.`,
      { ...loc, value: cell },
    );
  }

  get distinctValues(): number {
    return this.distinct.size;
  }

  /** Population statistics of the values seen; rejects a target that never varies. */
  finish(): TargetStats {
    if (this.n > 0 && this.min === this.max) {
      reject(
        'constant_target',
        `column "${this.column}": every row has the value ${this.min}; a regression model needs values that vary. Add rows with other values, or check that "${this.column}" is the right column.`,
        { column: this.column, value: this.min },
      );
    }
    return {
      min: this.min,
      max: this.max,
      mean: this.mean,
      std: this.n > 0 ? Math.sqrt(this.m2 / this.n) : 0,
      distinct: this.distinct.size,
    };
  }
}
