/**
 * STYLE.md 1 and issue 15 as a check that runs in CI (scripts/test.sh): no source file, test or
 * script over `MAX_LINES` lines, outside generated files and fixtures. A file a person cannot
 * read in one sitting usually holds more than one job; split it (see web/src/pages/model/).
 *
 * The few files allowed over the limit are listed in `OVERSIZED` with their reason and the size
 * they may not grow past. An entry whose file is gone or back under the limit is reported too,
 * so the list only ever shrinks.
 *
 *   npx tsx scripts/check-file-size.ts        # exit 1 and one line per problem
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { repoPaths } from './check-boundaries.ts';

/** STYLE.md 1: "split a file near 400 lines". */
export const MAX_LINES = 400;

/** What counts as source: code, shell, workflow YAML, styles and markup. */
const SOURCE = /\.(ts|js|mjs|cjs|py|sh|ya?ml|css|html)$/;

/** Not written by hand, or data rather than code: test fixtures and generated copies. */
const NOT_HANDWRITTEN = [/(^|\/)fixtures\//, /^training-image\/droptune_trainer\/schemas\//];

export interface Oversized {
  /**
   * The most lines the file may have until it is split (its size when it was listed). Absent only
   * where the size follows from the file's nature (one deployable source), not from a pending split.
   */
  max?: number;
  reason: string;
}

/** Files allowed over `MAX_LINES`, each with why and how far. */
export const OVERSIZED: Record<string, Oversized> = {
  'workflows/pipeline.yaml': {
    reason:
      'Cloud Workflows deploys one source file per workflow; it is split into named subworkflows inside it',
  },
  'infra/permissions/operations.ts': {
    max: 429,
    reason: 'the one table of cloud operations and the permissions IAM checks for each; split pending',
  },
  'functions/dataset/csv-scanner.ts': {
    max: 412,
    reason: 'one byte-level state machine; its hot loop reads best in one place; split pending',
  },
  'workflows/connectors/training-backend.ts': {
    max: 403,
    reason: 'the GPU VM training connector; split pending with the pipeline work',
  },
  'functions/api/app.test.ts': {
    max: 420,
    reason: 'the control API route tests; split by route group pending',
  },
};

export interface FileSize {
  /** Repository-relative path with `/` separators. */
  path: string;
  lines: number;
}

/** Lines as an editor counts them: a final newline does not start another line. */
export function countLines(text: string): number {
  if (text === '') return 0;
  return text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
}

export function isChecked(path: string): boolean {
  return SOURCE.test(path) && !NOT_HANDWRITTEN.some((p) => p.test(path));
}

/** One message per file over its limit and per allow-list entry that is no longer needed. */
export function checkFileSizes(
  files: FileSize[],
  oversized: Record<string, Oversized> = OVERSIZED,
  max = MAX_LINES,
): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const f of files) {
    if (!isChecked(f.path)) continue;
    seen.add(f.path);
    const allowed = oversized[f.path];
    if (!allowed && f.lines > max)
      problems.push(`${f.path}: ${f.lines} lines, over ${max}: split it into modules with one job each`);
    else if (allowed?.max !== undefined && f.lines > allowed.max)
      problems.push(
        `${f.path}: ${f.lines} lines, over its allowed ${allowed.max} (${allowed.reason}): split it, do not raise the limit`,
      );
    else if (allowed && f.lines <= max)
      problems.push(`${f.path}: ${f.lines} lines, within ${max} now: remove its entry from OVERSIZED`);
  }
  for (const path of Object.keys(oversized))
    if (!seen.has(path))
      problems.push(`${path}: listed in OVERSIZED but not in the repository: remove the entry`);
  return problems;
}

/** The repository's checked files (tracked and new, not ignored), with their sizes. */
export function repoFileSizes(root: string): FileSize[] {
  return repoPaths(root)
    .filter(isChecked)
    .flatMap((path) => {
      try {
        return [{ path, lines: countLines(readFileSync(join(root, path), 'utf8')) }];
      } catch {
        return []; // listed by git but deleted in the work tree
      }
    });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const files = repoFileSizes(root);
  const problems = checkFileSizes(files);
  for (const p of problems) console.error(p);
  console.error(`file sizes: ${files.length} files, ${problems.length} problem(s)`);
  process.exit(problems.length ? 1 : 0);
}
