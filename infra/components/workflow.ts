/**
 * The pipeline: `gcp.workflows.Workflow` whose source is `workflows/pipeline.yaml` read from disk,
 * byte for byte (one source of truth: the local Workflows runtime executes the same file).
 *
 * Its environment is derived from the file itself: every `sys.get_env("NAME")` the YAML reads must
 * have a value here, and only those are passed, so a renamed variable fails `pulumi preview` instead
 * of the first run in the cloud. Cloud Workflows allows at most 20 user variables and reserves the
 * `GOOGLE_` and `WORKFLOWS_` prefixes (its built-ins such as GOOGLE_CLOUD_PROJECT_ID need no value).
 */
import { existsSync, readFileSync } from 'node:fs';
import * as gcp from '@pulumi/gcp';
import * as pulumi from '@pulumi/pulumi';
import { childOptions } from './child-options.ts';

export const MAX_WORKFLOW_ENV_VARS = 20;

/** Names a workflow source reads with `sys.get_env("…")` (single or double quotes), without built-ins. */
export function envNamesRead(source: string): string[] {
  const names = new Set<string>();
  for (const m of source.matchAll(/sys\.get_env\(\s*["']([A-Za-z_][A-Za-z0-9_]*)["']/g)) {
    const n = m[1]!;
    if (!n.startsWith('GOOGLE_') && !n.startsWith('WORKFLOWS_')) names.add(n);
  }
  return [...names].sort();
}

/** Reads the workflow source as text; a missing file is an error naming the path (no fallback). */
export function readWorkflowSource(path: string): string {
  if (!existsSync(path))
    throw new Error(`workflow source ${path} not found: the pipeline definition is required to deploy`);
  return readFileSync(path, 'utf8');
}

/**
 * Picks the variables the source reads from everything the stack can supply.
 * Throws when the source reads a name the stack cannot supply, or needs more than 20.
 */
export function selectWorkflowEnv<T>(
  source: string,
  available: Record<string, T>,
  sourcePath = 'workflow source',
): Record<string, T> {
  const wanted = envNamesRead(source);
  const unknown = wanted.filter((n) => !(n in available));
  if (unknown.length > 0) {
    throw new Error(
      `${sourcePath} reads sys.get_env(${unknown.map((n) => `"${n}"`).join(', ')}) but the stack supplies no such variable; ` +
        `known: ${Object.keys(available).sort().join(', ')}`,
    );
  }
  if (wanted.length > MAX_WORKFLOW_ENV_VARS) {
    throw new Error(
      `${sourcePath} reads ${wanted.length} environment variables; Cloud Workflows allows ${MAX_WORKFLOW_ENV_VARS}`,
    );
  }
  return Object.fromEntries(wanted.map((n) => [n, available[n] as T]));
}

export interface WorkflowArgs {
  /** Project of the workflow. */
  project: pulumi.Input<string>;
  /** Region of the workflow. */
  region: pulumi.Input<string>;
  /** Short prefix shared by the stack's resource names (the workflow is `<prefix>-pipeline`). */
  namePrefix: string;
  /** Absolute path of `workflows/pipeline.yaml`. */
  sourcePath: string;
  /** Every variable the stack can supply; those the source reads are passed as `userEnvVars`. */
  availableEnv: Record<string, pulumi.Input<string>>;
  /** Identity the workflow runs as (never the Compute default SA, which Workflows would otherwise use). */
  serviceAccount: pulumi.Input<string>;
}

export class Workflow extends pulumi.ComponentResource {
  readonly workflow: gcp.workflows.Workflow;
  /** The names passed as `userEnvVars` (what pipeline.yaml reads). */
  readonly envNames: string[];

  constructor(name: string, args: WorkflowArgs, opts?: pulumi.ComponentResourceOptions) {
    super('droptune:workflow:Workflow', name, {}, opts);
    const source = readWorkflowSource(args.sourcePath);
    const env = selectWorkflowEnv(source, args.availableEnv, args.sourcePath);
    this.envNames = Object.keys(env);
    this.workflow = new gcp.workflows.Workflow(
      `${name}-pipeline`,
      {
        project: args.project,
        region: args.region,
        name: `${args.namePrefix}-pipeline`,
        description: 'droptune: provision GPU VM, train, register, gate, deploy (workflows/pipeline.yaml)',
        sourceContents: source,
        userEnvVars: env,
        serviceAccount: args.serviceAccount,
        // Errors only: per-call logs of a long polling loop cost more than they tell.
        callLogLevel: 'LOG_ERRORS_ONLY',
        // Holds no data: redeploying from the file recreates it exactly.
        deletionProtection: false,
      },
      childOptions(this, opts),
    );
    this.registerOutputs({ name: this.workflow.name, envNames: this.envNames });
  }
}
