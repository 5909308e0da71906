import type { Task } from '../../shared/contracts/task.ts';
import { reject, where } from './rejection.ts';

/**
 * Which columns a file's task reads, decided from the header (shared/contracts/task.ts,
 * "Detection"): a `textPairColumn` → pair; a `labelsColumn` → multilabel; otherwise the target is
 * `scoreColumn` when the file has one, else `labelColumn`, and its values decide between
 * regression and classification (targets.ts). droptune.json `task` (or `submit --task`) overrides
 * detection; a file whose columns cannot hold that task is refused naming the missing column
 * (`task_mismatch` when the file holds another task's column, so the message can say which).
 */

/** The column names a task may read (droptune.json fields of the same names). */
export interface TaskColumnNames {
  textColumn: string;
  labelColumn: string;
  textPairColumn: string;
  labelsColumn: string;
  scoreColumn: string;
}

export const DEFAULT_COLUMN_NAMES: TaskColumnNames = {
  textColumn: 'text',
  labelColumn: 'label',
  textPairColumn: 'text_pair',
  labelsColumn: 'labels',
  scoreColumn: 'score',
};

export interface ResolvedColumns {
  /** Undefined: classification or regression, decided by the target's values. */
  task: Task | undefined;
  /** Why (`a "labels" column`, `droptune.json "task"`); for an undecided task, the values add theirs. */
  reason: string;
  textIndex: number;
  targetIndex: number;
  targetColumn: string;
  /** `pair` only (else -1). */
  pairIndex: number;
}

/** Resolves the task's columns from the header, or rejects naming the column a task needs. */
export function resolveColumns(
  names: string[],
  line: number,
  columns: TaskColumnNames,
  chosen: Task | undefined,
): ResolvedColumns {
  const textIndex = requireColumn(names, columns.textColumn, 'textColumn', line);
  const has = (name: string) => names.includes(name);
  const resolved = (task: Task | undefined, reason: string, target: string, setting: string, pair = -1) => ({
    task,
    reason,
    textIndex,
    targetIndex: requireColumn(names, target, setting, line, chosen),
    targetColumn: target,
    pairIndex: pair,
  });
  const pairOf = () => requireColumn(names, columns.textPairColumn, 'textPairColumn', line, chosen);
  if (chosen !== undefined) {
    const reason = 'droptune.json "task"';
    if (chosen === 'pair') return resolved('pair', reason, columns.labelColumn, 'labelColumn', pairOf());
    if (chosen === 'multilabel') return resolved('multilabel', reason, columns.labelsColumn, 'labelsColumn');
    if (chosen === 'classification')
      return resolved('classification', reason, columns.labelColumn, 'labelColumn');
    const score = has(columns.scoreColumn) || !has(columns.labelColumn);
    return resolved(
      'regression',
      reason,
      score ? columns.scoreColumn : columns.labelColumn,
      score ? 'scoreColumn' : 'labelColumn',
    );
  }
  if (has(columns.textPairColumn))
    return resolved(
      'pair',
      `a "${columns.textPairColumn}" column`,
      columns.labelColumn,
      'labelColumn',
      pairOf(),
    );
  if (has(columns.labelsColumn))
    return resolved('multilabel', `a "${columns.labelsColumn}" column`, columns.labelsColumn, 'labelsColumn');
  if (has(columns.scoreColumn)) return resolved(undefined, '', columns.scoreColumn, 'scoreColumn');
  return resolved(undefined, '', columns.labelColumn, 'labelColumn');

  /** The file holds another task's column: say which task it looks like. */
  function otherTask(): string | undefined {
    if (chosen !== 'multilabel' && has(columns.labelsColumn))
      return `a "${columns.labelsColumn}" column (multilabel)`;
    if (chosen !== 'regression' && has(columns.scoreColumn))
      return `a "${columns.scoreColumn}" column (regression)`;
    if (chosen !== 'pair' && has(columns.textPairColumn))
      return `a "${columns.textPairColumn}" column (pair)`;
    // A label column is also pair's target (and regression's fallback): it says classification only against multilabel.
    if (chosen === 'multilabel' && has(columns.labelColumn))
      return `a "${columns.labelColumn}" column (classification)`;
    return undefined;
  }

  function requireColumn(
    names: string[],
    column: string,
    setting: string,
    line: number,
    task?: Task,
  ): number {
    const index = names.indexOf(column);
    if (index >= 0) return index;
    const other = task === undefined ? undefined : otherTask();
    if (other !== undefined) {
      reject(
        'task_mismatch',
        `${where({ row: 0, line, column })}: droptune.json says "task": "${task}", which needs a "${column}" column, but the file has ${other}. ` +
          `Remove "task" to let droptune detect it, set the task the file holds, or set "${setting}" to the column that holds it.`,
        { row: 0, line, column, task, found: names },
      );
    }
    rejectMissing(names, column, setting, line, task);
  }
}

function rejectMissing(names: string[], column: string, setting: string, line: number, task?: Task): never {
  const nearly = names.find((n) => n.toLowerCase() === column.toLowerCase());
  const found =
    names.length === 1 && names[0] === ''
      ? 'no column names'
      : `columns: ${names.map((n) => JSON.stringify(n)).join(', ')}`;
  const needs = task === undefined ? '' : `"task": "${task}" needs it. `;
  return reject(
    'missing_column',
    `${where({ row: 0, line })}: there is no "${column}" column (found ${found}). ${needs}` +
      (separatorHint(names) ??
        (nearly !== undefined
          ? `Column names are case-sensitive: rename "${nearly}" to "${column}", or set "${setting}": "${nearly}" in droptune.json.`
          : `The first line must name the columns; add a "${column}" column, or set "${setting}" in droptune.json to the column that holds it.`)),
    { row: 0, line, column, found: names },
  );
}

/** A one-column header holding `;` or a tab: the file uses another separator. */
function separatorHint(names: string[]): string | undefined {
  if (names.length !== 1) return undefined;
  const sep = names[0]!.includes(';') ? ';' : names[0]!.includes('\t') ? 'tab' : undefined;
  return (
    sep &&
    `The file seems to separate columns with ${sep === ';' ? '";"' : 'tabs'}; droptune reads comma-separated files: export it as "CSV (comma delimited)".`
  );
}
