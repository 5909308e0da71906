/**
 * The import rules of STYLE.md 2 and 12, as a check that runs in CI (scripts/test.sh) and fails
 * on a violating import with the rule's reason. Biome's `noRestrictedImports` cannot say "only
 * these adapter files may import pg", so this is a small script instead.
 *
 *   npx tsx scripts/check-boundaries.ts        # exit 1 and one line per violation
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, normalize, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface SourceFile {
  /** Repository-relative path with `/` separators. */
  path: string;
  source: string;
}

export interface Violation {
  path: string;
  line: number;
  specifier: string;
  rule: string;
}

/** Tests, test support, shared test suites, tool configs, benchmarks and scripts: not shipped. */
export function isProduction(path: string): boolean {
  return !(
    /\.test\.ts$/.test(path) ||
    /(^|\/)(testing|test-support|fixtures)\//.test(path) ||
    /(^|\/)testing\.ts$/.test(path) ||
    /\.contract\.ts$/.test(path) || // a test suite every adapter runs
    /^[^/]+\.config\.ts$/.test(path) || // tool configuration (vitest.config.ts)
    /^(test|bench|scripts)\//.test(path) ||
    // The rehearsal runs the cloud path against the twins on purpose (fake-gcs-server, a
    // PostgreSQL server with Cloud SQL-like logins, the Workflow Executions and metadata twins);
    // it is a pre-deploy check that needs the test tools, never part of a deployed function.
    /^cli\/rehearse\//.test(path)
  );
}

/**
 * The only production files that may import each driver or cloud SDK: its adapters, and the
 * Cloud Functions entry points that build them. Everything else talks to the ports.
 */
export const ADAPTERS: Record<string, readonly string[]> = {
  pg: ['shared/db/'],
  'onnxruntime-node': ['serving/model/onnx-session.ts'],
  '@google-cloud/storage': [
    'shared/storage/gcs-store.ts',
    'shared/storage/index.ts',
    'functions/api/uploads.ts',
    'functions/control-api.ts',
    // The one composition root builds the cloud adapters' clients and injects them.
    'functions/compose.ts',
  ],
  '@google-cloud/workflows': ['functions/workflow-starter/cloud-starter.ts', 'functions/compose.ts'],
  '@google-cloud/cloud-sql-connector': ['shared/db/'],
  '@google-cloud/functions-framework': [
    'functions/control-api.ts',
    'functions/on-dataset-uploaded.ts',
    // The local stack serves the same handlers the way the framework does in the cloud.
    'cli/local-stack/',
  ],
};

/**
 * Known exceptions, each with its reason; a new one needs a reason here (reviewed), not silence.
 * `cli/local-stack/stack.ts` serves the function handlers through functions-framework's
 * `getTestServer` (the framework exports no other way to serve a CloudEvent handler in-process);
 * the composition-root work replaces it.
 */
const TESTING_IMPORT_EXCEPTIONS: Record<string, string> = {
  'cli/local-stack/stack.ts @google-cloud/functions-framework/testing':
    'the framework serves CloudEvent handlers in-process only through its testing module',
  'cli/commands/rehearse.ts ../../scripts/images-report.ts':
    'the rehearsal builds and reports the images with the same code `npm run images` runs',
  'cli/commands/rehearse.ts ../rehearse/rehearse.ts':
    '`droptune rehearse` is the command that starts the rehearsal (cli/rehearse/, built on the twins)',
};

const IMPORT =
  /(?:^|[\s;])(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|^import\s+['"]([^'"]+)['"]/gm;

/** Every import specifier of a source with its line. */
export function importsOf(source: string): { specifier: string; line: number }[] {
  const out: { specifier: string; line: number }[] = [];
  for (const m of source.matchAll(IMPORT)) {
    const specifier = m[1] ?? m[2] ?? m[3]!;
    const line = source.slice(0, m.index + m[0].length).split('\n').length;
    out.push({ specifier, line });
  }
  return out;
}

/** The package a bare specifier names (`@scope/name/sub` → `@scope/name`). */
function packageOf(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

function resolveRelative(from: string, specifier: string): string {
  return normalize(join(dirname(from), specifier)).replaceAll('\\', '/');
}

/** Checks one file's imports against every rule. */
export function checkFile(file: SourceFile): Violation[] {
  const out: Violation[] = [];
  const add = (line: number, specifier: string, rule: string) =>
    out.push({ path: file.path, line, specifier, rule });
  const production = isProduction(file.path);
  for (const { specifier, line } of importsOf(file.source)) {
    const relative = specifier.startsWith('.');
    const target = relative ? resolveRelative(file.path, specifier) : specifier;
    if (file.path.startsWith('web/src/')) {
      if (relative && !target.startsWith('web/src/') && !target.startsWith('shared/contracts/'))
        add(
          line,
          specifier,
          'web/src imports only shared/contracts (the page gets wire shapes, never server code)',
        );
    }
    if (production && /^(functions|workflows)\//.test(file.path) && relative && /^(web|cli)\//.test(target))
      add(
        line,
        specifier,
        'functions/ and workflows/ never import web/ or cli/ (they run in the cloud without them)',
      );
    if (production) {
      const testingTarget = relative ? !isProduction(target) : /(^|\/)testing(\/|$)/.test(specifier);
      if (testingTarget && !TESTING_IMPORT_EXCEPTIONS[`${file.path} ${specifier}`])
        add(line, specifier, 'production code never imports a testing module (it would ship test doubles)');
      if (!relative) {
        const pkg = packageOf(specifier);
        const allowed = ADAPTERS[pkg];
        if (allowed && !allowed.some((a) => file.path === a || (a.endsWith('/') && file.path.startsWith(a))))
          add(
            line,
            specifier,
            `${pkg} is imported only by its adapters (${allowed.join(', ')}); use the port`,
          );
      }
    }
  }
  return out;
}

/**
 * Import cycles among production files (relative imports, type-only ones included: a cycle is a
 * design smell whether or not it survives compilation). One violation per cycle, on its first file.
 */
export function importCycles(files: SourceFile[]): Violation[] {
  const prod = new Set(files.filter((f) => isProduction(f.path)).map((f) => f.path));
  const edges = new Map<string, string[]>();
  for (const f of files) {
    if (!prod.has(f.path)) continue;
    edges.set(
      f.path,
      importsOf(f.source)
        .filter((i) => i.specifier.startsWith('.'))
        .map((i) => resolveRelative(f.path, i.specifier))
        .filter((t) => prod.has(t)),
    );
  }
  // Tarjan's strongly connected components: any component of two or more files is a cycle.
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const cycles: string[][] = [];
  const visit = (v: string) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        on.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1) cycles.push(scc.sort());
    }
  };
  for (const v of edges.keys()) if (!idx.has(v)) visit(v);
  return cycles.map((c) => ({
    path: c[0]!,
    line: 1,
    specifier: c.slice(1).join(', '),
    rule: `import cycle between ${c.join(' <-> ')} (split the shared part into its own module)`,
  }));
}

export function checkBoundaries(files: SourceFile[]): Violation[] {
  return [...files.flatMap(checkFile), ...importCycles(files)];
}

export function formatViolation(v: Violation): string {
  return `${v.path}:${v.line}: import '${v.specifier}': ${v.rule}`;
}

/** Paths of the repository's files as git knows them (tracked and new, not ignored), matching `pathspec`. */
export function repoPaths(root: string, ...pathspec: string[]): string[] {
  const list = execFileSync(
    'git',
    ['ls-files', '-z', '--cached', '--others', '--exclude-standard', ...pathspec],
    {
      cwd: root,
      encoding: 'utf8',
    },
  );
  return list.split('\0').filter((p) => p && !p.includes('node_modules/'));
}

/** The repository's TypeScript files as git knows them (tracked and new, not ignored). */
export function repoFiles(root: string): SourceFile[] {
  return repoPaths(root, '*.ts')
    .filter((p) => !p.startsWith('scripts/fixtures/'))
    .map((path) => ({ path, source: readFileSync(join(root, path), 'utf8') }));
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const files = repoFiles(root);
  const violations = checkBoundaries(files);
  for (const v of violations) console.error(formatViolation(v));
  console.error(`boundaries: ${files.length} files, ${violations.length} violation(s)`);
  process.exit(violations.length ? 1 : 0);
}
