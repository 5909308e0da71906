/**
 * Runs the real Pulumi program (`infra/index.ts`) against the mock cloud and returns what it
 * registered and exported. One call per process: Pulumi's runtime state is global.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as pulumi from '@pulumi/pulumi';
import { checkAll, STACK_POLICIES, type Violation, workflowSourceMatches } from '../policies/policies.ts';
import { workflowVmsPrivateAndShielded } from '../policies/workflow-vms.ts';
import { installMocks, type MockedResource, settle } from './mock-cloud.ts';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const PIPELINE_PATH = join(REPO_ROOT, 'workflows', 'pipeline.yaml');

export interface StackRun {
  resources: MockedResource[];
  outputs: Record<string, unknown>;
  /** Resources of one type token. */
  ofType(type: string): MockedResource[];
  /** Every stack policy, the trainer-VM check on the workflow, and the source check against workflows/pipeline.yaml. */
  violations(): Violation[];
}

/** Fails with the reason when the pipeline definition (owned by the workflows part) is absent. */
export function requirePipeline(): void {
  if (!existsSync(PIPELINE_PATH)) {
    throw new Error(
      `${PIPELINE_PATH} is missing: the stack deploys that file as the workflow source, so these tests need it`,
    );
  }
}

export async function runStack(config: Record<string, string>, preview: boolean): Promise<StackRun> {
  const resources = installMocks({ preview, config });
  const mod = (await import('../index.ts')) as Record<string, unknown>;
  const outputs: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(mod)) {
    outputs[k] = pulumi.Output.isInstance(v)
      ? await new Promise((r) => (v as pulumi.Output<unknown>).apply(r))
      : v;
  }
  await settle();
  return {
    resources,
    outputs,
    ofType: (type) => resources.filter((r) => r.type === type),
    violations: () =>
      checkAll(resources, [...Object.values(STACK_POLICIES), workflowSourceMatches(PIPELINE_PATH)]),
  };
}
