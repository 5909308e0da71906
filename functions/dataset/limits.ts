/**
 * Limits the dataset validator enforces. Each default says why it was chosen; the trigger may
 * override them from config. All are hard limits: crossing one rejects the file.
 */
export interface ValidationLimits {
  /** Largest file accepted, in bytes (default 2 GiB: a text-classification set that size is already ~10M rows). */
  maxFileBytes: number;
  /** Largest single record, in bytes (default 1 MiB: bounds memory and stops a runaway quoted field early). */
  maxRecordBytes: number;
  /** Longest text, in characters (default 100,000: far beyond any model's max length, so only junk trips it). */
  maxTextChars: number;
  /** Longest label, in bytes (default 200: labels are class names, not sentences). */
  maxLabelBytes: number;
  /** Longest multi-label cell, in bytes (default 4,000: several class names and their delimiters). */
  maxLabelSetBytes: number;
  /** Most distinct labels (default 1,000: beyond that it is probably the wrong column). */
  maxClasses: number;
  /** Fewest data rows (default 10: less cannot be split into training and validation). */
  minRows: number;
  /** Fewest examples of any class (default 2: the stratified split needs one for training and one for validation). */
  minExamplesPerClass: number;
}

export const DEFAULT_LIMITS: ValidationLimits = {
  maxFileBytes: 2 * 1024 ** 3,
  maxRecordBytes: 1024 ** 2,
  maxTextChars: 100_000,
  maxLabelBytes: 200,
  maxLabelSetBytes: 4_000,
  maxClasses: 1_000,
  minRows: 10,
  minExamplesPerClass: 2,
};
