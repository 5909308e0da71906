import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { envNamesRead, readWorkflowSource, selectWorkflowEnv } from './workflow.ts';

const source = `main:
  steps:
    - init:
        assign:
          - api: \${sys.get_env("DROPTUNE_API_URL")}
          - bucket: \${sys.get_env('DATASETS_BUCKET')}
          - again: \${sys.get_env("DROPTUNE_API_URL")}
          - project: \${sys.get_env("GOOGLE_CLOUD_PROJECT_ID")}
`;

describe('workflow env', () => {
  it('finds each name the source reads once, without built-ins', () => {
    expect(envNamesRead(source)).toEqual(['DATASETS_BUCKET', 'DROPTUNE_API_URL']);
  });

  it('passes only the supplied names the source reads', () => {
    const env = selectWorkflowEnv(source, { DROPTUNE_API_URL: 'https://api', ZONES: 'z' }, [
      'DROPTUNE_API_URL',
    ]);
    expect(env).toEqual({ DROPTUNE_API_URL: 'https://api' });
  });

  it('fails naming a required variable the source does not read', () => {
    expect(() =>
      selectWorkflowEnv(
        source,
        { MODELS_BUCKET: 'm' },
        ['MODELS_BUCKET', 'DROPTUNE_API_URL'],
        'pipeline.yaml',
      ),
    ).toThrow(
      'pipeline.yaml does not read sys.get_env("MODELS_BUCKET"), which the stack must deliver; it reads: DATASETS_BUCKET, DROPTUNE_API_URL',
    );
  });

  it('fails when more than Cloud Workflows allows would be passed', () => {
    const names = Array.from({ length: 21 }, (_, i) => `V${i}`);
    const big = names.map((n) => `\${sys.get_env("${n}")}`).join('\n');
    const supplied = Object.fromEntries(names.map((n) => [n, '1']));
    expect(() => selectWorkflowEnv(big, supplied)).toThrow(/21 workflow environment variables .*allows 20/);
    expect(Object.keys(selectWorkflowEnv(big, { V1: '1', V2: '2' }))).toEqual(['V1', 'V2']);
  });

  it('refuses a missing source file by path', () => {
    const p = join(mkdtempSync(join(tmpdir(), 'droptune-wf-')), 'pipeline.yaml');
    expect(() => readWorkflowSource(p)).toThrow(`workflow source ${p} not found`);
  });
});

describe('superseded variables', () => {
  const ladder = `x: \${sys.get_env("GPU_LADDER")}\ny: \${sys.get_env("MACHINE_TYPE")}\n`;
  const old = `y: \${sys.get_env("MACHINE_TYPE")}\n`;
  const supplied = { GPU_LADDER: '[]', MACHINE_TYPE: 'g2-standard-8' };
  const superseded = { MACHINE_TYPE: 'GPU_LADDER' };

  it('drops a variable when the source reads its replacement', () => {
    expect(selectWorkflowEnv(ladder, supplied, [], 'p', superseded)).toEqual({ GPU_LADDER: '[]' });
  });

  it('keeps it for a source that predates the replacement', () => {
    expect(selectWorkflowEnv(old, supplied, [], 'p', superseded)).toEqual({ MACHINE_TYPE: 'g2-standard-8' });
  });
});
