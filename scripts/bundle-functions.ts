/**
 * Bundles each Cloud Function into `dist/functions/<name>/` — one ESM `index.js` (all of the
 * repo's TypeScript and npm dependencies inlined) plus a `package.json` — which `infra/` zips
 * and uploads as the function source. A single file keeps the upload small and cold starts fast
 * (no `node_modules` tree to read at start).
 *
 * `@google-cloud/functions-framework` stays external and is listed as the one dependency: the
 * Cloud Functions runtime loads the module through its own copy of the framework, and the
 * function must register on that same copy's registry (a bundled second copy would register on
 * a registry nobody reads). Assets a function reads from disk at run time (migrations, the web
 * page) are copied beside the bundle.
 *
 * Usage: `npm run bundle:functions [-- --out dist/functions] [--sourcemap]`
 */
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { FUNCTIONS_NODE_MAJOR } from '../infra/data/function-runtimes.ts';

export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

export interface FunctionEntry {
  /** Folder under the output root; must match `infra/components/functions.ts`. */
  name: string;
  /** Entry module (repo-relative) that registers the function with the framework. */
  entry: string;
  /** Repo-relative files or folders copied into the bundle folder at the same relative path. */
  assets?: string[];
}

export const FUNCTION_ENTRIES: FunctionEntry[] = [
  { name: 'on-dataset-uploaded', entry: 'functions/on-dataset-uploaded.ts' },
  { name: 'control-api', entry: 'functions/control-api.ts' },
];

/**
 * Packages installed at deploy time instead of inlined: the framework (see above) and gRPC clients
 * (google-gax) that load their .proto/.json descriptors from their own package folder at run time.
 * Only those a bundle actually imports go into its package.json.
 */
export const INSTALLED = ['@google-cloud/functions-framework', '@google-cloud/workflows'];
/** Optional native add-ons that are never used (pg falls back to its JS client). */
const IGNORED = ['pg-native'];

export interface BundleResult {
  name: string;
  dir: string;
  bytes: number;
}

function rootDependencyVersion(pkg: string): string {
  const root = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
    dependencies?: Record<string, string>;
  };
  const v = root.dependencies?.[pkg];
  if (!v) throw new Error(`${pkg} is not a dependency in the root package.json`);
  return v;
}

/** Builds every entry into `<outRoot>/<name>/`; throws naming the entry when one is missing. */
export async function bundleFunctions(
  outRoot: string,
  entries: FunctionEntry[] = FUNCTION_ENTRIES,
  { sourcemap = false }: { sourcemap?: boolean } = {},
): Promise<BundleResult[]> {
  const results: BundleResult[] = [];
  for (const fn of entries) {
    const entry = resolve(REPO_ROOT, fn.entry);
    if (!existsSync(entry)) throw new Error(`function entry ${fn.entry} not found (bundle ${fn.name})`);
    const dir = resolve(outRoot, fn.name);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const result = await build({
      entryPoints: [entry],
      outfile: join(dir, 'index.js'),
      bundle: true,
      platform: 'node',
      // The deployed runtime's Node, from the one table infra deploys with (local dev runs on Node >= 20).
      target: `node${FUNCTIONS_NODE_MAJOR}`,
      format: 'esm',
      external: [...INSTALLED, ...IGNORED],
      metafile: true,
      // Minified with names kept: a third of the size, stack traces still name functions and classes.
      minify: true,
      keepNames: true,
      sourcemap: sourcemap ? 'linked' : false,
      legalComments: 'linked',
      logLevel: 'warning',
      // CommonJS code inlined here may use require, __dirname and __filename; ESM has none of them.
      banner: {
        js: [
          "import { createRequire as __dtRequire } from 'node:module';",
          "import { fileURLToPath as __dtPath } from 'node:url';",
          "import { dirname as __dtDir } from 'node:path';",
          'const require = __dtRequire(import.meta.url);',
          'const __filename = __dtPath(import.meta.url);',
          'const __dirname = __dtDir(__filename);',
        ].join('\n'),
      },
    });
    const imports = new Set(
      Object.values(result.metafile.inputs).flatMap((i) =>
        i.imports.filter((x) => x.external).map((x) => x.path),
      ),
    );
    for (const asset of fn.assets ?? []) {
      const src = resolve(REPO_ROOT, asset);
      if (!existsSync(src)) throw new Error(`asset ${asset} of ${fn.name} not found`);
      cpSync(src, join(dir, asset), { recursive: true });
    }
    const pkg = {
      name: `droptune-${fn.name}`,
      version: '0.0.0',
      private: true,
      type: 'module',
      main: 'index.js',
      engines: { node: String(FUNCTIONS_NODE_MAJOR) },
      dependencies: Object.fromEntries(
        INSTALLED.filter((p) => p === '@google-cloud/functions-framework' || imports.has(p)).map((p) => [
          p,
          rootDependencyVersion(p),
        ]),
      ),
    };
    writeFileSync(join(dir, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
    results.push({ name: fn.name, dir, bytes: statSync(join(dir, 'index.js')).size });
  }
  return results;
}

async function main(): Promise<void> {
  const i = process.argv.indexOf('--out');
  const out = resolve(REPO_ROOT, i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : 'dist/functions');
  for (const r of await bundleFunctions(out, FUNCTION_ENTRIES, {
    sourcemap: process.argv.includes('--sourcemap'),
  })) {
    console.log(`${r.name}: ${r.dir}/index.js ${(r.bytes / 1024).toFixed(0)} KiB`);
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err: unknown) => {
    console.error(`bundle-functions: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
}
