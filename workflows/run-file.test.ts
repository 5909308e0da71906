import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { parseRunFileArgv, runWorkflowFile } from './run-file.ts';

// `npm run workflow:run -- <file> --args <json>`: one JSON document on stdout, exit 0 or 1.
const dir = mkdtempSync(join(tmpdir(), 'droptune-runfile-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};
const double = file(
  'double.yaml',
  'main:\n  params: [args]\n  steps:\n    - r:\n        return: ${args.x * 2 + len(sys.get_env("WHO"))}\n',
);

describe('workflow run', () => {
  it('runs a file with --args and --env as a child process: {"result"} and exit 0', async () => {
    const run = promisify(execFile);
    const tsx = resolve(import.meta.dirname, '../node_modules/.bin/tsx');
    const { stdout } = await run(tsx, [
      resolve(import.meta.dirname, 'run-file.ts'),
      double,
      '--args',
      '{"x": 20}',
      '--env',
      'WHO=ab',
    ]);
    expect(JSON.parse(stdout)).toEqual({ result: 42 });
  });

  it('prints {"error": {tags, message}} and exits 1 when the workflow raises', async () => {
    const run = promisify(execFile);
    const tsx = resolve(import.meta.dirname, '../node_modules/.bin/tsx');
    const err = await run(tsx, [resolve(import.meta.dirname, 'run-file.ts'), double]).catch(
      (e) => e as { code: number; stdout: string },
    );
    expect((err as { code: number }).code).toBe(1);
    expect(JSON.parse((err as { stdout: string }).stdout)).toEqual({
      error: { tags: ['TypeError'], message: 'cannot read key "x" of null' },
    });
  });

  it('reports load errors with their line', async () => {
    const bad = file('bad.yaml', '- a:\n    parallel:\n      branches: []\n');
    expect(await runWorkflowFile(bad)).toEqual({
      ok: false,
      error: {
        tags: ['LoadError'],
        line: 2,
        message: expect.stringMatching(/^line 2: parallel steps are not supported/),
      },
    });
  });

  it('keeps raised strings and tagless maps readable', async () => {
    expect(await runWorkflowFile(file('s.yaml', '- a:\n    raise: boom\n'))).toEqual({
      ok: false,
      error: { tags: [], message: 'boom' },
    });
    expect(await runWorkflowFile(file('m.yaml', '- a:\n    raise: {code: 7}\n'))).toEqual({
      ok: false,
      error: { code: 7, tags: [], message: '{"code":7}' },
    });
  });

  it('answers the built-in variables from flags or the environment (flags win)', async () => {
    const run = promisify(execFile);
    const tsx = resolve(import.meta.dirname, '../node_modules/.bin/tsx');
    const names = ['PROJECT_ID', 'LOCATION', 'WORKFLOW_ID', 'WORKFLOW_REVISION_ID', 'WORKFLOW_EXECUTION_ID'];
    const builtins = file(
      'builtins.yaml',
      `- r:\n    return: \${[${names.map((n) => `sys.get_env("GOOGLE_CLOUD_${n}")`).join(', ')}]}\n`,
    );
    const { stdout } = await run(
      tsx,
      [
        resolve(import.meta.dirname, 'run-file.ts'),
        builtins,
        '--location',
        'europe-west4',
        '--workflow-id',
        'droptune-pipeline',
        '--execution-id',
        'e-42',
      ],
      { env: { ...process.env, GOOGLE_CLOUD_PROJECT_ID: 'my-project', GOOGLE_CLOUD_LOCATION: 'us-east1' } },
    );
    expect(JSON.parse(stdout)).toEqual({
      result: ['my-project', 'europe-west4', 'droptune-pipeline', '000001-local', 'e-42'],
    });
    expect(() => parseRunFileArgv(['f.yaml', '--project'])).toThrow(/--project needs a value/);
  });

  it('rejects bad command lines with a usage message', () => {
    expect(() => parseRunFileArgv([])).toThrow(/usage: workflow run <file.yaml>/);
    expect(() => parseRunFileArgv(['f.yaml', '--args', '{bad'])).toThrow(/--args is not valid JSON/);
    expect(() => parseRunFileArgv(['f.yaml', '--env', 'NOEQUALS'])).toThrow(/--env expects KEY=VALUE/);
    expect(parseRunFileArgv(['f.yaml', '--env', 'A=b=c'])).toEqual({
      file: 'f.yaml',
      args: undefined,
      env: { A: 'b=c' },
    });
  });
});
