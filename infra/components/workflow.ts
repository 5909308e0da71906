/**
 * The pipeline: `gcp.workflows.Workflow` whose source is `workflows/pipeline.yaml` read from disk,
 * byte for byte (one source of truth: the local Workflows runtime executes the same file).
 *
 * Its environment is matched against the file itself: of the values the stack supplies, only the
 * names the YAML reads with `sys.get_env("NAME")` are passed (the YAML has defaults for the rest),
 * and every name the stack must deliver (bucket, images, identities, API URL, subnet) has to be
 * read by the YAML, so a renamed variable fails `pulumi preview` instead of the first cloud run.
 * Cloud Workflows allows at most 20 user variables and reserves the `GOOGLE_` and `WORKFLOWS_`
 * prefixes (its built-ins such as GOOGLE_CLOUD_PROJECT_ID need no value).
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
 * Picks, from what the stack supplies, the variables the source reads.
 * Throws when the source does not read a `required` name, or when more than 20 would be passed.
 */
export function selectWorkflowEnv<T>(
  source: string,
  supplied: Record<string, T>,
  required: readonly string[] = [],
  sourcePath = 'workflow source',
  supersededBy: Readonly<Record<string, string>> = {},
): Record<string, T> {
  const read = new Set(envNamesRead(source));
  for (const [old, replacement] of Object.entries(supersededBy)) if (read.has(replacement)) read.delete(old);
  const unread = required.filter((n) => !read.has(n));
  if (unread.length > 0) {
    throw new Error(
      `${sourcePath} does not read sys.get_env(${unread.map((n) => `"${n}"`).join(', ')}), which the stack must deliver; ` +
        `it reads: ${[...read].join(', ') || 'nothing'}`,
    );
  }
  const names = Object.keys(supplied)
    .filter((n) => read.has(n))
    .sort();
  if (names.length > MAX_WORKFLOW_ENV_VARS) {
    throw new Error(
      `${names.length} workflow environment variables (${names.join(', ')}); Cloud Workflows allows ${MAX_WORKFLOW_ENV_VARS}: unset an optional droptune:* key`,
    );
  }
  return Object.fromEntries(names.map((n) => [n, supplied[n] as T]));
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
  /** Variables the stack supplies; those the source reads are passed as `userEnvVars`. */
  env: Record<string, pulumi.Input<string>>;
  /** Names the source must read (what the stack alone can deliver). */
  requiredEnv: readonly string[];
  /** `{old: replacement}`: `old` is not passed when the source reads `replacement`. */
  supersededBy?: Readonly<Record<string, string>>;
  /** Identity the workflow runs as (never the Compute default SA, which Workflows would otherwise use). */
  serviceAccount: pulumi.Input<string>;
  /**
   * Cron schedule of the reaper (pipeline.yaml `{action: "reap"}`), which fails runs whose execution
   * died (a cancelled execution, a failed `mark_failed`) and deletes their VMs. Every 10 minutes by
   * default: a stuck run costs at most that long of a leftover GPU VM.
   */
  reapSchedule?: pulumi.Input<string>;
}

export class Workflow extends pulumi.ComponentResource {
  readonly workflow: gcp.workflows.Workflow;
  /** The scheduled reaper (pipeline.yaml `{action: "reap"}`). */
  readonly reaper: gcp.cloudscheduler.Job;
  /** The names passed as `userEnvVars` (what pipeline.yaml reads). */
  readonly envNames: string[];

  constructor(name: string, args: WorkflowArgs, opts?: pulumi.ComponentResourceOptions) {
    super('droptune:workflow:Workflow', name, {}, opts);
    const source = readWorkflowSource(args.sourcePath);
    const env = selectWorkflowEnv(source, args.env, args.requiredEnv, args.sourcePath, args.supersededBy);
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
    // Cloud Scheduler starts the reaper through the Workflow Executions API as the workflow's own
    // identity (it holds workflows.invoker for executions.get already).
    this.reaper = new gcp.cloudscheduler.Job(
      `${name}-reaper`,
      {
        project: args.project,
        region: args.region,
        name: `${args.namePrefix}-reaper`,
        description: 'droptune: fail runs whose workflow execution died, delete their VMs',
        schedule: args.reapSchedule ?? '*/10 * * * *',
        timeZone: 'Etc/UTC',
        httpTarget: {
          httpMethod: 'POST',
          uri: pulumi.interpolate`https://workflowexecutions.googleapis.com/v1/${this.workflow.id}/executions`,
          body: Buffer.from(JSON.stringify({ argument: JSON.stringify({ action: 'reap' }) })).toString(
            'base64',
          ),
          headers: { 'Content-Type': 'application/json' },
          oauthToken: {
            serviceAccountEmail: args.serviceAccount,
            scope: 'https://www.googleapis.com/auth/cloud-platform',
          },
        },
      },
      childOptions(this, opts),
    );
    this.registerOutputs({ name: this.workflow.name, envNames: this.envNames });
  }
}
