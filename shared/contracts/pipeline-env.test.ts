import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { localPipelineEnv } from '../../cli/local-stack/stack.ts';
import { EnvSchema } from '../config.ts';
import { envValueFits, PIPELINE_ENV } from './pipeline-env.ts';

const YAML = readFileSync(new URL('../../workflows/pipeline.yaml', import.meta.url), 'utf8');

/** Every `sys.get_env("NAME")` of the YAML, with the literal default beside it when it has one. */
function envReads(source: string): Map<string, Set<string | null>> {
  const reads = new Map<string, Set<string | null>>();
  for (const m of source.matchAll(
    /sys\.get_env\(\s*"([A-Za-z_][A-Za-z0-9_]*)"\s*\)(\s*,\s*"([^"]*)"\s*\))?/g,
  )) {
    const name = m[1]!;
    if (name.startsWith('GOOGLE_CLOUD_')) continue; // Cloud Workflows' built-ins
    const defaults = reads.get(name) ?? new Set<string | null>();
    defaults.add(m[2] === undefined ? null : m[3]!);
    reads.set(name, defaults);
  }
  return reads;
}

describe('the pipeline environment table', () => {
  const reads = envReads(YAML);
  const table = new Map(PIPELINE_ENV.map((v) => [v.name, v]));

  it('names every variable pipeline.yaml reads, and nothing else', () => {
    expect([...reads.keys()].sort()).toEqual([...table.keys()].sort());
  });

  it.each(PIPELINE_ENV.filter((v) => v.default !== null))(
    '$name: the YAML default is the table default',
    (v) => {
      expect([...reads.get(v.name)!].filter((d) => d !== null)).toEqual([v.default]);
      expect(envValueFits(v.type, v.default!), `${v.default} is not a ${v.type}`).toBe(true);
    },
  );

  it('gives every variable without a literal default a derived one or makes it required', () => {
    for (const v of PIPELINE_ENV.filter((x) => x.default === null)) {
      expect(v.required || v.derivedDefault !== undefined, v.name).toBe(true);
    }
  });

  it('has one storage-scheme variable, the one the functions read (STORAGE_SCHEME is gone)', () => {
    expect(YAML).not.toContain('STORAGE_SCHEME');
    expect(table.get('DROPTUNE_STORAGE')).toBeDefined();
    expect(EnvSchema.shape.DROPTUNE_STORAGE.unwrap().options).toContain(
      table.get('DROPTUNE_STORAGE')!.default,
    );
  });

  it('is what the local stack passes: known names, values of the right type, every required one', () => {
    const env = localPipelineEnv('http://127.0.0.1:1/', 'models', {});
    for (const [k, v] of Object.entries(env)) {
      expect(table.has(k), `the local stack passes ${k}, which pipeline.yaml does not read`).toBe(true);
      expect(envValueFits(table.get(k)!.type, v), `${k}=${v}`).toBe(true);
    }
    for (const v of PIPELINE_ENV.filter((x) => x.required)) expect(env[v.name], v.name).toBeTruthy();
    expect(env.DROPTUNE_STORAGE).toBe('file');
  });

  it('reads the gate settings under the names droptune.json offers', () => {
    for (const name of ['minAccuracy', 'minMacroF1', 'maxRegression']) {
      expect(YAML).toContain(`map.get(gate, "${name}")`);
    }
    expect(YAML).not.toMatch(/\["gate", "(metric|min|margin)"\]/);
  });
});
