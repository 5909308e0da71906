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

  it('passes exactly the names the source reads', () => {
    const env = selectWorkflowEnv(source, {
      DROPTUNE_API_URL: 'https://api',
      DATASETS_BUCKET: 'b',
      ZONES: 'z',
    });
    expect(env).toEqual({ DROPTUNE_API_URL: 'https://api', DATASETS_BUCKET: 'b' });
  });

  it('fails naming a variable the stack cannot supply', () => {
    expect(() => selectWorkflowEnv(source, { DROPTUNE_API_URL: 'x' }, 'pipeline.yaml')).toThrow(
      /pipeline.yaml reads sys.get_env\("DATASETS_BUCKET"\) but the stack supplies no such variable; known: DROPTUNE_API_URL/,
    );
  });

  it('fails when the source needs more than Cloud Workflows allows', () => {
    const names = Array.from({ length: 21 }, (_, i) => `V${i}`);
    const big = names.map((n) => `\${sys.get_env("${n}")}`).join('\n');
    expect(() => selectWorkflowEnv(big, Object.fromEntries(names.map((n) => [n, '1'])))).toThrow(
      /reads 21 environment variables; .* allows 20/,
    );
  });

  it('refuses a missing source file by path', () => {
    const p = join(mkdtempSync(join(tmpdir(), 'droptune-wf-')), 'pipeline.yaml');
    expect(() => readWorkflowSource(p)).toThrow(`workflow source ${p} not found`);
  });
});
