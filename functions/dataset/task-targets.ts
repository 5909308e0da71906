import type { DatasetProfile } from '../../shared/contracts/dataset.ts';
import { REGRESSION_MIN_DISTINCT_VALUES, type Task } from '../../shared/contracts/task.ts';
import { ClassCounts } from './class-counts.ts';
import type { ValidationLimits } from './limits.ts';
import { NumericTarget, parseTarget } from './numeric-target.ts';
import { reject, where } from './rejection.ts';

/**
 * The target column's values, per task: class names (classification, pair), class sets
 * (multilabel) or numbers (regression); and, when no task was chosen and no column said which,
 * the detection between classification and regression by the values themselves.
 */

export type TargetProfile = Pick<
  DatasetProfile,
  'task' | 'taskReason' | 'labelCounts' | 'target' | 'labelsPerRow' | 'warnings'
>;

export interface TargetOptions {
  limits: ValidationLimits;
  column: string;
  /** Undefined: classification or regression, by the values. */
  task: Task | undefined;
  reason: string;
  labelDelimiter: string;
}

export class TaskTargets {
  private readonly classes: ClassCounts;
  private readonly numbers: NumericTarget;
  /** Undecided: every value so far is a finite number. */
  private allNumeric = true;
  /** Multilabel: rows per number of classes (index = classes in the row). */
  private readonly perRow: number[] = [];
  /** Classification: labels holding the multi-label delimiter (reported, at most a few). */
  private readonly delimited = new Set<string>();

  constructor(private readonly o: TargetOptions) {
    this.classes = new ClassCounts(o.limits, o.column);
    this.numbers = new NumericTarget(o.column);
  }

  /** Checks and counts one row's target cell; returns the key duplicates compare (the canonical target). */
  add(cell: string, row: number, line: number): string {
    const task = this.o.task;
    if (task === 'regression') {
      this.numbers.addCell(cell, row, line);
      return cell;
    }
    if (task === 'multilabel') return this.addSet(cell, row, line);
    if (cell === '') {
      reject(
        'empty_label',
        `${where({ row, line, column: this.o.column })}: the label is empty. Every row needs a label: fill it in or delete the row.`,
        { row, line, column: this.o.column },
      );
    }
    if (task === undefined && this.allNumeric) {
      const value = parseTarget(cell);
      if (value !== undefined && Number.isFinite(value)) this.numbers.add(value);
      else {
        this.allNumeric = false;
        this.classes.rejectOverflow();
      }
    }
    if (this.delimited.size < 3 && cell.includes(this.o.labelDelimiter)) this.delimited.add(cell);
    this.classes.add(cell, row, line, task === undefined && this.allNumeric);
    return cell;
  }

  private addSet(cell: string, row: number, line: number): string {
    const loc = { row, line, column: this.o.column };
    if (cell === '') {
      reject(
        'empty_label_set',
        `${where(loc)}: the row has no class. Every row of a multi-label file needs at least one class (several joined by "${this.o.labelDelimiter}"): fill it in or delete the row.`,
        loc,
      );
    }
    const set = [...new Set(cell.split(this.o.labelDelimiter).map((c) => c.trim()))].sort();
    if (set.includes('')) {
      reject(
        'invalid_label_set',
        `${where(loc)}: ${JSON.stringify(cell)} has an empty class between or around "${this.o.labelDelimiter}" delimiters. Join classes with one "${this.o.labelDelimiter}" and no empty parts (billing${this.o.labelDelimiter}shipping).`,
        { ...loc, value: cell },
      );
    }
    for (const name of set) {
      if (Buffer.byteLength(name) > this.o.limits.maxLabelBytes) {
        reject(
          'label_too_long',
          `${where(loc)}: the class ${JSON.stringify(name.slice(0, 40))}… is longer than ${this.o.limits.maxLabelBytes} bytes. Classes are names; check that "${this.o.labelDelimiter}" is the delimiter between them ("labelDelimiter" in droptune.json).`,
          { ...loc, limit: this.o.limits.maxLabelBytes },
        );
      }
      this.classes.add(name, row, line);
    }
    this.perRow[set.length] = (this.perRow[set.length] ?? 0) + 1;
    return set.join('\u0000');
  }

  /** The task (decided now if it was not), its reason, and what the profile says of the target. */
  finish(): TargetProfile {
    const { task, reason, column } = this.o;
    const distinct = this.numbers.distinctValues;
    if (
      task === 'regression' ||
      (task === undefined && this.allNumeric && distinct > REGRESSION_MIN_DISTINCT_VALUES)
    ) {
      return {
        task: 'regression',
        taskReason:
          task === 'regression'
            ? reason
            : `every "${column}" value is a number and there are ${distinct} distinct values (more than ${REGRESSION_MIN_DISTINCT_VALUES})`,
        labelCounts: {},
        target: this.numbers.finish(),
        warnings: [],
      };
    }
    const counts = this.classes.finish();
    const profile: TargetProfile = {
      task: task ?? 'classification',
      taskReason: task !== undefined ? reason : this.classificationReason(distinct),
      labelCounts: Object.fromEntries(counts),
      warnings: this.warnings(distinct),
    };
    if (task === 'multilabel') profile.labelsPerRow = median(this.perRow);
    return profile;
  }

  private classificationReason(distinct: number): string {
    const column = this.o.column;
    return this.allNumeric
      ? `every "${column}" value is a number, but only ${distinct} distinct (${REGRESSION_MIN_DISTINCT_VALUES} or fewer): read as classes`
      : `a "${column}" column of class names`;
  }

  private warnings(distinct: number): string[] {
    const out: string[] = [];
    if (this.o.task === undefined && this.allNumeric) {
      out.push(
        `the "${this.o.column}" values are numbers with only ${distinct} distinct values, so they are trained as ${distinct} classes. ` +
          'To learn a number instead, set "task": "regression" in droptune.json (or submit with --task regression).',
      );
    }
    if (this.o.task !== 'multilabel' && this.delimited.size > 0) {
      out.push(
        `some labels contain "${this.o.labelDelimiter}" (${[...this.delimited].map((l) => JSON.stringify(l)).join(', ')}), each read as one class. ` +
          'If a row can have several classes, name the column "labels" (or set "task": "multilabel").',
      );
    }
    return out;
  }
}

/** `{min, median, max}` of a histogram (index = value). */
function median(histogram: number[]): { min: number; median: number; max: number } {
  const values: [number, number][] = histogram.flatMap((n, v) => (n ? [[v, n] as [number, number]] : []));
  const total = values.reduce((s, [, n]) => s + n, 0);
  const nth = (k: number) => {
    let seen = 0;
    for (const [v, n] of values) {
      seen += n;
      if (seen > k) return v;
    }
    return 0;
  };
  if (total === 0) return { min: 0, median: 0, max: 0 };
  return {
    min: values[0]![0],
    median: (nth(Math.floor((total - 1) / 2)) + nth(Math.floor(total / 2))) / 2,
    max: values.at(-1)![0],
  };
}
