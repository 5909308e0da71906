/**
 * Why a dataset was refused. Every rejection carries a stable `code` (tests, the web page and
 * the CLI branch on it) and a message a data person can act on: what is wrong, where (row, line,
 * column, byte offset) and what to do about it.
 */
export type DatasetRejectionCode =
  | 'empty_file'
  | 'file_too_large'
  | 'not_utf8'
  | 'binary_content'
  | 'missing_column'
  | 'duplicate_column'
  | 'ragged_row'
  | 'invalid_quote'
  | 'unclosed_quote'
  | 'record_too_large'
  | 'empty_text'
  | 'empty_label'
  | 'text_too_long'
  | 'label_too_long'
  | 'too_many_classes'
  | 'too_few_rows'
  | 'too_few_classes'
  | 'class_too_small'
  | 'invalid_settings'
  | 'invalid_object_name';

/** Where in the file a problem is. `row` counts data rows from 1 (the header is row 0). */
export interface RejectionLocation {
  row?: number;
  /** 1-based physical line of the file (quoted newlines count). */
  line?: number;
  column?: string;
  byteOffset?: number;
}

export interface DatasetRejection {
  code: DatasetRejectionCode;
  message: string;
  details: RejectionLocation & Record<string, unknown>;
}

/**
 * Thrown inside the validator to unwind from the scanning loop; caught at its edge and returned
 * as a value. Never escapes `validateCsv`.
 */
export class RejectionSignal extends Error {
  readonly rejection: DatasetRejection;
  constructor(rejection: DatasetRejection) {
    super(rejection.message);
    this.rejection = rejection;
  }
}

export function reject(
  code: DatasetRejectionCode,
  message: string,
  details: RejectionLocation & Record<string, unknown> = {},
): never {
  throw new RejectionSignal({ code, message, details });
}

/** `row 12 (line 13), column "label"` — the prefix every located message starts with. */
export function where(loc: RejectionLocation): string {
  const parts: string[] = [];
  if (loc.row !== undefined && loc.row > 0) parts.push(`row ${loc.row}`);
  if (loc.row === 0) parts.push('the header');
  if (loc.line !== undefined) parts.push(parts.length ? `(line ${loc.line})` : `line ${loc.line}`);
  let text = parts.join(' ');
  if (loc.column !== undefined) text += `${text ? ', ' : ''}column "${loc.column}"`;
  return text;
}
