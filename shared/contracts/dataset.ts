import { z } from 'zod';
import { Task } from './task.ts';

/**
 * What the dataset validator answers: the profile of an accepted CSV or the rejection of a bad one.
 * The trigger stores them, `POST /v1/datasets:validate` returns them, the web page and the CLI
 * show them. Codes are a const list so tests and docs can enumerate them, not only a type union.
 */

/** Every reason a dataset can be refused; stable (clients branch on them). */
export const REJECTION_CODES = [
  'empty_file',
  'file_too_large',
  'not_utf8',
  'binary_content',
  'missing_column',
  'duplicate_column',
  'ragged_row',
  'invalid_quote',
  'unclosed_quote',
  'record_too_large',
  'empty_text',
  'empty_label',
  'text_too_long',
  'label_too_long',
  'too_many_classes',
  'too_few_rows',
  'too_few_classes',
  'class_too_small',
  'label_conflicts',
  // Per task (shared/contracts/task.ts): a regression target that is not a finite number or never
  // varies; a multi-label cell with no class or an empty class between delimiters (`a||b`).
  'invalid_target',
  'constant_target',
  'empty_label_set',
  'invalid_label_set',
  // droptune.json `task` (or --task) names a task the file's columns cannot hold.
  'task_mismatch',
  'invalid_split',
  'invalid_settings',
  'invalid_object_name',
] as const;
export const DatasetRejectionCode = z.enum(REJECTION_CODES);
export type DatasetRejectionCode = z.infer<typeof DatasetRejectionCode>;

/**
 * Where in the file a problem is. The row-numbering rule (docs/contracts.md), the same in
 * TypeScript and Python: `line` is the 1-based physical line an editor shows where the record
 * starts (the header is line 1; a quoted newline makes the next record start further down), and
 * messages name that line. `row` counts data records from 1 (the header is row 0).
 */
export const RejectionLocation = z.object({
  row: z.number().int().min(0).optional(),
  line: z.number().int().min(1).optional(),
  column: z.string().optional(),
  byteOffset: z.number().int().min(0).optional(),
});
export type RejectionLocation = z.infer<typeof RejectionLocation>;

export const DatasetRejection = z.object({
  code: DatasetRejectionCode,
  message: z.string(),
  details: RejectionLocation.catchall(z.unknown()),
});
export type DatasetRejection = z.infer<typeof DatasetRejection>;

/** The same normalised text with two labels (shared/text-key.ts defines "the same"). */
export const LabelConflict = z.object({
  /** The text as first seen (at most 200 characters). */
  text: z.string(),
  /** Data row numbers (the header is row 0) of the first row and of the conflicting one. */
  rows: z.tuple([z.number().int(), z.number().int()]),
  labels: z.tuple([z.string(), z.string()]),
});
export type LabelConflict = z.infer<typeof LabelConflict>;

/** The profile of a CSV that passed validation. */
export const DatasetProfile = z.object({
  rows: z.number().int().min(0),
  bytes: z.number().int().min(0),
  /** Hex sha256 of the file's bytes exactly as stored (BOM included). */
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  columns: z.array(z.string()),
  /** The task trained, detected or chosen in droptune.json, and why (`"a labels column"`, `"droptune.json task"`). */
  task: Task,
  taskReason: z.string(),
  textColumn: z.string(),
  /** `pair`: the second text's column. */
  textPairColumn: z.string().optional(),
  /** The column holding the target: the label, the class set (multilabel) or the number (regression). */
  labelColumn: z.string(),
  /** Rows per label (multilabel: rows holding each class), labels sorted by name; `{}` for regression. */
  labelCounts: z.record(z.string(), z.number().int().min(0)),
  /** `regression`: the target's range and spread. */
  target: z
    .object({
      min: z.number(),
      max: z.number(),
      mean: z.number(),
      std: z.number(),
      distinct: z.number().int(),
    })
    .optional(),
  /** `multilabel`: classes per row. */
  labelsPerRow: z.object({ min: z.number(), median: z.number(), max: z.number() }).optional(),
  /**
   * Texts that will not fit `maxLength` tokens. The validator has no tokenizer, so it counts words
   * (each word is at least one token, plus the two special tokens): `count` is a lower bound.
   */
  longTexts: z
    .object({ maxLength: z.number().int(), count: z.number().int().min(0), method: z.literal('words') })
    .optional(),
  /** Text length in characters (Unicode code points). */
  textLength: z.object({ min: z.number(), median: z.number(), max: z.number() }),
  hasBom: z.boolean(),
  /** Rows repeating an earlier row's normalised text and label (one example in training). */
  duplicates: z.number().int().min(0),
  /** Rows repeating an earlier row's normalised text with another label; the first few listed. */
  conflicts: z.number().int().min(0),
  conflictExamples: z.array(LabelConflict),
  /** Rows per value of a checked user split column, when the file has one. */
  splitCounts: z.record(z.string(), z.number().int().min(0)).optional(),
  /** Accepted, but worth a look (class imbalance, conflicts below the threshold). */
  warnings: z.array(z.string()),
});
export type DatasetProfile = z.infer<typeof DatasetProfile>;

/** `POST /v1/datasets:validate`: the profile, or the rejection with its code and location. */
export const ValidationAnswer = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), profile: DatasetProfile }),
  z.object({ ok: z.literal(false), rejection: DatasetRejection }),
]);
export type ValidationAnswer = z.infer<typeof ValidationAnswer>;
