import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Where the components' JSON log lines go while `droptune up` / `demo` run: appended to
 * `<home>/logs/stack.log` always, and to stderr too with `--verbose`. The terminal keeps the
 * readable summary; a log collector reads the file.
 */
export function openComponentLog(
  home: string,
  verbose: boolean,
): { write: (line: string) => void; path: string; close: () => Promise<void> } {
  const dir = join(home, 'logs');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'stack.log');
  const file = createWriteStream(path, { flags: 'a', mode: 0o600 });
  file.on('error', (err) => process.stderr.write(`cannot write ${path}: ${err.message}\n`));
  return {
    path,
    write(line) {
      file.write(`${line}\n`);
      if (verbose) process.stderr.write(`${line}\n`);
    },
    close: () => new Promise((resolve) => file.end(() => resolve())),
  };
}

/**
 * How to sign in to the web page. The link carries the API token, so it is shown only on an
 * interactive terminal (where nothing records it); otherwise (output piped to a file, a CI log,
 * a service manager) the line points to the token file instead.
 */
export function signInLine(
  stack: { apiUrl: string; webUrl: string; home: string },
  isTerminal: boolean,
): string {
  if (isTerminal) return `sign in      ${stack.webUrl}`;
  return `sign in      open ${stack.apiUrl}/ and paste the token from ${join(stack.home, 'api-token')}`;
}
