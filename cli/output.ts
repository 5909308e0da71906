import Table from 'cli-table3';
import pc from 'picocolors';
import { AppError } from '../shared/errors.ts';

/** Global flags every command takes. */
export interface GlobalOptions {
  json?: boolean;
  api?: string;
  home?: string;
  /** Components' JSON log lines on stderr too (they always go to `$DROPTUNE_HOME/logs/`). */
  verbose?: boolean;
}

/** Prints `value` as the one JSON document on stdout (`--json`), or calls `human` to print it readably. */
export function emit(opts: GlobalOptions, value: unknown, human: () => void): void {
  if (opts.json) process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  else human();
}

export function table(head: string[], rows: Array<Array<string | number | null | undefined>>): string {
  const t = new Table({ head: head.map((h) => pc.bold(h)), style: { head: [], border: [] } });
  for (const r of rows) t.push(r.map((c) => (c === null || c === undefined ? '' : String(c))));
  return t.toString();
}

/** Progress and notes go to stderr so stdout stays one JSON document with `--json`. */
export function note(message: string): void {
  process.stderr.write(`${message}\n`);
}

const STATUS_COLORS: Record<string, (s: string) => string> = {
  succeeded: pc.green,
  failed: pc.red,
  rejected: pc.red,
  cancelled: pc.yellow,
  gated: pc.yellow,
};

export function colorStatus(status: string): string {
  return (STATUS_COLORS[status] ?? pc.cyan)(status);
}

/** Longest error message the CLI prints (a server's message is already capped; this is the last guard). */
const MAX_ERROR_CHARS = 2000;

/**
 * Ends the process on an error with a one-line reason on stderr (and, with `--json`, the error
 * body `{"error": {"code", "message"}}` as the one document on stdout) and a non-zero exit code.
 * Never prints a stack trace.
 */
export function fail(opts: GlobalOptions, err: unknown): never {
  const raw = err instanceof AppError || err instanceof Error ? err.message : String(err);
  const message = oneLine(raw, MAX_ERROR_CHARS);
  const code = err instanceof AppError ? err.code : 'internal';
  if (opts.json) process.stdout.write(`${JSON.stringify({ error: { code, message } })}\n`);
  process.stderr.write(`${pc.red('error:')} ${message}\n`);
  process.exit(1);
}

/** `text` on one line (newlines and other controls as spaces), cut to `max` characters. */
export function oneLine(text: string, max: number): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: replacing control characters is the point
  const flat = text.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max)}… (${flat.length - max} more characters)` : flat;
}
