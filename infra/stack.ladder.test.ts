/**
 * The capacity ladder reaches the workflow as GPU_LADDER, with the boot disk type, once the pipeline
 * reads them: a copy of workflows/pipeline.yaml that reads both stands in for the pipeline's side, and
 * the stack must then fit Cloud Workflows' 20 variables with every optional key set.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { PIPELINE_PATH, requirePipeline, runStack, type StackRun } from './testing/stack-harness.ts';

let run: StackRun;

beforeAll(async () => {
  requirePipeline();
  const source = join(mkdtempSync(join(tmpdir(), 'droptune-ladder-')), 'pipeline.yaml');
  const reads = ['GPU_LADDER', 'BOOT_DISK_TYPE', 'MACHINE_TYPE', 'GPU_TYPE', 'GPU_COUNT'];
  writeFileSync(
    source,
    `${readFileSync(PIPELINE_PATH, 'utf8')}\n${reads.map((n) => `# \${sys.get_env("${n}")}`).join('\n')}\n`,
  );
  run = await runStack(
    {
      'gcp:project': 'acme-ml-prod',
      'droptune:functionsBundleDir': '/nonexistent',
      'droptune:pipelineFile': source,
      'droptune:gpuLadder': '["nvidia-l4:g2-standard-8","nvidia-tesla-t4:n1-standard-8"]',
      'droptune:vmImage': 'projects/acme-ml-prod/global/images/trainer-base',
      'droptune:secureBoot': 'true',
    },
    true,
  );
});

it('passes the ladder as JSON and the boot disk type, not the one-rung shape it replaces', () => {
  const [wf] = run.ofType('gcp:workflows/workflow:Workflow');
  const env = wf!.inputs.userEnvVars as Record<string, string>;
  expect(JSON.parse(env.GPU_LADDER!)).toEqual([
    { gpuType: 'nvidia-l4', machineType: 'g2-standard-8', gpuCount: 1, memoryGb: 24 },
    { gpuType: 'nvidia-tesla-t4', machineType: 'n1-standard-8', gpuCount: 1, memoryGb: 16 },
  ]);
  expect(env.BOOT_DISK_TYPE).toBe('pd-balanced');
  expect(env.GPU_COUNT).toBe('1');
  expect(env).not.toHaveProperty('MACHINE_TYPE');
  expect(env).not.toHaveProperty('GPU_TYPE');
  expect(Object.keys(env).length).toBeLessThanOrEqual(20);
});
