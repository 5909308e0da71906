import type { DatasetProfile } from '../../shared/contracts/dataset.ts';
import type { Task } from '../../shared/contracts/task.ts';
import type { ValidateOptions } from './validate-csv.ts';

/**
 * Between droptune.json and the trainer: the settings tell the validator what to check, and the
 * validator's answer (the task it detected or was told, the column it read the target from) is
 * written back into the params the workflow and the trainer get, so the trainer never detects
 * and reads the very column that was validated.
 */

/** The droptune.json field naming each task's target column. */
const TARGET_FIELD: Record<Task, 'labelColumn' | 'labelsColumn' | 'scoreColumn'> = {
  classification: 'labelColumn',
  pair: 'labelColumn',
  multilabel: 'labelsColumn',
  regression: 'scoreColumn',
};

/** The validator's options from a model's parsed settings (absent or mistyped fields keep their defaults). */
export function validateOptionsOf(params: Record<string, unknown>): ValidateOptions {
  const text = (key: string) => (typeof params[key] === 'string' ? (params[key] as string) : undefined);
  const number = (key: string) => (typeof params[key] === 'number' ? (params[key] as number) : undefined);
  return {
    task: text('task') as Task | undefined,
    textColumn: text('textColumn'),
    labelColumn: text('labelColumn'),
    textPairColumn: text('textPairColumn'),
    labelsColumn: text('labelsColumn'),
    scoreColumn: text('scoreColumn'),
    labelDelimiter: text('labelDelimiter'),
    splitColumn: text('splitColumn'),
    maxLength: number('maxLength'),
    longText: text('longText') === 'chunk' ? 'chunk' : undefined,
    maxConflictShare: number('maxConflictShare'),
  };
}

/** The params to train with: the settings plus the resolved `task` and the column its target was read from. */
export function trainParams(
  params: Record<string, unknown>,
  profile: DatasetProfile,
): Record<string, unknown> {
  return { ...params, task: profile.task, [TARGET_FIELD[profile.task]]: profile.labelColumn };
}
