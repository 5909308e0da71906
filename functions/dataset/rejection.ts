/**
 * Why a dataset was refused. Every rejection carries a stable `code` (tests, the web page and
 * the CLI branch on it) and a message a data person can act on: what is wrong, where (row, line,
 * column, byte offset) and what to do about it.
 */
import type {
  DatasetRejection,
  DatasetRejectionCode,
  RejectionLocation,
} from '../../shared/contracts/dataset.ts';

// The shapes are contracts (shared/contracts/dataset.ts); this module only builds and formats them.
export type { DatasetRejection, DatasetRejectionCode, RejectionLocation };

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
