import { randomUUID } from 'node:crypto';
import {
  type ExecContext,
  type LoadedWorkflow,
  type LogEntry,
  toJs,
  WorkflowError,
} from '../../workflows/runtime/index.ts';

export interface Execution {
  executionId: string;
  state: 'ACTIVE' | 'SUCCEEDED' | 'FAILED' | 'CANCELLED';
  argument: unknown;
  result?: unknown;
  error?: { tags?: string[]; message: string };
  startTime: string;
  endTime?: string;
}

/**
 * The local twin of Cloud Workflows executions: `start` begins an execution of the loaded
 * workflow in this process and returns its id at once (like `createExecution`); the
 * execution runs on with the workflow's env, and its end state is kept for `get`.
 * `stop` aborts what is still running; as in the cloud, an aborted execution runs no further
 * steps (no `except`, no cleanup), so the stack stops the trainer and serving processes itself
 * and fails the runs it interrupted.
 */
export class LocalExecutions {
  private readonly executions = new Map<string, Execution>();
  private readonly running = new Map<string, { done: Promise<void>; abort: AbortController }>();

  constructor(
    private readonly workflow: LoadedWorkflow,
    private readonly env: Record<string, string>,
    /**
     * Headers for the workflow's authenticated HTTP calls (`auth:` in pipeline.yaml): the local
     * stack's bearer token, or (the rehearsal) a function minting an OIDC ID token per call.
     */
    private readonly authHeaders: Record<string, string> | NonNullable<ExecContext['authHeaders']>,
    private readonly onLog: (executionId: string, entry: LogEntry) => void = () => {},
    /**
     * Called when an execution fails (not when `stop` aborts it). A failure the workflow raised
     * ran its `except` steps; one the runtime imposed (a resource limit) skipped them, so the
     * stack cleans up here: fail the run and stop its trainer (recover-runs.ts).
     */
    private readonly onFailed: (exec: Execution) => Promise<void> = async () => {},
  ) {}

  /** `executionId`: the name a Workflow Executions twin gave it (default a fresh `local-…` id). */
  start(argument: unknown, executionId = `local-${randomUUID()}`): { executionId: string } {
    const exec: Execution = { executionId, state: 'ACTIVE', argument, startTime: new Date().toISOString() };
    this.executions.set(executionId, exec);
    const abort = new AbortController();
    const headers = this.authHeaders;
    const done = this.workflow
      .execute(argument, {
        env: this.env,
        executionId,
        signal: abort.signal,
        authHeaders: typeof headers === 'function' ? headers : () => headers,
        log: (e) => this.onLog(executionId, e),
      })
      .then(
        (result) => {
          exec.state = 'SUCCEEDED';
          exec.result = result;
        },
        (err: unknown) => {
          exec.state = abort.signal.aborted ? 'CANCELLED' : 'FAILED';
          exec.error = describeError(err);
          this.onLog(executionId, {
            severity: 'ERROR',
            data: `execution ${exec.state.toLowerCase()}: ${exec.error.message}`,
            time: Date.now(),
          });
          if (exec.state !== 'FAILED') return;
          return this.onFailed(exec).catch((cleanupErr: unknown) =>
            this.onLog(executionId, {
              severity: 'ERROR',
              data: `cleanup after the failed execution failed: ${(cleanupErr as Error).message}`,
              time: Date.now(),
            }),
          );
        },
      )
      .finally(() => {
        exec.endTime = new Date().toISOString();
        this.running.delete(executionId);
      });
    this.running.set(executionId, { done, abort });
    return { executionId };
  }

  get(executionId: string): Execution | undefined {
    return this.executions.get(executionId);
  }

  /** Resolves when every execution started so far has ended. */
  async idle(): Promise<void> {
    await Promise.allSettled([...this.running.values()].map((r) => r.done));
  }

  async stop(): Promise<void> {
    for (const r of this.running.values()) r.abort.abort();
    await this.idle();
  }
}

/** A workflow error (a map with tags and message, wrapped in WorkflowError) as plain text. */
function describeError(err: unknown): { tags?: string[]; message: string } {
  if (err instanceof WorkflowError) {
    const v = toJs(err.value) as
      | { tags?: string[]; message?: string; body?: { error?: { message?: unknown } } }
      | string
      | null;
    if (v && typeof v === 'object') {
      // An HttpError's answer says why (e.g. the API's 401 naming the ID token's audience), as the
      // cloud execution's error payload carries the error map's body.
      const answer = v.body?.error?.message;
      const message = v.message ?? JSON.stringify(v);
      return { tags: v.tags, message: typeof answer === 'string' ? `${message}: ${answer}` : message };
    }
    return { message: String(v) };
  }
  return { message: err instanceof Error ? err.message : String(err) };
}
