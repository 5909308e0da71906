/**
 * Pulumi.yaml runs infra/ the way it says: node with the configured nodeargs loads the whole ESM
 * TypeScript module graph of infra/index.ts (the Pulumi CLI itself is not installable here, so
 * this is as close to `pulumi preview` as a test can get without it).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { REPO_ROOT } from './program.ts';

const project = parse(readFileSync(join(REPO_ROOT, 'Pulumi.yaml'), 'utf8')) as {
  name: string;
  main: string;
  runtime: { name: string; options: { typescript: boolean; nodeargs: string } };
};

describe('Pulumi.yaml', () => {
  it('points at infra/ with an index.ts entry and no index.js that Pulumi would prefer', () => {
    expect(project.name).toBe('droptune');
    expect(project.main).toBe('infra/');
    expect(existsSync(join(REPO_ROOT, project.main, 'index.ts'))).toBe(true);
    expect(existsSync(join(REPO_ROOT, project.main, 'index.js'))).toBe(false);
    expect(project.runtime).toMatchObject({ name: 'nodejs', options: { typescript: false } });
  });

  it('loads the whole program graph with its nodeargs (reaching the config check)', () => {
    const entry = pathToFileURL(join(REPO_ROOT, project.main, 'index.ts')).href;
    const res = spawnSync(
      process.execPath,
      [
        ...project.runtime.options.nodeargs.split(' '),
        '--input-type=module',
        '-e',
        `await import(${JSON.stringify(entry)})`,
      ],
      { cwd: REPO_ROOT, encoding: 'utf8', timeout: 60_000, env: { ...process.env, PULUMI_CONFIG: '{}' } },
    );
    expect(res.stderr).toContain('invalid droptune stack config:\n  project: set gcp:project');
  });
});
