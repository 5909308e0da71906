/**
 * Dependencies true to use: what production code imports is a `dependency` (so `npm ci
 * --omit=dev` then `droptune up` works), and every dependency is imported by something (nothing
 * installed for nobody). infra/ is exempt from the first rule: operators run the Pulumi program
 * from a full install (`npm ci`), and its @pulumi/* packages are devDependencies on purpose.
 */
import { readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importsOf, isProduction, repoFiles } from './check-boundaries.ts';

const root = new URL('..', import.meta.url).pathname;
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};
const builtins = new Set(builtinModules);
const packageOf = (s: string) => (s.startsWith('@') ? s.split('/').slice(0, 2).join('/') : s.split('/')[0]!);
const bare = (s: string) => !s.startsWith('.') && !s.startsWith('node:') && !builtins.has(packageOf(s));

/** Imports that are types only vanish at run time and need no installed package. */
function runtimeImports(source: string): string[] {
  const typeOnly = new Set(
    [...source.matchAll(/import\s+type\s[^'"]*from\s*['"]([^'"]+)['"]/g)].map((m) => m[1]!),
  );
  return importsOf(source)
    .map((i) => i.specifier)
    .filter((s) => bare(s) && !typeOnly.has(s));
}

describe('package.json dependencies', () => {
  const files = repoFiles(root);

  it('hold every package production code imports (npm ci --omit=dev runs droptune up)', () => {
    const missing = files
      .filter((f) => isProduction(f.path) && !f.path.startsWith('infra/'))
      .flatMap((f) => runtimeImports(f.source).map((s) => ({ path: f.path, pkg: packageOf(s) })))
      .filter(({ pkg: p }) => !(p in pkg.dependencies))
      .map(
        ({ path, pkg: p }) =>
          `${path} imports ${p}, a ${p in pkg.devDependencies ? 'devDependency' : 'package not in package.json'}`,
      );
    expect([...new Set(missing)]).toEqual([]);
  });

  it('are each used by something', () => {
    const js = files.map((f) => f.source).join('\n') + readFileSync(join(root, 'cli/bin.js'), 'utf8');
    const scripts = Object.values(
      (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> })
        .scripts,
    ).join('\n');
    const used = new Set(importsOf(js).map((i) => packageOf(i.specifier)));
    const unused = Object.keys(pkg.dependencies).filter((d) => !used.has(d) && !scripts.includes(d));
    expect(unused).toEqual([]);
  });
});
