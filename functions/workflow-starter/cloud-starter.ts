import { ExecutionsClient } from '@google-cloud/workflows';
import { AppError, type ErrorCode } from '../../shared/errors.ts';
import type { PipelineArgs, PromoteArgs, WorkflowStarter } from './port.ts';

export interface CloudWorkflowStarterArgs {
  /** GCP project id that holds the workflow. */
  project: string;
  /** Region of the workflow, e.g. `us-central1`. */
  location: string;
  /** Workflow id (`droptune-pipeline` by default in infra/). */
  workflow: string;
  /** Injected client (tests, or a shared one); defaults to one with application default credentials. */
  client?: Pick<ExecutionsClient, 'createExecution' | 'workflowPath'>;
}

/** gRPC status codes (google.rpc.Code) → our codes; unknown ones are treated as transient. */
const GRPC_CODES: Record<number, ErrorCode> = {
  3: 'invalid_argument',
  4: 'deadline_exceeded',
  5: 'not_found',
  7: 'permission_denied',
  8: 'resource_exhausted',
  9: 'failed_precondition',
  13: 'unavailable',
  14: 'unavailable',
  16: 'unauthenticated',
};

/** Starts Cloud Workflows executions through the Workflow Executions API. */
export class CloudWorkflowStarter implements WorkflowStarter {
  private readonly client: Pick<ExecutionsClient, 'createExecution' | 'workflowPath'>;
  private readonly parent: string;

  constructor(args: CloudWorkflowStarterArgs) {
    this.client = args.client ?? new ExecutionsClient();
    this.parent = this.client.workflowPath(args.project, args.location, args.workflow);
  }

  async start(args: PipelineArgs | PromoteArgs): Promise<{ executionId: string }> {
    try {
      const [execution] = await this.client.createExecution({
        parent: this.parent,
        execution: {
          argument: JSON.stringify(args),
          labels: {
            ...('runId' in args ? { run_id: labelValue(args.runId) } : { action: 'promote' }),
            model: labelValue(args.modelName),
          },
        },
      });
      if (!execution.name)
        throw new AppError('internal', 'the Workflows API returned an execution without a name');
      return { executionId: execution.name };
    } catch (err) {
      throw translateWorkflowsError(err, this.parent);
    }
  }
}

/** A gRPC / HTTP error from the Workflows API as an AppError that says what to do. */
export function translateWorkflowsError(err: unknown, parent: string): AppError {
  if (err instanceof AppError) return err;
  const code = (err as { code?: unknown }).code;
  const message = err instanceof Error ? err.message : String(err);
  const mapped = typeof code === 'number' ? (GRPC_CODES[code] ?? 'unavailable') : 'unavailable';
  const hint =
    mapped === 'not_found'
      ? ` (does the workflow ${parent} exist? check WORKFLOW_NAME and REGION)`
      : mapped === 'permission_denied'
        ? ' (the function service account needs roles/workflows.invoker)'
        : '';
  return new AppError(mapped, `could not start the workflow: ${message}${hint}`, { cause: err });
}

/** Label values: lowercase letters, digits, `-` and `_`, at most 63 characters. */
function labelValue(s: string): string {
  return s
    .toLowerCase()
    .replaceAll(/[^a-z0-9_-]/g, '-')
    .slice(0, 63);
}
