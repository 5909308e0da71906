/**
 * Bundles the real functions and loads each bundle in a fresh Node process the way the Cloud
 * Functions runtime does (ESM import, then the framework looks the entry point up), so a bundle
 * that throws at import (`__dirname is not defined`, a missing descriptor file) fails here.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FUNCTIONS } from '../infra/components/functions.ts';
import { type BundleResult, bundleFunctions, FUNCTION_ENTRIES, REPO_ROOT } from './bundle-functions.ts';

// Inside the repository, so the bundles resolve the framework from the repo's node_modules.
mkdirSync(join(REPO_ROOT, 'dist'), { recursive: true });
const out = mkdtempSync(join(REPO_ROOT, 'dist', '.bundle-test-'));
let results: BundleResult[];

beforeAll(async () => {
  results = await bundleFunctions(out);
}, 120_000);
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('bundle-functions', () => {
  it('bundles exactly the functions infra deploys', () => {
    expect(FUNCTION_ENTRIES.map((f) => f.name).sort()).toEqual(
      Object.values(FUNCTIONS)
        .map((f) => f.folder)
        .sort(),
    );
    expect(results.map((r) => r.name).sort()).toEqual(FUNCTION_ENTRIES.map((f) => f.name).sort());
  });

  it.each(Object.values(FUNCTIONS))(
    '$folder loads as ESM and registers $entryPoint',
    ({ folder, entryPoint }) => {
      const probe = join(out, `probe-${folder}.mjs`);
      writeFileSync(
        probe,
        [
          "import { getFunction } from '@google-cloud/functions-framework/testing';",
          `await import(${JSON.stringify(join(out, folder, 'index.js'))});`,
          `const fn = getFunction(${JSON.stringify(entryPoint)});`,
          "process.stdout.write(typeof fn === 'function' ? 'registered' : 'missing');",
        ].join('\n'),
      );
      const stdout = execFileSync(process.execPath, [probe], {
        encoding: 'utf8',
        timeout: 60_000,
        env: { ...process.env, NODE_ENV: 'production' },
      });
      expect(stdout).toBe('registered');
    },
  );

  it('writes a package.json that installs the framework the runtime shares', () => {
    for (const r of results) {
      const pkg = JSON.parse(readFileSync(join(r.dir, 'package.json'), 'utf8'));
      expect(pkg).toMatchObject({ type: 'module', main: 'index.js', engines: { node: '22' } });
      expect(Object.keys(pkg.dependencies)).toContain('@google-cloud/functions-framework');
      expect(readFileSync(join(r.dir, 'index.js'), 'utf8')).not.toMatch(
        /from\s*["']@google-cloud\/functions-framework\/testing/,
      );
    }
  });

  it('fails naming a missing entry', async () => {
    await expect(bundleFunctions(out, [{ name: 'nope', entry: 'functions/nope.ts' }])).rejects.toThrow(
      'function entry functions/nope.ts not found (bundle nope)',
    );
  });
});
