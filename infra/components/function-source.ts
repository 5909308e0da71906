/**
 * Turns a bundle written by `scripts/bundle-functions.ts` into a Pulumi archive plus a
 * content-addressed object name (a new bundle gets a new object, which is what makes Cloud
 * Functions rebuild).
 *
 * Missing bundle: a preview still constructs (with a placeholder archive and a warning), so
 * `pulumi preview` works on a fresh clone; an update (`pulumi up`) refuses with the command to run,
 * because deploying a placeholder would replace a working function with a broken one.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import * as pulumi from '@pulumi/pulumi';

export interface FunctionSource {
  archive: pulumi.asset.Archive;
  /** `<function>-<sha256 prefix>.zip` */
  objectName: string;
  /** True when the bundle was missing and a placeholder stands in (preview only). */
  placeholder: boolean;
}

function listFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? listFiles(join(dir, e.name)) : [join(dir, e.name)]))
    .sort();
}

/** sha256 over every file's relative path and bytes, in sorted order: stable across machines. */
export function hashDirectory(dir: string): string {
  const h = createHash('sha256');
  for (const file of listFiles(dir)) {
    h.update(relative(dir, file));
    h.update('\0');
    h.update(readFileSync(file));
    h.update('\0');
  }
  return h.digest('hex');
}

/**
 * @param bundleRoot directory holding one folder per function (`dist/functions`)
 * @param functionName folder name, e.g. `on-dataset-uploaded`
 * @param dryRun whether this is a preview (placeholder allowed) or an update (bundle required)
 */
export function functionSource(bundleRoot: string, functionName: string, dryRun: boolean): FunctionSource {
  const dir = join(bundleRoot, functionName);
  const complete =
    existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'index.js')) && statSync(dir).isDirectory();
  if (complete) {
    return {
      archive: new pulumi.asset.FileArchive(dir),
      objectName: `${functionName}-${hashDirectory(dir).slice(0, 16)}.zip`,
      placeholder: false,
    };
  }
  const why = `function bundle ${dir} is missing (needs package.json and index.js); run \`npm run bundle:functions\``;
  if (!dryRun) throw new Error(`${why} before \`pulumi up\``);
  pulumi.log.warn(`${why}; previewing with a placeholder source`);
  return {
    archive: new pulumi.asset.AssetArchive({
      'index.js': new pulumi.asset.StringAsset(
        "throw new Error('placeholder: run npm run bundle:functions');\n",
      ),
      'package.json': new pulumi.asset.StringAsset('{"name":"placeholder","main":"index.js"}\n'),
    }),
    objectName: `${functionName}-placeholder.zip`,
    placeholder: true,
  };
}
