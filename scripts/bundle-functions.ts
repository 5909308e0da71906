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
 * Usage: `npm run bundle:functions [-- --out dist/functions]`
 */
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

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

/** Packages that must not be inlined: the framework (see above) and optional native add-ons never used. */
const EXTERNAL = ['@google-cloud/functions-framework', 'pg-native'];

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
): Promise<BundleResult[]> {
  const results: BundleResult[] = [];
  for (const fn of entries) {
    const entry = resolve(REPO_ROOT, fn.entry);
    if (!existsSync(entry)) throw new Error(`function entry ${fn.entry} not found (bundle ${fn.name})`);
    const dir = resolve(outRoot, fn.name);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    await build({
      entryPoints: [entry],
      outfile: join(dir, 'index.js'),
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'esm',
      external: EXTERNAL,
      sourcemap: 'linked',
      legalComments: 'linked',
      logLevel: 'warning',
      // CommonJS dependencies (pg, google-auth-library) call require(); give the ESM bundle one.
      banner: {
        js: "import { createRequire as __droptuneCreateRequire } from 'node:module';\nconst require = __droptuneCreateRequire(import.meta.url);",
      },
    });
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
      engines: { node: '20' },
      dependencies: {
        '@google-cloud/functions-framework': rootDependencyVersion('@google-cloud/functions-framework'),
      },
    };
    writeFileSync(join(dir, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
    results.push({ name: fn.name, dir, bytes: statSync(join(dir, 'index.js')).size });
  }
  return results;
}

async function main(): Promise<void> {
  const i = process.argv.indexOf('--out');
  const out = resolve(REPO_ROOT, i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : 'dist/functions');
  for (const r of await bundleFunctions(out)) {
    console.log(`${r.name}: ${r.dir}/index.js ${(r.bytes / 1024).toFixed(0)} KiB`);
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err: unknown) => {
    console.error(`bundle-functions: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
}
