import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { parse } from 'csv-parse/sync';
import { PredictInstance } from '../../shared/contracts/prediction.ts';
import { AppError } from '../../shared/errors.ts';

/**
 * The instances of `droptune predict --input <file>`, in file order, exactly as `:predict` takes
 * them (shared/contracts/prediction.ts), so any task's model can be scored from a file:
 * - `.jsonl`: one instance per line, `"text"`, `{"text": "…"}` or `{"text": "…", "text_pair": "…"}`
 *   (blank lines skipped);
 * - `.csv`: a header with `text` and optionally `text_pair`; other columns (a held-out file's
 *   `label`) are ignored, so the training CSV format scores as it is.
 * A line that is not an instance fails the whole file with an error naming the line, before
 * anything is sent.
 */
export function readInstances(path: string): PredictInstance[] {
  let raw: string;
  try {
    raw = readFileSync(path, 'utf8');
  } catch (err) {
    throw new AppError('invalid_argument', `--input ${path}: cannot read it (${(err as Error).message})`);
  }
  const ext = extname(path).toLowerCase();
  const instances =
    ext === '.jsonl' ? jsonlInstances(path, raw) : ext === '.csv' ? csvInstances(path, raw) : null;
  if (instances === null)
    throw new AppError('invalid_argument', `--input ${path}: expected a .jsonl or .csv file`);
  if (instances.length === 0) throw new AppError('invalid_argument', `--input ${path}: holds no instances`);
  return instances;
}

function jsonlInstances(path: string, raw: string): PredictInstance[] {
  const out: PredictInstance[] = [];
  for (const [i, line] of raw
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/)
    .entries()) {
    if (line.trim() === '') continue;
    const where = `${path} line ${i + 1}`;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch (err) {
      throw new AppError('invalid_argument', `${where}: not JSON (${(err as Error).message})`);
    }
    const parsed = PredictInstance.safeParse(json);
    if (!parsed.success)
      throw new AppError(
        'invalid_argument',
        `${where}: expected "text", {"text": "..."} or {"text": "...", "text_pair": "..."}`,
      );
    out.push(parsed.data);
  }
  return out;
}

function csvInstances(path: string, raw: string): PredictInstance[] {
  let rows: string[][];
  try {
    rows = parse(raw, { bom: true, skip_empty_lines: true, record_delimiter: ['\r\n', '\n'] });
  } catch (err) {
    throw new AppError('invalid_argument', `${path}: ${(err as Error).message}`);
  }
  const header = rows[0] ?? [];
  const textAt = header.indexOf('text');
  const pairAt = header.indexOf('text_pair');
  if (textAt < 0)
    throw new AppError(
      'invalid_argument',
      `${path} line 1: the header needs a "text" column (and "text_pair" for pairs); found ${header.map((h) => JSON.stringify(h)).join(', ')}`,
    );
  return rows.slice(1).map((row) => {
    const text = row[textAt]!;
    return pairAt < 0 ? text : { text, text_pair: row[pairAt]! };
  });
}
