/**
 * Bundles the no-code page into `web/dist/` with esbuild: one `app.js` (uPlot and zod included),
 * one `app.css`, and `index.html`. Nothing is fetched from a CDN, so the page works offline.
 *
 * The control API serves `WEB_DIST_DIR` under `/` (its `webRoot` option). `ensureWebBuilt()`
 * rebuilds only when a source file is newer than the bundle, so `droptune up` and the browser
 * tests can call it every time (a cold build takes well under a second).
 */
import { copyFile, mkdir, readdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
/** Where the page's sources live. */
export const WEB_SOURCE_DIR = join(here, 'src');
/** Where the bundle goes: pass this as the control API's `webRoot`. */
export const WEB_DIST_DIR = join(here, 'dist');

export interface BuildWebOptions {
  /** Output folder (default `WEB_DIST_DIR`). */
  outDir?: string;
  /** Minify (default true: the bundle is what people download). */
  minify?: boolean;
}

/** Builds the page and returns the output folder. Throws with esbuild's messages on a type-free syntax error. */
export async function buildWeb(options: BuildWebOptions = {}): Promise<string> {
  const outDir = options.outDir ?? WEB_DIST_DIR;
  await mkdir(outDir, { recursive: true });
  await build({
    entryPoints: { app: join(WEB_SOURCE_DIR, 'main.ts') },
    bundle: true,
    format: 'esm',
    target: 'es2022',
    platform: 'browser',
    outdir: outDir,
    minify: options.minify ?? true,
    sourcemap: true,
    legalComments: 'linked',
    logLevel: 'silent',
  });
  await copyFile(join(here, 'index.html'), join(outDir, 'index.html'));
  return outDir;
}

/** Builds when the bundle is missing or older than any source file; returns `WEB_DIST_DIR`. */
export async function ensureWebBuilt(): Promise<string> {
  const built = await stat(join(WEB_DIST_DIR, 'app.js')).catch(() => undefined);
  if (built && (await newestSource()) <= built.mtimeMs) return WEB_DIST_DIR;
  return buildWeb();
}

async function newestSource(): Promise<number> {
  let newest = (await stat(join(here, 'index.html'))).mtimeMs;
  for (const entry of await readdir(WEB_SOURCE_DIR, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const s = await stat(join(entry.parentPath, entry.name));
    newest = Math.max(newest, s.mtimeMs);
  }
  return newest;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const out = await buildWeb();
  console.error(`web page built into ${out}`);
}
